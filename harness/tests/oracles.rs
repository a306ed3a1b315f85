//! Each verdict oracle proven able to fail: a small, deliberately broken SP written here (an
//! axum app) is caught by the oracle, and a correct twin is cleared by it.
//!
//! - session probe: an SP that creates the session and then shows an error page;
//! - canary (`no_egress`): an SP that fetches the URL a message points at;
//! - origin rule: a 403 or a signed-in marker served by another origin is no evidence about
//!   the SP (as the mock IdP's own error pages and dashboard are not);
//! - identity: an empty signed-in element is not a sign-in;
//! - settling: a click whose form post the SP answers slowly is waited for;
//! - no_redirect: an SP that follows any RelayState after sign-in is caught sending the
//!   browser to a host that resolves nowhere; one that goes home is cleared;
//! - identity under signature wrapping: an SP that signs in whoever the first assertion names
//!   is caught by XSW3, one that reads the assertion its signature references is cleared.
//! - the newer wrappings (rows 24, 27, 28, 37): an SP that reads /Response/Assertion is
//!   caught by each, one that accepts exactly one assertion and no DOCTYPE is cleared;
//! - Destination (row 53): an SP that ignores letter case is caught, an exact one cleared.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use harness::run::harness::IdpChoice;
use harness::run::runner::RunResult;
use harness::scenario::load::load_file;
use harness::target::descriptor::LoadedTarget;
use harness::trial::failure::FailureKind;
use harness::trial::outcome::{TrialOutcome, Verdict};

type Q = Query<std::collections::HashMap<String, String>>;

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn page(body: &str) -> String {
    format!("<!doctype html><html><body>{body}</body></html>")
}

fn has_session(h: &HeaderMap) -> bool {
    h.get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("sid=forged"))
}

/// Another site: its own 403 and its own signed-in marker.
async fn serve_elsewhere() -> String {
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                Html(page(
                    "<p>Signed in as <span id=\"signed-in-as\">alice@acme.test</span></p>",
                ))
            }),
        )
        .route(
            "/denied",
            get(|| async {
                (
                    StatusCode::FORBIDDEN,
                    Html(page("<p id=\"error\">Access denied here</p>")),
                )
            }),
        );
    serve(app).await
}

/// The broken SP (and its correct twin routes).
async fn serve_sp(elsewhere: String) -> String {
    let refusal = || page("<p id=\"error\">Sign-in refused</p>");
    let app = Router::new()
        // creates the session, then says it refused
        .route(
            "/hidden-session",
            get(move || async move {
                (
                    StatusCode::FORBIDDEN,
                    [(header::SET_COOKIE, "sid=forged; Path=/; HttpOnly")],
                    Html(refusal()),
                )
            }),
        )
        .route(
            "/refuse",
            get(move || async move { (StatusCode::FORBIDDEN, Html(refusal())) }),
        )
        // fetches what the message points at, then refuses
        .route(
            "/fetch",
            get(move |Query(q): Q| async move {
                if let Some(u) = q.get("url") {
                    let _ = reqwest::get(u).await;
                }
                (StatusCode::BAD_REQUEST, Html(refusal()))
            }),
        )
        .route(
            "/home",
            get(|h: HeaderMap| async move {
                if has_session(&h) {
                    Html(page(
                        "<p>Signed in as <span id=\"signed-in-as\">mallory@evil.test</span></p>",
                    ))
                    .into_response()
                } else {
                    Redirect::to("/login").into_response()
                }
            }),
        )
        .route("/login", get(|| async { Html(page("<h1>Sign in</h1>")) }))
        .route(
            "/to-elsewhere",
            get(move |Query(q): Q| {
                let e = elsewhere.clone();
                async move {
                    Redirect::to(&format!("{e}{}", q.get("path").cloned().unwrap_or_default()))
                }
            }),
        )
        .route(
            "/empty-marker",
            get(|| async {
                Html(page("<p>Signed in as <span id=\"signed-in-as\"> </span></p>"))
            }),
        )
        .route(
            "/form",
            get(|| async {
                // The button posts the form from a timer, as pages that validate or call an
                // API first do: WebDriver's click has answered before the post starts.
                Html(page(
                    "<form id=\"f\" method=\"post\" action=\"/slow\"></form>\
                     <button id=\"go\" type=\"button\" \
                     onclick=\"setTimeout(function () { document.getElementById('f').submit(); }, 150)\">Go</button>",
                ))
            }),
        )
        // answers the post slowly, and remembers it happened
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header(header::LOCATION, "/landed")
                    .header(header::SET_COOKIE, "posted=yes; Path=/")
                    .body(axum::body::Body::empty())
                    .unwrap()
            }),
        )
        .route("/landed", get(|| async { Html(page("<h1>landed</h1>")) }))
        .route(
            "/other",
            get(|h: HeaderMap| async move {
                let posted = h
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.contains("posted=yes"));
                Html(page(&format!(
                    "<h1>the other page</h1><p>posted: {}</p>",
                    if posted { "yes" } else { "no" }
                )))
            }),
        );
    serve(app).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

