package roster

// Diagnosis is a walk of the chain from roster to a source's directory
// (roster doctor, the console's Diagnose): the steps in order, up to the
// first that failed.
type Diagnosis struct {
	Source string          `json:"source"`
	Type   string          `json:"type"`
	OK     bool            `json:"ok"` // no step failed
	Steps  []DiagnosisStep `json:"steps"`
}

// DiagnosisStep is one link of the chain: it passed, warned or failed
// (StepPass, StepWarn, StepFail), with what was found and, for a warning
// or a failure, what to fix.
type DiagnosisStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// The statuses of a DiagnosisStep.
const (
	StepPass = "pass"
	StepWarn = "warn" // works, but is risky or will break
	StepFail = "fail" // the chain stops here
)
