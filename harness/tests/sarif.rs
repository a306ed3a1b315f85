//! `findings.sarif` is valid SARIF 2.1.0 (the official JSON schema, fetched by scripts/setup
//! from the serde-sarif crate on crates.io, checked with Python's jsonschema), has one stable
//! rule per scenario, and says of every finding its severity, CWE and the file and line of the
//! scenario that caught it.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::Path;

use harness::report::{RunHead, now_rfc3339, write_run};
use harness::trial::outcome::{StepRecord, TrialOutcome, Verdict, Weakness};
use serde_json::Value;

fn outcome(
    scenario: &str,
    target: &str,
    verdict: Verdict,
    weakness: Option<Weakness>,
) -> TrialOutcome {
    TrialOutcome {
        name: format!("{target}::{scenario}"),
        target: target.into(),
        scenario_id: scenario.into(),
        scenario_name: format!("the {scenario} scenario"),
        scenario_path: format!("/somewhere/harness/../scenarios/{scenario}.yaml"),
        covers: Vec::new(),
        weakness,
        verdict,
        risk_accepted: None,
        oracle: None,
        failure_kind: None,
        message: Some("the SP signed in admin@acme.test\nline 2".into()),
        started_at: now_rfc3339(),
        duration_ms: 10,
        overhead_ms: 1,
        phases_ms: Default::default(),
        steps: vec![StepRecord {
            index: 0,
            phase: "expect".into(),
            kind: "expect".into(),
            detail: "not_signed_in_as".into(),
            at: format!("scenarios/{scenario}.yaml:17:5"),
            started_ms: 0,
            duration_ms: 5,
            ok: verdict == Verdict::Pass,
            failure: None,
            message: None,
            note: None,
        }],
        screenshots: Vec::new(),
        http: Vec::new(),
        exchanges: Vec::new(),
        context: Default::default(),
        final_url: None,
        error_text: None,
        target_log: Vec::new(),
        browser: "Chromium".into(),
        os: "Debian".into(),
        protocol: "SAML".into(),
        idp_profile: "generic".into(),
        sign_in_path: "direct sign-in".into(),
        users: Vec::new(),
        secrets: Vec::new(),
    }
}

fn xsw() -> Weakness {
    Weakness {
        anchors: vec!["SAML-SP-21".into()],
        severity: Some("critical".into()),
        cwe: Some("CWE-347".into()),
        cve: vec!["CVE-2021-21238".into()],
        remediation: Some("verify the signature of the assertion you read".into()),
    }
}

#[test]
fn findings_sarif_is_valid_sarif_with_one_rule_per_scenario() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schema = repo.join("peers/tools/sarif/sarif-schema-2.1.0.json");
    assert!(
        schema.is_file(),
        "{} is missing: run `bash scripts/setup` (it fetches the official SARIF schema)",
        schema.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let outcomes = vec![
        outcome(
            "saml-attacks/wrapping/xsw3",
            "lib-a",
            Verdict::Finding,
            Some(xsw()),
        ),
        {
            let mut o = outcome(
                "saml-attacks/wrapping/xsw3",
                "lib-b",
                Verdict::Finding,
                Some(xsw()),
            );
            o.risk_accepted = Some("accepted until 2027-06-30: upgrade planned".into());
            o
        },
        outcome(
            "documented/sign-in/sp-initiated-saml",
            "lib-a",
            Verdict::Fail,
            None,
        ),
        outcome(
            "documented/sign-in/sp-initiated-saml",
            "lib-b",
            Verdict::Pass,
            None,
        ),
        outcome("product/oidc-login", "lib-a", Verdict::Error, None),
    ];
    let head = RunHead {
        run_id: "sarif-test".into(),
        started_at: now_rfc3339(),
        targets: vec!["lib-a".into(), "lib-b".into()],
        scenarios: "scenarios".into(),
        jobs: 1,
        planned: outcomes.len(),
    };
    let (run_dir, _) = write_run(
        dir.path(),
        head,
        outcomes,
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let sarif = run_dir.join("findings.sarif");

    // The official schema says it is SARIF 2.1.0.
    let check = std::process::Command::new("python3")
        .arg("-c")
        .arg("import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\nlog = json.load(open(sys.argv[2]))\nerrors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=str)\nfor e in errors: print(list(e.path), e.message)\nsys.exit(1 if errors else 0)")
        .arg(&schema)
        .arg(&sarif)
        .output()
        .expect("python3 with jsonschema (Debian: python3-jsonschema, installed by scripts/setup)");
    assert!(
        check.status.success(),
        "findings.sarif is not valid SARIF 2.1.0:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The validator itself can say no: a log with a wrong `level` is refused.
    let mut log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let bad = dir.path().join("bad.sarif");
    log["runs"][0]["results"][0]["level"] = Value::from("catastrophic");
    std::fs::write(&bad, log.to_string()).unwrap();
    let refused = std::process::Command::new("python3")
        .arg("-c")
        .arg("import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))")
        .arg(&schema)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "the schema check accepted a wrong level"
    );

    // One rule per scenario, results for what is wrong with an SP, errors as notifications.
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "sso/saml-attacks/wrapping/xsw3",
            "sso/documented/sign-in/sp-initiated-saml"
        ]
    );
    let xsw_rule = &rules[0];
    assert_eq!(xsw_rule["properties"]["security-severity"], "9.5");
    let tags: Vec<&str> = xsw_rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"external/cwe/cwe-347"), "{tags:?}");
    assert!(tags.contains(&"CVE-2021-21238"), "{tags:?}");
    assert_eq!(
        xsw_rule["help"]["text"],
        "verify the signature of the assertion you read"
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "two findings and one failure");
    let finding = &results[0];
    assert_eq!(finding["level"], "error");
    assert_eq!(finding["properties"]["target"], "lib-a");
    let loc = &finding["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "scenarios/saml-attacks/wrapping/xsw3.yaml"
    );
    assert_eq!(loc["region"]["startLine"], 17);
    // Two targets caught by one scenario are two alerts, each tracked across runs.
    assert_ne!(
        results[0]["partialFingerprints"]["trial/v1"],
        results[1]["partialFingerprints"]["trial/v1"]
    );
    // An accepted risk is a dismissed alert with its reason; an open one is not dismissed.
    assert!(results[0].get("suppressions").is_none());
    assert_eq!(results[1]["suppressions"][0]["kind"], "external");
    assert_eq!(
        results[1]["suppressions"][0]["justification"],
        "accepted until 2027-06-30: upgrade planned"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(
        notes.len(),
        1,
        "the harness error is a notification, not a result"
    );
}
