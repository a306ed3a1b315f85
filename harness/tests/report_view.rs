//! The run report as a person reads it: findings first, a sequence chart per trial with an
//! arrow for every HTTP event, steps in YAML, everything from the SP escaped; and a real
//! rendering of the page by headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::browser::HttpEvent;
use harness::report::{RunHead, now_rfc3339, write_run};
use harness::trial::failure::FailureKind;
use harness::trial::outcome::{StepRecord, TrialOutcome, Verdict, Weakness};
use serde_json::json;

const SP: &str = "http://127.0.0.1:39843";
const IDP: &str = "http://127.0.0.1:33695";
const IDP2: &str = "http://acme.okta.test:33695";
const CANARY: &str = "http://127.0.0.1:33523";
/// What a hostile SP (or a forged message) puts in front of the report.
const XSS: &str = "<script>alert('owned')</script>";

fn context() -> BTreeMap<String, String> {
    [
        ("sp.base_url", format!("{SP}/")),
        ("sp.login_url", format!("{SP}/login")),
        ("idp.base_url", format!("{IDP}/")),
        ("canary.url", format!("{CANARY}/c/6f44229619/")),
        ("user.email", "alice@acme.test".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn ev(at_ms: u64, method: &str, url: String, status: u16) -> HttpEvent {
    HttpEvent {
        url,
        status,
        method: Some(method.into()),
        mime: Some("text/html".into()),
        at_ms,
    }
}

fn step(index: usize, phase: &'static str, kind: &str, detail: &str, ok: bool) -> StepRecord {
    StepRecord {
        index,
        phase: phase.into(),
        kind: kind.into(),
        detail: detail.into(),
        at: format!("scenarios/x.yaml:{}:5", 10 + index),
        started_ms: 100 * index as u64,
        duration_ms: 90,
        ok,
        failure: (!ok).then_some("expectation not met".into()),
        message: (!ok).then(|| format!("the page said {XSS}")),
        note: None,
    }
}

fn exchange(at: &str, kind: &str, method: &str, path: &str, status: u16) -> serde_json::Value {
    json!({
        "at": at, "tenant": "t-1", "protocol": "saml", "kind": kind,
        "http": {"method": method, "path": path, "status": status},
        "decoded": "<samlp:AuthnRequest ID=\"_1\"/>", "faults": []
    })
}

fn outcome(name: &str, verdict: Verdict) -> TrialOutcome {
    TrialOutcome {
        name: format!("reference-sp::{name}"),
        target: "reference-sp".into(),
        scenario_id: name.into(),
        scenario_name: format!("scenario {name}"),
        scenario_path: format!("scenarios/{name}.yaml"),
        covers: Vec::new(),
        weakness: None,
        verdict,
        risk_accepted: None,
        oracle: None,
        failure_kind: None,
        message: None,
        started_at: "2026-12-02T15:09:44.500Z".into(),
        duration_ms: 1500,
        overhead_ms: 100,
        phases_ms: Default::default(),
        steps: Vec::new(),
        screenshots: Vec::new(),
        http: Vec::new(),
        exchanges: Vec::new(),
        context: context(),
        final_url: None,
        error_text: None,
        target_log: Vec::new(),
        browser: "Chromium (headless)".into(),
        os: "Linux".into(),
        protocol: "SAML".into(),
        idp_profile: "okta".into(),
        sign_in_path: "direct sign-in".into(),
        users: vec!["alice@acme.test".into()],
        secrets: Vec::new(),
    }
}

/// A forged response the SP accepted: the finding.
fn finding() -> TrialOutcome {
    let mut o = outcome("saml-attacks/wrapping/xsw3", Verdict::Finding);
    o.weakness = Some(Weakness {
        anchors: vec!["SAML-SP-12".into()],
        severity: Some("critical".into()),
        cwe: Some("CWE-347".into()),
        cve: vec!["CVE-2022-41912".into()],
        remediation: Some("verify the signature of the assertion that is read".into()),
    });
    o.failure_kind = Some(FailureKind::Accepted);
    o.oracle = Some("identity".into());
    o.message = Some("FINDING: the SP signed in the forged identity mallory@acme.test".into());
    o.http = vec![
        ev(40, "GET", format!("{SP}/login"), 200),
        ev(190, "GET", format!("{IDP}/t/t-1/login?flow=f1"), 200),
        ev(350, "POST", format!("{IDP}/t/t-1/login"), 200),
        ev(400, "GET", format!("{SP}/home?w={XSS}"), 200),
    ];
    let mut forged = exchange(
        "2026-12-02T15:09:44.852Z",
        "saml_response",
        "POST",
        "/t/t-1/login",
        200,
    );
    // As the mock IdP logs an attack's response: verbatim, on one line.
    forged["decoded"] = json!(format!(
        "<samlp:Response><saml:Assertion ID=\"_a1\"><saml:NameID>alice@acme.test</saml:NameID></saml:Assertion><saml:Assertion ID=\"_evil2\"><saml:NameID>mallory@acme.test</saml:NameID><!-- {XSS} --></saml:Assertion></samlp:Response>"
    ));
    forged["forge"] = json!({
        "attack": "xsw3", "cwe": "CWE-347", "cve": null, "forged_identity": "mallory@acme.test",
        "sign": "assertion", "signature_algorithm": "rsa-sha256", "digest_algorithm": "sha256",
        "key_info": "x509", "signing_key": "tenant", "encrypted": false, "template": false, "edits": 0
    });
    o.exchanges = vec![
        // The 303 redirect hop: no document load shows it, it gets an arrow of its own.
        exchange(
            "2026-12-02T15:09:44.620Z",
            "authn_request",
            "GET",
            "/t/t-1/saml/sso",
            303,
        ),
        exchange(
            "2026-12-02T15:09:44.849Z",
            "login",
            "POST",
            "/t/t-1/login",
            200,
        ),
        forged,
    ];
    o.steps = vec![
        step(
            0,
            "setup",
            "verify_domain",
            "DomainArgs { domain: \"acme.test\", expect_error: None }",
            true,
        ),
        step(1, "steps", "open", "\"{sp.login_url}\"", true),
        step(
            2,
            "steps",
            "fill",
            "FillArgs { selector: \"input[name=email]\", value: \"{user.email}\" }",
            true,
        ),
        step(
            3,
            "expect",
            "expect",
            "Expectation { text: None, rejected: Some(true), idp_saw: [], screenshot: true }",
            false,
        ),
    ];
    o.target_log = vec![format!("accepted assertion _evil for {XSS}")];
    o
}

/// A refusal with a hostile error page, and a request to the canary.
fn failure() -> TrialOutcome {
    let mut o = outcome("product/sp-initiated-saml", Verdict::Fail);
    o.failure_kind = Some(FailureKind::Refused);
    o.message = Some(format!("the SP refused: {XSS}"));
    o.error_text = Some(XSS.into());
    o.http = vec![
        ev(30, "GET", format!("{SP}/login"), 200),
        ev(250, "POST", format!("{SP}/sso/saml/acs"), 403),
        ev(260, "GET", format!("{CANARY}/c/6f44229619/x"), 0),
    ];
    o.steps = vec![
        step(0, "steps", "start_login", "NoArgs", true),
        step(
            1,
            "expect",
            "expect",
            "Expectation { signed_in_as: Some(\"{user.email}\") }",
            false,
        ),
    ];
    o
}

/// An OIDC sign-in with the SP's back-channel token request.
fn pass() -> TrialOutcome {
    let mut o = outcome("product/sp-initiated-oidc", Verdict::Pass);
    o.protocol = "OIDC".into();
    // The profile's sign-in host is not the IdP's base URL: a second IdP host.
    o.context.insert(
        "idp.authorization_endpoint".into(),
        format!("{IDP2}/oauth2/default/v1/authorize"),
    );
    o.http = vec![
        ev(30, "GET", format!("{SP}/login"), 200),
        ev(
            120,
            "GET",
            format!("{IDP2}/oauth2/default/v1/authorize?state=s"),
            200,
        ),
        ev(300, "GET", format!("{SP}/home"), 200),
    ];
    let mut token = exchange(
        "2026-12-02T15:09:44.760Z",
        "token_request",
        "POST",
        "/t/t-1/oauth2/default/v1/token",
        200,
    );
    token["protocol"] = json!("oidc");
    token["decoded"] = json!({"header": {"alg": "RS256"}, "claims": {"sub": "alice@acme.test"}});
    o.exchanges = vec![token];
    o.steps = vec![step(0, "steps", "start_login", "NoArgs", true)];
    o
}

/// Renders the three trials into a fresh report under `root`; returns the run directory, its
/// `index.html` and the trials.
fn render_in(root: &Path) -> (PathBuf, String, Vec<TrialOutcome>) {
    let outcomes = vec![pass(), failure(), finding()];
    let head = RunHead {
        run_id: format!("view-{}", std::process::id()),
        started_at: now_rfc3339(),
        targets: vec!["reference-sp".into()],
        scenarios: "scenarios".into(),
        jobs: 1,
        planned: outcomes.len(),
    };
    let (dir, _) = write_run(
        root,
        head,
        outcomes.clone(),
        std::time::Duration::from_secs(2),
    )
    .expect("write the report");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    (dir, html, outcomes)
}

/// The page's text (the report's directory goes with the temporary root).
fn render() -> (String, Vec<TrialOutcome>) {
    let root = tempfile::tempdir().unwrap();
    let (_, html, outcomes) = render_in(root.path());
    (html, outcomes)
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn every_http_event_is_an_arrow_and_every_message_is_linked() {
    let (html, outcomes) = render();
    let events: usize = outcomes.iter().map(|o| o.http.len()).sum();
    assert_eq!(
        count(&html, " data-http=\""),
        events,
        "one arrow per HTTP event"
    );
    assert_eq!(count(&html, "<svg class=\"seq\""), outcomes.len());
    // Each trial's chart names each of its events once.
    for (n, o) in outcomes.iter().enumerate() {
        let start = html.find(&format!("<section id=\"t{n}\"")).unwrap();
        let end = html[start..].find("</section>").unwrap() + start;
        let section = &html[start..end];
        for i in 0..o.http.len() {
            assert_eq!(
                count(section, &format!(" data-http=\"{i}\"")),
                1,
                "{} event {i}",
                o.name
            );
        }
    }
    // The redirect hop and the back-channel token request have arrows of their own.
    assert_eq!(count(&html, " data-idp=\""), 2, "{html}");
    // Lanes: the canary shows up where the browser went to it.
    assert!(html.contains(">canary</text>"), "{html}");
    assert!(html.contains(">IdP acme.okta.test:33695</text>"), "{html}");
    // Every arrow link opens a decoded message that exists.
    let mut links = 0;
    for part in html.split("<a href=\"#x").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(
            html.contains(&format!("<details id=\"x{id}\">")),
            "no message x{id}"
        );
        links += 1;
    }
    assert!(links >= 3, "{links} linked arrows");
    // The login POST carries both IdP entries it caused, the forged one marked.
    assert!(
        html.contains("200 · login, saml_response [forged: xsw3]"),
        "{html}"
    );
    assert!(
        html.contains("class=\"arrow m-acc"),
        "accepted forgery marked"
    );
    assert!(
        html.contains("class=\"arrow m-err\" data-http=\"1\""),
        "the 403 marked"
    );
    // The one-line forged response is indented, the forged lines marked, the rest not.
    for line in [
        "  &lt;saml:Assertion ID=&quot;_evil2&quot;&gt;",
        "    &lt;saml:NameID&gt;mallory@acme.test&lt;/saml:NameID&gt;",
        "    &lt;!-- &lt;script&gt;",
    ] {
        assert!(
            html.contains(&format!("<mark class=\"forged\">{line}")),
            "{line} not marked"
        );
    }
    assert!(html.contains("\n    &lt;saml:NameID&gt;alice@acme.test&lt;/saml:NameID&gt;\n"));
    assert!(html.contains("<summary>as the IdP sent it (verbatim)</summary>"));
}

#[test]
fn findings_come_first_with_severity_cwe_and_evidence() {
    let (html, outcomes) = render();
    for (i, o) in outcomes.iter().enumerate() {
        if o.verdict != Verdict::Finding {
            continue;
        }
        let start = html.find(&format!("data-finding=\"{i}\"")).unwrap();
        let card = &html[start..start + html[start..].find("</div></div>").unwrap()];
        let w = o.weakness.as_ref().unwrap();
        assert!(card.contains(w.severity.as_deref().unwrap()), "{card}");
        assert!(card.contains(w.cwe.as_deref().unwrap()), "{card}");
        assert!(card.contains(&w.cve[0]), "{card}");
        assert!(card.contains("SAML-SP-12"), "{card}");
        assert!(
            card.contains("verify the signature of the assertion"),
            "{card}"
        );
        assert!(card.contains("mock IdP log (3 entries)"), "{card}");
    }
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(
        at("<h2 class=\"finding\">Findings</h2>")
            < at("<h2 class=\"fail\">Failures and errors</h2>")
    );
    // The headline names the trial and what it accepted (the self-test reads it so too).
    assert!(html.contains(
        "reference-sp::saml-attacks/wrapping/xsw3</a>: the SP signed in the forged identity"
    ));
    // Sections: the finding (plan index 2), then the failure (1), then the pass (0).
    assert!(at("<section id=\"t2\"") < at("<section id=\"t1\""));
    assert!(at("<section id=\"t1\"") < at("<section id=\"t0\""));
    // Filters read data attributes; without the script the form stays hidden.
    assert!(html.contains("<form id=\"filters\" hidden>"));
    assert!(html.contains("data-group=\"finding\" data-target=\"reference-sp\""));
}

#[test]
fn steps_read_as_yaml_with_templates_resolved() {
    let (html, _) = render();
    assert!(
        html.contains(">verify_domain:\n  domain: acme.test<"),
        "{html}"
    );
    assert!(
        html.contains(">open: http://127.0.0.1:39843/login<"),
        "{html}"
    );
    assert!(html.contains("  value: alice@acme.test"), "{html}");
    assert!(html.contains(">start_login<"), "{html}");
    // The Debug text is only the tooltip, never what one reads.
    assert!(!html.contains(">DomainArgs"), "{html}");
    assert!(html.contains("title=\"DomainArgs { domain: &quot;acme.test&quot;"));
    // A duration bar per trial, the failed step in red.
    assert_eq!(count(&html, "<div class=\"tl\">"), 3);
    assert!(html.contains("<span class=\"bad\""));
}

#[test]
fn everything_from_the_sp_and_the_idp_stays_text() {
    let (html, _) = render();
    assert!(!html.contains("<script>alert"), "unescaped SP text");
    assert!(html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;"));
    // The page's own script is the only one.
    assert_eq!(count(&html, "<script"), 1);
}

/// The page as a browser draws it: headless Chromium takes a screenshot of a rendered
/// report; the PNG is kept as `report-view.png` in the target dir's tmp (never committed).
#[test]
fn headless_chromium_draws_the_report() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _, _) = render_in(root.path());
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-view.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(harness::browser::CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", dir.join("index.html").display()))
        .output()
        .expect("run chromium");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); chromium said: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
    // A blank page compresses to a few hundred bytes; a drawn report does not.
    assert!(bytes.len() > 30_000, "{} bytes only", bytes.len());
    eprintln!("screenshot: {}", png.display());
}
