//! The messages file (`--messages`): it replaces exactly the messages it names on the pages a
//! browser sees, and a file with an unknown key stops the start with `file:line` and the key.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use std::process::Command;

const MISMATCH_OVERRIDE: &str = "{email} signed up another way: {method} will not do.";

async fn start_with(messages: &str) -> Sp {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("branding.yaml");
    std::fs::write(&file, messages).unwrap();
    let mut opts = options(&dir, None, false);
    opts.messages = Some(file);
    let sp = reference_sp::serve(opts).await.unwrap();
    Sp {
        sp,
        dir,
        admin: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn an_override_changes_exactly_that_message_on_the_page() {
    let sp = start_with(&format!(
        "# our branding\nmethod_mismatch: \"{MISMATCH_OVERRIDE}\"\n"
    ))
    .await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(&org, "sam@acme.test", "member", "sso", None).await;
    let b = browser();
    let p = post_form(
        &b,
        &sp.url("/login/password"),
        &[("email", "sam@acme.test"), ("password", "anything")],
    )
    .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(
        p.error().as_deref(),
        Some("sam@acme.test signed up another way: a password will not do.")
    );
    // The rest of the page is the same page: code, ID and time.
    assert_eq!(
        p.id("error-code").as_deref(),
        Some("identity_provider_mismatch")
    );
    assert!(p.id("error-id").unwrap().starts_with("err-"), "{}", p.body);
    assert!(p.id("error-time").unwrap().ends_with(" UTC"), "{}", p.body);
    assert_eq!(p.body.matches("id=\"error\"").count(), 1, "{}", p.body);
    // Another message keeps its documented text.
    let p = post_form(&b, &sp.url("/sso/saml/acs"), &[("SAMLResponse", "x")]).await;
    assert_eq!(
        p.error().as_deref(),
        Some("SSO sign-in failed: the ACS URL lacks ?connection={organization ID}")
    );
    // A text no file names (not a documented message) too.
    sp.user(
        &org,
        "pat@acme.test",
        "member",
        "password",
        Some("pw-right-1"),
    )
    .await;
    let p = password_login(&sp, &b, "pat@acme.test", "wrong").await;
    assert_eq!(
        p.error().as_deref(),
        Some("Incorrect email address or password.")
    );
}

#[tokio::test]
async fn a_product_name_leaves_the_messages_that_do_not_say_it_alone() {
    let sp = start_with("product: Acme Cloud\n").await;
    let b = browser();
    let p = post_form(&b, &sp.url("/sso/saml/acs"), &[("SAMLResponse", "x")]).await;
    // sso_failed does not say the product's name: unchanged.
    assert_eq!(
        p.error().as_deref(),
        Some("SSO sign-in failed: the ACS URL lacks ?connection={organization ID}")
    );
}

#[tokio::test]
async fn a_bad_key_fails_the_start_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "product: Acme\nuse_ssso: Use SSO\n").unwrap();
    let mut opts = options(&dir, None, false);
    opts.messages = Some(file.clone());
    let e = reference_sp::serve(opts).await.err().unwrap().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2: unknown message key `use_ssso` (did you mean `use_sso`?)",
            file.display()
        )),
        "{e}"
    );
    // Nothing was created: a bad file stops the start before the database.
    assert!(!dir.path().join("sp.sqlite").exists());
}

#[test]
fn the_binary_documents_the_flag_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let help = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--messages <FILE>"));
    let file = dir.path().join("m.yaml");
    std::fs::write(&file, "\n\nsso_failed: Failed for {email}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("sp.sqlite"))
        .arg("--messages")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:3: message `sso_failed` has no placeholder `{{email}}`",
            file.display()
        )),
        "{err}"
    );
}
