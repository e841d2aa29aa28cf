// roster's console: the pages are rendered by the server; this script
// sends the forms to the JSON API, with the session's CSRF token.
"use strict";
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

async function api(method, path, body) {
  const resp = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
  if (!resp.ok) {
    const err = new Error(data.error ? data.error.message : resp.status + " " + resp.statusText);
    err.data = data; // what the server did before it failed
    throw err;
  }
  return data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// Sign in.
document.getElementById("login")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api("POST", "/api/v1/login", { name: f.name.value, password: f.password.value });
    location.href = "/console";
  } catch (e) { document.getElementById("login-error").textContent = e.message; }
});
document.getElementById("logout")?.addEventListener("click", async () => {
  await api("POST", "/api/v1/logout").catch(() => {});
  location.href = "/login";
});

// The source form.
const form = document.getElementById("source");
function sourceBody() {
  const f = form.elements;
  const body = {
    name: f.name.value, type: f.type.value, address: f.address.value, tls: f.tls.value,
    domain: f.domain.value, login: f.login.value,
    base_dns: f.base_dns.value.split("\n").map((s) => s.trim()).filter(Boolean),
    user_filter: f.user_filter.value, server_name: f.server_name.value, ca_pem: f.ca_pem.value,
    full_schedule: f.full_schedule.value.trim(),
    incremental_interval: f.incremental_interval.value.trim() || undefined,
    pin_sha256: f.pin_sha256.value, disabled_users: f.disabled_users.value,
    removal: {
      action: f.removal_action.value, grace: f.removal_action.value === "delete" ? f.removal_grace.value.trim() : undefined,
      threshold_percent: parseFloat(f.threshold_percent.value) || 0, threshold_count: parseInt(f.threshold_count.value, 10) || 0,
    },
    mapping: {},
  };
  const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
  const m = body.mapping;
  if (f.map_login.value) m.login = f.map_login.value;
  for (const [field, key] of [["map_name", "name"], ["map_email", "email"], ["map_department", "department"], ["map_cost_center", "cost_center"], ["map_print_code", "print_code"]]) {
    if (f[field].value.trim()) m[key] = f[field].value.trim();
  }
  if (list(f.map_cards.value).length) m.cards = list(f.map_cards.value);
  if (list(f.map_extra.value).length) m.extra = list(f.map_extra.value);
  if (f.map_keep_case.checked) m.keep_login_case = true;
  const steps = f.map_card_transforms.value.split("\n").map((l) => l.trim()).filter(Boolean);
  if (steps.length) {
    m.card_transforms = steps.map((l) => {
      const i = l.indexOf("=");
      return i < 0 ? { op: l } : { op: l.slice(0, i).trim(), arg: l.slice(i + 1) };
    });
  }
  if (f.write_print_code.value.trim() || f.write_card.value.trim()) {
    body.write_back = { print_code: f.write_print_code.value.trim(), card: f.write_card.value.trim() };
  }
  if (f.type.value === "entra-id") {
    // Graph: the LDAP fields do not apply.
    for (const k of ["address", "tls", "domain", "login", "server_name", "pin_sha256"]) delete body[k];
    body.base_dns = [];
    body.graph = {
      tenant_id: f.graph_tenant_id.value.trim(), client_id: f.graph_client_id.value.trim(), cloud: f.graph_cloud.value,
      cert_file: f.graph_cert_file.value.trim(), key_file: f.graph_key_file.value.trim(),
      authority_host: f.graph_authority_host.value.trim(), graph_host: f.graph_graph_host.value.trim(),
    };
  }
  if (f.password.value) body.password = f.password.value;
  if (form.dataset.id && form.dataset.id !== "0") body.id = parseInt(form.dataset.id, 10);
  return body;
}
// showType shows the fields of the source's type: LDAP's, or an Entra ID
// app registration's.
function showType() {
  if (!form) return;
  const graph = form.elements.type.value === "entra-id";
  for (const e of form.querySelectorAll(".ldap-only")) e.hidden = graph;
  for (const e of form.querySelectorAll(".graph-only")) e.hidden = !graph;
  form.elements.address.required = !graph;
  form.elements.login.required = !graph;
}
if (form) {
  form.elements.type.addEventListener("change", showType);
  showType();
}
function showError(e) { document.getElementById("form-error").textContent = e ? e.message : ""; }