fn target(base: &str) -> Arc<LoadedTarget> {
    let yaml = format!(
        "name: broken-sp\nlaunch: {{url: \"{base}\"}}\nadmin: {{manual: {{org_id: o}}}}\n\
         rejection: {{status: [400, 403], element: \"#error\"}}\n\
         session_probe: {{url: \"{{sp.base_url}}home\"}}\n"
    );
    common::inline_target(&yaml)
}

fn trial<'a>(r: &'a RunResult, name: &str) -> &'a TrialOutcome {
    r.outcomes
        .iter()
        .find(|o| o.name == format!("broken-sp::oracles/{name}"))
        .unwrap_or_else(|| panic!("no trial {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_oracle_catches_its_broken_sp_and_clears_the_correct_one() {
    let elsewhere = serve_elsewhere().await;
    let base = serve_sp(elsewhere).await;
    let names = [
        "hidden-session",
        "clean-refusal",
        "fetches-canary",
        "fetches-nothing",
        "refusal-elsewhere",
        "marker-elsewhere",
        "empty-marker",
        "slow-post",
    ];
    let scenarios = names
        .iter()
        .map(|n| Arc::new(load_file(&here().join(format!("oracles/{n}.yaml")), &here()).unwrap()))
        .collect();
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![target(&base)],
        scenarios,
        "oracles",
        IdpChoice::None,
        reports.path(),
    )
    .await;

    // session probe: caught, with the probe as evidence; the clean twin passes
    let hidden = trial(&result, "hidden-session");
    assert_eq!(hidden.verdict, Verdict::Finding, "{:?}", hidden.message);
    assert_eq!(hidden.failure_kind, Some(FailureKind::Accepted));
    let msg = hidden.message.clone().unwrap();
    assert!(msg.contains("session probe"), "{msg}");
    assert!(msg.contains("signed in as \"mallory@evil.test\""), "{msg}");
    assert!(hidden.steps.iter().any(|s| s.phase == "probe" && !s.ok));
    assert_eq!(hidden.oracle.as_deref(), Some("session probe"));
    let clean = trial(&result, "clean-refusal");
    assert_eq!(clean.verdict, Verdict::Pass, "{:?}", clean.message);
    let probe = clean.steps.iter().find(|s| s.phase == "probe").unwrap();
    assert!(
        probe
            .note
            .as_deref()
            .unwrap()
            .contains("redirected (no session)")
    );

    // canary: the fetch is the evidence
    let fetched = trial(&result, "fetches-canary");
    assert_eq!(fetched.verdict, Verdict::Finding, "{:?}", fetched.message);
    let msg = fetched.message.clone().unwrap();
    assert!(msg.contains("requests to the canary"), "{msg}");
    assert!(msg.contains("jwks.json"), "{msg}");
    assert_eq!(fetched.oracle.as_deref(), Some("canary (no_egress)"));
    assert_eq!(
        trial(&result, "fetches-nothing").verdict,
        Verdict::Pass,
        "{:?}",
        trial(&result, "fetches-nothing").message
    );

    // origin rule: another site's 403 is not the SP refusing
    let elsewhere_403 = trial(&result, "refusal-elsewhere");
    assert_eq!(
        elsewhere_403.verdict,
        Verdict::Fail,
        "{:?}",
        elsewhere_403.message
    );
    let msg = elsewhere_403.message.clone().unwrap();
    assert!(msg.contains("the SP never answered"), "{msg}");
    // ...and another site's signed-in marker is not a sign-in at the SP
    let marker = trial(&result, "marker-elsewhere");
    assert_eq!(marker.verdict, Verdict::Fail, "{:?}", marker.message);
    assert_eq!(
        marker.failure_kind,
        Some(FailureKind::Refused),
        "{:?}",
        marker.message
    );
    assert!(marker.message.clone().unwrap().contains("not on the SP"));

    // an empty identity is no sign-in
    let empty = trial(&result, "empty-marker");
    assert_eq!(empty.verdict, Verdict::Pass, "{:?}", empty.message);

    // the slow post is waited for
    let slow = trial(&result, "slow-post");
    assert_eq!(slow.verdict, Verdict::Pass, "{:?}", slow.message);
}

