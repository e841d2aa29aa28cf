package http

import (
	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// The schemas of the OpenAPI document: request bodies, then answers.
// Property names and types follow the Go types' JSON exactly
// (openapi_test.go compares them); users, groups, cards and runs are
// marshalled without json tags, so their properties are Go field names.

// jsonSchema is a JSON Schema object.
type jsonSchema = map[string]any

func jsDescribe(s jsonSchema, desc string) jsonSchema {
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func jsString(desc string) jsonSchema { return jsDescribe(jsonSchema{"type": "string"}, desc) }
func jsInt(desc string) jsonSchema    { return jsDescribe(jsonSchema{"type": "integer"}, desc) }
func jsNumber(desc string) jsonSchema { return jsDescribe(jsonSchema{"type": "number"}, desc) }
func jsBool(desc string) jsonSchema   { return jsDescribe(jsonSchema{"type": "boolean"}, desc) }
func jsTime(desc string) jsonSchema {
	return jsDescribe(jsonSchema{"type": "string", "format": "date-time"}, desc)
}
func jsSecret(desc string) jsonSchema {
	return jsDescribe(jsonSchema{"type": "string", "format": "password", "writeOnly": true}, desc)
}
func jsReadOnly(s jsonSchema) jsonSchema { s["readOnly"] = true; return s }

// jsDeprecated marks a field that is still read but no longer written.
func jsDeprecated(s jsonSchema) jsonSchema { s["deprecated"] = true; return s }

func jsRef(name string) jsonSchema { return jsonSchema{"$ref": "#/components/schemas/" + name} }
func jsStrings(desc string) jsonSchema {
	return jsDescribe(jsonSchema{"type": "array", "items": jsonSchema{"type": "string"}}, desc)
}
func jsInts(desc string) jsonSchema {
	return jsDescribe(jsonSchema{"type": "array", "items": jsonSchema{"type": "integer"}}, desc)
}
func jsArray(items jsonSchema, desc string) jsonSchema {
	return jsDescribe(jsonSchema{"type": "array", "items": items}, desc)
}

func jsEnum[T ~string](desc string, values ...T) jsonSchema {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return jsDescribe(jsonSchema{"type": "string", "enum": vs}, desc)
}

// object is an object with these properties, of which required must be
// given.
func jsObject(desc string, props jsonSchema, required ...string) jsonSchema {
	s := jsDescribe(jsonSchema{"type": "object"}, desc)
	if props != nil {
		s["properties"] = props
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func cardOpNames() []roster.CardOp {
	var ops []roster.CardOp
	for _, o := range roster.CardOps {
		ops = append(ops, o.Op)
	}
	return ops
}

func openAPISchemas() map[string]any {
	writeBackNote := jsonSchema{
		"written_to":       jsString("The directory attribute the value was written back to, when the source writes back"),
		"write_back_error": jsString("Why writing back failed; the value is set in roster all the same"),
	}
	withWriteBack := func(props jsonSchema) jsonSchema {
		for k, v := range writeBackNote {
			props[k] = v
		}
		return props
	}
	certSummary := jsObject("A certificate", jsonSchema{
		"subject": jsString(""), "sans": jsStrings("DNS names"), "issuer": jsString(""),
		"not_before": jsTime(""), "not_after": jsTime(""), "days_left": jsInt("Whole days until it expires; negative once it has"),
		"key": jsString("Key type and size"), "signature": jsString("Signature algorithm"), "serial": jsString("Serial number, hexadecimal"),
		"sha256": jsString("SHA-256 fingerprint"), "sha1_thumbprint": jsString("SHA-1 thumbprint, as Windows shows it"),
	})
	return map[string]any{
		// Request bodies.
		"Login": jsObject("An admin's sign-in", jsonSchema{
			"name":     jsString("The admin's name"),
			"password": jsSecret("The admin's password"),
		}, "name", "password"),
		"PasswordChange": jsObject("A new admin password", jsonSchema{
			"current": jsSecret("The current password"),
			"new":     jsSecret("The new password, at least 12 characters"),
		}, "current", "new"),
		"TokenRequest": jsObject("A new API token", jsonSchema{
			"name":  jsString("Who uses the token, 1 to 100 characters"),
			"scope": jsEnum("read: GET requests only; admin: everything an admin may do; terminal: identify users, nothing else", roster.ScopeRead, roster.ScopeAdmin, roster.ScopeTerminal),
		}, "name", "scope"),
		"IdentifyRequest": jsObject("Send exactly one of these combinations: card; code; login + password; login + code; card + code. "+
			"A login or card with a code identifies its user only when the code is that user's own print code.", jsonSchema{
			"card":     jsString("A badge number, as the reader sends it"),
			"code":     jsString("A print code"),
			"login":    jsString("A login or former login"),
			"password": jsSecret("The user's directory password, checked with one sign-in to the user's directory"),
		}),
		"PrintCodeRequest": jsObject("The body may be left out", jsonSchema{
			"length": jsInt("Digits of the new code, 4 to 12 (default 6)"),
		}),
		"CardTestRequest": jsObject("Values through a card pipeline", jsonSchema{
			"steps":  jsStrings(`The steps, in order: "op" or "op=arg", such as "hex-to-dec" or "pad=10"`),
			"values": jsStrings("1 to 100 values, as a reader sends them or the directory holds them"),
		}, "values"),
		"CardRequest": jsObject("A card added by hand", jsonSchema{
			"number":     jsString("The card number"),
			"kind":       jsEnum("How the card is used (default secondary); a primary card is written back when the source asks for it", roster.CardPrimary, roster.CardSecondary, roster.CardTemporary),
			"expires_at": jsTime("When the card stops working; required for a temporary card"),
		}, "number"),
		"CertificateRequest": jsObject("A self-signed secure LDAP certificate for Entra DS", jsonSchema{
			"domain":   jsString("The managed domain, such as aaddscontoso.com"),
			"days":     jsInt("Validity in days, 90 to 3650 (default 365)"),
			"key_size": jsInt("RSA key size: 2048 (default), 3072 or 4096"),
			"password": jsSecret("The PFX password; left out, roster makes one and returns it once"),
		}, "domain"),
		"CertificateCheck": jsObject("A certificate file to check", jsonSchema{
			"file_base64": jsString("The .pfx or .cer file, base64, at most 750 kB"),
			"password":    jsSecret("The PFX password"),
			"domain":      jsString("The managed domain; left out, taken from the certificate"),
		}, "file_base64"),
		"MoveResult": jsObject("A move's plan, and what carrying it out did", jsonSchema{
			"matched": jsArray(jsObject("A user and its Entra ID object", jsonSchema{
				"user_id": jsInt(""), "login": jsString(""), "from": jsString("The Entra DS anchor"), "to": jsString("The Entra ID object ID"), "by": jsString("What matched them"),
			}), "Users rebound"),
			"unmatched": jsArray(jsObject("A user left as it is", jsonSchema{"user_id": jsInt(""), "login": jsString(""), "why": jsString("")}), "Users with no Entra ID object"),
			"ambiguous": jsArray(jsObject("A user left as it is", jsonSchema{"user_id": jsInt(""), "login": jsString(""), "why": jsString("")}), "Users with several candidates"),
			"users":     jsInt("The source's users"), "objects": jsInt("The tenant's users"), "applied": jsBool("The plan was carried out"),
			"rebound": jsInt("Users rebound"), "stored": jsBool("The source's settings now read Entra ID"),
		}, "matched", "unmatched", "ambiguous", "users", "objects", "applied", "rebound", "stored"),
		"Diagnosis": jsObject("A walk of the chain to a directory, up to the first failed step", jsonSchema{
			"source": jsString(""), "type": jsString(""), "ok": jsBool("No step failed"),
			"steps": jsArray(jsObject("A step", jsonSchema{
				"name": jsString(""), "status": jsEnum("", roster.StepPass, roster.StepWarn, roster.StepFail),
				"detail": jsString("What the step found"), "fix": jsString("What to do, for a warning or a failure"),
			}, "name", "status"), "The steps in order"),
		}, "source", "type", "ok", "steps"),
		"Source": jsObject("A directory source, as the API reads and writes it. Read-only properties are ignored when sent.", jsonSchema{
			"id":   jsInt("The source's ID; in a connection test, the stored source whose password to use"),
			"name": jsString("A name for admins"),
			"type": jsEnum("The kind of directory", roster.ActiveDirectory, roster.EntraDS, roster.OpenLDAP, roster.GenericLDAP, roster.EntraID),
			"graph": jsObject("An entra-id source's app registration; its client secret, if it has no certificate, is the password", jsonSchema{
				"tenant_id":      jsString("The Directory (tenant) ID, a GUID"),
				"client_id":      jsString("The Application (client) ID, a GUID"),
				"cloud":          jsEnum("Where the tenant lives (default global)", "global", "usgov", "usdod", "china"),
				"authority_host": jsString("Replaces the cloud's token host, an https:// URL; with graph_host"),
				"graph_host":     jsString("Replaces the cloud's Graph host, an https:// URL; with authority_host"),
				"cert_file":      jsString("The app's certificate, a PEM file on the server"),
				"key_file":       jsString("The app's RSA key, an unencrypted PEM file on the server readable by roster alone"),
			}),
			"address":              jsString("host or host:port"),
			"tls":                  jsEnum("ldaps (port 636), starttls, or none (only with allow_insecure)", roster.LDAPS, roster.StartTLS, roster.Plain),
			"allow_insecure":       jsBool("Accept plain LDAP, which sends the password in clear"),
			"domain":               jsString("The DNS domain, such as corp.test; required for AD and Entra DS"),
			"base_dns":             jsStrings("Where to search; default: from the domain"),
			"login":                jsString("The account roster signs in with"),
			"password":             jsSecret("The account's password; never returned. Left out on update, the stored one is kept, unless the address or trust settings change."),
			"password_set":         jsReadOnly(jsBool("Whether a password is stored")),
			"password_note":        jsReadOnly(jsString("Why password_set is false after an update that changed the address or trust settings")),
			"ca_pem":               jsString("CA certificates to trust, PEM"),
			"pin_sha256":           jsString("The server certificate's SHA-256 fingerprint to pin"),
			"server_name":          jsString("The name to check the server's certificate against, when not the address's host"),
			"insecure_skip_verify": jsBool("Do not check the server's certificate"),
			"user_filter":          jsString("An LDAP filter users must match"),
			"group_scope":          jsStrings("Only members of these groups are synced"),
			"mapping": jsObject("Which directory attribute fills which user field; empty fields take the directory type's preset", jsonSchema{
				"login":           jsEnum("The attribute that becomes the login", roster.LoginSAM, roster.LoginUPN, roster.LoginMail, roster.LoginUID),
				"keep_login_case": jsBool("Keep the login's case; logins are lower-cased unless set"),
				"name":            jsString(""),
				"email":           jsString(""),
				"department":      jsString(""),
				"cost_center":     jsString(""),
				"cards":           jsStrings("Attributes holding card numbers, the first one primary"),
				"card_separators": jsString("Characters splitting several cards in one value"),
				"card_transforms": jsArray(jsObject("A step", jsonSchema{
					"op":  jsEnum("", cardOpNames()...),
					"arg": jsString("The step's argument, for steps that take one"),
				}, "op"), "Steps that turn each card value, as the directory holds it, into what the badge readers send"),
				"print_code": jsString(""),
				"extra":      jsStrings("Attributes kept as they come"),
			}),
			"write_back": jsObject("Where roster writes back print codes and hand-added primary cards; each the attribute the mapping reads the field from", jsonSchema{
				"print_code": jsString(""),
				"card":       jsString(""),
			}),
			"disabled_users": jsEnum("Accounts disabled in the directory: keep (default) syncs them as disabled users, skip leaves them out", roster.KeepDisabled, roster.SkipDisabled),
			"removal": jsObject("What happens to users who leave the directory", jsonSchema{
				"action":            jsEnum("disable (default) or delete", "disable", "delete"),
				"grace":             jsString("With delete: how long a user stays disabled first, a duration such as 720h"),
				"threshold_percent": jsNumber("Hold removals for approval past this share of users (default 5)"),
				"threshold_count":   jsInt("Hold removals for approval past this many users (default 10)"),
			}),
			"removal_action":        jsDeprecated(jsEnum("The earlier name of removal.action, still read", "disable", "delete")),
			"removal_grace":         jsDeprecated(jsString("The earlier name of removal.grace, still read")),
			"threshold_percent":     jsDeprecated(jsNumber("The earlier name of removal.threshold_percent, still read")),
			"threshold_count":       jsDeprecated(jsInt("The earlier name of removal.threshold_count, still read")),
			"connect_timeout":       jsString("Time allowed to connect, set up TLS and sign in, a duration such as 30s; empty: the default"),
			"timeout":               jsString("Time allowed for each search page, a duration such as 2m; empty: the default"),
			"run_timeout":           jsString("Time allowed for a whole sync, a duration such as 4h; empty: the default"),
			"full_schedule":         jsString("When to run a full sync: five cron fields, such as 0 2 * * *"),
			"next_full_sync":        jsReadOnly(jsTime("The next planned full sync")),
			"incremental_interval":  jsString("How often to read what changed, a duration such as 5m; absent: never"),
			"next_incremental_sync": jsReadOnly(jsTime("The next planned incremental sync")),
			"warnings":              jsReadOnly(jsStrings("Risky settings")),
		}, "name", "type", "address", "tls", "login"),

		// Answers.
		"Error": jsObject("An error", jsonSchema{"error": jsObject("", jsonSchema{
			"code":    jsString("EINVALID, EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, ECONFLICT, ETOOMANY, EUNAVAILABLE, ETLS or EINTERNAL"),
			"message": jsString("What went wrong, for admins"),
		})}),
		"Session": jsObject("A console session", jsonSchema{
			"admin":      jsString("The admin's name"),
			"csrf_token": jsString("Send it as X-CSRF-Token on every write"),
		}),
		"Card": jsObject("A badge", jsonSchema{
			"Number":    jsString(""),
			"Kind":      jsEnum("", roster.CardPrimary, roster.CardSecondary, roster.CardTemporary),
			"Origin":    jsEnum("manual cards were added in roster and survive every sync", roster.CardFromDirectory, roster.CardManual),
			"ExpiresAt": jsTime("Zero time: no expiry"),
		}),
		"Group": jsObject("A directory group", jsonSchema{
			"ID": jsInt(""), "SourceID": jsInt(""), "Anchor": jsString("objectGUID or entryUUID"), "DN": jsString(""), "Name": jsString(""),
			"Members": jsInts("The IDs of its users, nesting resolved"),
		}),
		"User": jsObject("A user, with the print code only as set or not", jsonSchema{
			"ID": jsInt(""), "SourceID": jsInt(""), "Anchor": jsString("objectGUID or entryUUID"), "DN": jsString(""),
			"Login": jsString(""), "Aliases": jsStrings("Former logins, still accepted"), "Name": jsString(""), "Email": jsString(""),
			"Department": jsString(""), "CostCenter": jsString(""), "Cards": jsArray(jsRef("Card"), ""),
			"Disabled": jsBool(""), "DisabledReason": jsEnum("", roster.DisabledInDirectory, roster.DisabledMissing, roster.DisabledByAdmin),
			"MissingSince": jsTime("When a sync first did not find the entry; zero while present"),
			"Extra":        jsDescribe(jsonSchema{"type": "object", "additionalProperties": jsStrings("")}, "Mapped attributes kept as the directory sent them"),
			"CreatedAt":    jsTime(""), "UpdatedAt": jsTime(""), "SeenAt": jsTime("The last run that found the entry"),
			"print_code_set": jsBool(""),
			"groups":         jsArray(jsRef("Group"), "With one user only"),
		}),
		"UserList": jsObject("A page of users", jsonSchema{
			"total": jsInt("Users matching, over all pages"), "offset": jsInt(""), "users": jsArray(jsRef("User"), ""),
		}),
		"GroupList": jsObject("", jsonSchema{"groups": jsArray(jsObject("A group with its user count", jsonSchema{
			"ID": jsInt(""), "SourceID": jsInt(""), "Anchor": jsString(""), "DN": jsString(""), "Name": jsString(""),
			"Members": jsInts(""), "users": jsInt("Its roster users"),
		}), "")}),
		"PrintCode": jsObject("A new print code, shown this once", withWriteBack(jsonSchema{
			"login": jsString(""), "code": jsString(""), "note": jsString(""),
		})),
		"PrintCodes": jsObject("The codes made, shown this once. Should a code fail, the answer is an error status with error and the codes set before it.", jsonSchema{
			"source":    jsString(""),
			"generated": jsInt(""),
			"codes": jsArray(jsObject("", jsonSchema{
				"login": jsString(""), "name": jsString(""), "email": jsString(""), "code": jsString(""),
			}), ""),
			"note":       jsString(""),
			"write_back": jsString("Why the codes were not written back, for a source that writes back"),
		}),
		"Identified": jsObject("The person identified", jsonSchema{
			"method": jsEnum("How", "card", "code", "password", "login+code", "card+code"),
			"user": jsObject("", jsonSchema{
				"login": jsString(""), "name": jsString(""), "email": jsString(""), "department": jsString(""), "cost_center": jsString(""),
				"groups": jsStrings("Group names"), "enabled": jsBool(""),
			}),
			"card": jsRef("Card"),
		}),
		"CardTestResults": jsObject("", jsonSchema{"results": jsArray(jsObject("One value", jsonSchema{
			"value": jsString(""),
			"steps": jsArray(jsObject("One step's outcome", jsonSchema{
				"step":  jsObject("", jsonSchema{"op": jsString(""), "arg": jsString("")}),
				"out":   jsString(""),
				"error": jsString("Why the value stops here"),
			}), ""),
			"result": jsString(""),
			"error":  jsString(""),
		}), "")}),
		"WriteTest": jsObject("May the source's account write back?", jsonSchema{
			"user": jsString("The entry tried on"),
			"checks": jsArray(jsObject("", jsonSchema{
				"field": jsEnum("", roster.WritePrintCode, roster.WriteCard), "attribute": jsString(""), "ok": jsBool(""), "error": jsString(""),
			}), ""),
		}),
		"UserCards": jsObject("The user's cards", withWriteBack(jsonSchema{
			"login": jsString(""), "cards": jsArray(jsRef("Card"), ""),
		})),
		"Run": jsObject("A sync run", jsonSchema{
			"ID": jsInt(""), "SourceID": jsInt(""),
			"Mode":      jsEnum("", roster.RunFull, roster.RunIncremental, roster.RunPreview, roster.RunWriteBack),
			"Status":    jsEnum("", roster.RunRunning, roster.RunSucceeded, roster.RunFailed, roster.RunCancelled, roster.RunHeld),
			"StartedAt": jsTime(""), "FinishedAt": jsTime("Zero while running"),
			"Seen": jsInt("Entries read"), "Created": jsInt(""), "Updated": jsInt(""), "Renamed": jsInt(""),
			"Disabled": jsInt(""), "Reenabled": jsInt(""), "Deleted": jsInt(""), "Skipped": jsInt(""),
			"Failed": jsInt(""), "Held": jsInt("User removals held for approval"),
			"HeldGroups": jsInt(""), "HeldMemberships": jsInt(""),
			"Error": jsString("Why it failed"), "Notes": jsStrings(""),
			"EntryErrors": jsArray(jsObject("A bad entry, skipped", jsonSchema{"DN": jsString(""), "Anchor": jsString(""), "Message": jsString("")}), ""),
			"HeldUsers":   jsInts("The users whose removal is held"),
		}),
		"LockoutList": jsObject("", jsonSchema{"lockouts": jsArray(jsObject("A count of wrong tries, and the lock it led to", jsonSchema{
			"key":            jsString("What DELETE /api/v1/lockouts/{key} takes"),
			"subject":        jsString("Who or what is counted"),
			"failures":       jsInt("Wrong tries in the window"),
			"last_failure":   jsTime(""),
			"locks_in_a_row": jsInt("Each lock in a row lasts longer"),
			"locked_until":   jsTime("Left out when not locked"),
			"locked":         jsBool(""),
			"kept_on_node":   jsBool("Kept in this node's memory: other nodes keep their own, and a restart forgets it"),
			"what_it_limits": jsString(""),
		}), "")}),
		"RunList":    jsObject("", jsonSchema{"runs": jsArray(jsRef("Run"), "")}),
		"SourceList": jsObject("", jsonSchema{"sources": jsArray(jsRef("Source"), "")}),
		"ConnectionTest": jsObject("A connection test; a directory's refusal is in error, not an error status", jsonSchema{
			"ok": jsBool(""), "url": jsString(""), "tls_version": jsString(""), "verified": jsString("chain, pin or none"),
			"certificate": jsObject("The certificate the directory presented", jsonSchema{
				"subject": jsString(""), "sans": jsStrings(""), "issuer": jsString(""), "not_after": jsTime(""), "days_left": jsInt(""),
				"sha256": jsString(""), "sha1": jsString(""), "trusted": jsBool(""), "problem": jsString(""),
				"pem": jsString("The top certificate, to trust as the source's CA"),
			}),
			"login": jsString(""), "directory": jsString(""), "users": jsInt(""), "disabled": jsInt(""),
			"warnings": jsStrings(""), "error": jsString(""), "error_code": jsString(""),
		}),
		"Preview": jsObject("A dry run's plan", jsonSchema{
			"run": jsRef("Run"),
			"changes": jsArray(jsObject("", jsonSchema{
				"kind": jsString(""), "login": jsString(""), "old_login": jsString(""), "dn": jsString(""), "reason": jsString(""),
				"fields": jsArray(jsObject("", jsonSchema{"field": jsString(""), "before": jsString(""), "after": jsString("")}), ""),
			}), ""),
			"more": jsInt("Changes left out"),
			"held": jsInt(""),
		}),
		"SyncStarted": jsObject("", jsonSchema{
			"run_id": jsInt(""), "progress": jsString("Where to follow it"), "events": jsString("Where to follow it as server-sent events"),
		}),
		"RunProgress": jsObject("Where a run stands", jsonSchema{
			"run_id": jsInt(""), "phase": jsString(""), "seen": jsInt(""), "elapsed_seconds": jsNumber(""), "done": jsBool(""),
			"status": jsEnum("", roster.RunRunning, roster.RunSucceeded, roster.RunFailed, roster.RunCancelled, roster.RunHeld),
		}),
		"CertificateSummary": certSummary,
		"NewCertificate": jsObject("The files, and a password roster made, shown this once", jsonSchema{
			"domain": jsString(""), "pfx_base64": jsString(""), "cer_pem": jsString(""),
			"certificate":  jsRef("CertificateSummary"),
			"rules_failed": jsInt("Entra DS rules the new file fails"),
			"password":     jsString("The PFX password, when roster made it"),
		}),
		"CertificateReport": jsObject("Every Entra DS rule on the file", jsonSchema{
			"kind": jsString("pfx, certificate or server chain"), "domain": jsString(""), "domain_source": jsString("given or certificate"),
			"certificate": jsRef("CertificateSummary"),
			"chain":       jsArray(jsRef("CertificateSummary"), "The other certificates"),
			"results": jsArray(jsObject("", jsonSchema{
				"rule": jsString(""), "title": jsString(""), "status": jsEnum("", pfx.Pass, pfx.Warn, pfx.Fail, pfx.Skip),
				"message": jsString(""), "fix": jsString(""),
			}), ""),
		}),
		"Token": jsObject("An API token; its secret is never shown again", jsonSchema{
			"id": jsInt(""), "name": jsString(""),
			"scope":      jsEnum("", roster.ScopeRead, roster.ScopeAdmin, roster.ScopeTerminal),
			"created_at": jsTime(""), "last_used_at": jsTime(""), "revoked_at": jsTime(""),
		}),
		"TokenList": jsObject("", jsonSchema{"tokens": jsArray(jsRef("Token"), "")}),
		"NewToken": jsObject("", jsonSchema{
			"token": jsRef("Token"), "secret": jsString("Shown this once; roster keeps only its hash"), "note": jsString(""),
		}),
	}
}
