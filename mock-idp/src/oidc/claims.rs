//! ID token and userinfo claims, built from the shared user directory and then bent by the
//! claim faults.

use serde::Serialize;
use serde_json::{Map, Value};

/// How long a genuine ID token lives.
pub const ID_TOKEN_SECONDS: i64 = 300;

/// The person being signed in, as the user directory knows them.
#[derive(Debug, Clone)]
pub struct Person<'a> {
    /// Stable per user; never the email, so it survives an email change.
    pub sub: &'a str,
    pub email: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub groups: &'a [String],
    /// Per-user extra claims; a key that names a standard claim replaces it.
    pub extra: &'a Map<String, Value>,
}

/// Claims that only a scope value releases (OpenID Connect Core 1.0, 5.4), by scope: a user's
/// phone number or address goes to an RP that asked for `phone` or `address`, never unasked.
pub const SCOPED: &[(&str, &[&str])] = &[
    ("phone", &["phone_number", "phone_number_verified"]),
    ("address", &["address"]),
];

/// The user's extra claims a sign-in granted `scopes` may see.
pub fn released(extra: &Map<String, Value>, scopes: &[String]) -> Map<String, Value> {
    extra
        .iter()
        .filter(|(k, _)| {
            SCOPED.iter().all(|(scope, claims)| {
                !claims.contains(&k.as_str()) || scopes.iter().any(|s| s == scope)
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Faults that change the claims (the signature faults live in `jwt::Forgery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimFault {
    WrongIssuer,
    /// Entra's v1 `https://sts.windows.net/<guid>/` issuer instead of the v2.0 one.
    EntraV1Issuer,
    WrongAudience,
    MultipleAudiencesWithoutAzp,
    Expired,
    IssuedInTheFuture,
    NonceMismatch,
    NonceMissing,
    MissingSub,
    MissingEmail,
    MissingGivenName,
    MissingFamilyName,
    EmailNotVerified,
}

/// What the token is for and when it is made.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub issuer: &'a str,
    /// Issuer for `EntraV1Issuer`; `None` outside the Entra profile, where the fault falls
    /// back to a plain wrong issuer.
    pub v1_issuer: Option<&'a str>,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    /// Unix seconds by the tenant's clock.
    pub now: i64,
    pub auth_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Serialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(flatten)]
    profile: ProfileClaims,
}

#[derive(Debug, Serialize)]
struct ProfileClaims {
    email: String,
    email_verified: bool,
    name: String,
    given_name: String,
    family_name: String,
    groups: Vec<String>,
}

impl ProfileClaims {
    fn of(person: &Person<'_>, faults: &[ClaimFault]) -> Self {
        let name = [person.given_name, person.family_name]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            email: person.email.to_string(),
            email_verified: !faults.contains(&ClaimFault::EmailNotVerified),
            name,
            given_name: person.given_name.to_string(),
            family_name: person.family_name.to_string(),
            groups: person.groups.to_vec(),
        }
    }
}

/// Turns typed claims into the final JSON object: per-user extras merged over the standard
/// claims, then the claims the faults remove taken out (last, so an extra cannot undo a fault).
fn finish(
    claims: impl Serialize,
    person: &Person<'_>,
    faults: &[ClaimFault],
) -> Result<Map<String, Value>, serde_json::Error> {
    let mut map = match serde_json::to_value(claims)? {
        Value::Object(map) => map,
        // Both claim structs are plain structs, so this is unreachable; an empty object is the
        // honest answer rather than a panic.
        _ => Map::new(),
    };
    for (k, v) in person.extra {
        map.insert(k.clone(), v.clone());
    }
    for fault in faults {
        let removed = match fault {
            ClaimFault::MissingSub => "sub",
            ClaimFault::MissingEmail => "email",
            ClaimFault::MissingGivenName => "given_name",
            ClaimFault::MissingFamilyName => "family_name",
            _ => continue,
        };
        map.remove(removed);
    }
    Ok(map)
}

/// The ID token claims for `person`.
pub fn id_token(
    person: &Person<'_>,
    ctx: &Context<'_>,
    faults: &[ClaimFault],
) -> Result<Map<String, Value>, serde_json::Error> {
    let has = |f: ClaimFault| faults.contains(&f);
    let iss = if has(ClaimFault::EntraV1Issuer) {
        ctx.v1_issuer
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}-not-this-one", ctx.issuer))
    } else if has(ClaimFault::WrongIssuer) {
        "https://wrong-issuer.mock-idp.test/".to_string()
    } else {
        ctx.issuer.to_string()
    };
    let aud = if has(ClaimFault::WrongAudience) {
        Audience::One(format!("not-{}", ctx.client_id))
    } else if has(ClaimFault::MultipleAudiencesWithoutAzp) {
        Audience::Many(vec![
            ctx.client_id.to_string(),
            "another-client.mock-idp.test".to_string(),
        ])
    } else {
        Audience::One(ctx.client_id.to_string())
    };
    // Saturating: `now` is the tenant clock, which may sit far from real time.
    let now = ctx.now;
    let (iat, exp) = if has(ClaimFault::Expired) {
        (now.saturating_sub(900), now.saturating_sub(600))
    } else if has(ClaimFault::IssuedInTheFuture) {
        let iat = now.saturating_add(3600);
        (iat, iat.saturating_add(ID_TOKEN_SECONDS))
    } else {
        (now, now.saturating_add(ID_TOKEN_SECONDS))
    };
    let nonce = if has(ClaimFault::NonceMissing) {
        None
    } else if has(ClaimFault::NonceMismatch) {
        Some("nonce-that-was-never-sent".to_string())
    } else {
        ctx.nonce.map(str::to_string)
    };
    let claims = IdTokenClaims {
        iss,
        sub: person.sub.to_string(),
        aud,
        exp,
        iat,
        auth_time: ctx.auth_time,
        nonce,
        profile: ProfileClaims::of(person, faults),
    };
    finish(claims, person, faults)
}

#[derive(Debug, Serialize)]
struct UserinfoClaims {
    sub: String,
    #[serde(flatten)]
    profile: ProfileClaims,
}

/// The userinfo answer for `person`. `sub_mismatch` gives another subject than the ID token's,
/// which an RP must refuse (OIDC Core 5.3.2).
pub fn userinfo(
    person: &Person<'_>,
    faults: &[ClaimFault],
    sub_mismatch: bool,
) -> Result<Map<String, Value>, serde_json::Error> {
    let sub = if sub_mismatch {
        format!("{}-someone-else", person.sub)
    } else {
        person.sub.to_string()
    };
    let claims = UserinfoClaims {
        sub,
        profile: ProfileClaims::of(person, faults),
    };
    let mut map = finish(claims, person, faults)?;
    if sub_mismatch {
        // An extra must not put the real subject back.
        map.insert(
            "sub".into(),
            Value::String(format!("{}-someone-else", person.sub)),
        );
    }
    Ok(map)
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn phone_and_address_need_their_scope() {
        let extra: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "phone_number": "+1 555 0100", "phone_number_verified": true,
            "address": {"formatted": "1 Harbour Street"}, "locale": "en"
        }))
        .unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let none = released(&extra, &s(&["openid", "email"]));
        assert_eq!(none.keys().collect::<Vec<_>>(), ["locale"]);
        let phone = released(&extra, &s(&["openid", "phone"]));
        assert!(phone.contains_key("phone_number") && !phone.contains_key("address"));
        assert_eq!(
            released(&extra, &s(&["openid", "phone", "address"])).len(),
            4
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_person<T>(extra: Map<String, Value>, f: impl FnOnce(&Person<'_>) -> T) -> T {
        let groups = vec!["chatgpt".to_string()];
        let p = Person {
            sub: "u-123",
            email: "alice@acme.test",
            given_name: "Alice",
            family_name: "Ng",
            groups: &groups,
            extra: &extra,
        };
        f(&p)
    }

    fn ctx() -> Context<'static> {
        Context {
            issuer: "http://h/t/a",
            v1_issuer: None,
            client_id: "c1",
            nonce: Some("n1"),
            now: 1_000_000,
            auth_time: 999_990,
        }
    }

    #[test]
    fn genuine_claims_carry_the_directory_values() {
        let c = with_person(Map::new(), |p| id_token(p, &ctx(), &[]).unwrap());
        assert_eq!(c["iss"], "http://h/t/a");
        assert_eq!(c["sub"], "u-123");
        assert_eq!(c["aud"], "c1");
        assert_eq!(c["nonce"], "n1");
        assert_eq!(c["exp"], 1_000_000 + ID_TOKEN_SECONDS);
        assert_eq!(c["email"], "alice@acme.test");
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["name"], "Alice Ng");
        assert_eq!(c["groups"], json!(["chatgpt"]));
    }

    #[test]
    fn extras_add_and_override() {
        let mut extra = Map::new();
        extra.insert("locale".into(), json!("en"));
        extra.insert("name".into(), json!("Dr. Alice"));
        let c = with_person(extra, |p| id_token(p, &ctx(), &[]).unwrap());
        assert_eq!(c["locale"], "en");
        assert_eq!(c["name"], "Dr. Alice");
    }

    #[test]
    fn each_claim_fault_changes_what_it_names() {
        let run = |f: ClaimFault| with_person(Map::new(), |p| id_token(p, &ctx(), &[f]).unwrap());
        assert_ne!(run(ClaimFault::WrongIssuer)["iss"], "http://h/t/a");
        assert_ne!(run(ClaimFault::EntraV1Issuer)["iss"], "http://h/t/a");
        assert_eq!(run(ClaimFault::WrongAudience)["aud"], "not-c1");
        let multi = run(ClaimFault::MultipleAudiencesWithoutAzp);
        assert_eq!(multi["aud"].as_array().unwrap().len(), 2);
        assert!(multi.get("azp").is_none());
        assert!(run(ClaimFault::Expired)["exp"].as_i64().unwrap() < 1_000_000);
        assert!(run(ClaimFault::IssuedInTheFuture)["iat"].as_i64().unwrap() > 1_000_000);
        assert_ne!(run(ClaimFault::NonceMismatch)["nonce"], "n1");
        assert!(run(ClaimFault::NonceMissing).get("nonce").is_none());
        assert!(run(ClaimFault::MissingSub).get("sub").is_none());
        assert!(run(ClaimFault::MissingEmail).get("email").is_none());
        assert!(
            run(ClaimFault::MissingGivenName)
                .get("given_name")
                .is_none()
        );
        assert!(
            run(ClaimFault::MissingFamilyName)
                .get("family_name")
                .is_none()
        );
        assert_eq!(run(ClaimFault::EmailNotVerified)["email_verified"], false);
    }

    #[test]
    fn entra_v1_issuer_uses_the_sts_string() {
        let mut c = ctx();
        c.v1_issuer = Some("https://sts.windows.net/g/");
        let claims = with_person(Map::new(), |p| {
            id_token(p, &c, &[ClaimFault::EntraV1Issuer]).unwrap()
        });
        assert_eq!(claims["iss"], "https://sts.windows.net/g/");
    }

    #[test]
    fn userinfo_matches_the_id_token_subject_unless_told_otherwise() {
        let mut extra = Map::new();
        extra.insert("sub".into(), json!("u-123"));
        let (good, bad) = with_person(extra, |p| {
            (
                userinfo(p, &[], false).unwrap(),
                userinfo(p, &[], true).unwrap(),
            )
        });
        assert_eq!(good["sub"], "u-123");
        assert_ne!(bad["sub"], "u-123");
        assert_eq!(good["email"], "alice@acme.test");
    }
}
