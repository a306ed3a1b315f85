//! JSON mutations of a flat object (ID token claims, token response, userinfo). Members are an
//! ordered list rather than a map, so a name can appear twice and the text is written here
//! member by member (a JSON library would collapse the duplicate).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::spec::{AudienceForm, ClaimOp, HashClaim, IssuerVariant};

/// What the helpers need to know about the sign-in.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Unix seconds by the tenant's clock.
    pub now: i64,
    pub client_id: &'a str,
    pub issuer: &'a str,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// An object whose members keep their order and may repeat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members(Vec<(String, Value)>);

/// `at_hash` / `c_hash` (OIDC Core 3.3.2.11): the left half of SHA-256, base64url.
pub fn half_hash(value: &str) -> String {
    let digest = sha2::Sha256::digest(value.as_bytes());
    B64URL.encode(&digest[..16])
}

/// A value of the same JSON type that is not `v`.
fn different(v: &Value) -> Value {
    match v {
        Value::String(s) => json!(format!("{s}-forged")),
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!(i.saturating_add(1)),
            None => json!(n.as_f64().unwrap_or(0.0) + 1.0),
        },
        Value::Bool(b) => json!(!b),
        Value::Array(a) => {
            let mut a = a.clone();
            a.push(json!("forged"));
            Value::Array(a)
        }
        Value::Object(o) => {
            let mut o = o.clone();
            o.insert("forged".into(), json!(true));
            Value::Object(o)
        }
        Value::Null => json!("forged"),
    }
}

/// The same meaning in another JSON type.
fn retyped(v: &Value) -> Value {
    match v {
        Value::String(s) => match s.parse::<i64>() {
            Ok(i) => json!(i),
            Err(_) => json!([s]),
        },
        Value::Number(n) => json!(n.to_string()),
        Value::Bool(b) => json!(b.to_string()),
        Value::Array(a) => Value::Object(
            a.iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect(),
        ),
        Value::Object(o) => Value::Array(o.values().cloned().collect()),
        Value::Null => json!("null"),
    }
}

fn issuer_variant(issuer: &str, variant: IssuerVariant) -> String {
    match variant {
        IssuerVariant::Other => "https://other-issuer.mock-idp.test/".into(),
        IssuerVariant::TrailingSlash => match issuer.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{issuer}/"),
        },
        IssuerVariant::Scheme => {
            if let Some(rest) = issuer.strip_prefix("https://") {
                format!("http://{rest}")
            } else if let Some(rest) = issuer.strip_prefix("http://") {
                format!("https://{rest}")
            } else {
                format!("https://{issuer}")
            }
        }
        IssuerVariant::HostCase => match url::Url::parse(issuer) {
            // The host is replaced after the scheme, so a host that also occurs in the scheme
            // (`h` in `http`) is not mistaken for it.
            Ok(u) => match (u.host_str(), issuer.split_once("://")) {
                (Some(host), Some((scheme, rest))) => {
                    format!(
                        "{scheme}://{}",
                        rest.replacen(host, &host.to_ascii_uppercase(), 1)
                    )
                }
                _ => issuer.to_ascii_uppercase(),
            },
            Err(_) => issuer.to_ascii_uppercase(),
        },
    }
}

impl Members {
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Whether any name appears more than once.
    pub fn has_duplicates(&self) -> bool {
        let mut seen = std::collections::HashSet::new();
        !self.0.iter().all(|(k, _)| seen.insert(k.as_str()))
    }

    /// The first member of that name takes `value`; later ones go (it is now that value).
    pub fn set(&mut self, name: &str, value: Value) {
        let mut first = true;
        self.0.retain_mut(|(k, v)| {
            if k != name {
                return true;
            }
            if first {
                *v = value.clone();
                first = false;
                return true;
            }
            false
        });
        if first {
            self.0.push((name.to_string(), value));
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| k != name);
    }

    pub fn apply(&mut self, ops: &[ClaimOp], ctx: &Context<'_>) {
        for op in ops {
            self.apply_one(op, ctx);
        }
    }

