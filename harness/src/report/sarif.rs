//! `findings.sarif`: the run's findings and failures in SARIF 2.1.0, the format GitHub code
//! scanning reads (`github/codeql-action/upload-sarif` puts them in the Security tab).
//!
//! One rule per scenario (`sso/<scenario id>`, stable across runs and targets); one result per
//! trial that says something is wrong with the SP: a FINDING (level `error`, with GitHub's
//! `security-severity` from the scenario's severity), a FAIL or UNEXPECTED PASS (`error`), a
//! known failure (`note`). Each result points at the scenario file and the failing step's
//! line, carries the target as a property and a fingerprint that stays the same from run to
//! run (so an alert is tracked, not re-opened). Harness ERRORs say nothing about the SP: they
//! are tool execution notifications, not results.
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::report::summary::RunSummary;
use crate::trial::outcome::{TrialOutcome, Verdict};

/// GitHub's scale: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
fn security_severity(severity: Option<&str>) -> Option<&'static str> {
    match severity? {
        "critical" => Some("9.5"),
        "high" => Some("8.0"),
        "medium" => Some("5.5"),
        "low" => Some("3.0"),
        _ => None,
    }
}

fn level(v: Verdict) -> Option<&'static str> {
    match v {
        Verdict::Finding | Verdict::Fail | Verdict::UnexpectedPass => Some("error"),
        Verdict::KnownFailure => Some("note"),
        Verdict::Pass | Verdict::Skipped | Verdict::Error => None,
    }
}

/// The scenario file as a repository-relative URI (`scenarios/saml-attacks/wrapping.yaml`):
/// code scanning places alerts on files of the checked-out repository.
fn artifact_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    for root in ["scenarios/", "harness/tests/", "targets/"] {
        if let Some(i) = p.find(root) {
            return p[i..].to_string();
        }
    }
    p.trim_start_matches('/').to_string()
}

/// The line of the first failed step (`file:line:col`), else 1.
fn failing_line(o: &TrialOutcome) -> u64 {
    o.steps
        .iter()
        .find(|s| !s.ok)
        .and_then(|s| {
            let mut parts = s.at.rsplitn(3, ':');
            let _col = parts.next();
            parts.next().and_then(|l| l.parse().ok())
        })
        .unwrap_or(1)
}

/// A short, stable digest of the text (FNV-1a, 64 bits): the same trial gets the same
/// fingerprint in every run.
fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn rule(o: &TrialOutcome) -> Value {
    let mut tags: Vec<String> = vec!["security".into(), "sso".into()];
    let mut props = serde_json::Map::new();
    if let Some(w) = &o.weakness {
        tags.extend(w.anchors.iter().cloned());
        if let Some(cwe) = &w.cwe {
            // GitHub shows `external/cwe/cwe-347` tags as CWE links.
            tags.push(format!("external/cwe/{}", cwe.to_lowercase()));
        }
        tags.extend(w.cve.iter().cloned());
        if let Some(s) = security_severity(w.severity.as_deref()) {
            props.insert("security-severity".into(), json!(s));
        }
    }
    tags.extend(o.covers.iter().cloned());
    props.insert("tags".into(), json!(tags));
    let mut r = json!({
        "id": format!("sso/{}", o.scenario_id),
        "name": o.scenario_id.replace(['/', '-'], "_"),
        "shortDescription": { "text": o.scenario_name },
        "fullDescription": { "text": o.scenario_name },
        "properties": Value::Object(props),
        "defaultConfiguration": { "level": "error" },
    });
    if let Some(fix) = o.weakness.as_ref().and_then(|w| w.remediation.as_ref()) {
        r["help"] = json!({ "text": fix });
    }
    r
}

fn result(o: &TrialOutcome, rule_index: usize, level: &str) -> Value {
    let mut text = format!("{} on {}: {}", o.verdict.label(), o.target, o.scenario_name);
    if let Some(m) = &o.message {
        // The first lines say what happened; the report has the rest.
        let head: Vec<&str> = m.lines().take(6).collect();
        text.push('\n');
        text.push_str(&head.join("\n"));
    }
    let mut r = json!({
        "ruleId": format!("sso/{}", o.scenario_id),
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(&o.scenario_path) },
                "region": { "startLine": failing_line(o) }
            }
        }],
        "partialFingerprints": { "trial/v1": fingerprint(&o.name) },
        "properties": {
            "target": o.target,
            "verdict": o.verdict.label(),
            "trial": o.name,
        }
    });
    // A finding someone accepted until a date stays visible, as a dismissed alert with the
    // reason, instead of disappearing or reopening on every run.
    if let Some(why) = &o.risk_accepted {
        r["suppressions"] = json!([{ "kind": "external", "justification": why }]);
    }
    r
}

/// The SARIF log of a run.
pub fn render(summary: &RunSummary, outcomes: &[TrialOutcome]) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for o in outcomes {
        if o.verdict == Verdict::Error {
            notifications.push(json!({
                "level": "error",
                "message": { "text": format!("{}: {}", o.name, o.message.clone().unwrap_or_default()) },
            }));
            continue;
        }
        let Some(level) = level(o.verdict) else {
            continue;
        };
        let i = *rule_index.entry(o.scenario_id.clone()).or_insert_with(|| {
            rules.push(rule(o));
            rules.len() - 1
        });
        results.push(result(o, i, level));
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sso-harness",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": { "id": format!("sso-harness/{}/", summary.targets.join("+")) },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_the_repository() {
        assert_eq!(
            artifact_uri("/work/main/harness/../scenarios/saml-attacks/wrapping.yaml"),
            "scenarios/saml-attacks/wrapping.yaml"
        );
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
