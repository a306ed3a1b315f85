//! `idp.saml.forge` of a scenario: the mock IdP's SAML forge (`proto::forge::ForgeSpec`) for
//! every response of the trial's tenant, as the wire contract spells it, plus what only a file
//! can say: `template_file` (a hand-written Response next to the scenario) and placeholders
//! (`{canary.url}`, `{user.email}`) in the strings that name people and places.
//!
//! The wire type is not copied here: the YAML is read as a value, `template_file` taken out,
//! and the rest read as a `ForgeSpec` with its own field checks (unknown keys, attack names
//! with did-you-mean). What the mock IdP alone can check (an edit path that matches nothing,
//! an attack whose signature is not there) it checks when the trial's tenant is made.
use std::path::{Component, Path, PathBuf};

use proto::forge::ForgeSpec;
use serde::Deserialize;

use crate::input::template::{Template, Vars};

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioForge {
    /// As written; `template` is filled from `template_file` by the loader.
    pub spec: ForgeSpec,
    /// Relative to the scenario's directory, without `..`.
    pub template_file: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for ScenarioForge {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut v = serde_json::Value::deserialize(d)?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| D::Error::custom("forge: expected a mapping (a ForgeSpec)"))?;
        let template_file = match obj.remove("template_file") {
            None => None,
            Some(serde_json::Value::String(s)) => {
                Some(relative_file(&s).map_err(D::Error::custom)?)
            }
            Some(_) => return Err(D::Error::custom("forge.template_file: expected a path")),
        };
        let spec: ForgeSpec =
            serde_json::from_value(v).map_err(|e| D::Error::custom(format!("forge: {e}")))?;
        if template_file.is_some() && spec.template.is_some() {
            return Err(D::Error::custom(
                "forge: give `template` (inline XML) or `template_file`, not both",
            ));
        }
        for (what, s) in placeholders_in(&spec) {
            Template::parse(s).map_err(|e| D::Error::custom(format!("forge.{what}: {e}")))?;
        }
        Ok(ScenarioForge {
            spec,
            template_file,
        })
    }
}

/// A path that stays under the scenario's directory.
fn relative_file(s: &str) -> Result<PathBuf, String> {
    let p = Path::new(s);
    let ok = !s.is_empty()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if ok {
        Ok(p.to_path_buf())
    } else {
        Err(format!(
            "forge.template_file {s:?}: expected a path relative to the scenario's directory, without `..`"
        ))
    }
}

/// The strings that may hold harness placeholders. `template` does not: its `{{name}}`
/// placeholders are the mock IdP's.
fn placeholders_in(spec: &ForgeSpec) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    if let Some(s) = &spec.forged_identity {
        out.push(("forged_identity".to_string(), s.as_str()));
    }
    if let Some(s) = &spec.canary_url {
        out.push(("canary_url".to_string(), s.as_str()));
    }
    for (i, e) in spec.edits.iter().enumerate() {
        if let Some(s) = &e.value {
            out.push((format!("edits[{i}].value"), s.as_str()));
        }
    }
    out
}

impl ScenarioForge {
    /// The spec for this trial: placeholders rendered (`{canary.url}` is per trial).
    pub fn render(&self, vars: &Vars) -> Result<ForgeSpec, String> {
        let mut spec = self.spec.clone();
        let render = |what: &str, s: &mut String| -> Result<(), String> {
            let t = Template::parse(s).map_err(|e| format!("forge.{what}: {e}"))?;
            *s = t.render(vars).map_err(|e| format!("forge.{what}: {e}"))?;
            Ok(())
        };
        if let Some(s) = spec.forged_identity.as_mut() {
            render("forged_identity", s)?;
        }
        if let Some(s) = spec.canary_url.as_mut() {
            render("canary_url", s)?;
        }
        for (i, e) in spec.edits.iter_mut().enumerate() {
            if let Some(s) = e.value.as_mut() {
                render(&format!("edits[{i}].value"), s)?;
            }
        }
        Ok(spec)
    }
}

/// `idp.oidc.forge` of a scenario: the mock IdP's OIDC forge (`proto::oidc_forge::ForgeSpec`)
/// for the OIDC client the trial registers, as the wire contract spells it. A `preset` must
/// name a variant of the catalogue (`mock-idp oidc-forge --list`), checked when the file is
/// loaded with a did-you-mean; `canary_url` and the string values of claim, token-response
/// and userinfo operations may hold harness placeholders (`{canary.url}`, `{user.email}`).
/// Header members are not rendered: `{op_kid}` there is the mock IdP's own placeholder.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioOidcForge {
    pub spec: proto::oidc_forge::ForgeSpec,
}

