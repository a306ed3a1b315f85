//! `sso-harness check` names file:line:col and exits non-zero on a typo.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::process::Command;

const GOOD: &str = "scenario: sp-initiated login\ncovers: [LOGIN-1]\nrequires: [saml]\nidp:\n  users: [{email: alice@acme.test}]\nsetup:\n  - verify_domain: acme.test\n  - configure_sso: saml\nsteps:\n  - open: \"{sp.login_url}\"\n  - click: '#continue'\n  - expect: {signed_in_as: '{user.email}'}\n";

fn check(dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sso-harness"))
        .arg("check")
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn typo_in_step_name_is_located_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("typo.yaml"),
        GOOD.replace("- click:", "- clik:"),
    )
    .unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    let want = format!("{}:11:5: ", dir.path().join("typo.yaml").display());
    assert!(text.contains(&want), "expected {want:?} in:\n{text}");
    assert!(
        text.contains("unknown step 'clik' (did you mean 'click'?)"),
        "{text}"
    );
    assert!(!text.contains("good.yaml:"), "{text}");
}

#[test]
fn typo_in_key_and_placeholder_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        GOOD.replace("requires:", "requries:"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        GOOD.replace("{sp.login_url}", "{sp.loginurl}"),
    )
    .unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("a.yaml:3:1: unknown key 'requries' (did you mean 'requires'?)"),
        "{text}"
    );
    assert!(text.contains("b.yaml:10:"), "{text}");
    assert!(text.contains("did you mean {sp.login_url}"), "{text}");
}

#[test]
fn clean_directory_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 0, "{text}");
}

#[test]
fn the_repository_pack_and_targets_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for p in ["scenarios", "targets"] {
        let (code, text) = check(&root.join(p));
        assert_eq!(code, 0, "{p}: {text}");
    }
}

#[test]
fn idp_descriptors_are_checked_with_their_own_format() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let idp = dir.path().join("targets").join("idp");
    std::fs::create_dir_all(&idp).unwrap();
    let example = std::fs::read_to_string(root.join("targets/idp/okta.example.yaml")).unwrap();
    std::fs::write(idp.join("good.yaml"), &example).unwrap();
    let (code, text) = check(&dir.path().join("targets"));
    assert_eq!(code, 0, "{text}");
    std::fs::write(idp.join("typo.yaml"), example.replacen("kind:", "knid:", 1)).unwrap();
    let (code, text) = check(&dir.path().join("targets"));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("typo.yaml:"), "{text}");
    assert!(text.contains("unknown key 'knid'"), "{text}");
    assert!(!text.contains("good.yaml:"), "{text}");
}

#[test]
fn typo_in_fault_name_is_located_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fault.yaml"),
        GOOD.replace(
            "  users: [{email: alice@acme.test}]\n",
            "  users: [{email: alice@acme.test}]\n  faults: [wrong_audiance]\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("step.yaml"),
        GOOD.replace(
            "  - configure_sso: saml\n",
            "  - configure_sso: saml\n  - set_fault: unsignd\n",
        ),
    )
    .unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    let at = format!("{}:6:", dir.path().join("fault.yaml").display());
    assert!(text.contains(&at), "expected {at:?} in:\n{text}");
    assert!(
        text.contains("unknown fault 'wrong_audiance' (did you mean 'wrong_audience'?)"),
        "{text}"
    );
    let at = format!("{}:9:", dir.path().join("step.yaml").display());
    assert!(text.contains(&at), "expected {at:?} in:\n{text}");
    assert!(
        text.contains("unknown fault 'unsignd' (did you mean 'unsigned'?)"),
        "{text}"
    );
}

#[test]
fn browser_step_in_setup_is_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("setup.yaml"),
        GOOD.replace(
            "  - configure_sso: saml\n",
            "  - configure_sso: saml\n  - click: '#x'\n",
        ),
    )
    .unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    let at = format!("{}:9:", dir.path().join("setup.yaml").display());
    assert!(text.contains(&at), "expected {at:?} in:\n{text}");
    assert!(text.contains("`click` drives the browser"), "{text}");
}
