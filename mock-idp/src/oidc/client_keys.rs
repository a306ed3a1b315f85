//! The public keys a client (an RP) publishes in its JWKS, as the OP reads them: the key its
//! ID tokens are encrypted to (`use: enc`, `jwe`) and the keys its request objects are signed
//! with (`request_object`). One RP JWKS may hold both, told apart by `use`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use serde_json::Value;

/// What a key is for, as its JWK's `use` says (absent: either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    Sig,
    Enc,
}

/// The RSA keys of a JWKS fit for `usage`: `kty` RSA, `use` absent or that one.
pub fn rsa_keys(jwks: &Value, usage: KeyUse) -> Result<Vec<&Value>, String> {
    let wanted = match usage {
        KeyUse::Sig => "sig",
        KeyUse::Enc => "enc",
    };
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no \"keys\" array")?;
    Ok(keys
        .iter()
        .filter(|k| {
            k.get("kty").and_then(Value::as_str) == Some("RSA")
                && k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == wanted)
        })
        .collect())
}

/// The public key of an RSA JWK (its `n` and `e`).
pub fn rsa_public(jwk: &Value) -> Result<PKey<Public>, String> {
    let part = |name: &str| -> Result<BigNum, String> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the RSA key has no \"{name}\""))?;
        let bytes = B64
            .decode(text.trim_end_matches('='))
            .map_err(|e| format!("the RSA key's \"{name}\" is not base64url: {e}"))?;
        BigNum::from_slice(&bytes).map_err(|e| e.to_string())
    };
    let rsa = Rsa::from_public_components(part("n")?, part("e")?).map_err(|e| e.to_string())?;
    PKey::from_rsa(rsa).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_told_apart_by_use() {
        let jwks = json!({"keys": [
            {"kty": "RSA", "use": "sig", "kid": "s"},
            {"kty": "RSA", "use": "enc", "kid": "e"},
            {"kty": "RSA", "kid": "any"},
            {"kty": "EC", "kid": "ec"},
        ]});
        let kids = |u| -> Vec<String> {
            rsa_keys(&jwks, u)
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(kids(KeyUse::Sig), ["s", "any"]);
        assert_eq!(kids(KeyUse::Enc), ["e", "any"]);
        assert!(rsa_keys(&json!({}), KeyUse::Sig).is_err());
        let e = rsa_public(&json!({"kty": "RSA", "n": "AQAB"}))
            .err()
            .unwrap();
        assert!(e.contains("\"e\""), "{e}");
    }
}
