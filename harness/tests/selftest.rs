//! The harness tested through its runner API: a deliberately wrong expectation fails with a
//! readable diff and a screenshot; known failures and unexpected passes are reported; no
//! seeded secret survives in any report file.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use harness::report::redact::scan;
use harness::run::harness::IdpChoice;
use harness::run::runner::RunResult;
use harness::scenario::load::load_file;
use harness::target::descriptor::LoadedTarget;
use harness::trial::outcome::{TrialOutcome, Verdict};

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn scenario(name: &str) -> Arc<harness::scenario::load::LoadedScenario> {
    Arc::new(load_file(&here().join("selftest").join(name), &here()).unwrap())
}

fn target(yaml: &str) -> Arc<LoadedTarget> {
    common::inline_target(yaml)
}

fn trial<'a>(r: &'a RunResult, name: &str) -> &'a TrialOutcome {
    r.outcomes
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no trial {name}"))
}

const FORM: &str = r#"<!doctype html><html><body><h1>Sign in</h1>
<form action="/echo" method="get">
<input name="secret" type="password"><input name="note"><input type="hidden" name="code" value="CANARY-OTC-55e1">
<button id="go" type="submit">Go</button></form></body></html>"#;

/// A page that leaks everything it gets, as a badly written SP might.
async fn echo(Query(q): Query<std::collections::HashMap<String, String>>) -> Html<String> {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let esc = |s: String| s.replace('&', "&amp;").replace('<', "&lt;");
    Html(format!(
        "<!doctype html><html><body><h1>Welcome</h1><p id=\"signed-in-as\">alice@page.test</p>\
         <p>your password: {}</p><p>note: {}</p><p>code={}</p>\
         <pre>-----BEGIN PRIVATE KEY-----\nCANARYKEYMATERIAL0123456789\n-----END PRIVATE KEY-----</pre>\
         <p>{{\"client_secret\":\"CANARY-CS-91bd\"}}</p></body></html>",
        esc(get("secret")),
        esc(get("note")),
        esc(get("code"))
    ))
}

