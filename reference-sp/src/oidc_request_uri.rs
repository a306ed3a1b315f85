//! Request objects by reference (OpenID Connect Core 6.2, RFC 9101). When the OP's discovery
//! document says `require_signed_request_object: true` (RFC 9101 10.5), the authorization
//! request the product built travels as a request object signed RS256 with the SP's key. The
//! product keeps it for one fetch, for at most [`TTL_SECS`], at
//! `/sso/oidc/request/<ref>`; the browser carries only client_id, response_type, scope and
//! that request_uri, and the OP verifies the signature with the SP's keys at
//! `/sso/oidc/jwks`.
use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::x509::X509;
use serde_json::{Map, Value, json};

use crate::certs::SpKey;

/// How long a hosted request object waits for the OP's fetch (and its `exp`).
pub const TTL_SECS: i64 = 60;
/// The key id of the SP's key in its JWKS and in the objects it signs.
const KID: &str = "reference-sp-request-objects";
/// At most this many objects wait at once; the oldest go first.
const MAX_HOSTED: usize = 1000;

/// The request objects waiting for their fetch: reference -> (JWT, expiry).
#[derive(Default)]
pub struct Hosted {
    objects: Mutex<HashMap<String, (String, i64)>>,
}

impl Hosted {
    fn put(&self, jwt: String, now: i64) -> String {
        let mut bytes = [0u8; 18];
        // Unguessable: whoever holds the reference can read the request.
        let _ = openssl::rand::rand_bytes(&mut bytes);
        let reference = B64.encode(bytes);
        if let Ok(mut m) = self.objects.lock() {
            m.retain(|_, (_, exp)| *exp > now);
            if m.len() >= MAX_HOSTED
                && let Some(oldest) = m
                    .iter()
                    .min_by_key(|(_, (_, e))| *e)
                    .map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
            m.insert(reference.clone(), (jwt, now + TTL_SECS));
        }
        reference
    }

    /// The object `reference` names, once, if it has not expired.
    pub fn take(&self, reference: &str, now: i64) -> Option<String> {
        let mut m = self.objects.lock().ok()?;
        let (jwt, exp) = m.remove(reference)?;
        (exp > now).then_some(jwt)
    }
}

/// The OP's issuer when its discovery document requires signed request objects.
pub(crate) async fn issuer_if_required(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<Option<String>, String> {
    let doc = crate::oidc_discovery::json(http, discovery_url).await?;
    if doc
        .get("require_signed_request_object")
        .and_then(Value::as_bool)
        != Some(true)
    {
        return Ok(None);
    }
    doc.get("issuer")
        .and_then(Value::as_str)
        .map(|i| Some(i.to_string()))
        .ok_or_else(|| "the discovery document has no issuer".to_string())
}

/// The request object for `authorize_url`'s parameters: iss the client, aud the OP, a
/// short exp and a jti, signed RS256 with the SP's key.
fn sign(key: &SpKey, claims: &Map<String, Value>) -> Result<String, String> {
    let header = json!({ "alg": "RS256", "kid": KID, "typ": "oauth-authz-req+jwt" });
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(Value::Object(claims.clone()).to_string())
    );
    let pkey = PKey::private_key_from_pem(key.private_key_pem.expose().as_bytes())
        .map_err(|e| format!("the SP key: {e}"))?;
    let mut s = Signer::new(MessageDigest::sha256(), &pkey).map_err(|e| e.to_string())?;
    s.update(input.as_bytes()).map_err(|e| e.to_string())?;
    let sig = s.sign_to_vec().map_err(|e| e.to_string())?;
    Ok(format!("{input}.{}", B64.encode(sig)))
}