impl<'de> Deserialize<'de> for ScenarioOidcForge {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let spec: proto::oidc_forge::ForgeSpec =
            serde_json::from_value(v).map_err(|e| D::Error::custom(format!("forge: {e}")))?;
        if let Some(p) = &spec.preset {
            check_preset(p).map_err(D::Error::custom)?;
        }
        let mut probe = spec.clone();
        for_each_oidc_string(&mut probe, &mut |what, s| {
            Template::parse(s)
                .map(|_| ())
                .map_err(|e| format!("forge.{what}: {e}"))
        })
        .map_err(D::Error::custom)?;
        Ok(ScenarioOidcForge { spec })
    }
}

/// A preset the mock IdP's catalogue has; the variants made by a control call instead
/// (JWKS settings, logout tokens) are no preset and are refused with what makes them.
fn check_preset(name: &str) -> Result<(), String> {
    use mock_idp::oidc::forge::catalogue;
    if catalogue::preset(name).is_some() {
        return Ok(());
    }
    let infos = catalogue::infos();
    if let Some(how) = infos
        .iter()
        .find(|v| v.name == name)
        .and_then(|v| v.how.as_deref())
    {
        return Err(format!(
            "forge.preset {name:?} is no preset: it is made by {how}"
        ));
    }
    let hint = crate::input::suggest::did_you_mean(
        name,
        infos
            .iter()
            .filter(|v| v.spec.is_some())
            .map(|v| v.name.as_str()),
    )
    .map(|c| format!(" (did you mean '{c}'?)"))
    .unwrap_or_default();
    Err(format!(
        "forge.preset: unknown variant {name:?}{hint}; `mock-idp oidc-forge --list` lists them"
    ))
}

/// Calls `f` on every string of the spec that may hold harness placeholders, naming it.
fn for_each_oidc_string(
    spec: &mut proto::oidc_forge::ForgeSpec,
    f: &mut dyn FnMut(&str, &mut String) -> Result<(), String>,
) -> Result<(), String> {
    use proto::oidc_forge::ClaimOp;
    if let Some(s) = spec.canary_url.as_mut() {
        f("canary_url", s)?;
    }
    if let Some(s) = spec.post_logout_state.as_mut() {
        f("post_logout_state", s)?;
    }
    for (i, src) in spec.claim_sources.iter_mut().enumerate() {
        if let Some(s) = src.endpoint.as_mut() {
            f(&format!("claim_sources[{i}].endpoint"), s)?;
        }
        for (name, value) in src.claims.iter_mut() {
            if let serde_json::Value::String(s) = value {
                f(&format!("claim_sources[{i}].claims.{name}"), s)?;
            }
        }
    }
    for (list, ops) in [
        ("claims", &mut spec.claims),
        ("front_claims", &mut spec.front_claims),
        ("refresh_claims", &mut spec.refresh_claims),
        ("token_response", &mut spec.token_response),
        ("userinfo", &mut spec.userinfo),
    ] {
        for (i, op) in ops.iter_mut().enumerate() {
            let what = format!("{list}[{i}].value");
            match op {
                ClaimOp::Set {
                    value: serde_json::Value::String(s),
                    ..
                }
                | ClaimOp::Duplicate {
                    value: Some(serde_json::Value::String(s)),
                    ..
                }
                | ClaimOp::Azp { value: Some(s) } => f(&what, s)?,
                _ => {}
            }
        }
    }
    Ok(())
}

