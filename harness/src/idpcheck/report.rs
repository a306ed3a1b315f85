//! The report of an IdP check: `reports/<UTC timestamp>-idp-check/` with `idp-check.html`
//! (one row per check: verdict (PASS, FAIL, NOT CHECKED), reason, the fix of a failed check; then the evidence: decoded ID token claims or SAML
//! response, probes, screenshots inline), `results.json`, and the screenshots as PNG files.
//! Known secret values are scrubbed from every file, as in the scenario reports.
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

use super::{CheckVerdict, IdpCheckRun};
use crate::error::{HarnessError, Result};
use crate::report::html::esc;
use crate::report::now_rfc3339;
use crate::report::redact::Redactor;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\
.pass{color:#17692b}.fail{color:#b00020;font-weight:bold}.muted{color:#777}\
pre{background:#f6f6f6;padding:8px;overflow-x:auto;white-space:pre-wrap}img{max-width:640px;border:1px solid #aaa}";

fn class(v: CheckVerdict) -> &'static str {
    match v {
        CheckVerdict::Pass => "pass",
        CheckVerdict::Fail => "fail",
        CheckVerdict::NotChecked => "muted",
    }
}

pub fn render_html(run: &IdpCheckRun) -> String {
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>IdP check: {}</title><style>{STYLE}</style></head><body>",
        esc(&run.idp)
    );
    h.push_str(&format!(
        "<h1>IdP application check: {}</h1><p>descriptor <code>{}</code>, protocol {}, {} passed, {} failed, {} not checked, {} ms, {}</p>",
        esc(&run.idp),
        esc(&run.descriptor),
        run.protocol.as_str(),
        run.passed(),
        run.failed(),
        run.not_checked(),
        run.wall_ms,
        esc(&now_rfc3339())
    ));
    h.push_str("<table><tr><th>verdict</th><th>check</th><th>requirement</th><th>reason</th><th>fix at the IdP</th></tr>");
    for r in &run.results {
        h.push_str(&format!(
            "<tr id=\"{}\"><td class=\"{}\">{}</td><td><b>{}</b><br>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.id),
            class(r.verdict),
            r.verdict.label(),
            esc(&r.id),
            esc(&r.title),
            esc(&r.covers.join(", ")),
            esc(&r.reason),
            if r.verdict == CheckVerdict::Fail {
                esc(&r.fix)
            } else {
                String::new()
            }
        ));
    }
    h.push_str("</table><h2>Evidence</h2>");
    let pretty = serde_json::to_string_pretty(&run.evidence).unwrap_or_default();
    h.push_str(&format!("<pre>{}</pre>", esc(&pretty)));
    for (name, png) in &run.screenshots {
        h.push_str(&format!(
            "<h3>{}</h3><img alt=\"{}\" src=\"data:image/png;base64,{}\">",
            esc(name),
            esc(name),
            base64::engine::general_purpose::STANDARD.encode(png)
        ));
    }
    h.push_str("</body></html>");
    h
}

/// Writes the report under `root`; returns the path of `idp-check.html`.
pub fn write_report(root: &Path, run: &IdpCheckRun) -> Result<PathBuf> {
    // The run's ID is unique (a random suffix), so two checks never share a directory.
    let dir = root.join(format!(
        "{}-idp-check",
        crate::children::registry::run().id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| HarnessError::io(&dir, e))?;
    let redactor = Redactor::new(run.secrets.iter().map(|s| s.expose().to_string()));
    let results = json!({
        "idp": run.idp,
        "descriptor": run.descriptor,
        "protocol": run.protocol.as_str(),
        "passed": run.passed(),
        "failed": run.failed(),
        "not_checked": run.not_checked(),
        "wall_ms": run.wall_ms,
        "results": run.results,
        "evidence": run.evidence,
    });
    let write = |name: &str, text: &str| -> Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, redactor.scrub(text)).map_err(|e| HarnessError::io(&p, e))
    };
    write(
        "results.json",
        &serde_json::to_string_pretty(&results).map_err(|e| HarnessError::Report(e.to_string()))?,
    )?;
    write("idp-check.html", &render_html(run))?;
    for (name, png) in &run.screenshots {
        let p = dir.join(format!("{name}.png"));
        std::fs::write(&p, png).map_err(|e| HarnessError::io(&p, e))?;
    }
    Ok(dir.join("idp-check.html"))
}
