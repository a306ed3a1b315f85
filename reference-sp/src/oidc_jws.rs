//! Verifying a compact JWS the OP signed (a logout token, a signed UserInfo answer) with the
//! keys its discovery document publishes: RS256 only (what this product registers), the
//! key chosen by `kid` among the JWKS's RSA signing keys. openidconnect verifies ID tokens
//! itself, but has no logout tokens; this is the same rule written once for the rest.
use base64::Engine as _;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::Verifier;
use serde_json::{Map, Value};

/// A JOSE header or a claims set.
pub type JsonObject = Map<String, Value>;

/// The only algorithm accepted: the one the connection is registered with.
pub const ALG: &str = "RS256";

/// The OP's issuer and the key set its discovery document points at, fetched now: a key
/// the OP rotated in is seen on the next request.
pub struct OpKeys {
    pub issuer: String,
    pub jwks: Value,
}

pub async fn fetch(http: &reqwest::Client, discovery_url: &str) -> Result<OpKeys, String> {
    let get = |url: String| async move {
        http.get(&url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {e}"))?
            .error_for_status()
            .map_err(|e| format!("{url} answered {e}"))?
            .json::<Value>()
            .await
            .map_err(|e| format!("{url} is not JSON: {e}"))
    };
    let doc = get(discovery_url.to_string()).await?;
    let issuer = doc["issuer"]
        .as_str()
        .ok_or("the discovery document has no issuer")?
        .to_string();
    let jwks_uri = doc["jwks_uri"]
        .as_str()
        .ok_or("the discovery document has no jwks_uri")?
        .to_string();
    let jwks = get(jwks_uri).await?;
    Ok(OpKeys { issuer, jwks })
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("{what} is not base64url: {e}"))
}

fn object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!("{what} is not a JSON object")),
        Err(e) => Err(format!("{what} is not JSON: {e}")),
    }
}

/// The verified header and claims of `jws`; an error says what was wrong.
pub fn verify(jws: &str, keys: &Value) -> Result<(JsonObject, JsonObject), String> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(format!(
            "not a compact JWS ({} segments, not 3)",
            parts.len()
        ));
    };
    let header = object(&b64(h, "the header")?, "the header")?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != ALG {
        return Err(format!("alg {alg:?} is not the registered {ALG}"));
    }
    if header.contains_key("crit") {
        return Err("the header names critical extensions this RP does not implement".into());
    }
    let signature = b64(s, "the signature")?;
    if signature.is_empty() {
        return Err("the signature is empty".into());
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&Value> = keys["keys"]
        .as_array()
        .map(|a| a.iter().collect::<Vec<&Value>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|k| k["kty"] == "RSA")
        .filter(|k| k.get("use").is_none_or(|u| u == "sig"))
        .filter(|k| kid.is_none_or(|kid| k["kid"] == kid))
        .collect();
    if candidates.is_empty() {
        return Err(match kid {
            Some(k) => format!("no RSA signing key with kid {k:?} in the OP's JWKS"),
            None => "no RSA signing key in the OP's JWKS".into(),
        });
    }
    let message = format!("{h}.{p}");
    // Without a kid, any one of the OP's keys may have signed it.
    let verified = candidates
        .iter()
        .any(|k| rs256_ok(k, message.as_bytes(), &signature).unwrap_or(false));
    if !verified {
        return Err("the signature does not verify with the OP's key".into());
    }
    let claims = object(&b64(p, "the payload")?, "the payload")?;
    Ok((header, claims))
}

fn rs256_ok(jwk: &Value, message: &[u8], signature: &[u8]) -> Result<bool, String> {
    let n = b64(jwk["n"].as_str().ok_or("no n")?, "n")?;
    let e = b64(jwk["e"].as_str().ok_or("no e")?, "e")?;
    let rsa = Rsa::from_public_components(
        BigNum::from_slice(&n).map_err(|e| e.to_string())?,
        BigNum::from_slice(&e).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let key = PKey::from_rsa(rsa).map_err(|e| e.to_string())?;
    let mut v = Verifier::new(MessageDigest::sha256(), &key).map_err(|e| e.to_string())?;
    v.update(message).map_err(|e| e.to_string())?;
    v.verify(signature).map_err(|e| e.to_string())
}

/// `aud` is this client, alone or among others.
pub fn audience_has(claims: &Map<String, Value>, client_id: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a == client_id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Signer;
    use serde_json::json;

    fn enc(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    fn key_and_jwks() -> (PKey<openssl::pkey::Private>, Value) {
        let rsa = Rsa::generate(2048).unwrap();
        let jwk = json!({"kty": "RSA", "kid": "k1", "use": "sig",
            "n": enc(&rsa.n().to_vec()), "e": enc(&rsa.e().to_vec())});
        (PKey::from_rsa(rsa).unwrap(), json!({"keys": [jwk]}))
    }

    fn sign(key: &PKey<openssl::pkey::Private>, header: Value, claims: Value) -> String {
        let m = format!(
            "{}.{}",
            enc(header.to_string().as_bytes()),
            enc(claims.to_string().as_bytes())
        );
        let mut s = Signer::new(MessageDigest::sha256(), key).unwrap();
        s.update(m.as_bytes()).unwrap();
        format!("{m}.{}", enc(&s.sign_to_vec().unwrap()))
    }

    #[test]
    fn only_rs256_by_the_ops_key_verifies() {
        let (key, jwks) = key_and_jwks();
        let (other, _) = key_and_jwks();
        let good = sign(
            &key,
            json!({"alg": "RS256", "kid": "k1"}),
            json!({"sub": "a"}),
        );
        assert_eq!(verify(&good, &jwks).unwrap().1["sub"], "a");
        let forged = sign(
            &other,
            json!({"alg": "RS256", "kid": "k1"}),
            json!({"sub": "a"}),
        );
        assert!(
            verify(&forged, &jwks)
                .unwrap_err()
                .contains("does not verify")
        );
        let unknown = sign(&key, json!({"alg": "RS256", "kid": "k9"}), json!({}));
        assert!(verify(&unknown, &jwks).unwrap_err().contains("kid"));
        let none = format!("{}.{}.", enc(br#"{"alg":"none"}"#), enc(br#"{"sub":"a"}"#));
        assert!(verify(&none, &jwks).unwrap_err().contains("alg"));
        let mut tampered = good.clone();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert!(verify(&tampered, &jwks).is_err());
    }

    #[test]
    fn audience_as_string_or_array() {
        let c = |v: Value| v.as_object().unwrap().clone();
        assert!(audience_has(&c(json!({"aud": "rp"})), "rp"));
        assert!(audience_has(&c(json!({"aud": ["x", "rp"]})), "rp"));
        assert!(!audience_has(&c(json!({"aud": "x"})), "rp"));
        assert!(!audience_has(&c(json!({})), "rp"));
    }
}