impl ScenarioOidcForge {
    /// The spec for this trial: placeholders rendered (`{canary.url}` is per trial).
    pub fn render(&self, vars: &Vars) -> Result<proto::oidc_forge::ForgeSpec, String> {
        let mut spec = self.spec.clone();
        for_each_oidc_string(&mut spec, &mut |what, s| {
            let t = Template::parse(s).map_err(|e| format!("forge.{what}: {e}"))?;
            *s = t.render(vars).map_err(|e| format!("forge.{what}: {e}"))?;
            Ok(())
        })?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Result<ScenarioForge, String> {
        serde_yaml_ng::from_str(y).map_err(|e| e.to_string())
    }

    #[test]
    fn a_forge_reads_the_wire_spec_and_renders_placeholders() {
        let f = parse("attack: xxe\ncanary_url: \"{canary.url}\"\nsign: assertion\n").unwrap();
        assert_eq!(f.spec.attack, Some(proto::forge::Attack::Xxe));
        let mut vars = Vars::default();
        vars.set("canary.url", "http://127.0.0.1:9/c/t1");
        let spec = f.render(&vars).unwrap();
        assert_eq!(spec.canary_url.as_deref(), Some("http://127.0.0.1:9/c/t1"));
        // Unrendered, the placeholder would reach the mock IdP as text.
        assert_eq!(f.spec.canary_url.as_deref(), Some("{canary.url}"));
    }

    #[test]
    fn bad_forges_say_what_is_wrong() {
        let e = parse("attack: xsw33\n").unwrap_err();
        assert!(e.contains("xsw33"), "{e}");
        let e = parse("atack: xsw3\n").unwrap_err();
        assert!(e.contains("atack"), "{e}");
        let e = parse("forged_identity: \"{usr.email}\"\n").unwrap_err();
        assert!(e.contains("forge.forged_identity"), "{e}");
        let e = parse("template_file: ../../etc/passwd\n").unwrap_err();
        assert!(e.contains("without `..`"), "{e}");
        let e = parse("template_file: a.xml\ntemplate: \"<x/>\"\n").unwrap_err();
        assert!(e.contains("not both"), "{e}");
        assert!(parse("- attack: xsw3\n").is_err());
    }

    #[test]
    fn template_placeholders_are_the_mock_idps() {
        let f = parse("template: \"<r>{{nameid}}</r>\"\n").unwrap();
        let spec = f.render(&Vars::default()).unwrap();
        assert_eq!(spec.template.as_deref(), Some("<r>{{nameid}}</r>"));
    }

    fn oidc(y: &str) -> Result<ScenarioOidcForge, String> {
        serde_yaml_ng::from_str(y).map_err(|e| e.to_string())
    }

    #[test]
    fn an_oidc_forge_reads_the_wire_spec_and_renders_placeholders() {
        let f = oidc(
            "preset: jku_header_attacker\ncanary_url: \"{canary.url}\"\nclaims:\n  - {op: set, name: email, value: \"{user.email}\"}\nheader: {kid: \"{op_kid}\"}\n",
        )
        .unwrap();
        assert_eq!(f.spec.preset.as_deref(), Some("jku_header_attacker"));
        let mut vars = Vars::default();
        vars.set("canary.url", "http://127.0.0.1:9/c/t1");
        vars.set("user.email", "alice@acme.test");
        let spec = f.render(&vars).unwrap();
        assert_eq!(spec.canary_url.as_deref(), Some("http://127.0.0.1:9/c/t1"));
        assert_eq!(
            spec.claims[0],
            proto::oidc_forge::ClaimOp::Set {
                name: "email".into(),
                value: serde_json::json!("alice@acme.test")
            }
        );
        // The header's kid is the mock IdP's placeholder: left as written.
        assert_eq!(spec.header.kid, Some(Some("{op_kid}".to_string())));
    }

    #[test]
    fn bad_oidc_forges_say_what_is_wrong() {
        let e = oidc("preset: alg_nnoe\n").unwrap_err();
        assert!(e.contains("did you mean 'alg_none'"), "{e}");
        let e = oidc("preset: jwks_500\n").unwrap_err();
        assert!(e.contains("no preset") && e.contains("provider"), "{e}");
        let e = oidc("headr: {alg: none}\n").unwrap_err();
        assert!(e.contains("headr"), "{e}");
        let e = oidc("canary_url: \"{canary.ulr}\"\n").unwrap_err();
        assert!(e.contains("forge.canary_url"), "{e}");
        let e = oidc("claims: [{op: set, name: email, value: \"{usr.email}\"}]\n").unwrap_err();
        assert!(e.contains("forge.claims[0].value"), "{e}");
        assert!(oidc("key: attacker\nheader: {alg: RS256}\n").is_ok());
        let e = oidc("claim_sources: [{name: s, kind: distributed, claims: {a: 1}, endpoint: \"{canary.ulr}\"}]\n")
            .unwrap_err();
        assert!(e.contains("forge.claim_sources[0].endpoint"), "{e}");
    }

    #[test]
    fn claim_sources_render_their_endpoint_and_string_claims() {
        let f = oidc(
            "claim_sources:\n  - {name: s, kind: distributed, endpoint: \"{canary.url}claims\", claims: {email: \"{user.email}\", n: 1}}\n",
        )
        .unwrap();
        let mut vars = Vars::default();
        vars.set("canary.url", "http://127.0.0.1:9/c/t1/");
        vars.set("user.email", "alice@acme.test");
        let spec = f.render(&vars).unwrap();
        let src = &spec.claim_sources[0];
        assert_eq!(
            src.endpoint.as_deref(),
            Some("http://127.0.0.1:9/c/t1/claims")
        );
        assert_eq!(src.claims["email"], "alice@acme.test");
        assert_eq!(src.claims["n"], 1);
    }
}
