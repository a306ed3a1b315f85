//! Aggregated and distributed claims (OIDC Core 5.6.2) in a UserInfo answer. Each source's
//! claims leave the plain answer; `_claim_names` maps each to its source, `_claim_sources`
//! carries either the source's signed JWT (aggregated) or an endpoint and an access token
//! (distributed) whose endpoint answers that JWT. The JWT is signed as the source's `jwt`
//! spec says (by default RS256 by the OP), so an RP that adopts the claims without checking
//! the signature shows a forger's values.

use serde_json::{Map, Value, json};

use crate::secret::Secret;

use super::super::OidcError;
use super::super::state::new_secret;
use super::spec::{ClaimSource, ClaimSourceKind, ForgeSpec};
use super::{TokenInputs, default_canaries};

/// A distributed source's JWT, waiting at the claims endpoint for its access token.
pub struct Issued {
    pub token: Secret,
    pub source: String,
    pub jwt: String,
}

/// Moves the sources' claims out of `claims` into `_claim_names` / `_claim_sources`.
/// `claims_url` is the tenant's claims endpoint (a distributed source's default). Answers the
/// access tokens the claims endpoint must now honour.
pub fn attach(
    spec: &ForgeSpec,
    claims: &mut Map<String, Value>,
    inputs: &TokenInputs<'_>,
    claims_url: &str,
) -> Result<Vec<Issued>, OidcError> {
    if spec.claim_sources.is_empty() {
        return Ok(Vec::new());
    }
    let mut names = Map::new();
    let mut sources = Map::new();
    let mut issued = Vec::new();
    for src in &spec.claim_sources {
        let jwt = signed(src, claims.get("sub"), inputs, spec)?;
        for name in src.claims.keys() {
            claims.remove(name);
            names.insert(name.clone(), json!(src.name));
        }
        let entry = match src.kind {
            ClaimSourceKind::Aggregated => json!({ "JWT": jwt }),
            ClaimSourceKind::Distributed => {
                let token = new_secret();
                let entry = json!({
                    "endpoint": src.endpoint.as_deref().unwrap_or(claims_url),
                    "access_token": token.expose(),
                });
                issued.push(Issued {
                    token,
                    source: src.name.clone(),
                    jwt,
                });
                entry
            }
        };
        sources.insert(src.name.clone(), entry);
    }
    claims.insert("_claim_names".into(), Value::Object(names));
    claims.insert("_claim_sources".into(), Value::Object(sources));
    Ok(issued)
}

/// The source's JWT: its claims, with the OP as issuer and the answer's subject (an RP may
/// bind the source to the user), signed as its `jwt` spec says.
fn signed(
    src: &ClaimSource,
    sub: Option<&Value>,
    inputs: &TokenInputs<'_>,
    spec: &ForgeSpec,
) -> Result<String, OidcError> {
    let mut payload = Map::new();
    payload.insert("iss".into(), json!(inputs.ctx.issuer));
    if let Some(sub) = sub {
        payload.insert("sub".into(), sub.clone());
    }
    payload.insert("iat".into(), json!(inputs.ctx.now));
    payload.extend(src.claims.clone());
    let text = serde_json::to_string(&Value::Object(payload))?;
    let urls = default_canaries(inputs.base, inputs.tenant);
    let jws = src.jwt.clone().unwrap_or_default();
    Ok(super::jws::sign(
        &jws,
        &text,
        &inputs.material(spec, &urls),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::forge::mutate::Context;
    use crate::tenant::Tenant;
    use base64::Engine as _;

    fn decode(jwt: &str) -> (Value, Value) {
        let part = |i: usize| -> Value {
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwt.split('.').nth(i).unwrap_or_default())
                .unwrap();
            serde_json::from_slice(&b).unwrap()
        };
        (part(0), part(1))
    }

    fn run(spec: &ForgeSpec, claims: &mut Map<String, Value>) -> (Vec<Issued>, String) {
        let mut t =
            Tenant::from_spec(serde_json::from_value(json!({"id": "src"})).unwrap()).unwrap();
        let keys = crate::oidc::keys(&mut t).unwrap();
        let forge = super::super::keys_locked(&mut t).unwrap();
        let inputs = TokenInputs {
            current: &keys.current,
            next: &keys.next,
            forge_keys: &forge,
            client_secret: None,
            base: "http://op.test",
            tenant: "src",
            ctx: Context {
                now: 1_800_000_000,
                client_id: "c1",
                issuer: "http://op.test/t/src",
                access_token: None,
                code: None,
            },
        };
        let issued = attach(spec, claims, &inputs, "http://op.test/t/src/oidc/claims").unwrap();
        (issued, keys.current.kid().to_string())
    }

    #[test]
    fn sources_replace_their_claims_and_sign_as_told() {
        let spec: ForgeSpec = serde_json::from_value(json!({"claim_sources": [
            {"name": "src1", "kind": "aggregated", "claims": {"phone_number": "+1 555 0199"}},
            {"name": "src2", "kind": "distributed", "claims": {"email": "admin@acme.test"},
             "jwt": {"key": "attacker"}}
        ]}))
        .unwrap();
        let mut claims: Map<String, Value> = serde_json::from_value(
            json!({"sub": "u1", "email": "alice@acme.test", "phone_number": "+1 555 0100"}),
        )
        .unwrap();
        let (issued, op_kid) = run(&spec, &mut claims);
        assert!(!claims.contains_key("phone_number") && !claims.contains_key("email"));
        assert_eq!(
            claims["_claim_names"],
            json!({"phone_number": "src1", "email": "src2"})
        );
        let (header, body) = decode(claims["_claim_sources"]["src1"]["JWT"].as_str().unwrap());
        assert_eq!(header["kid"], json!(op_kid), "the OP's key by default");
        assert_eq!(body["phone_number"], "+1 555 0199");
        assert_eq!(body["sub"], "u1");
        assert_eq!(body["iss"], "http://op.test/t/src");
        let src2 = &claims["_claim_sources"]["src2"];
        assert_eq!(src2["endpoint"], "http://op.test/t/src/oidc/claims");
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0].source, "src2");
        assert_eq!(src2["access_token"], issued[0].token.expose());
        let (header, body) = decode(&issued[0].jwt);
        assert_ne!(header["kid"], json!(op_kid), "the attacker's key");
        assert_eq!(body["email"], "admin@acme.test");
    }

    #[test]
    fn alg_none_sources_and_no_sources() {
        let spec: ForgeSpec = serde_json::from_value(json!({"claim_sources": [
            {"name": "s", "kind": "aggregated", "claims": {"phone_number": "1"},
             "jwt": {"header": {"alg": "none"}}}]}))
        .unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("u1"));
        run(&spec, &mut claims);
        let jwt = claims["_claim_sources"]["s"]["JWT"].as_str().unwrap();
        assert!(jwt.ends_with('.'), "no signature: {jwt}");
        assert_eq!(decode(jwt).0["alg"], "none");
        let mut plain = Map::new();
        plain.insert("sub".into(), json!("u1"));
        assert!(run(&ForgeSpec::default(), &mut plain).0.is_empty());
        assert_eq!(plain.len(), 1, "no _claim_names without sources");
    }
}