    fn apply_one(&mut self, op: &ClaimOp, ctx: &Context<'_>) {
        match op {
            ClaimOp::Remove { name } => self.remove(name),
            ClaimOp::Set { name, value } => self.set(name, value.clone()),
            ClaimOp::Duplicate {
                name,
                value,
                forged_first,
            } => {
                let at = self.0.iter().position(|(k, _)| k == name);
                let genuine = at.map(|i| self.0[i].1.clone());
                let forged = value
                    .clone()
                    .unwrap_or_else(|| different(genuine.as_ref().unwrap_or(&Value::Null)));
                match at {
                    Some(i) => {
                        let pos = if *forged_first { i } else { i + 1 };
                        self.0.insert(pos, (name.clone(), forged));
                    }
                    // Nothing to duplicate: the forged value appears twice.
                    None => {
                        self.0.push((name.clone(), forged.clone()));
                        self.0.push((name.clone(), forged));
                    }
                }
            }
            ClaimOp::WrongType { name } => {
                let v = self.get(name).map(retyped).unwrap_or(json!("wrong-type"));
                self.set(name, v);
            }
            ClaimOp::RelativeTime { name, seconds } => {
                self.set(name, json!(ctx.now.saturating_add(*seconds)));
            }
            ClaimOp::Audience { form, extra } => {
                let v = match form {
                    AudienceForm::String => json!(ctx.client_id),
                    AudienceForm::Array => {
                        let mut all = vec![ctx.client_id.to_string()];
                        all.extend(extra.iter().cloned());
                        json!(all)
                    }
                };
                self.set("aud", v);
            }
            ClaimOp::Azp { value } => {
                self.set("azp", json!(value.as_deref().unwrap_or(ctx.client_id)));
            }
            ClaimOp::Hash { name, correct } => {
                let (claim, of) = match name {
                    HashClaim::AtHash => ("at_hash", ctx.access_token),
                    HashClaim::CHash => ("c_hash", ctx.code),
                };
                let of = of.unwrap_or_default();
                let hashed = if *correct {
                    half_hash(of)
                } else {
                    half_hash(&format!("not-{of}"))
                };
                self.set(claim, json!(hashed));
            }
            ClaimOp::Issuer { variant } => {
                self.set("iss", json!(issuer_variant(ctx.issuer, *variant)));
            }
        }
    }

    /// The object as JSON text, every member written (duplicates included).
    pub fn to_text(&self) -> Result<String, serde_json::Error> {
        let mut out = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k)?);
            out.push(':');
            out.push_str(&serde_json::to_string(v)?);
        }
        out.push('}');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            now: 1_000,
            client_id: "c1",
            issuer: "http://h/t/a",
            access_token: Some("at-1"),
            code: Some("code-1"),
        }
    }

    fn members() -> Members {
        let Value::Object(m) = json!({"iss": "http://h/t/a", "sub": "u1", "aud": "c1", "exp": 1300, "email_verified": true})
        else {
            unreachable!()
        };
        Members::from_map(m)
    }

    fn run(op: Value) -> Members {
        let op: ClaimOp = serde_json::from_value(op).unwrap();
        let mut m = members();
        m.apply(&[op], &ctx());
        m
    }

    #[test]
    fn remove_set_and_wrong_type() {
        assert!(
            run(json!({"op": "remove", "name": "sub"}))
                .get("sub")
                .is_none()
        );
        let m = run(json!({"op": "set", "name": "aud", "value": ["x", "y"]}));
        assert_eq!(m.get("aud"), Some(&json!(["x", "y"])));
        assert_eq!(
            run(json!({"op": "set", "name": "new", "value": {"a": 1}})).get("new"),
            Some(&json!({"a": 1}))
        );
        assert_eq!(
            run(json!({"op": "wrong_type", "name": "exp"})).get("exp"),
            Some(&json!("1300"))
        );
        assert_eq!(
            run(json!({"op": "wrong_type", "name": "email_verified"})).get("email_verified"),
            Some(&json!("true"))
        );
        assert_eq!(
            run(json!({"op": "wrong_type", "name": "sub"})).get("sub"),
            Some(&json!(["u1"]))
        );
    }

    #[test]
    fn duplicates_are_written_twice_in_the_text() {
        let m = run(json!({"op": "duplicate", "name": "sub", "value": "admin"}));
        assert!(m.has_duplicates());
        let text = m.to_text().unwrap();
        let first = text.find("\"sub\":\"u1\"").unwrap();
        let second = text.find("\"sub\":\"admin\"").unwrap();
        assert!(first < second, "{text}");
        let m = run(json!({"op": "duplicate", "name": "sub", "forged_first": true}));
        let text = m.to_text().unwrap();
        assert!(
            text.find("u1-forged").unwrap() < text.find("\"u1\"").unwrap(),
            "{text}"
        );
        // Whatever the duplicate, the text is still JSON a lenient parser reads.
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v.is_object());
    }

    #[test]
    fn helpers_use_the_context() {
        assert_eq!(
            run(json!({"op": "relative_time", "name": "iat", "seconds": -100})).get("iat"),
            Some(&json!(900))
        );
        assert_eq!(
            run(json!({"op": "audience", "form": "array", "extra": ["other"]})).get("aud"),
            Some(&json!(["c1", "other"]))
        );
        assert_eq!(
            run(json!({"op": "audience", "form": "string"})).get("aud"),
            Some(&json!("c1"))
        );
        assert_eq!(run(json!({"op": "azp"})).get("azp"), Some(&json!("c1")));
        assert_eq!(
            run(json!({"op": "hash", "name": "at_hash"})).get("at_hash"),
            Some(&json!(half_hash("at-1")))
        );
        assert_ne!(
            run(json!({"op": "hash", "name": "c_hash", "correct": false})).get("c_hash"),
            Some(&json!(half_hash("code-1")))
        );
        for (variant, want) in [
            ("trailing_slash", "http://h/t/a/"),
            ("scheme", "https://h/t/a"),
            ("host_case", "http://H/t/a"),
        ] {
            assert_eq!(
                run(json!({"op": "issuer", "variant": variant})).get("iss"),
                Some(&json!(want))
            );
        }
    }

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OIDC Core A.3: at_hash of the example access token.
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
