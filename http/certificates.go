package http

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

type newCertRequest struct {
	Domain   string        `json:"domain"`
	Days     int           `json:"days"`
	KeySize  int           `json:"key_size"`
	Password roster.Secret `json:"password"`
}

// newCertificate makes the self-signed PFX Entra DS takes, as roster cert
// new does. Nothing is stored: the files go back to the admin, and a
// password roster made is in this one response only.
func (s *Server) newCertificate(w http.ResponseWriter, r *http.Request) {
	var req newCertRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send {\"domain\": ..., \"days\": 365} as JSON"))
		return
	}
	pw, generated := req.Password, false
	if !pw.IsSet() {
		var err error
		if pw, err = pfx.GeneratePassword(nil); err != nil {
			s.writeError(w, r, err)
			return
		}
		generated = true
	}
	b, err := pfx.New(pfx.NewOptions{Domain: req.Domain, Days: req.Days, KeySize: req.KeySize, Now: s.Now()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	der, err := b.PFX(pw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	report := pfx.CheckFile(der, pfx.Options{Domain: req.Domain, Password: pw, Now: s.Now()})
	out := map[string]any{
		"domain": b.Cert.DNSNames[1], "pfx_base64": base64.StdEncoding.EncodeToString(der), "cer_pem": string(b.CertPEM()),
		"certificate": pfx.Summarize(b.Cert, s.Now()), "rules_failed": report.Count(pfx.Fail),
	}
	if generated {
		out["password"] = pw.Reveal() // shown once, in this response
	}
	s.Log.Info("secure LDAP certificate made", "domain", b.Cert.DNSNames[1], "thumbprint", pfx.Thumbprint(b.Cert), "by", who(r).name())
	writeJSON(w, http.StatusCreated, out)
}

type checkCertRequest struct {
	FileBase64 string        `json:"file_base64"`
	Password   roster.Secret `json:"password"`
	Domain     string        `json:"domain"`
}

// checkCertificate runs every Entra DS rule on an uploaded .pfx or .cer.
func (s *Server) checkCertificate(w http.ResponseWriter, r *http.Request) {
	var req checkCertRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send {\"file_base64\": ..., \"password\": ...} as JSON (at most 750 kB)"))
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.FileBase64)
	if err != nil || len(data) == 0 {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "file_base64 is not a base64 file"))
		return
	}
	writeJSON(w, http.StatusOK, pfx.CheckFile(data, pfx.Options{Domain: req.Domain, Password: req.Password, Now: s.Now()}))
}