/// A SAML "SP" that reads the NameID out of whatever is posted to its ACS without checking
/// anything; with `once`, it refuses a response it has seen before (a replay cache).
async fn serve_saml_sp(once: bool) -> String {
    serve_saml_sp_reading(once, Reads::FirstNameId, false).await
}

/// Which NameID a test SP takes from the posted document.
#[derive(Clone, Copy)]
enum Reads {
    /// The first in document order, whatever it belongs to (the wrapping bug).
    FirstNameId,
    /// The one inside the element whose ID the signature's Reference names.
    SignedAssertion,
    /// The one inside the root's first Assertion child (`/Response/Assertion`, as an XPath
    /// reader does), whatever else the document holds.
    ChildAssertion,
    /// As `ChildAssertion`, but a document with a DOCTYPE, more than one Assertion or more
    /// than one Response is refused (the careful twin).
    OnlyOneAssertion,
}

/// The NameID text of the root's first `Assertion` child, and whether the document is
/// "plain" (no DOCTYPE, one Assertion, one Response).
fn child_assertion_name_id(xml: &str) -> (String, bool) {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut depth, mut assertions, mut responses, mut doctype) = (0usize, 0, 0, false);
    let (mut in_child, mut in_name_id, mut found) = (false, false, None::<String>);
    loop {
        match r.read_event() {
            Ok(Event::DocType(_)) => doctype = true,
            Ok(Event::Start(e)) => {
                let local = e.local_name();
                match local.as_ref() {
                    b"Assertion" => {
                        assertions += 1;
                        if depth == 1 && found.is_none() {
                            in_child = true;
                        }
                    }
                    b"Response" => responses += 1,
                    b"NameID" if in_child && found.is_none() => in_name_id = true,
                    _ => {}
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"Assertion" => assertions += 1,
                b"Response" => responses += 1,
                _ => {}
            },
            Ok(Event::Text(t)) if in_name_id => {
                found = Some(String::from_utf8_lossy(t.as_ref()).into_owned());
                in_name_id = false;
            }
            Ok(Event::End(e)) => {
                depth = depth.saturating_sub(1);
                if depth == 1 && e.local_name().as_ref() == b"Assertion" {
                    in_child = false;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let plain = !doctype && assertions == 1 && responses == 1;
    (found.unwrap_or_default(), plain)
}

/// `None`: the SP refuses the document.
fn name_id_of(xml: &str, reads: Reads) -> Option<String> {
    let from = match reads {
        Reads::ChildAssertion => return Some(child_assertion_name_id(xml).0),
        Reads::OnlyOneAssertion => {
            let (name, plain) = child_assertion_name_id(xml);
            return plain.then_some(name);
        }
        Reads::FirstNameId => xml,
        Reads::SignedAssertion => {
            let id = xml
                .split("URI=\"#")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default();
            match xml.find(&format!("ID=\"{id}\"")) {
                Some(i) if !id.is_empty() => &xml[i..],
                _ => return Some(String::new()),
            }
        }
    };
    Some(
        from.split("NameID")
            .nth(1)
            .and_then(|s| s.split('>').nth(1))
            .and_then(|s| s.split('<').next())
            .unwrap_or_default()
            .to_string(),
    )
}

/// How a test SP compares the Response's Destination with its ACS URL.
#[derive(Clone, Copy)]
enum Destination {
    Unchecked,
    /// Letter case ignored (the SAML-SP-53 flaw).
    CaseInsensitive,
    Exact,
}

/// The root element's Destination attribute.
fn destination_of(xml: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return e
                    .try_get_attribute("Destination")
                    .ok()
                    .flatten()
                    .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

fn destination_ok(xml: &str, acs: &str, check: Destination) -> bool {
    let dest = destination_of(xml).unwrap_or_default();
    match check {
        Destination::Unchecked => true,
        Destination::CaseInsensitive => dest.eq_ignore_ascii_case(acs),
        Destination::Exact => dest == acs,
    }
}

/// `follow_relay`: after sign-in, go wherever RelayState says (an open redirect).
async fn serve_saml_sp_reading(once: bool, reads: Reads, follow_relay: bool) -> String {
    serve_saml_sp_checking(once, reads, follow_relay, Destination::Unchecked).await
}

async fn serve_saml_sp_checking(
    once: bool,
    reads: Reads,
    follow_relay: bool,
    destination: Destination,
) -> String {
    use base64::Engine;
    use std::collections::HashSet;
    use std::sync::Mutex;
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let app = Router::new()
        .route(
            "/acs",
            post(
                move |h: HeaderMap,
                      axum::extract::Form(f): axum::extract::Form<
                    std::collections::HashMap<String, String>,
                >| {
                    let seen = seen.clone();
                    async move {
                        let raw = f.get("SAMLResponse").cloned().unwrap_or_default();
                        if once && !seen.lock().unwrap().insert(raw.clone()) {
                            return (
                                StatusCode::FORBIDDEN,
                                Html(page("<p id=\"error\">replayed</p>")),
                            )
                                .into_response();
                        }
                        let xml = base64::engine::general_purpose::STANDARD
                            .decode(raw.as_bytes())
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        let host = h
                            .get(header::HOST)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        let acs = format!("http://{host}/acs");
                        let who = name_id_of(&xml, reads)
                            .filter(|_| destination_ok(&xml, &acs, destination));
                        let Some(who) = who else {
                            return (
                                StatusCode::FORBIDDEN,
                                Html(page("<p id=\"error\">refused</p>")),
                            )
                                .into_response();
                        };
                        let to = f
                            .get("RelayState")
                            .filter(|r| follow_relay && !r.is_empty())
                            .map_or("/home", String::as_str);
                        Response::builder()
                            .status(StatusCode::SEE_OTHER)
                            .header(header::LOCATION, to)
                            .header(header::SET_COOKIE, format!("who={who}; Path=/"))
                            .body(axum::body::Body::empty())
                            .unwrap()
                    }
                },
            ),
        )
        .route(
            "/home",
            get(|h: HeaderMap| async move {
                let who = h
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|c| c.split("who=").nth(1))
                    .map(|w| w.split(';').next().unwrap_or_default().to_string());
                match who {
                    Some(w) if !w.is_empty() => Html(page(&format!(
                        "<p>Signed in as <span id=\"signed-in-as\">{w}</span></p>"
                    )))
                    .into_response(),
                    _ => Redirect::to("/login").into_response(),
                }
            }),
        )
        .route("/login", get(|| async { Html(page("<h1>Sign in</h1>")) }));
    serve(app).await
}

fn saml_target(name: &str, base: &str) -> Arc<LoadedTarget> {
    let yaml = format!(
        "name: {name}\nlaunch: {{url: \"{base}\"}}\nadmin: {{manual: {{org_id: o}}}}\n\
         capabilities: [saml]\n\
         sp: {{acs_url: \"{{sp.base_url}}acs\", entity_id: \"urn:test:{name}\"}}\n\
         procedures: {{connect_saml: [{{use_org: acme}}]}}\n\
         rejection: {{status: [403], element: \"#error\"}}\n\
         session_probe: {{url: \"{{sp.base_url}}home\"}}\n"
    );
    common::inline_target(&yaml)
}

/// Runs one oracle scenario on a broken SAML SP and on its correct twin; returns their
/// outcomes (caught, cleared).
async fn run_saml_pair(
    file: &str,
    broken: (&str, &str),
    correct: (&str, &str),
) -> (TrialOutcome, TrialOutcome) {
    let scenario =
        Arc::new(load_file(&here().join(format!("oracles/{file}.yaml")), &here()).unwrap());
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![
            saml_target(broken.0, broken.1),
            saml_target(correct.0, correct.1),
        ],
        vec![scenario],
        "oracles",
        IdpChoice::Embedded,
        reports.path(),
    )
    .await;
    let find = |n: &str| {
        result
            .outcomes
            .iter()
            .find(|o| o.name == format!("{n}::oracles/{file}"))
            .unwrap()
            .clone()
    };
    (find(broken.0), find(correct.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_from_a_fresh_browser_is_caught_where_accepted() {
    let open_sp = serve_saml_sp(false).await;
    let careful_sp = serve_saml_sp(true).await;
    let (caught, cleared) = run_saml_pair(
        "replay-accepted",
        ("replays", &open_sp),
        ("no-replays", &careful_sp),
    )
    .await;
    assert_eq!(caught.verdict, Verdict::Finding, "{:?}", caught.message);
    assert!(
        caught
            .steps
            .iter()
            .any(|s| s.kind == "replay_saml_response" && s.ok),
        "{:?}",
        caught.steps
    );
    assert_eq!(cleared.verdict, Verdict::Pass, "{:?}", cleared.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_reads_the_first_assertion_is_caught_by_wrapping() {
    let naive_sp = serve_saml_sp_reading(false, Reads::FirstNameId, false).await;
    let careful_sp = serve_saml_sp_reading(false, Reads::SignedAssertion, false).await;
    let (caught, cleared) = run_saml_pair(
        "wrapped-assertion",
        ("first-assertion", &naive_sp),
        ("signed-assertion", &careful_sp),
    )
    .await;
    assert_eq!(caught.verdict, Verdict::Finding, "{:?}", caught.message);
    assert!(
        caught
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("admin@acme.test"),
        "{:?}",
        caught.message
    );
    // The careful SP signs the genuine user in: a pass, judged by identity, not by status.
    assert_eq!(cleared.verdict, Verdict::Pass, "{:?}", cleared.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_follows_any_relay_state_is_caught() {
    let open_sp = serve_saml_sp_reading(false, Reads::SignedAssertion, true).await;
    let careful_sp = serve_saml_sp_reading(false, Reads::SignedAssertion, false).await;
    let (caught, cleared) = run_saml_pair(
        "relay-elsewhere",
        ("follows-relay", &open_sp),
        ("goes-home", &careful_sp),
    )
    .await;
    assert_eq!(caught.verdict, Verdict::Finding, "{:?}", caught.message);
    assert!(
        caught
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("evil.invalid"),
        "{:?}",
        caught.message
    );
    assert_eq!(cleared.verdict, Verdict::Pass, "{:?}", cleared.message);
}

/// Runs several oracle scenarios on a broken SAML SP and on its correct twin in one pack;
/// returns (file, caught, cleared) per scenario.
async fn run_saml_files(
    files: &[&str],
    broken: (&str, &str),
    correct: (&str, &str),
) -> Vec<(String, TrialOutcome, TrialOutcome)> {
    let scenarios = files
        .iter()
        .map(|f| Arc::new(load_file(&here().join(format!("oracles/{f}.yaml")), &here()).unwrap()))
        .collect();
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![
            saml_target(broken.0, broken.1),
            saml_target(correct.0, correct.1),
        ],
        scenarios,
        "oracles",
        IdpChoice::Embedded,
        reports.path(),
    )
    .await;
    let find = |n: &str, f: &str| {
        result
            .outcomes
            .iter()
            .find(|o| o.name == format!("{n}::oracles/{f}"))
            .unwrap_or_else(|| panic!("no trial {n}::oracles/{f}"))
            .clone()
    };
    files
        .iter()
        .map(|f| (f.to_string(), find(broken.0, f), find(correct.0, f)))
        .collect()
}

/// Rows 24, 27, 28 and 37: each forge attack signs admin in on an SP that reads
/// /Response/Assertion, and is refused by one that accepts exactly one assertion in a
/// document without DOCTYPE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_reads_the_root_assertion_is_caught_by_the_new_wrappings() {
    let xpath_sp = serve_saml_sp_reading(false, Reads::ChildAssertion, false).await;
    let strict_sp = serve_saml_sp_reading(false, Reads::OnlyOneAssertion, false).await;
    let files = [
        "nested-after-subject",
        "second-signed-assertion",
        "concealed-response",
        "doctype-id-attribute",
    ];
    for (file, caught, cleared) in run_saml_files(
        &files,
        ("root-assertion", &xpath_sp),
        ("one-assertion", &strict_sp),
    )
    .await
    {
        assert_eq!(
            caught.verdict,
            Verdict::Finding,
            "{file}: {:?}",
            caught.message
        );
        assert_eq!(caught.failure_kind, Some(FailureKind::Accepted), "{file}");
        assert!(
            caught
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("admin@acme.test"),
            "{file}: {:?}",
            caught.message
        );
        assert_eq!(
            cleared.verdict,
            Verdict::Pass,
            "{file}: {:?}",
            cleared.message
        );
    }
}

/// Row 53: an SP that compares Destination ignoring letter case accepts a Destination that
/// differs from its ACS URL only in case; one that compares exactly refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_ignores_the_case_of_destination_is_caught() {
    let loose_sp = serve_saml_sp_checking(
        false,
        Reads::ChildAssertion,
        false,
        Destination::CaseInsensitive,
    )
    .await;
    let exact_sp =
        serve_saml_sp_checking(false, Reads::ChildAssertion, false, Destination::Exact).await;
    let (caught, cleared) = run_saml_pair(
        "destination-case",
        ("case-insensitive", &loose_sp),
        ("exact", &exact_sp),
    )
    .await;
    assert_eq!(caught.verdict, Verdict::Finding, "{:?}", caught.message);
    assert_eq!(caught.failure_kind, Some(FailureKind::Accepted));
    assert_eq!(cleared.verdict, Verdict::Pass, "{:?}", cleared.message);
}

/// A SAML "SP" with single logout that checks nothing: it signs in whoever the posted
/// response names, ends the browser's session on any LogoutRequest (and answers the IdP with
/// an unsigned LogoutResponse), and shows "signed out everywhere" for any LogoutResponse. Its
/// target file hands it the IdP's SingleLogoutService in the URLs (`?idp=`).
async fn serve_logout_sp() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as b64;
    type F = axum::extract::Form<std::collections::HashMap<String, String>>;
    // HTTP-Redirect binding: deflated, base64, in the query (unsigned: it checks nothing).
    let redirect = |to: &str, field: &str, xml: &str| {
        use std::io::Write as _;
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).unwrap();
        let value = b64.encode(enc.finish().unwrap());
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(field, &value)
            .finish();
        let sep = if to.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{to}{sep}{q}"))
    };
    let app = Router::new()
        .route(
            "/acs",
            post(|axum::extract::Form(f): F| async move {
                let xml = b64
                    .decode(f.get("SAMLResponse").cloned().unwrap_or_default())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let who = name_id_of(&xml, Reads::SignedAssertion).unwrap_or_default();
                Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header(header::LOCATION, "/home")
                    .header(header::SET_COOKIE, format!("who={who}; Path=/"))
                    .body(axum::body::Body::empty())
                    .unwrap()
            }),
        )
        .route(
            "/slo",
            post(move |Query(q): Q, axum::extract::Form(f): F| async move {
                let idp = q.get("idp").cloned().unwrap_or_default();
                if f.contains_key("SAMLRequest") {
                    // Any LogoutRequest ends the session: no signature, time, Issuer check.
                    let answer = "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                         ID=\"_a\" Version=\"2.0\"><samlp:Status><samlp:StatusCode \
                         Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
                         </samlp:LogoutResponse>";
                    (
                        [(header::SET_COOKIE, "who=; Path=/; Max-Age=0")],
                        redirect(&idp, "SAMLResponse", answer),
                    )
                        .into_response()
                } else {
                    // Any LogoutResponse completes the sign-out.
                    Redirect::to("/signed-out").into_response()
                }
            }),
        )
        .route(
            "/slo-start",
            get(move |Query(q): Q| async move {
                let idp = q.get("idp").cloned().unwrap_or_default();
                let request = "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                     xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_lr1\" Version=\"2.0\">\
                     <saml:Issuer>urn:test:naive-slo</saml:Issuer><saml:NameID>x</saml:NameID>\
                     </samlp:LogoutRequest>";
                (
                    [(header::SET_COOKIE, "who=; Path=/; Max-Age=0")],
                    redirect(&idp, "SAMLRequest", request),
                )
                    .into_response()
            }),
        )
        .route(
            "/signed-out",
            get(|| async { Html(page("<p id=\"signed-out\">Signed out everywhere</p>")) }),
        )
        .route("/", get(|| async { Html(page("<h1>naive SP</h1>")) }))
        .route(
            "/home",
            get(|h: HeaderMap| async move {
                let who = h
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|c| c.split("who=").nth(1))
                    .map(|w| w.split(';').next().unwrap_or_default().to_string());
                match who {
                    Some(w) if !w.is_empty() => Html(page(&format!(
                        "<p>Signed in as <span id=\"signed-in-as\">{w}</span></p>"
                    )))
                    .into_response(),
                    _ => Redirect::to("/login").into_response(),
                }
            }),
        )
        .route("/login", get(|| async { Html(page("<h1>Sign in</h1>")) }));
    serve(app).await
}

/// Rows 106-111: an SP that ends its session on any LogoutRequest and calls any
/// LogoutResponse a completed sign-out is caught by every attack variant of the two logout
/// files (each accepted: FINDING), and passes their genuine controls. The reference SP clears
/// the same variants (`SSO_HARNESS_TARGETS=reference-sp cargo test -p harness --test
/// scenarios -- logout`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_that_honours_any_logout_message_is_caught() {
    use harness::scenario::load::expand_variants;
    let naive = serve_logout_sp().await;
    let repo = here().join("../../scenarios");
    let mut scenarios = Vec::new();
    for f in ["logout", "logout-response"] {
        let base = load_file(&repo.join(format!("saml-attacks/{f}.yaml")), &repo).unwrap();
        scenarios.extend(expand_variants(base).unwrap().into_iter().map(Arc::new));
    }
    let yaml = format!(
        "name: naive-slo\nlaunch: {{url: \"{naive}\"}}\nadmin: {{manual: {{org_id: o}}}}\n\
         capabilities: [saml, single-logout]\n\
         sp: {{acs_url: \"{{sp.base_url}}acs\", entity_id: \"urn:test:naive-slo\",\n\
         \x20 slo_url: \"{{sp.base_url}}slo?idp={{idp.slo_url}}\",\n\
         \x20 slo_start_url: \"{{sp.base_url}}slo-start?idp={{idp.slo_url}}\",\n\
         \x20 slo_done_url: \"{{sp.base_url}}signed-out\"}}\n\
         procedures: {{connect_saml: [{{use_org: acme}}],\n\
         \x20 start_login: [{{open: \"{{idp.idp_initiated_url}}\"}}]}}\n\
         rejection: {{status: [403], element: \"#error\"}}\n\
         session_probe: {{url: \"{{sp.base_url}}home\"}}\n"
    );
    let reports = tempfile::tempdir().unwrap();
    let result = common::run_pack(
        vec![common::inline_target(&yaml)],
        scenarios,
        "scenarios",
        IdpChoice::Embedded,
        reports.path(),
    )
    .await;
    let mut attacks = 0;
    for o in &result.outcomes {
        let control = o.name.ends_with("/genuine");
        if control {
            assert_eq!(o.verdict, Verdict::Pass, "{}: {:?}", o.name, o.message);
        } else {
            attacks += 1;
            assert_eq!(
                o.failure_kind,
                Some(FailureKind::Accepted),
                "{}: {:?}",
                o.name,
                o.message
            );
        }
    }
    assert_eq!(
        result.outcomes.len(),
        14,
        "{:?}",
        result.outcomes.iter().map(|o| &o.name).collect::<Vec<_>>()
    );
    assert_eq!(attacks, 12);
}
