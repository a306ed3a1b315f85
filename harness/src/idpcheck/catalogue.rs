//! The checks of `scenarios/idp-checks/*.yaml`: what each one verifies (its `check:` kind,
//! implemented in `oidc.rs` / `saml.rs`), where the requirement comes from (`covers:` IDs
//! of the documented catalogue), and the fix to make at the IdP when it fails.
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::descriptor::Protocol;
use crate::input::discover::discover;
use crate::input::location::{Located, Location};
use crate::input::yaml::parse_yaml;

pub use crate::scenario::load::IDP_CHECKS_DIR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckProtocol {
    Oidc,
    Saml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    OidcDiscovery,
    OidcSigningKeys,
    OidcScopes,
    OidcRedirectUri,
    OidcSignIn,
    OidcClaims,
    SamlMetadata,
    SamlSignIn,
    SamlNameidEmail,
    SamlNameAttributes,
    SamlSigned,
    SamlNotEncrypted,
    IdpInitiated,
    OutOfGroupRefused,
}

impl CheckKind {
    /// The causes a check of this kind can observe: the keys its `fixes:` may give a fix for.
    pub fn causes(self) -> &'static [&'static str] {
        match self {
            CheckKind::OidcRedirectUri => &["not_registered", "not_strict"],
            CheckKind::OidcClaims => &[
                "missing_sub",
                "missing_email",
                "missing_given_name",
                "missing_family_name",
                "wrong_email",
            ],
            CheckKind::OidcSignIn => &["idp_refused", "client"],
            CheckKind::SamlSignIn => &["idp_refused", "audience", "acs_url"],
            CheckKind::SamlNameidEmail => &["missing_nameid", "nameid_not_email"],
            CheckKind::SamlNameAttributes => &["missing_given_name", "missing_family_name"],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    pub protocol: CheckProtocol,
    pub checks: Vec<CheckDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// Short stable name printed on each line, e.g. `oidc-claims`.
    pub id: String,
    pub check: CheckKind,
    pub title: String,
    #[serde(default)]
    pub covers: Vec<String>,
    /// What to change at the IdP when the check fails. `{redirect_uri}`, `{acs_url}`,
    /// `{entity_id}` and `{discovery_url}` are replaced with this run's values.
    pub fix: String,
    /// Fixes for the causes the check can tell apart (`CheckKind::causes`), with the same
    /// placeholders: when a check fails for a known cause, its fix is shown instead of `fix`.
    #[serde(default)]
    pub fixes: std::collections::BTreeMap<String, String>,
}

impl CheckDef {
    /// The fix for what was observed: the `fixes:` of the causes (in their order), else the
    /// general `fix`.
    pub fn fix_for(&self, causes: &[&str]) -> String {
        let picked: Vec<&str> = causes
            .iter()
            .filter_map(|c| self.fixes.get(*c).map(String::as_str))
            .collect();
        if picked.is_empty() {
            self.fix.clone()
        } else {
            picked.join(" ")
        }
    }
}

/// The checks of one protocol, in file order, with their files.
pub fn load_checks(
    dir: &Path,
    protocol: Protocol,
) -> Result<Vec<(PathBuf, CheckDef)>, Vec<Located>> {
    let found = discover(dir);
    let paths = found.files;
    let mut out = Vec::new();
    let mut errors = found.errors;
    let mut ids = std::collections::BTreeSet::new();
    for p in paths {
        let text = match crate::input::read::read_text(&p) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let file: CheckFile = match parse_yaml(&text, &p) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let matches = matches!(
            (file.protocol, protocol),
            (CheckProtocol::Oidc, Protocol::Oidc) | (CheckProtocol::Saml, Protocol::Saml)
        );
        for c in file.checks {
            let known = c.check.causes();
            for cause in c.fixes.keys() {
                if !known.contains(&cause.as_str()) {
                    errors.push(Located {
                        location: Location::start_of(&p),
                        message: format!(
                            "checks: {}: fixes: {cause:?} is not a cause a {:?} check observes (known: {})",
                            c.id,
                            c.check,
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    });
                }
            }
            if !ids.insert(c.id.clone()) {
                errors.push(Located {
                    location: Location::start_of(&p),
                    message: format!("checks: id {:?} is used twice", c.id),
                });
            }
            if matches {
                out.push((p.clone(), c));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_checks_load_and_cover_every_kind() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/idp-checks");
        let oidc = load_checks(&dir, Protocol::Oidc).unwrap();
        let saml = load_checks(&dir, Protocol::Saml).unwrap();
        let kinds: std::collections::HashSet<CheckKind> =
            oidc.iter().chain(&saml).map(|(_, c)| c.check).collect();
        assert_eq!(kinds.len(), 14, "{kinds:?}");
        assert!(oidc.iter().all(|(_, c)| !c.fix.trim().is_empty()));
        // Every cause a shipped check can observe has its own fix text.
        for (_, c) in oidc.iter().chain(&saml) {
            for cause in c.check.causes() {
                assert!(c.fixes.contains_key(*cause), "{}: no fix for {cause}", c.id);
            }
        }
    }

    #[test]
    fn the_fix_follows_the_observed_causes() {
        let text = "protocol: oidc\nchecks:\n  - id: c\n    check: oidc_claims\n    title: t\n    fix: general\n    fixes:\n      missing_email: map email\n      missing_given_name: map given_name\n";
        let f: CheckFile = parse_yaml(text, Path::new("c.yaml")).unwrap();
        let c = &f.checks[0];
        assert_eq!(c.fix_for(&["missing_email"]), "map email");
        assert_eq!(
            c.fix_for(&["missing_email", "missing_given_name"]),
            "map email map given_name"
        );
        assert_eq!(c.fix_for(&["missing_sub"]), "general");
        assert_eq!(c.fix_for(&[]), "general");
    }

    #[test]
    fn a_fix_for_an_unknown_cause_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("c.yaml"),
            "protocol: oidc\nchecks:\n  - id: c\n    check: oidc_scopes\n    title: t\n    fix: f\n    fixes:\n      missing_email: m\n",
        )
        .unwrap();
        let e = load_checks(dir.path(), Protocol::Oidc).unwrap_err();
        assert!(
            e[0].to_string()
                .contains("fixes: \"missing_email\" is not a cause a OidcScopes check observes"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn a_misspelt_kind_is_located() {
        let text =
            "protocol: oidc\nchecks:\n  - id: x\n    check: oidc_claim\n    title: t\n    fix: f\n";
        let e = parse_yaml::<CheckFile>(text, Path::new("c.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.yaml:4:12: "), "{e}");
        assert!(e.contains("did you mean 'oidc_claims'"), "{e}");
    }
}