/// Hosts the request of `authorize_url` as a signed request object and answers the URL the
/// browser goes to instead: the authorization endpoint with client_id, response_type and
/// scope (OAuth 2.0 wants them in the query; OpenID Connect Core 6.1) and the request_uri.
pub(crate) fn by_reference(
    hosted: &Hosted,
    key: &SpKey,
    base: &str,
    authorize_url: url::Url,
    issuer: &str,
    now: i64,
) -> Result<url::Url, String> {
    let mut claims: Map<String, Value> = authorize_url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect();
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .ok_or("the authorization request has no client_id")?
        .to_string();
    let mut jti = [0u8; 12];
    let _ = openssl::rand::rand_bytes(&mut jti);
    claims.insert("iss".into(), json!(client_id));
    claims.insert("aud".into(), json!(issuer));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + TTL_SECS));
    claims.insert("jti".into(), json!(hex::encode(jti)));
    let jwt = sign(key, &claims)?;
    let reference = hosted.put(jwt, now);
    let mut url = authorize_url;
    url.set_query(None);
    {
        let mut q = url.query_pairs_mut();
        for k in ["client_id", "response_type", "scope"] {
            if let Some(v) = claims.get(k).and_then(Value::as_str) {
                q.append_pair(k, v);
            }
        }
        q.append_pair(
            "request_uri",
            &format!("{base}/sso/oidc/request/{reference}"),
        );
    }
    Ok(url)
}

/// The SP's public key as a JWKS (what the OP verifies request objects with).
pub fn jwks(key: &SpKey) -> Result<Value, String> {
    let cert = X509::from_der(&key.cert_der).map_err(|e| e.to_string())?;
    let rsa = cert
        .public_key()
        .and_then(|k| k.rsa())
        .map_err(|e| e.to_string())?;
    Ok(json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
        "n": B64.encode(rsa.n().to_vec()), "e": B64.encode(rsa.e().to_vec()),
    }] }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use openssl::rsa::Rsa;

    fn key() -> SpKey {
        let pkey = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut b = openssl::x509::X509::builder().unwrap();
        b.set_pubkey(&pkey).unwrap();
        let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
        b.set_not_before(&now).unwrap();
        b.set_not_after(&now).unwrap();
        b.sign(&pkey, MessageDigest::sha256()).unwrap();
        SpKey {
            cert_der: b.build().to_der().unwrap(),
            private_key_pem: Secret::new(
                String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap(),
            ),
        }
    }

    #[test]
    fn the_object_carries_the_request_and_verifies_with_the_jwks() {
        let k = key();
        let hosted = Hosted::default();
        let url = url::Url::parse(
            "http://op/authorize?response_type=code&client_id=c1&redirect_uri=http%3A%2F%2Fsp%2Fcb&scope=openid+email&state=s1&nonce=n1",
        )
        .unwrap();
        let out = by_reference(&hosted, &k, "http://sp", url, "http://op/", 1000).unwrap();
        let q: HashMap<String, String> = out.query_pairs().into_owned().collect();
        assert_eq!(q.len(), 4, "{q:?}");
        assert_eq!(q["client_id"], "c1");
        assert!(!q.contains_key("state") && !q.contains_key("redirect_uri"));
        let reference = q["request_uri"]
            .strip_prefix("http://sp/sso/oidc/request/")
            .unwrap();
        let jwt = hosted.take(reference, 1001).unwrap();
        assert!(hosted.take(reference, 1001).is_none(), "one fetch");
        let parts: Vec<&str> = jwt.split('.').collect();
        let claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "c1");
        assert_eq!(claims["aud"], "http://op/");
        assert_eq!(claims["state"], "s1");
        assert_eq!(claims["redirect_uri"], "http://sp/cb");
        assert_eq!(claims["exp"], 1000 + TTL_SECS);
        // Verified with the published key.
        let jwks = jwks(&k).unwrap();
        let n = B64.decode(jwks["keys"][0]["n"].as_str().unwrap()).unwrap();
        let e = B64.decode(jwks["keys"][0]["e"].as_str().unwrap()).unwrap();
        let rsa = Rsa::from_public_components(
            openssl::bn::BigNum::from_slice(&n).unwrap(),
            openssl::bn::BigNum::from_slice(&e).unwrap(),
        )
        .unwrap();
        let public = PKey::from_rsa(rsa).unwrap();
        let mut v = openssl::sign::Verifier::new(MessageDigest::sha256(), &public).unwrap();
        v.update(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .unwrap();
        assert!(v.verify(&B64.decode(parts[2]).unwrap()).unwrap());
    }

    #[test]
    fn an_expired_object_is_not_served() {
        let hosted = Hosted::default();
        let r = hosted.put("a.b.c".into(), 1000);
        assert!(hosted.take(&r, 1000 + TTL_SECS).is_none());
        assert!(hosted.take("unknown", 0).is_none());
    }
}
