//! One self-contained HTML page per run: findings first, then failures, then the rest; per
//! trial a duration bar, a sequence chart (inline SVG, `chart`), the IdP's decoded messages
//! and the steps as YAML (`args`). Screenshots inline as data URIs, every value escaped; a
//! few lines of script filter and open messages, and the page reads the same without it.
mod args;
mod chart;

use base64::Engine;

use super::summary::RunSummary;
use crate::trial::outcome::{TrialOutcome, Verdict};

pub use crate::report::escape::esc;

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

/// Filters by verdict and target, and opens the decoded message an arrow links to. The page
/// reads the same without it: every trial shown, every message a closed `<details>`.
const SCRIPT: &str = "(function(){\
var f=document.getElementById('filters');if(!f)return;f.hidden=false;\
var v=document.getElementById('fv'),t=document.getElementById('ft');\
function apply(){document.querySelectorAll('.f').forEach(function(e){\
e.hidden=!!((v.value&&e.getAttribute('data-group')!==v.value)||(t.value&&e.getAttribute('data-target')!==t.value));});}\
v.addEventListener('change',apply);t.addEventListener('change',apply);\
function open(id){var d=id&&document.getElementById(id);if(d&&d.tagName==='DETAILS'){d.open=true;}}\
window.addEventListener('hashchange',function(){open(location.hash.slice(1));});\
document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a');\
var h=a&&a.getAttribute('href');if(h&&h.charAt(0)==='#')open(h.slice(1));});\
open(location.hash.slice(1));})();";

const CHART_STYLE: &str = "svg.seq{font:12px system-ui,sans-serif;background:#fff;border:1px solid #ddd;max-width:100%}\
svg.seq .lane rect{fill:#eef2f7;stroke:#9aa8b8}svg.seq .lane text{font-weight:bold}\
svg.seq .lane line{stroke:#9aa8b8;stroke-dasharray:4 4}\
svg.seq .arrow line{stroke:#333;stroke-width:1.4}svg.seq .arrow line.ans{stroke-dasharray:5 3;stroke:#666}\
svg.seq .arrow polygon{fill:#333}svg.seq .t{fill:#888;font-size:11px}\
svg.seq .hl{fill:none}svg.seq .m-err .hl{fill:#fde8ea}svg.seq .m-fail .hl{fill:#fff4d6;stroke:#d9a400}\
svg.seq .m-acc .hl{fill:#fde8ea;stroke:#b00020;stroke-width:2}svg.seq a .arrow text{fill:#0645ad;text-decoration:underline}\
svg.seq a:hover .arrow line{stroke:#0645ad}\
.tl{position:relative;height:14px;background:#eee;border-radius:3px;margin:4px 0 2px;max-width:900px}\
.tl span{position:absolute;top:0;bottom:0;min-width:2px}.tl .setup{background:#9db7d5}\
.tl .steps{background:#5b8fc7}.tl .expect{background:#7bb47b}.tl .bad{background:#b00020}\
.tlx{font-size:11px;color:#777;max-width:900px;display:flex;justify-content:space-between}\
.badge{display:inline-block;border-radius:3px;padding:0 6px;margin-right:4px;font-size:90%;border:1px solid #ccc;background:#f6f6f6}\
.sev-critical,.sev-high{background:#b00020;color:#fff;border-color:#b00020}.sev-medium{background:#e07b00;color:#fff;border-color:#e07b00}\
.sev-low{background:#f2d16b}.card{border:1px solid #e0c9a0;border-left:6px solid #a05a00;padding:6px 12px;margin:10px 0;background:#fffaf2}\
.card.fail{border-color:#e8b4bc;border-left-color:#b00020;background:#fff6f7;font-weight:normal}\
pre.yaml{background:none;padding:0;margin:0}mark.forged{background:#ffd0d6}\
#filters{margin:1em 0;padding:6px;background:#f3f3f3}.card .head{font-size:115%;font-weight:bold}";