async fn serve_page() -> String {
    let app = Router::new()
        .route("/form", get(|| async { Html(FORM) }))
        .route("/echo", get(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_machinery_verdicts_and_redaction() {
    let base = serve_page().await;
    let page = target(&format!(
        "name: page\nlaunch: {{url: \"{base}\"}}\nadmin: {{manual: {{org_id: page-org}}}}\n"
    ));
    let known = target(&format!(
        "name: page-known\nlaunch: {{url: \"{base}\"}}\nadmin: {{manual: {{org_id: page-org}}}}\nknown_failures:\n  - {{scenario: selftest/page-*, reason: listed on purpose}}\n"
    ));
    let finding = target(&format!(
        "name: page-finding\nlaunch: {{url: \"{base}\"}}\nadmin: {{manual: {{org_id: page-org}}}}\nknown_failures:\n  - {{scenario: selftest/page-accepts, finding: true, reason: accepts what it must refuse, accepted_risk: {{reason: self-test, until: 2999-12-31}}}}\n  - {{scenario: selftest/page-leak, finding: true, reason: listed as a finding but fails otherwise}}\n"
    ));
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![page, known, finding],
        vec![
            scenario("page-pass.yaml"),
            scenario("page-leak.yaml"),
            scenario("page-accepts.yaml"),
        ],
        "selftest",
        IdpChoice::None,
        reports.path(),
    )
    .await;

    let pass = trial(&result, "page::selftest/page-pass");
    assert_eq!(pass.verdict, Verdict::Pass, "{:?}", pass.message);
    assert!(
        pass.http
            .iter()
            .any(|h| h.status == 200 && h.url.contains("/echo")),
        "{:?}",
        pass.http
    );

    let leak = trial(&result, "page::selftest/page-leak");
    assert_eq!(leak.verdict, Verdict::Fail);
    let msg = leak.message.clone().unwrap();
    assert!(
        msg.contains("- expected to contain: \"Welcome back, Bob\""),
        "{msg}"
    );
    assert!(
        msg.contains("closest line on the page: \"Welcome\""),
        "{msg}"
    );

    assert_eq!(
        trial(&result, "page-known::selftest/page-pass").verdict,
        Verdict::UnexpectedPass
    );
    assert_eq!(
        trial(&result, "page-known::selftest/page-leak").verdict,
        Verdict::KnownFailure
    );
    // A finding is the SP accepting what it must refuse; a listed finding that failed
    // another way (here a wrong text) is a plain failure, not a finding.
    let other = trial(&result, "page-finding::selftest/page-leak");
    assert_eq!(other.verdict, Verdict::Fail, "{:?}", other.message);
    // not listed: still a finding, and one that fails the run (no accepted risk)
    let open = trial(&result, "page::selftest/page-accepts");
    assert_eq!(open.verdict, Verdict::Finding, "{:?}", open.message);
    assert!(open.fails_run());
    // listed as a plain known failure: a finding all the same
    assert_eq!(
        trial(&result, "page-known::selftest/page-accepts").verdict,
        Verdict::Finding
    );
    let f = trial(&result, "page-finding::selftest/page-accepts");
    assert_eq!(f.verdict, Verdict::Finding, "{:?}", f.message);
    assert!(
        f.risk_accepted.is_some() && !f.fails_run(),
        "{:?}",
        f.message
    );
    assert!(
        f.message
            .as_deref()
            .unwrap_or_default()
            .starts_with("FINDING: accepts what it must refuse"),
        "{:?}",
        f.message
    );
    assert!(result.summary.has_failures());
    assert_eq!(result.summary.unexpected_passes, 1);
    assert_eq!(result.summary.findings, 3);
    assert_eq!(result.summary.findings_accepted, 1);

    // Every report file is free of every seeded secret.
    let dir = &result.report_dir;
    for f in ["index.html", "results.json", "junit.xml"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert!(dir.join("support/page__selftest_page-leak.md").is_file());
    let canaries = [
        "CANARY-PW-7f3a",
        "CANARY-CS-91bd",
        "CANARYKEYMATERIAL",
        "CANARY-OTC-55e1",
    ];
    let leaks = scan(dir, &canaries);
    assert!(leaks.is_empty(), "secrets leaked into reports: {leaks:?}");
    // ...and the secrets were really there to be removed: the page printed them.
    let msg = trial(&result, "page::selftest/page-leak")
        .message
        .clone()
        .unwrap();
    assert!(msg.contains("your password: [redacted]"), "{msg}");
    assert!(msg.contains("[redacted private key]"), "{msg}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("[redacted]"));
    // findings come first, each linking to its trial
    let findings = html
        .find("<h2 class=\"finding\">Findings</h2>")
        .expect("a Findings section");
    let listed = html.find("page-finding::selftest/page-accepts</a>: accepts what it must refuse");
    assert!(listed.is_some_and(|at| at > findings), "{html}");
    assert!(
        dir.join("support/page-finding__selftest_page-accepts.md")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_expectation_fails_with_a_diff_and_a_screenshot() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let sp = Arc::new(
        harness::target::descriptor::load_target(&root.join("targets/reference-sp.yaml")).unwrap(),
    );
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![sp],
        vec![scenario("wrong-expectation.yaml")],
        "selftest",
        IdpChoice::Embedded,
        reports.path(),
    )
    .await;
    let o = trial(&result, "reference-sp::selftest/wrong-expectation");
    assert_eq!(o.verdict, Verdict::Fail, "{:?}", o.message);
    let msg = o.message.clone().unwrap();
    assert!(msg.contains("- expected: \"mallory@acme.test\""), "{msg}");
    assert!(msg.contains("+ actual: \"alice@acme.test\""), "{msg}");
    // the login itself worked: every step before the final expectation passed
    assert!(o.steps.iter().filter(|s| s.phase != "expect").all(|s| s.ok));
    // a screenshot file, a real PNG
    let shot = o
        .screenshots
        .last()
        .and_then(|s| s.file.clone())
        .expect("a screenshot");
    let png = std::fs::read(result.report_dir.join(&shot)).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // the IdP's decoded SAML response is in the evidence
    assert!(
        o.exchanges.iter().any(|x| x["kind"] == "saml_response"),
        "{:?}",
        o.exchanges
    );
    // the support bundle has SUP-1's fields
    let support = std::fs::read_to_string(
        result
            .report_dir
            .join("support/reference-sp__selftest_wrong-expectation.md"),
    )
    .unwrap();
    for field in [
        "Exact error message",
        "Screenshot",
        "alice@acme.test",
        "Sign-in method",
        "One user or several",
        "(UTC)",
        "Browser and OS",
        "Organisation ID",
        "Direct sign-in or Tile URL",
        "Steps already done",
    ] {
        assert!(
            support.contains(field),
            "support bundle lacks {field}:\n{support}"
        );
    }
    assert!(!support.contains("org-replace-me"));
    let junit = std::fs::read_to_string(result.report_dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure message="), "{junit}");
    assert!(result.summary.line().contains("trials/s"));
}