// diagnose shows each step of the chain to the directory, up to the first
// failure, with its fix.
async function diagnose() {
  showError();
  const out = document.getElementById("test-result");
  out.hidden = false;
  out.replaceChildren(el("p", {}, "Diagnosing…"));
  try {
    const d = await api("POST", "/api/v1/sources/diagnose", sourceBody());
    const rows = d.steps.map((s) => el("tr", { class: "step-" + s.status },
      el("td", {}, s.status), el("td", {}, s.name), el("td", {}, s.detail || ""), el("td", {}, s.fix || "")));
    out.replaceChildren(
      el("h2", { id: "diagnosis-verdict", class: d.ok ? "ok" : "error" }, d.ok ? "Every step passed" : "The chain stops at " + d.steps[d.steps.length - 1].name),
      el("table", { id: "diagnosis" }, el("tr", {}, el("th", {}, "status"), el("th", {}, "step"), el("th", {}, "found"), el("th", {}, "fix")), ...rows));
  } catch (e) {
    out.hidden = true;
    showError(e);
  }
}

// moveSource plans (apply false) or carries out the move of this Entra
// DS source onto Entra ID, and shows the plan.
async function moveSource(apply) {
  showError();
  const f = form.elements;
  const body = {
    name: f.name.value, type: "entra-id", ca_pem: f.move_ca_pem.value,
    graph: {
      tenant_id: f.move_tenant_id.value.trim(), client_id: f.move_client_id.value.trim(),
      cert_file: f.move_cert_file.value.trim(), key_file: f.move_key_file.value.trim(),
      authority_host: f.move_authority_host.value.trim(), graph_host: f.move_graph_host.value.trim(),
    },
  };
  if (f.move_secret.value) body.password = f.move_secret.value;
  const out = document.getElementById("test-result");
  out.hidden = false;
  out.replaceChildren(el("p", {}, apply ? "Moving…" : "Planning the move…"));
  try {
    const r = await api("POST", `/api/v1/sources/${form.dataset.id}/move${apply ? "?apply=true" : ""}`, body);
    const miss = (title, list) => el("details", {}, el("summary", {}, `${(list || []).length} ${title}`),
      el("ul", {}, ...(list || []).slice(0, 200).map((m) => el("li", {}, `${m.login}: ${m.why}`))));
    out.replaceChildren(
      el("h2", { id: "move-verdict", class: "ok" }, r.applied
        ? `Moved: ${r.rebound} users rebound to Entra ID`
        : `Plan: ${(r.matched || []).length} of ${r.users} users matched with the tenant's ${r.objects}`),
      miss("unmatched", r.unmatched), miss("ambiguous", r.ambiguous));
    document.getElementById("move-apply").hidden = r.applied;
  } catch (e) {
    out.hidden = true;
    showError(e);
  }
}

