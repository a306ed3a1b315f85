//! Full SP-initiated SAML sign-ins (email-first page, IdP login, signed response, ACS
//! validation, session) against the in-process mock IdP, as the tests drive them; prints
//! figures. `cargo bench -p reference-sp --bench sign_in [-- ROUNDS]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let w = std::sync::Arc::new(common::saml_world("okta", false).await);
    // Warm up (first TLS-less connections, SQLite pages, xmlsec initialisation).
    for _ in 0..3 {
        let p = w.sso_login(&common::browser(), "alice@acme.test").await;
        assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    }
    let start = Instant::now();
    for _ in 0..rounds {
        let p = w.sso_login(&common::browser(), "alice@acme.test").await;
        assert!(p.id("signed-in-as").is_some());
    }
    let seq = start.elapsed();
    println!(
        "sequential: {rounds} SAML sign-ins in {:.2} s = {:.1} sign-ins/s, {:.1} ms each",
        seq.as_secs_f64(),
        rounds as f64 / seq.as_secs_f64(),
        seq.as_secs_f64() * 1000.0 / rounds as f64
    );
    let tasks = 4;
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let w = w.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..rounds / tasks {
                let p = w.sso_login(&common::browser(), "alice@acme.test").await;
                assert!(p.id("signed-in-as").is_some());
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let par = start.elapsed();
    let n = (rounds / tasks) * tasks;
    println!(
        "{tasks} concurrent browsers: {n} SAML sign-ins in {:.2} s = {:.1} sign-ins/s",
        par.as_secs_f64(),
        n as f64 / par.as_secs_f64()
    );
}
