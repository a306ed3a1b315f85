//! `{placeholder}` templating of step arguments with values of the trial context.
//!
//! Names are checked when a scenario is loaded (a typo is a `file:line:col` error); values
//! are known only while a trial runs, so a name without a value yet is a run-time error.
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::input::suggest::did_you_mean;

/// Field names shared by `user.*` and `users.N.*`.
const USER_FIELDS: &[&str] = &["email", "given_name", "family_name", "password", "domain"];

/// Every placeholder a scenario may use, except the `users.N.*` family.
pub const KNOWN: &[&str] = &[
    "idp.base_url",
    "idp.tenant",
    "idp.entity_id",
    "idp.sso_url",
    "idp.sso_url_post",
    "idp.metadata_url",
    "idp.dashboard_url",
    "idp.idp_initiated_url",
    "idp.slo_url",
    "idp.logout_url",
    "idp.certificate_pem",
    "idp.fingerprint_sha1",
    "idp.fingerprint_sha256",
    "idp.issuer",
    "idp.discovery_url",
    "idp.authorization_endpoint",
    "idp.token_endpoint",
    "idp.end_session_endpoint",
    "idp.client_id",
    "idp.client_secret",
    "sp.oidc_response_mode",
    "idp.response_type",
    "idp.response_mode",
    "idp.detached_signature",
    "idp.name",
    "held.response_url",
    "main.issuer",
    "main.authorization_endpoint",
    "main.client_id",
    "attacker.tenant",
    "attacker.issuer",
    "attacker.discovery_url",
    "attacker.authorization_endpoint",
    "attacker.token_endpoint",
    "attacker.client_id",
    "attacker.client_secret",
    "sp.base_url",
    "target.dir",
    "sp.dir",
    "sp.port",
    "sp.passphrase",
    "sp.user",
    "sp.login_url",
    "sp.acs_url",
    "sp.entity_id",
    "sp.metadata_url",
    "sp.slo_url",
    "sp.slo_start_url",
    "sp.slo_done_url",
    "sp.tile_url.workspace",
    "sp.tile_url.platform",
    "sp.oidc_redirect_uri",
    "sp.backchannel_logout_url",
    "sp.post_logout_redirect_uri",
    "sp.frontchannel_logout_url",
    "sp.initiate_login_url",
    "sp.oidc_jwks_uri",
    "idp.request_object_alg",
    "user.email",
    "user.given_name",
    "user.family_name",
    "user.password",
    "user.domain",
    "org.id",
    "org.name",
    "domain.name",
    "domain.txt_name",
    "domain.txt_value",
    "trial.id",
    "canary.url",
    "canary.host",
    "n",
];

/// Placeholders whose value is a secret: they are rendered for the browser but never logged.
pub fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "user.password" | "idp.client_secret" | "sp.passphrase"
    ) || (name.starts_with("users.") && name.ends_with(".password"))
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A string with `{name}` placeholders; `{{` and `}}` stand for literal braces.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl fmt::Display for Template {
    /// The source text: a secret placeholder stays a placeholder, so logs never hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Template::parse(&source).map_err(serde::de::Error::custom)
    }
}

impl Template {
    /// Parses and checks every placeholder name.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let rest = &source[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "unclosed '{{' at byte {i} in {source:?} (write '{{{{' for a literal brace)"
                        ));
                    };
                    let name = rest[..end].trim();
                    check_name(name)?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Var(name.to_string()));
                    // skip the name and the closing brace
                    for _ in 0..rest[..=end].chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "unmatched '}}' at byte {i} in {source:?} (write '}}}}' for a literal brace)"
                    ));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self {
            source: source.to_string(),
            parts,
        })
    }

    pub fn literal(text: &str) -> Self {
        Self {
            source: text.replace('{', "{{").replace('}', "}}"),
            parts: vec![Part::Text(text.to_string())],
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Text(_) => None,
        })
    }

    /// True when rendering puts a secret into the result: such values are not logged.
    pub fn has_secret(&self) -> bool {
        self.placeholders().any(is_secret)
    }

    pub fn render(&self, vars: &Vars) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(name) => out.push_str(vars.get(name)?),
            }
        }
        Ok(out)
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if KNOWN.contains(&name) {
        return Ok(());
    }
    if let Some(rest) = name.strip_prefix("users.") {
        if let Some((index, field)) = rest.split_once('.') {
            if index.parse::<usize>().is_ok() && USER_FIELDS.contains(&field) {
                return Ok(());
            }
        }
    }
    let mut msg = format!("unknown placeholder {{{name}}}");
    if let Some(s) = did_you_mean(name, KNOWN.iter().copied()) {
        msg.push_str(&format!(" (did you mean {{{s}}}?)"));
    } else {
        msg.push_str(" (see scenarios/README.md for the list)");
    }
    Err(msg)
}

/// Values of the trial context, filled in as the trial learns them.
#[derive(Default, Clone)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.values {
            if is_secret(k) {
                m.entry(k, &"[redacted]");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl Vars {
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_string(), value.into());
    }

    pub fn get(&self, name: &str) -> Result<&str, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| missing_hint(name))
    }

    /// Values that must never appear in a report.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(|(k, _)| is_secret(k))
            .map(|(_, v)| v.as_str())
    }

    /// Non-secret values, for the report's context table.
    pub fn public(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter(|(k, _)| !is_secret(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn missing_hint(name: &str) -> String {
    let why = match name.split('.').next().unwrap_or_default() {
        "org" => {
            "no organisation exists yet in this trial (the first admin setup step creates one)"
        }
        "sp" => {
            "the target has not told this value (it is learnt when the organisation is created, or set in the target's `sp:` block)"
        }
        "domain" => "no domain was added yet (add_domain or verify_domain first)",
        "idp" => {
            "the mock IdP tenant has no such value (an OIDC value on a SAML tenant, or no client configured yet)"
        }
        "user" | "users" => "the scenario's idp block has no such user",
        _ => "it is not set in this trial",
    };
    format!("placeholder {{{name}}} has no value: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_placeholders_and_escapes() {
        let t = Template::parse("{{x}} {sp.base_url}login?u={user.email}").unwrap();
        let mut v = Vars::default();
        v.set("sp.base_url", "http://h/");
        v.set("user.email", "a@b");
        assert_eq!(t.render(&v).unwrap(), "{x} http://h/login?u=a@b");
    }

    #[test]
    fn unknown_placeholder_suggests() {
        let e = Template::parse("{idp.sso_ur}").unwrap_err();
        assert!(e.contains("did you mean {idp.sso_url}"), "{e}");
        assert!(Template::parse("{users.2.email}").is_ok());
        assert!(Template::parse("{users.x.email}").is_err());
        assert!(Template::parse("a { b").is_err());
        assert!(Template::parse("a } b").is_err());
    }

    #[test]
    fn missing_value_is_a_clear_runtime_error() {
        let t = Template::parse("{org.id}").unwrap();
        let e = t.render(&Vars::default()).unwrap_err();
        assert!(e.contains("no organisation exists yet"), "{e}");
    }

    #[test]
    fn secrets_are_marked() {
        let t = Template::parse("{user.password}").unwrap();
        assert!(t.has_secret());
        assert_eq!(t.to_string(), "{user.password}");
    }
}