async function testConnection() {
  showError();
  const out = document.getElementById("test-result");
  out.hidden = false;
  out.replaceChildren(el("p", {}, "Testing the connection…"));
  try {
    const t = await api("POST", "/api/v1/sources/test", sourceBody());
    const items = [el("h2", { id: "test-verdict", class: t.ok ? "ok" : "error" },
      t.ok ? `Connected: ${t.users} users (${t.disabled} disabled) as ${t.login}` : "The test failed")];
    if (t.error) items.push(el("p", { class: "error" }, t.error));
    if (t.certificate) {
      const c = t.certificate;
      items.push(el("dl", {},
        el("dt", {}, "Certificate"), el("dd", {}, c.subject),
        el("dt", {}, "DNS names"), el("dd", {}, (c.sans || []).join(", ")),
        el("dt", {}, "Issuer"), el("dd", {}, c.issuer),
        el("dt", {}, "Expires"), el("dd", { class: c.days_left < 30 ? "warn" : "" }, `${c.not_after.slice(0, 10)} (${c.days_left} days)`),
        el("dt", {}, "SHA-256"), el("dd", {}, c.sha256),
        el("dt", {}, "Trusted"), el("dd", { class: c.trusted ? "ok" : "error" }, c.trusted ? "yes" : "no")));
      if (!c.trusted && c.pem) {
        const b = el("button", { type: "button", id: "trust" }, "Trust this certificate");
        b.addEventListener("click", () => { form.elements.ca_pem.value = c.pem; testConnection(); });
        items.push(el("p", {}, `Check that this SHA-256 fingerprint is your directory's: ${c.sha256}. `, b));
      }
    }
    for (const w of t.warnings || []) items.push(el("p", { class: "warn" }, "⚠ " + w));
    out.replaceChildren(...items);
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
}

async function save(ev) {
  ev.preventDefault();
  showError();
  try {
    const id = form.dataset.id;
    const s = id && id !== "0" ? await api("PUT", `/api/v1/sources/${id}`, sourceBody()) : await api("POST", "/api/v1/sources", sourceBody());
    location.href = `/console/sources/${s.id}?saved=1`;
  } catch (e) { showError(e); }
}

async function preview() {
  const out = document.getElementById("plan");
  out.hidden = false;
  out.replaceChildren(el("p", {}, "Planning (nothing is written)…"));
  try {
    const p = await api("POST", `/api/v1/sources/${form.dataset.id}/preview`);
    const r = p.run;
    const rows = (p.changes || []).map((c) => el("tr", {}, el("td", {}, c.kind), el("td", {}, c.login),
      el("td", {}, c.kind === "create" ? c.dn : (c.reason || "") + (c.fields || []).map((f) => ` ${f.field}: ${f.before} → ${f.after}`).join(";"))));
    out.replaceChildren(
      el("h2", { id: "plan-summary" }, `Plan: ${r.Created} to create, ${r.Updated} to update, ${r.Renamed} renamed, ${r.Disabled} to disable, ${r.Reenabled} to re-enable, ${r.Deleted} to delete`),
      p.held ? el("p", { class: "warn" }, `${p.held} removals would be held for approval.`) : "",
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Change"), el("th", {}, "Login"), el("th", {}, "Detail"))), el("tbody", {}, ...rows)),
      p.more ? el("p", {}, `… and ${p.more} more.`) : "");
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
}

async function synchronize(mode) {
  const out = document.getElementById("progress");
  out.hidden = false;
  try {
    const s = await api("POST", `/api/v1/sources/${form.dataset.id}/sync${mode === "incremental" ? "?mode=incremental" : ""}`);
    const cancel = document.getElementById("cancel");
    cancel.hidden = false;
    cancel.onclick = () => api("POST", `/api/v1/runs/${s.run_id}/cancel`).catch(showError);
    const line = el("p", { id: "progress-line" }, "Starting…");
    out.replaceChildren(el("h2", {}, `Run ${s.run_id}`), line);
    const ev = new EventSource(s.events);
    ev.onmessage = (m) => {
      const p = JSON.parse(m.data);
      line.textContent = `${p.phase}: ${p.seen} entries, ${p.elapsed_seconds.toFixed(1)} s`;
      if (p.done) {
        ev.close();
        cancel.hidden = true;
        line.id = "progress-done";
        line.className = p.status;
        line.replaceChildren(`Finished: ${p.status}, ${p.seen} entries. `, el("a", { href: `/console/runs/${s.run_id}` }, "See the run"));
      }
    };
    // If the stream breaks (a proxy, a timeout), poll until the end.
    ev.onerror = () => {
      ev.close();
      const poll = setInterval(async () => {
        try {
          const p = await api("GET", s.progress);
          line.textContent = `${p.phase}: ${p.seen} entries`;
          if (p.done) {
            clearInterval(poll);
            cancel.hidden = true;
            line.id = "progress-done";
            line.className = p.status;
            line.replaceChildren(`Finished: ${p.status}, ${p.seen} entries. `, el("a", { href: `/console/runs/${s.run_id}` }, "See the run"));
          }
        } catch (e) { clearInterval(poll); showError(e); }
      }, 2000);
    };
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
}

if (form) {
  form.addEventListener("submit", save);
  document.getElementById("test").addEventListener("click", testConnection);
  document.getElementById("diagnose").addEventListener("click", diagnose);
  if (document.getElementById("move-plan")) {
    document.getElementById("move-plan").addEventListener("click", () => moveSource(false));
    document.getElementById("move-apply").addEventListener("click", () => moveSource(true));
  }
  document.getElementById("preview")?.addEventListener("click", preview);
  document.getElementById("sync")?.addEventListener("click", () => synchronize("full"));
  document.getElementById("sync-changes")?.addEventListener("click", () => synchronize("incremental"));
}

document.getElementById("approve")?.addEventListener("click", async (ev) => {
  try {
    const s = await api("POST", `/api/v1/sources/${ev.target.dataset.source}/sync?approve_removals=true`);
    location.href = `/console/runs/${s.run_id}`;
  } catch (e) { alert(e.message); }
});

// Settings: the admin's password and API tokens.
document.getElementById("password")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, out = document.getElementById("password-result");
  try {
    await api("POST", "/api/v1/password", { current: f.current.value, new: f.new.value });
    f.reset();
    out.className = "ok";
    out.textContent = "The password is changed. Other sessions of this admin are signed out.";
  } catch (e) { out.className = "error"; out.textContent = e.message; }
});
document.getElementById("token")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, out = document.getElementById("token-secret");
  try {
    const t = await api("POST", "/api/v1/tokens", { name: f.name.value, scope: f.scope.value });
    out.textContent = `Token for ${t.token.name} (${t.token.scope}): ${t.secret} (shown this once: copy it now).`;
    f.reset();
  } catch (e) { out.textContent = e.message; }
});
document.querySelectorAll("button.revoke").forEach((b) => b.addEventListener("click", async () => {
  if (!confirm("Revoke this token? Whatever uses it stops working at once.")) return;
  await api("DELETE", `/api/v1/tokens/${b.dataset.id}`).then(() => location.reload(), (e) => alert(e.message));
}));