/// Findings first, then what failed, then the rest (plan order within each).
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Finding => 0,
        Verdict::Fail | Verdict::Error | Verdict::UnexpectedPass => 1,
        Verdict::KnownFailure => 2,
        Verdict::Pass => 3,
        Verdict::Skipped => 4,
    }
}

/// The verdict group the filter selects by.
fn group(v: Verdict) -> &'static str {
    match rank(v) {
        0 => "finding",
        1 => "failure",
        2 => "known_failure",
        3 => "pass",
        _ => "skipped",
    }
}

/// `class="f" data-group=... data-target=...`: what the filter script looks at.
fn filter_attrs(o: &TrialOutcome) -> String {
    format!(
        "class=\"f\" data-group=\"{}\" data-target=\"{}\"",
        group(o.verdict),
        esc(&o.target)
    )
}

fn first_line(s: Option<&str>) -> &str {
    s.and_then(|m| m.lines().next()).unwrap_or("")
}

pub fn render(summary: &RunSummary, outcomes: &[TrialOutcome]) -> String {
    let mut order: Vec<usize> = (0..outcomes.len()).collect();
    order.sort_by_key(|&i| (rank(outcomes[i].verdict), i));
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>sso-harness run ");
    h.push_str(&esc(&summary.run_id));
    h.push_str("</title><style>");
    h.push_str(STYLE);
    h.push_str(CHART_STYLE);
    h.push_str("</style></head><body>");
    h.push_str(&format!(
        "<h1>sso-harness run {}</h1>",
        esc(&summary.run_id)
    ));
    let verdict_line = if summary.findings > 0 {
        (
            "finding",
            format!(
                "{} finding(s): targets accepted what they must refuse.",
                summary.findings
            ),
        )
    } else if summary.failed + summary.errors + summary.unexpected_passes > 0 {
        ("fail", "The run failed.".to_string())
    } else {
        ("pass", "No finding, no failure.".to_string())
    };
    h.push_str(&format!(
        "<p class=\"{}\" style=\"font-size:120%\">{}</p>",
        verdict_line.0,
        esc(&verdict_line.1)
    ));
    h.push_str(&format!("<p>{}</p>", esc(&summary.line())));
    h.push_str(&format!(
        "<p>Targets: {}; scenarios: {}; started {}; jobs {}</p>",
        esc(&summary.targets.join(", ")),
        esc(&summary.scenarios),
        esc(&summary.started_at),
        summary.jobs
    ));
    filters(&mut h, outcomes);
    findings(&mut h, outcomes);
    failures(&mut h, outcomes);
    h.push_str("<h2>All trials</h2><table><tr><th>trial</th><th>verdict</th><th>covers</th><th>ms</th></tr>");
    for &i in &order {
        let o = &outcomes[i];
        h.push_str(&format!(
            "<tr {}><td><a href=\"#t{i}\">{}</a></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            filter_attrs(o),
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
    for &i in &order {
        trial(&mut h, i, &outcomes[i]);
    }
    h.push_str("<script>");
    h.push_str(SCRIPT);
    h.push_str("</script></body></html>\n");
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

/// The filter form, hidden until the script shows it (without JS every trial is shown).
fn filters(h: &mut String, outcomes: &[TrialOutcome]) {
    let mut targets: Vec<&str> = outcomes.iter().map(|o| o.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    h.push_str("<form id=\"filters\" hidden>Show <select id=\"fv\"><option value=\"\">every verdict</option>");
    for (g, label) in [
        ("finding", "findings"),
        ("failure", "failures and errors"),
        ("known_failure", "known failures"),
        ("pass", "passes"),
        ("skipped", "skipped"),
    ] {
        let n = outcomes.iter().filter(|o| group(o.verdict) == g).count();
        h.push_str(&format!("<option value=\"{g}\">{label} ({n})</option>"));
    }
    h.push_str("</select> of <select id=\"ft\"><option value=\"\">every target</option>");
    for t in targets {
        h.push_str(&format!("<option value=\"{0}\">{0}</option>", esc(t)));
    }
    h.push_str("</select></form>");
}

fn severity_badge(sev: &str) -> String {
    let c: String = sev
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    format!("<span class=\"badge sev-{c}\">{}</span>", esc(sev))
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
    h.push_str(&format!(
        "<h2 class=\"finding\">Findings</h2><p>{} trial(s) where the target accepted what it must refuse:</p>",
        list.len()
    ));
    for (i, o) in list {
        let why = first_line(o.message.as_deref());
        // The headline: which trial, and what the target accepted.
        h.push_str(&format!(
            "<div {} data-finding=\"{i}\"><div class=\"card\"><p class=\"head\"><a href=\"#t{i}\">{}</a>: {}</p><p>",
            filter_attrs(o),
            esc(&o.name),
            esc(why.trim_start_matches("FINDING: "))
        ));
        let w = o.weakness.clone().unwrap_or_default();
        h.push_str(&severity_badge(
            w.severity.as_deref().unwrap_or("severity not given"),
        ));
        h.push_str(&format!(
            "<span class=\"badge\">{}</span>",
            esc(w.cwe.as_deref().unwrap_or("no CWE given"))
        ));
        for c in &w.cve {
            h.push_str(&format!("<span class=\"badge\">{}</span>", esc(c)));
        }
        h.push_str(&format!(" {}</p>", esc(&o.scenario_name)));
        h.push_str("<table>");
        if !w.anchors.is_empty() {
            h.push_str(&format!(
                "<tr><th>anchor rows</th><td>{}</td></tr>",
                esc(&w.anchors.join(", "))
            ));
        }
        if let Some(r) = &w.remediation {
            h.push_str(&format!("<tr><th>remediation</th><td>{}</td></tr>", esc(r)));
        }
        if let Some(r) = &o.risk_accepted {
            h.push_str(&format!(
                "<tr><th>risk accepted</th><td>{}</td></tr>",
                esc(r)
            ));
        }
        if let Some(or) = &o.oracle {
            h.push_str(&format!("<tr><th>decided by</th><td>{}</td></tr>", esc(or)));
        }
        if let Some(k) = o.failure_kind {
            h.push_str(&format!(
                "<tr><th>failure kind</th><td>{}</td></tr>",
                esc(k.label())
            ));
        }
        if let Some(u) = &o.final_url {
            h.push_str(&format!(
                "<tr><th>final page</th><td><code>{}</code></td></tr>",
                esc(u)
            ));
        }
        h.push_str("</table>");
        evidence(h, o);
        h.push_str("</div></div>");
    }
}

/// The evidence of a finding or failure: the message, the IdP's log and the target's log.
fn evidence(h: &mut String, o: &TrialOutcome) {
    if let Some(m) = &o.message {
        h.push_str(&format!(
            "<details open><summary>message</summary><pre>{}</pre></details>",
            esc(m)
        ));
    }
    if !o.exchanges.is_empty() {
        let lines: Vec<String> = o
            .exchanges
            .iter()
            .map(|x| {
                format!(
                    "{} {} {} {} -> {}",
                    x.get("at").and_then(|v| v.as_str()).unwrap_or(""),
                    chart::exchange_label(x),
                    x.pointer("/http/method")
                        .and_then(|v| v.as_str())
                        .unwrap_or(""),
                    x.pointer("/http/path")
                        .and_then(|v| v.as_str())
                        .unwrap_or(""),
                    x.pointer("/http/status")
                        .and_then(|v| v.as_u64())
                        .unwrap_or(0)
                )
            })
            .collect();
        h.push_str(&format!(
            "<details><summary>mock IdP log ({} entries)</summary><pre>{}</pre></details>",
            lines.len(),
            esc(&lines.join("\n"))
        ));
    }
    if !o.target_log.is_empty() {
        h.push_str(&format!(
            "<details><summary>target log ({} lines)</summary><pre>{}</pre></details>",
            o.target_log.len(),
            esc(&o.target_log.join("\n"))
        ));
    }
}

/// Failures, errors and unexpected passes, each with the step that failed.
fn failures(h: &mut String, outcomes: &[TrialOutcome]) {
    let list: Vec<(usize, &TrialOutcome)> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.verdict.is_failure())
        .collect();
    if list.is_empty() {
        return;
    }
    h.push_str(&format!(
        "<h2 class=\"fail\">Failures and errors</h2><p>{} trial(s) failed or could not run:</p>",
        list.len()
    ));
    for (i, o) in list {
        let step = o.steps.iter().find(|s| !s.ok);
        h.push_str(&format!(
            "<div {}><div class=\"card fail\"><b><a href=\"#t{i}\">{}</a></b> <span class=\"fail\">{}</span>{}<br>{}{}</div></div>",
            filter_attrs(o),
            esc(&o.name),
            esc(o.verdict.label()),
            o.failure_kind
                .map(|k| format!(" ({})", esc(k.label())))
                .unwrap_or_default(),
            esc(first_line(o.message.as_deref())),
            step.map(|s| format!(
                "<br><small>step {} <code>{}</code> at <code>{}</code></small>",
                s.index + 1,
                esc(&s.kind),
                esc(&s.at)
            ))
            .unwrap_or_default()
        ));
    }
}

/// The trial's steps as bars on one line from 0 to its duration.
fn timeline(h: &mut String, o: &TrialOutcome) {
    let end = o
        .steps
        .iter()
        .map(|s| s.started_ms + s.duration_ms)
        .max()
        .unwrap_or(0)
        .max(o.duration_ms)
        .max(1);
    let pct = |ms: u64| ms as f64 * 100.0 / end as f64;
    h.push_str("<div class=\"tl\">");
    for s in &o.steps {
        h.push_str(&format!(
            "<span class=\"{}\" style=\"left:{:.2}%;width:{:.2}%\" title=\"{}\"></span>",
            if s.ok { s.phase.as_ref() } else { "bad" },
            pct(s.started_ms),
            pct(s.duration_ms),
            esc(&format!(
                "{} {} ({}): +{} ms, {} ms{}",
                s.index + 1,
                s.kind,
                s.phase,
                s.started_ms,
                s.duration_ms,
                if s.ok { "" } else { ", FAILED" }
            ))
        ));
    }
    h.push_str(&format!(
        "</div><div class=\"tlx\"><span>0</span><span>steps: setup, steps, expect; red: failed; gaps: overhead ({} ms)</span><span>{end} ms</span></div>",
        o.overhead_ms
    ));
}

fn trial(h: &mut String, i: usize, o: &TrialOutcome) {
    h.push_str(&format!(
        "<section id=\"t{i}\" {}><h2>{} <span class=\"{}\">{}</span></h2>",
        filter_attrs(o),
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
    if let Some(t) = &o.error_text {
        h.push_str(&format!("<p>The SP's error text: <q>{}</q></p>", esc(t)));
    }
    timeline(h, o);
    if !o.phases_ms.is_empty() {
        let parts: Vec<String> = o
            .phases_ms
            .iter()
            .map(|(k, v)| format!("{k} {v} ms"))
            .collect();
        h.push_str(&format!(
            "<p><small>Overhead: {}</small></p>",
            esc(&parts.join(", "))
        ));
    }
    let chart = chart::svg(i, o);
    if !chart.is_empty() {
        h.push_str("<h3>Sequence</h3><p><small>Solid: request; dashed: answer. Click an underlined arrow for the decoded message. \
            Red: error status or a forged/faulty message the SP accepted; amber: the last exchange before the failing step.</small></p>");
        h.push_str(&chart);
    }
    exchanges(h, i, o);
    if !o.steps.is_empty() {
        h.push_str("<h3>Steps</h3><table><tr><th>#</th><th>phase</th><th>step</th><th>start ms</th><th>ms</th><th></th></tr>");
        for s in &o.steps {
            let result = if s.ok {
                esc(s.note.as_deref().unwrap_or("ok"))
            } else {
                format!(
                    "FAILED{}{}",
                    s.failure
                        .as_deref()
                        .map(|f| format!(" ({})", esc(f)))
                        .unwrap_or_default(),
                    s.message
                        .as_deref()
                        .map(|m| format!("<pre>{}</pre>", esc(m)))
                        .unwrap_or_default()
                )
            };
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><pre class=\"yaml\" title=\"{}\">{}</pre><small>{}</small></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                s.index + 1,
                s.phase,
                esc(&s.detail),
                esc(&args::step_yaml(&s.kind, &s.detail, &o.context)),
                esc(&s.at),
                s.started_ms,
                s.duration_ms,
                if s.ok { "pass" } else { "fail" },
                result
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
        h.push_str("<details><summary>HTTP status timeline (the browser's document loads)</summary><table><tr><th>+ms</th><th>method</th><th>status</th><th>URL</th></tr>");
        for e in &o.http {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.at_ms,
                esc(e.method.as_deref().unwrap_or("")),
                e.status,
                esc(&e.url)
            ));
        }
        h.push_str("</table></details>");
    }
    if !o.target_log.is_empty() {
        h.push_str(&format!(
            "<h3>Target log ({} lines written during the trial)</h3><pre>{}</pre>",
            o.target_log.len(),
            esc(&o.target_log.join("\n"))
        ));
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

/// The mock IdP's log entries, decoded: SAML XML (forged lines marked) or JWT header and
/// claims. Each is the target of the chart's arrows that carry it.
fn exchanges(h: &mut String, i: usize, o: &TrialOutcome) {
    if o.exchanges.is_empty() {
        return;
    }
    h.push_str("<h3>IdP exchanges (decoded SAML, JWT header and claims)</h3>");
    for (j, x) in o.exchanges.iter().enumerate() {
        let forged = x.get("forge").is_some_and(|f| !f.is_null());
        let mut verbatim = String::new();
        let decoded = match x.get("decoded") {
            Some(serde_json::Value::String(s)) if forged && s.trim_start().starts_with('<') => {
                let pretty = chart::pretty_xml(s);
                if pretty != *s {
                    verbatim = format!(
                        "<details><summary>as the IdP sent it (verbatim)</summary><pre>{}</pre></details>",
                        esc(s)
                    );
                }
                pretty
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            None => serde_json::to_string_pretty(x).unwrap_or_default(),
        };
        let marks = chart::forged_lines(&decoded, x, &o.context);
        let mut body = String::new();
        for (line, forged) in decoded.lines().zip(marks) {
            if forged {
                body.push_str(&format!("<mark class=\"forged\">{}</mark>\n", esc(line)));
            } else {
                body.push_str(&esc(line));
                body.push('\n');
            }
        }
        let forge = x
            .get("forge")
            .filter(|f| !f.is_null())
            .map(|f| {
                format!(
                    "<p>Forge record:</p><pre>{}</pre>",
                    esc(&serde_json::to_string_pretty(f).unwrap_or_default())
                )
            })
            .unwrap_or_default();
        h.push_str(&format!(
            "<details id=\"{}\"><summary>{} · {} {} → {} · {}</summary><pre>{}</pre>{verbatim}{forge}</details>",
            esc(&chart::exchange_id(i, j)),
            esc(&chart::exchange_label(x)),
            esc(x.pointer("/http/method").and_then(|v| v.as_str()).unwrap_or("")),
            esc(x.pointer("/http/path").and_then(|v| v.as_str()).unwrap_or("")),
            x.pointer("/http/status").and_then(|v| v.as_u64()).unwrap_or(0),
            esc(x.get("at").and_then(|v| v.as_str()).unwrap_or("")),
            body
        ));
    }
}
