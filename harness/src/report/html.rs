//! One self-contained HTML page per run: screenshots inline as data URIs, every value
//! escaped.
use base64::Engine;

use super::summary::RunSummary;
use crate::trial::outcome::{TrialOutcome, Verdict};

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::KnownFailure | Verdict::Skipped => "muted",
        Verdict::Finding => "finding",
        _ => "fail",
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
.pass{color:#17692b}.fail{color:#b00020;font-weight:bold}.muted{color:#777}.finding{color:#a05a00;font-weight:bold}\
pre{background:#f6f6f6;padding:8px;overflow-x:auto;white-space:pre-wrap}\
img{max-width:640px;border:1px solid #aaa}details{margin:4px 0}section{border-top:2px solid #ddd;margin-top:1.5em}";

pub fn render(summary: &RunSummary, outcomes: &[TrialOutcome]) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>sso-harness run ");
    h.push_str(&esc(&summary.run_id));
    h.push_str("</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body>");
    h.push_str(&format!(
        "<h1>sso-harness run {}</h1>",
        esc(&summary.run_id)
    ));
    h.push_str(&format!("<p>{}</p>", esc(&summary.line())));
    h.push_str(&format!(
        "<p>Targets: {}; scenarios: {}; started {}; jobs {}</p>",
        esc(&summary.targets.join(", ")),
        esc(&summary.scenarios),
        esc(&summary.started_at),
        summary.jobs
    ));
    findings(&mut h, outcomes);
    h.push_str("<table><tr><th>trial</th><th>verdict</th><th>covers</th><th>ms</th></tr>");
    for (i, o) in outcomes.iter().enumerate() {
        h.push_str(&format!(
            "<tr><td><a href=\"#t{i}\">{}</a></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            class(o.verdict),
            esc(o.verdict.label()),
            esc(&o
                .covers
                .iter()
                .chain(o.weakness.iter().flat_map(|w| w.anchors.iter()))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")),
            o.duration_ms
        ));
    }
    h.push_str("</table>");
    for (i, o) in outcomes.iter().enumerate() {
        trial(&mut h, i, o);
    }
    h.push_str("</body></html>\n");
    h
}

/// The page of a run in progress (or interrupted): the finished trials and their verdicts,
/// rewritten after each trial; the full page replaces it when the run ends.
pub fn render_progress(
    summary: &RunSummary,
    outcomes: &[TrialOutcome],
    planned: usize,
    interrupted: Option<&str>,
) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>sso-harness run ");
    h.push_str(&esc(&summary.run_id));
    h.push_str(" (incomplete)</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body>");
    h.push_str(&format!(
        "<h1>sso-harness run {} (incomplete)</h1>",
        esc(&summary.run_id)
    ));
    let state = match interrupted {
        Some(sig) => format!("The run was interrupted by {}.", esc(sig)),
        None => "The run is in progress (or was killed): this page is rewritten after every trial."
            .into(),
    };
    h.push_str(&format!(
        "<p class=\"fail\">{state} {} of {planned} trials finished; results.json has their evidence.</p>",
        outcomes.len()
    ));
    h.push_str(&format!(
        "<p>Targets: {}; scenarios: {}; started {}; jobs {}</p>",
        esc(&summary.targets.join(", ")),
        esc(&summary.scenarios),
        esc(&summary.started_at),
        summary.jobs
    ));
    h.push_str("<table><tr><th>trial</th><th>verdict</th><th>ms</th><th>message</th></tr>");
    for o in outcomes {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            class(o.verdict),
            esc(o.verdict.label()),
            o.duration_ms,
            esc(o
                .message
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or(""))
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}

/// Targets that accepted what they must refuse come first: they are why one runs this.
fn findings(h: &mut String, outcomes: &[TrialOutcome]) {
    let list: Vec<(usize, &TrialOutcome)> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.verdict == Verdict::Finding)
        .collect();
    if list.is_empty() {
        return;
    }
    h.push_str("<h2 class=\"finding\">Findings</h2><ul>");
    for (i, o) in list {
        let why = o
            .message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or_default();
        let (label, fix) = match &o.weakness {
            Some(w) => (
                format!(" [{}]", w.label()),
                w.remediation
                    .as_deref()
                    .map(|r| format!("<br>Fix: {}", esc(r)))
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        h.push_str(&format!(
            "<li><a href=\"#t{i}\">{}</a>{}: {}{fix}</li>",
            esc(&o.name),
            esc(&label),
            esc(why.trim_start_matches("FINDING: "))
        ));
    }
    h.push_str("</ul>");
}

fn trial(h: &mut String, i: usize, o: &TrialOutcome) {
    h.push_str(&format!(
        "<section id=\"t{i}\"><h2>{} <span class=\"{}\">{}</span></h2>",
        esc(&o.name),
        class(o.verdict),
        esc(o.verdict.label())
    ));
    h.push_str(&format!(
        "<p>{} — <code>{}</code>; started {} UTC; {} ms ({} ms overhead); {} on {}; {}</p>",
        esc(&o.scenario_name),
        esc(&o.scenario_path),
        esc(&o.started_at),
        o.duration_ms,
        o.overhead_ms,
        esc(&o.browser),
        esc(&o.os),
        esc(&o.sign_in_path)
    ));
    if let Some(m) = &o.message {
        h.push_str(&format!("<pre>{}</pre>", esc(m)));
    }
    if !o.phases_ms.is_empty() {
        let parts: Vec<String> = o
            .phases_ms
            .iter()
            .map(|(k, v)| format!("{k} {v} ms"))
            .collect();
        h.push_str(&format!("<p>Overhead: {}</p>", esc(&parts.join(", "))));
    }
    if !o.steps.is_empty() {
        h.push_str("<h3>Steps</h3><table><tr><th>#</th><th>phase</th><th>step</th><th>args</th><th>start ms</th><th>ms</th><th></th></tr>");
        for s in &o.steps {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                s.index + 1,
                s.phase,
                esc(&s.kind),
                esc(&s.detail),
                s.started_ms,
                s.duration_ms,
                if s.ok { "pass" } else { "fail" },
                esc(&if s.ok {
                    s.note.clone().unwrap_or_else(|| "ok".into())
                } else {
                    "FAILED".into()
                })
            ));
        }
        h.push_str("</table>");
    }
    for s in &o.screenshots {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&s.png);
        h.push_str(&format!(
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"><figcaption>{}</figcaption></figure>",
            esc(&s.name),
            esc(&s.name)
        ));
    }
    if !o.http.is_empty() {
        h.push_str("<h3>HTTP status timeline</h3><table><tr><th>+ms</th><th>method</th><th>status</th><th>URL</th></tr>");
        for e in &o.http {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.at_ms,
                esc(e.method.as_deref().unwrap_or("")),
                e.status,
                esc(&e.url)
            ));
        }
        h.push_str("</table>");
    }
    if !o.target_log.is_empty() {
        h.push_str(&format!(
            "<h3>Target log ({} lines written during the trial)</h3><pre>{}</pre>",
            o.target_log.len(),
            esc(&o.target_log.join("\n"))
        ));
    }
    if !o.exchanges.is_empty() {
        h.push_str("<h3>IdP exchanges (decoded SAML, JWT header and claims)</h3>");
        for x in &o.exchanges {
            let kind = x.get("kind").and_then(|v| v.as_str()).unwrap_or("exchange");
            let decoded = match x.get("decoded") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
                None => serde_json::to_string_pretty(x).unwrap_or_default(),
            };
            h.push_str(&format!(
                "<details><summary>{} {}</summary><pre>{}</pre><pre>{}</pre></details>",
                esc(kind),
                esc(x.get("at").and_then(|v| v.as_str()).unwrap_or("")),
                esc(&decoded),
                esc(&serde_json::to_string(&x.get("http")).unwrap_or_default())
            ));
        }
    }
    if !o.context.is_empty() {
        h.push_str("<details><summary>trial context</summary><table>");
        for (k, v) in &o.context {
            h.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                esc(k),
                esc(v)
            ));
        }
        h.push_str("</table></details>");
    }
    h.push_str("</section>");
}
