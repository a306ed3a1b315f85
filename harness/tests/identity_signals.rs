//! Identity signals that fit SPs without CSS hooks: a text pattern with a capture, or the
//! JSON answer of a "who am I" URL; an empty identity is never a sign-in.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::response::{Html, Json, Redirect};
use axum::routing::get;
use harness::run::harness::IdpChoice;
use harness::scenario::load::load_file;
use harness::trial::outcome::Verdict;

async fn serve() -> String {
    let app = Router::new()
        // no id, no class: only the words say who it is
        .route(
            "/text/",
            get(|| async { Html("<html><body><div><b>Welcome back!</b> Signed in as bob@page.test · <a href=/out>sign out</a></div></body></html>") }),
        )
        .route(
            "/text-empty/",
            get(|| async { Html("<html><body><div>Signed in as </div></body></html>") }),
        )
        .route("/whoami/", get(|| async { Html("<html><body>app</body></html>") }))
        .route(
            "/whoami/api/me",
            get(|| async { Json(serde_json::json!({ "user": { "email": "carol@page.test" } })) }),
        )
        .route("/whoami-redirect/", get(|| async { Html("<html><body>app</body></html>") }))
        .route("/whoami-redirect/api/me", get(|| async { Redirect::to("/login") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_patterns_and_whoami_urls_name_the_user() {
    let base = serve().await;
    let t = |name: &str, signals: &str| {
        common::inline_target(&format!(
            "name: {name}\nlaunch: {{url: \"{base}{name}/\"}}\nadmin: {{manual: {{org_id: o}}}}\nsignals:\n{signals}"
        ))
    };
    let pattern = "  signed_in_text: 'Signed in as (?P<identity>\\S*)'\n";
    let whoami = "  whoami: { url: \"{sp.base_url}api/me\", field: user.email }\n";
    let targets = vec![
        t("text", pattern),
        t("text-empty", pattern),
        t("whoami", whoami),
        t("whoami-redirect", whoami),
    ];
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let s = Arc::new(load_file(&here.join("selftest/identity-shown.yaml"), &here).unwrap());
    let reports = tempfile::tempdir().unwrap();
    let r = common::run_pack(
        targets,
        vec![s],
        "identity",
        IdpChoice::None,
        reports.path(),
    )
    .await;
    for o in &r.outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {:?}", o.name, o.message);
    }
    assert_eq!(r.outcomes.len(), 4);
}

#[test]
fn a_pattern_without_a_capture_is_refused_where_it_is_written() {
    let e = harness::input::yaml::parse_yaml::<harness::target::descriptor::TargetDescriptor>(
        "name: x\nlaunch: {url: \"http://127.0.0.1:1/\"}\nadmin: {manual: {org_id: o}}\nsignals:\n  signed_in_text: 'Signed in as \\S+'\n",
        std::path::Path::new("t.yaml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("t.yaml:5:"), "{e}");
    assert!(e.contains("no capture group"), "{e}");
}
