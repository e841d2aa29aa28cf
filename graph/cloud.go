package graph

// Cloud is where a tenant lives: the host that issues its tokens and
// Graph's root. An app is registered in one cloud, and its tokens are
// good in that cloud only.
type Cloud struct {
	AuthorityHost string // such as https://login.microsoftonline.com
	GraphHost     string // such as https://graph.microsoft.com
}

// The national clouds ("National cloud deployments" in the Microsoft
// Graph documentation). GCC tenants are in Global.
var (
	Global = Cloud{"https://login.microsoftonline.com", "https://graph.microsoft.com"}
	USGov  = Cloud{"https://login.microsoftonline.us", "https://graph.microsoft.us"}
	USDoD  = Cloud{"https://login.microsoftonline.us", "https://dod-graph.microsoft.us"}
	China  = Cloud{"https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"}
)

// Clouds names the clouds, as a source's settings spell them.
var Clouds = map[string]Cloud{"global": Global, "usgov": USGov, "usdod": USDoD, "china": China}

// scope asks for every application permission granted on the cloud's
// Graph: client credentials take exactly one resource's /.default.
func (c Cloud) scope() string { return c.GraphHost + "/.default" }