// Certificates: make the Entra DS PFX, check a file.
function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name }, "Download " + name);
  return a;
}
document.getElementById("cert-new")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, out = document.getElementById("cert-new-result");
  try {
    const body = { domain: f.domain.value, days: parseInt(f.days.value, 10) || 365 };
    if (f.password.value) body.password = f.password.value;
    const c = await api("POST", "/api/v1/certificates/new", body);
    const pfx = Uint8Array.from(atob(c.pfx_base64), (ch) => ch.charCodeAt(0));
    out.replaceChildren(
      el("p", { class: "ok" }, `Made *.${c.domain}: ${c.rules_failed} rules fail.`),
      el("dl", {}, el("dt", {}, "Thumbprint (as Azure shows it)"), el("dd", { id: "cert-thumbprint" }, c.certificate.sha1_thumbprint),
        el("dt", {}, "SHA-256"), el("dd", {}, c.certificate.sha256),
        el("dt", {}, "Valid until"), el("dd", {}, c.certificate.not_after.slice(0, 10))),
      c.password ? el("p", { class: "warn" }, `PFX password: ${c.password} (shown this once: store it now)`) : "",
      el("p", {}, download(c.domain + ".pfx", new Blob([pfx], { type: "application/x-pkcs12" })), " · ",
        download(c.domain + ".cer", new Blob([c.cer_pem], { type: "application/x-x509-ca-cert" }))),
      el("p", {}, "Upload the .pfx in the Azure portal: Entra Domain Services, Secure LDAP; restrict port 636 to your print servers' addresses."));
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
});
document.getElementById("cert-check")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, out = document.getElementById("cert-check-result");
  const buf = new Uint8Array(await f.file.files[0].arrayBuffer());
  let bin = "";
  for (const b of buf) bin += String.fromCharCode(b);
  try {
    const r = await api("POST", "/api/v1/certificates/check", { file_base64: btoa(bin), password: f.password.value, domain: f.domain.value });
    const rows = r.results.map((x) => el("tr", { class: x.status }, el("td", {}, x.status), el("td", {}, x.rule), el("td", {}, x.message + (x.fix ? " Fix: " + x.fix : ""))));
    const failed = r.results.filter((x) => x.status === "fail").length;
    out.replaceChildren(el("p", { id: "cert-check-verdict", class: failed ? "error" : "ok" }, failed ? `${failed} rules fail` : "No rule fails"),
      el("table", {}, el("tbody", {}, ...rows)));
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
});

