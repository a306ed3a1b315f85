//! The forge variants: a name, what an RP must do with it, the weakness it probes (CWE) and
//! public vulnerabilities of that kind (CVE, where one is known). Presets are forge specs
//! (`{"preset": NAME}`); the other rows name the control call or fault that makes them.

use proto::oidc_forge::ForgeSpec;

pub use proto::oidc_forge::{Expect, VariantInfo};

/// How a variant is made.
#[derive(Debug, Clone, Copy)]
pub enum Make {
    /// A forge spec, as JSON text (checked by a test).
    Preset(&'static str),
    /// Anything else: a fault or control call, described.
    Call(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    /// `id_token`, `token_response`, `userinfo`, `authorization`, `jwks`, `logout`.
    pub target: &'static str,
    pub expect: Expect,
    pub cwe: &'static str,
    pub cve: &'static [&'static str],
    pub description: &'static str,
    pub make: Make,
}

const NONE_CVES: &[&str] = &["CVE-2015-2951", "CVE-2020-15957", "CVE-2022-23540"];
const CONFUSION_CVES: &[&str] = &["CVE-2015-9235", "CVE-2016-5431", "CVE-2016-10555"];

macro_rules! v {
    ($name:literal, $target:literal, $expect:ident, $cwe:literal, $cve:expr, $desc:literal, $make:expr) => {
        Variant {
            name: $name,
            target: $target,
            expect: Expect::$expect,
            cwe: $cwe,
            cve: $cve,
            description: $desc,
            make: $make,
        }
    };
}

use Make::{Call, Preset};

pub const VARIANTS: &[Variant] = &[
    // ID token header and signature
    v!(
        "alg_none",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg none, empty signature",
        Preset(r#"{"header": {"alg": "none"}, "key": "none"}"#)
    ),
    v!(
        "alg_none_capitalised",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg None, empty signature",
        Preset(r#"{"header": {"alg": "None"}, "key": "none"}"#)
    ),
    v!(
        "alg_none_upper",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg NONE, empty signature",
        Preset(r#"{"header": {"alg": "NONE"}, "key": "none"}"#)
    ),
    v!(
        "alg_none_mixed_case",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg nOnE, empty signature",
        Preset(r#"{"header": {"alg": "nOnE"}, "key": "none"}"#)
    ),
    v!(
        "alg_none_garbage_signature",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg none with random signature bytes",
        Preset(r#"{"header": {"alg": "none"}, "key": "none", "signature": "garbage"}"#)
    ),
    v!(
        "alg_none_no_signature_segment",
        "id_token",
        Reject,
        "CWE-347",
        NONE_CVES,
        "alg none and only two segments",
        Preset(r#"{"header": {"alg": "none"}, "key": "none", "signature": "absent"}"#)
    ),
    v!(
        "rs256_empty_signature",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2020-28042", "CVE-2021-29451"],
        "RS256 header, empty signature",
        Preset(r#"{"header": {"alg": "RS256"}, "signature": "empty"}"#)
    ),
    v!(
        "rs256_flipped_signature",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "RS256 by the OP's key, one signature bit flipped",
        Preset(r#"{"signature": "flipped"}"#)
    ),
    v!(
        "rs256_alg_lowercase",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "alg rs256 (JOSE names are case-sensitive), signed RS256 by the OP's key",
        Preset(r#"{"header": {"alg": "rs256"}}"#)
    ),
    v!(
        "ps256_op_key",
        "id_token",
        Either,
        "CWE-347",
        &[],
        "PS256 by an RSA key the OP publishes (JWKS alg PS256): accept only if PS256 is allowed",
        Preset(r#"{"header": {"alg": "PS256"}, "key": "op"}"#)
    ),
    v!(
        "ps256_attacker_key",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "PS256 by an attacker's RSA key",
        Preset(r#"{"header": {"alg": "PS256"}, "key": "attacker"}"#)
    ),
    v!(
        "es256_op_key",
        "id_token",
        Either,
        "CWE-347",
        &[],
        "ES256 by a P-256 key the OP publishes: accept only if ES256 is allowed",
        Preset(r#"{"header": {"alg": "ES256"}, "key": "op"}"#)
    ),
    v!(
        "es256_attacker_key",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "ES256 by an attacker's P-256 key",
        Preset(r#"{"header": {"alg": "ES256"}, "key": "attacker"}"#)
    ),
    v!(
        "es256_psychic_signature",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2022-21449"],
        "ES256 with r = s = 0 under the OP's published P-256 kid",
        Preset(r#"{"header": {"alg": "ES256"}, "key": "op", "signature": "zero"}"#)
    ),
    v!(
        "eddsa_op_key",
        "id_token",
        Either,
        "CWE-347",
        &[],
        "EdDSA by an Ed25519 key the OP publishes: accept only if EdDSA is allowed",
        Preset(r#"{"header": {"alg": "EdDSA"}, "key": "op"}"#)
    ),
    v!(
        "eddsa_attacker_key",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "EdDSA by an attacker's Ed25519 key",
        Preset(r#"{"header": {"alg": "EdDSA"}, "key": "attacker"}"#)
    ),
    v!(
        "hs256_op_public_pem",
        "id_token",
        Reject,
        "CWE-347",
        CONFUSION_CVES,
        "HS256 keyed with the OP's RSA public key as SPKI PEM",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "op_public_as_hmac_pem"}"#)
    ),
    v!(
        "hs256_op_public_pkcs1_pem",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2017-11424"],
        "HS256 keyed with the OP's RSA public key as PKCS#1 PEM",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "op_public_as_hmac_pkcs1_pem"}"#)
    ),
    v!(
        "hs256_op_public_der",
        "id_token",
        Reject,
        "CWE-347",
        CONFUSION_CVES,
        "HS256 keyed with the OP's RSA public key as SPKI DER",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "op_public_as_hmac_der"}"#)
    ),
    v!(
        "hs256_op_public_pkcs1_der",
        "id_token",
        Reject,
        "CWE-347",
        CONFUSION_CVES,
        "HS256 keyed with the OP's RSA public key as PKCS#1 DER",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "op_public_as_hmac_pkcs1_der"}"#)
    ),
    v!(
        "hs256_op_public_jwk",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2022-29217"],
        "HS256 keyed with the OP's JWK JSON text as the JWKS serves it",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "op_public_as_hmac_jwk"}"#)
    ),
    v!(
        "hs256_client_secret",
        "id_token",
        Either,
        "CWE-347",
        &[],
        "HS256 keyed with the client secret: reject unless the client registered HS256",
        Preset(r#"{"header": {"alg": "HS256"}, "key": "client_secret"}"#)
    ),
    v!(
        "attacker_key_op_kid",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "RS256 by an attacker's key under the OP's current kid (fault id_token_attacker_key)",
        Preset(r#"{"key": "attacker", "header": {"kid": "{op_kid}"}}"#)
    ),
    v!(
        "attacker_key_own_kid",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "RS256 by an attacker's key under its own kid, which no JWKS lists",
        Preset(r#"{"key": "attacker"}"#)
    ),
    v!(
        "kid_absent",
        "id_token",
        Either,
        "CWE-347",
        &[],
        "RS256 by the OP's key, no kid although the JWKS has several keys (OIDC Core 10.1)",
        Preset(r#"{"header": {"kid": null}}"#)
    ),
    v!(
        "kid_unknown",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "RS256 by the OP's key, a kid the JWKS does not list",
        Preset(r#"{"header": {"kid": "mock-idp-unknown-kid"}}"#)
    ),
    v!(
        "kid_path_traversal",
        "id_token",
        Reject,
        "CWE-22",
        &[],
        "kid ../../../../dev/null with HS256 keyed with the empty string (what /dev/null reads)",
        Preset(
            r#"{"header": {"alg": "HS256", "kid": "../../../../dev/null"}, "key": "empty_secret"}"#
        )
    ),
    v!(
        "kid_sql_injection",
        "id_token",
        Reject,
        "CWE-89",
        &[],
        "kid ' OR '1'='1, signed by an attacker's key",
        Preset(r#"{"header": {"kid": "' OR '1'='1"}, "key": "attacker"}"#)
    ),
    v!(
        "kid_url",
        "id_token",
        Reject,
        "CWE-918",
        &[],
        "kid is a URL (the canary key URL), signed by an attacker's key",
        Preset(r#"{"header": {"kid": "{canary_x5u}"}, "key": "attacker"}"#)
    ),
    v!(
        "jwk_header_attacker",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2018-0114"],
        "attacker-signed, the attacker's public key embedded as jwk",
        Preset(r#"{"header": {"jwk": true}, "key": "attacker"}"#)
    ),
    v!(
        "jwk_header_oct",
        "id_token",
        Reject,
        "CWE-347",
        &["CVE-2018-0114"],
        "HS256 keyed with the attacker's own secret, shipped in the header as an oct jwk",
        Preset(r#"{"header": {"alg": "HS256", "jwk": true}, "key": "attacker_secret"}"#)
    ),
    v!(
        "jku_header_attacker",
        "id_token",
        Reject,
        "CWE-918",
        &[],
        "attacker-signed, jku points at the canary URL (attacker's JWKS)",
        Preset(r#"{"header": {"jku": true}, "key": "attacker"}"#)
    ),
    v!(
        "x5u_header_attacker",
        "id_token",
        Reject,
        "CWE-918",
        &[],
        "attacker-signed, x5u points at the canary URL (attacker's certificate)",
        Preset(r#"{"header": {"x5u": true}, "key": "attacker"}"#)
    ),
    v!(
        "x5c_header_attacker",
        "id_token",
        Reject,
        "CWE-295",
        &[],
        "attacker-signed, the attacker's self-signed certificate in x5c",
        Preset(r#"{"header": {"x5c": true}, "key": "attacker"}"#)
    ),
    v!(
        "crit_unknown_extension",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "RS256 by the OP's key with crit naming an extension no one understands (RFC 7515 4.1.11)",
        Preset(r#"{"header": {"crit": ["urn:mock-idp:unknown-extension"]}}"#)
    ),
    v!(
        "id_token_attacker_key",
        "id_token",
        Reject,
        "CWE-347",
        &[],
        "fault: RS256 by an attacker's key under the OP's kid",
        Call("faults: [\"id_token_attacker_key\"] (same token as preset attacker_key_op_kid)")
    ),
    // ID token claims
    v!(
        "iss_other",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "iss is another issuer",
        Preset(r#"{"claims": [{"op": "issuer", "variant": "other"}]}"#)
    ),
    v!(
        "iss_trailing_slash",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "iss with the trailing slash added or removed",
        Preset(r#"{"claims": [{"op": "issuer", "variant": "trailing_slash"}]}"#)
    ),
    v!(
        "iss_scheme",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "iss with http and https swapped",
        Preset(r#"{"claims": [{"op": "issuer", "variant": "scheme"}]}"#)
    ),
    v!(
        "iss_missing",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "no iss",
        Preset(r#"{"claims": [{"op": "remove", "name": "iss"}]}"#)
    ),
    v!(
        "sub_missing",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "no sub",
        Preset(r#"{"claims": [{"op": "remove", "name": "sub"}]}"#)
    ),
    v!(
        "sub_duplicate",
        "id_token",
        Reject,
        "CWE-436",
        &[],
        "sub twice in the payload text, the forged one last",
        Preset(r#"{"claims": [{"op": "duplicate", "name": "sub"}]}"#)
    ),
    v!(
        "sub_wrong_type",
        "id_token",
        Reject,
        "CWE-20",
        &[],
        "sub as an array",
        Preset(r#"{"claims": [{"op": "wrong_type", "name": "sub"}]}"#)
    ),
    v!(
        "aud_other",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "aud is another client",
        Preset(
            r#"{"claims": [{"op": "set", "name": "aud", "value": "another-client.mock-idp.test"}]}"#
        )
    ),
    v!(
        "aud_array_without_azp",
        "id_token",
        Either,
        "CWE-287",
        &[],
        "aud [client, other], no azp: reject unless the other audience is trusted",
        Preset(
            r#"{"claims": [{"op": "audience", "form": "array", "extra": ["another-client.mock-idp.test"]}, {"op": "remove", "name": "azp"}]}"#
        )
    ),
    v!(
        "aud_array_with_azp",
        "id_token",
        Either,
        "CWE-287",
        &[],
        "aud [client, other] with azp = client (OIDC Core 3.1.3.7 items 3-5)",
        Preset(
            r#"{"claims": [{"op": "audience", "form": "array", "extra": ["another-client.mock-idp.test"]}, {"op": "azp"}]}"#
        )
    ),
    v!(
        "aud_array_single",
        "id_token",
        Accept,
        "CWE-20",
        &[],
        "aud [client]: an array of one is valid",
        Preset(r#"{"claims": [{"op": "audience", "form": "array"}]}"#)
    ),
    v!(
        "azp_other",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "azp names another client",
        Preset(r#"{"claims": [{"op": "azp", "value": "another-client.mock-idp.test"}]}"#)
    ),
    v!(
        "aud_duplicate",
        "id_token",
        Reject,
        "CWE-436",
        &[],
        "aud twice in the payload text",
        Preset(
            r#"{"claims": [{"op": "duplicate", "name": "aud", "value": "another-client.mock-idp.test"}]}"#
        )
    ),
    v!(
        "exp_past",
        "id_token",
        Reject,
        "CWE-613",
        &[],
        "exp 10 minutes ago",
        Preset(r#"{"claims": [{"op": "relative_time", "name": "exp", "seconds": -600}]}"#)
    ),
    v!(
        "exp_far_future",
        "id_token",
        Either,
        "CWE-613",
        &[],
        "exp in ten years",
        Preset(r#"{"claims": [{"op": "relative_time", "name": "exp", "seconds": 315360000}]}"#)
    ),
    v!(
        "exp_missing",
        "id_token",
        Reject,
        "CWE-613",
        &[],
        "no exp",
        Preset(r#"{"claims": [{"op": "remove", "name": "exp"}]}"#)
    ),
    v!(
        "exp_string",
        "id_token",
        Reject,
        "CWE-20",
        &[],
        "exp as a string",
        Preset(r#"{"claims": [{"op": "wrong_type", "name": "exp"}]}"#)
    ),
    v!(
        "iat_future",
        "id_token",
        Reject,
        "CWE-20",
        &[],
        "iat one hour ahead",
        Preset(r#"{"claims": [{"op": "relative_time", "name": "iat", "seconds": 3600}]}"#)
    ),
    v!(
        "iat_far_past",
        "id_token",
        Either,
        "CWE-613",
        &[],
        "iat ten years ago (exp still ahead)",
        Preset(r#"{"claims": [{"op": "relative_time", "name": "iat", "seconds": -315360000}]}"#)
    ),
    v!(
        "nbf_future",
        "id_token",
        Reject,
        "CWE-20",
        &[],
        "nbf one hour ahead",
        Preset(r#"{"claims": [{"op": "relative_time", "name": "nbf", "seconds": 3600}]}"#)
    ),
    v!(
        "nonce_missing",
        "id_token",
        Reject,
        "CWE-294",
        &[],
        "no nonce although the request sent one",
        Preset(r#"{"claims": [{"op": "remove", "name": "nonce"}]}"#)
    ),
    v!(
        "nonce_other",
        "id_token",
        Reject,
        "CWE-294",
        &[],
        "a nonce that was never sent",
        Preset(
            r#"{"claims": [{"op": "set", "name": "nonce", "value": "nonce-that-was-never-sent"}]}"#
        )
    ),
    v!(
        "at_hash_wrong",
        "id_token",
        Reject,
        "CWE-345",
        &[],
        "at_hash of another access token",
        Preset(r#"{"claims": [{"op": "hash", "name": "at_hash", "correct": false}]}"#)
    ),
    v!(
        "at_hash_correct",
        "id_token",
        Accept,
        "CWE-345",
        &[],
        "at_hash of the access token",
        Preset(r#"{"claims": [{"op": "hash", "name": "at_hash"}]}"#)
    ),
    v!(
        "c_hash_wrong",
        "id_token",
        Either,
        "CWE-345",
        &[],
        "c_hash of another code (code flow: c_hash is optional, but a wrong one should fail)",
        Preset(r#"{"claims": [{"op": "hash", "name": "c_hash", "correct": false}]}"#)
    ),
    v!(
        "auth_time_far_past",
        "id_token",
        Either,
        "CWE-613",
        &[],
        "auth_time ten years ago: reject when max_age was sent",
        Preset(
            r#"{"claims": [{"op": "relative_time", "name": "auth_time", "seconds": -315360000}]}"#
        )
    ),
    v!(
        "acr_unexpected",
        "id_token",
        Either,
        "CWE-287",
        &[],
        "acr 0 (no assurance): reject when acr_values asked for more",
        Preset(r#"{"claims": [{"op": "set", "name": "acr", "value": "0"}]}"#)
    ),
    v!(
        "email_unverified",
        "id_token",
        Reject,
        "CWE-287",
        &[],
        "email_verified false (set email too to choose the address)",
        Preset(
            r#"{"claims": [{"op": "set", "name": "email_verified", "value": false}], "userinfo": [{"op": "set", "name": "email_verified", "value": false}]}"#
        )
    ),
    v!(
        "email_verified_string",
        "id_token",
        Reject,
        "CWE-20",
        &[],
        "email_verified as the string \"true\"",
        Preset(r#"{"claims": [{"op": "wrong_type", "name": "email_verified"}]}"#)
    ),
    // token response
    v!(
        "token_type_lowercase",
        "token_response",
        Accept,
        "CWE-20",
        &[],
        "token_type bearer (case-insensitive, RFC 6749 5.1)",
        Preset(r#"{"token_response": [{"op": "set", "name": "token_type", "value": "bearer"}]}"#)
    ),
    v!(
        "token_type_mac",
        "token_response",
        Reject,
        "CWE-20",
        &[],
        "token_type mac",
        Preset(r#"{"token_response": [{"op": "set", "name": "token_type", "value": "mac"}]}"#)
    ),
    v!(
        "token_type_missing",
        "token_response",
        Reject,
        "CWE-20",
        &[],
        "no token_type",
        Preset(r#"{"token_response": [{"op": "remove", "name": "token_type"}]}"#)
    ),
    v!(
        "id_token_missing",
        "token_response",
        Reject,
        "CWE-287",
        &[],
        "no id_token in the token response",
        Preset(r#"{"token_response": [{"op": "remove", "name": "id_token"}]}"#)
    ),
    v!(
        "expires_in_string",
        "token_response",
        Either,
        "CWE-20",
        &[],
        "expires_in as a string",
        Preset(r#"{"token_response": [{"op": "wrong_type", "name": "expires_in"}]}"#)
    ),
    v!(
        "token_error_invalid_grant",
        "token_response",
        Reject,
        "CWE-755",
        &[],
        "400 {\"error\": \"invalid_grant\"}",
        Preset(r#"{"token_error": {"status": 400, "error": "invalid_grant"}}"#)
    ),
    v!(
        "token_error_server_error",
        "token_response",
        Reject,
        "CWE-755",
        &[],
        "500 {\"error\": \"server_error\"}",
        Preset(r#"{"token_error": {"status": 500, "error": "server_error"}}"#)
    ),
    // userinfo
    v!(
        "userinfo_sub_other",
        "userinfo",
        Reject,
        "CWE-287",
        &[],
        "userinfo sub differs from the ID token's (OIDC Core 5.3.2)",
        Preset(r#"{"userinfo": [{"op": "set", "name": "sub", "value": "someone-else"}]}"#)
    ),
    v!(
        "userinfo_signed",
        "userinfo",
        Accept,
        "CWE-347",
        &[],
        "userinfo as an RS256 JWT by the OP (iss and aud added)",
        Preset(r#"{"userinfo_jwt": {}}"#)
    ),
    v!(
        "userinfo_signed_alg_none",
        "userinfo",
        Reject,
        "CWE-347",
        NONE_CVES,
        "userinfo JWT with alg none",
        Preset(r#"{"userinfo_jwt": {"header": {"alg": "none"}, "key": "none"}}"#)
    ),
    v!(
        "userinfo_signed_attacker",
        "userinfo",
        Reject,
        "CWE-347",
        &[],
        "userinfo JWT signed by an attacker's key",
        Preset(r#"{"userinfo_jwt": {"key": "attacker"}}"#)
    ),
    v!(
        "userinfo_email_unverified",
        "userinfo",
        Reject,
        "CWE-287",
        &[],
        "userinfo email_verified false",
        Preset(r#"{"userinfo": [{"op": "set", "name": "email_verified", "value": false}]}"#)
    ),
    // authorization response and codes
    v!(
        "iss_param_correct",
        "authorization",
        Accept,
        "CWE-346",
        &[],
        "RFC 9207 iss parameter with the right issuer",
        Preset(r#"{"authorization_iss": "correct"}"#)
    ),
    v!(
        "iss_param_wrong",
        "authorization",
        Reject,
        "CWE-346",
        &[],
        "RFC 9207 iss parameter naming another issuer (mix-up)",
        Preset(r#"{"authorization_iss": "wrong"}"#)
    ),
    v!(
        "iss_param_absent",
        "authorization",
        Either,
        "CWE-346",
        &[],
        "no iss parameter: reject when the OP advertises authorization_response_iss_parameter_supported",
        Preset(r#"{"authorization_iss": "absent"}"#)
    ),
    v!(
        "code_reuse_allowed",
        "authorization",
        Accept,
        "CWE-294",
        &[],
        "the OP lets the code be redeemed twice (an RP must not redeem twice)",
        Preset(r#"{"allow_code_reuse": true}"#)
    ),
    // provider keys
    v!(
        "jwks_rotation",
        "jwks",
        Accept,
        "CWE-324",
        &[],
        "new signing key; the old one kept or removed",
        Call(
            "POST /_control/tenants/{id}/oidc/rotate {\"old\": \"keep\"|\"remove\", \"new\": \"next\"|\"fresh\"}"
        )
    ),
    v!(
        "jwks_kid_collision",
        "jwks",
        Either,
        "CWE-347",
        &[],
        "two keys with the OP's kid, the wrong one first",
        Call("PUT /_control/tenants/{id}/oidc/provider {\"jwks_kid_collision\": true}")
    ),
    v!(
        "jwks_500",
        "jwks",
        Reject,
        "CWE-755",
        &[],
        "the JWKS answers 500: sign-in fails closed",
        Call("PUT /_control/tenants/{id}/oidc/provider {\"jwks_status\": 500}")
    ),
    v!(
        "jwks_unreachable",
        "jwks",
        Reject,
        "CWE-755",
        &[],
        "the JWKS connection is cut without an answer: sign-in fails closed",
        Call("PUT /_control/tenants/{id}/oidc/provider {\"jwks_unreachable\": true}")
    ),
    // back-channel logout
    v!(
        "logout_valid",
        "logout",
        Accept,
        "CWE-613",
        &[],
        "a valid logout token",
        Call("POST /_control/tenants/{id}/oidc/backchannel-logout {\"variant\": \"valid\"}")
    ),
    v!(
        "logout_alg_none",
        "logout",
        Reject,
        "CWE-347",
        NONE_CVES,
        "logout token with alg none",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"alg_none\"}")
    ),
    v!(
        "logout_wrong_alg",
        "logout",
        Reject,
        "CWE-347",
        CONFUSION_CVES,
        "logout token HS256-signed with the OP's public key",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"wrong_alg\"}")
    ),
    v!(
        "logout_no_events",
        "logout",
        Reject,
        "CWE-20",
        &[],
        "logout token without events",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"no_events\"}")
    ),
    v!(
        "logout_wrong_events",
        "logout",
        Reject,
        "CWE-20",
        &[],
        "events without the back-channel logout member",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"wrong_events\"}")
    ),
    v!(
        "logout_with_nonce",
        "logout",
        Reject,
        "CWE-20",
        &[],
        "logout token with a nonce (prohibited)",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"with_nonce\"}")
    ),
    v!(
        "logout_wrong_aud",
        "logout",
        Reject,
        "CWE-287",
        &[],
        "logout token for another client",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"wrong_aud\"}")
    ),
    v!(
        "logout_wrong_iss",
        "logout",
        Reject,
        "CWE-287",
        &[],
        "logout token from another issuer",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"wrong_iss\"}")
    ),
    v!(
        "logout_attacker_key",
        "logout",
        Reject,
        "CWE-347",
        &[],
        "logout token RS256-signed by an attacker's key under the OP's kid",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"attacker_key\"}")
    ),
    v!(
        "logout_no_sub_or_sid",
        "logout",
        Reject,
        "CWE-20",
        &[],
        "logout token with neither sub nor sid",
        Call("POST .../oidc/backchannel-logout {\"variant\": \"no_sub_or_sid\"}")
    ),
];

/// The forge spec of a preset. Placeholders (`{op_kid}`, `{canary_x5u}`) stay in the text
/// and are filled when the token is made.
pub fn preset(name: &str) -> Option<ForgeSpec> {
    VARIANTS
        .iter()
        .find(|v| v.name == name)
        .and_then(|v| match v.make {
            Make::Preset(json) => serde_json::from_str(json).ok(),
            Make::Call(_) => None,
        })
}

/// Every row as `GET /_control/oidc/forge/catalogue` answers it.
pub fn infos() -> Vec<VariantInfo> {
    VARIANTS
        .iter()
        .map(|v| VariantInfo {
            name: v.name.into(),
            target: v.target.into(),
            expect: v.expect,
            cwe: v.cwe.into(),
            cve: v.cve.iter().map(|c| c.to_string()).collect(),
            description: v.description.into(),
            spec: match v.make {
                Make::Preset(json) => serde_json::from_str(json).ok(),
                Make::Call(_) => None,
            },
            how: match v.make {
                Make::Call(how) => Some(how.into()),
                Make::Preset(_) => None,
            },
        })
        .collect()
}

/// One line per variant, as `mock-idp oidc-forge --list` prints it.
pub fn listing() -> String {
    let width = VARIANTS.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for v in VARIANTS {
        let expect = match v.expect {
            Expect::Reject => "reject",
            Expect::Accept => "accept",
            Expect::Either => "either",
        };
        let cve = if v.cve.is_empty() {
            String::new()
        } else {
            format!(" [{}]", v.cve.join(", "))
        };
        out.push_str(&format!(
            "{:<width$}  {:<14}  {:<6}  {:<8}  {}{}\n",
            v.name, v.target, expect, v.cwe, v.description, cve
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::forge::spec::Forge as _;

    #[test]
    fn every_preset_parses_and_validates() {
        let mut names = std::collections::HashSet::new();
        for v in VARIANTS {
            assert!(names.insert(v.name), "duplicate name {}", v.name);
            assert!(v.cwe.starts_with("CWE-"), "{}", v.name);
            for c in v.cve {
                assert!(c.starts_with("CVE-"), "{}: {c}", v.name);
            }
            if let Make::Preset(json) = v.make {
                let spec: ForgeSpec = crate::control::from_json(json.as_bytes())
                    .unwrap_or_else(|e| panic!("{}: {e}", v.name));
                spec.validate("")
                    .unwrap_or_else(|e| panic!("{}: {e}", v.name));
                assert_ne!(spec, ForgeSpec::default(), "{} does nothing", v.name);
                assert_eq!(preset(v.name), Some(spec));
                let by_name = ForgeSpec {
                    preset: Some(v.name.to_string()),
                    ..Default::default()
                };
                by_name.validate("").unwrap();
            } else {
                assert!(preset(v.name).is_none());
            }
        }
        assert!(listing().lines().count() == VARIANTS.len());
        assert!(listing().contains("CVE-2022-21449"));
    }
}