// The card test bench.
{
  const form = document.getElementById("card-test");
  form?.source.addEventListener("change", () => { form.steps.value = form.source.value; });
  form?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("card-test-result");
    out.replaceChildren();
    const lines = (s) => s.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    try {
      const data = await api("POST", "/api/v1/cards/test", { steps: lines(form.steps.value), values: lines(form.values.value) });
      for (const r of data.results) {
        const table = el("table", { class: "trace" }, el("tr", {}, el("th", {}, "step"), el("th", {}, "output")));
        table.append(el("tr", {}, el("td", {}, "as read"), el("td", {}, el("code", {}, r.value))));
        r.steps.forEach((s, i) => {
          const name = s.step.arg ? s.step.op + "=" + s.step.arg : s.step.op;
          table.append(el("tr", {}, el("td", {}, (i + 1) + ". " + name),
            s.error ? el("td", { class: "error" }, "refused: " + s.error) : el("td", {}, el("code", {}, s.out))));
        });
        const verdict = r.error ? el("p", { class: "error" }, "No card: " + r.error) : el("p", {}, "The card roster stores: ", el("strong", {}, r.result));
        out.append(el("h3", {}, r.value), table, verdict);
      }
    } catch (e) { out.append(el("p", { class: "error" }, e.message)); }
  });
}

// A new print code, shown once.
document.getElementById("new-print-code")?.addEventListener("click", async (ev) => {
  const out = document.getElementById("print-code-result");
  if (!confirm("Give " + ev.target.dataset.login + " a new print code? The old one stops working.")) return;
  try {
    const data = await api("POST", "/api/v1/users/" + encodeURIComponent(ev.target.dataset.login) + "/print-code", {});
    out.replaceChildren(el("p", {}, "New print code: ", el("strong", {}, data.code), " (shown this once; roster keeps only its hash)"));
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
});

// A user's lockout at terminals, cleared by the admin.
for (const b of document.querySelectorAll(".clear-lockout")) {
  b.addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/v1/lockouts/" + encodeURIComponent(b.dataset.key));
      location.reload();
    } catch (e) { b.replaceWith(el("span", { class: "error" }, e.message)); }
  });
}

// The source page's bulk print codes: shown this once, as a table and a
// CSV file for a mail merge.
document.getElementById("bulk-codes")?.addEventListener("click", async () => {
  const length = Number(document.getElementById("bulk-length").value);
  const out = document.getElementById("test-result");
  out.hidden = false;
  out.replaceChildren(el("p", {}, "Making print codes…"));
  const show = (data, error) => {
    const codes = data.codes || [];
    const items = [el("h2", {}, `${codes.length} new print codes`)];
    if (error) items.push(el("p", { class: "error" }, error));
    if (data.note) items.push(el("p", {}, data.note));
    if (data.write_back) items.push(el("p", {}, data.write_back));
    if (codes.length) {
      // A directory value that starts like a formula is not one in a spreadsheet.
      const csvCell = (v) => { let s = String(v); if (/^[=+\-@\t\r]/.test(s)) s = "'" + s; return '"' + s.replaceAll('"', '""') + '"'; };
      const csv = "login,name,email,code\n" + codes.map((c) => [c.login, c.name, c.email, c.code].map(csvCell).join(",")).join("\n") + "\n";
      const link = el("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: "print-codes.csv" }, "Download as CSV");
      items.push(el("p", {}, link));
      const table = el("table", {}, el("tr", {}, el("th", {}, "login"), el("th", {}, "name"), el("th", {}, "email"), el("th", {}, "code")));
      for (const c of codes) table.append(el("tr", {}, el("td", {}, c.login), el("td", {}, c.name), el("td", {}, c.email), el("td", {}, el("code", {}, c.code))));
      items.push(table);
    }
    out.replaceChildren(...items);
  };
  try {
    const id = document.getElementById("source").dataset.id;
    show(await api("POST", "/api/v1/sources/" + id + "/print-codes", { length }));
  } catch (e) {
    if (e.data && e.data.codes) show(e.data, e.message);
    else out.replaceChildren(el("p", { class: "error" }, e.message));
  }
});

// The source page's test write: may the account write back?
document.getElementById("write-test")?.addEventListener("click", async () => {
  const out = document.getElementById("test-result");
  out.hidden = false;
  out.replaceChildren(el("p", {}, "Trying a write that changes nothing…"));
  try {
    const id = document.getElementById("source").dataset.id;
    const t = await api("POST", "/api/v1/sources/" + id + "/write-test");
    const items = [el("h2", {}, "Test write on " + t.user)];
    for (const c of t.checks) {
      items.push(el("p", { class: c.ok ? "ok" : "error" }, `${c.attribute} (${c.field.replace("_", " ")}): ` + (c.ok ? "the account may write it" : c.error)));
    }
    out.replaceChildren(...items);
  } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
});
