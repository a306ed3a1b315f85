//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): on a control call the OP
//! POSTs a logout token, genuine or broken, to the RP's URL and answers what the RP said.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::oidc::layout::Layout;
use crate::tenant::{self, Tenant};

use super::jws::{self, Material};
use super::mutate::{Context, Members};
use super::spec::{ClaimOp, HeaderSpec, JwsForge as _, JwsSpec, KeyChoice};

/// The member of `events` that makes a JWT a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Another event type, for `wrong_events`.
pub const OTHER_EVENT: &str =
    "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked";
/// How long the RP gets to answer.
pub const RP_TIMEOUT_SECONDS: u64 = 10;
/// At most this much of the RP's answer body is returned and logged.
const BODY_LIMIT: usize = 4096;

pub use proto::oidc_forge::{LogoutAnswer, LogoutRequest, LogoutVariant};

/// What the variant does to the genuine token: claim mutations and the JWS.
fn variant_parts(v: LogoutVariant) -> (Vec<ClaimOp>, JwsSpec) {
    let set = |name: &str, value: Value| ClaimOp::Set {
        name: name.into(),
        value,
    };
    let mut jws = JwsSpec {
        header: HeaderSpec {
            // The explicit type the specification recommends for logout tokens.
            typ: Some(Some("logout+jwt".into())),
            ..Default::default()
        },
        ..Default::default()
    };
    let ops = match v {
        LogoutVariant::Valid => vec![],
        LogoutVariant::AlgNone => {
            jws.header.alg = Some("none".into());
            jws.key = Some(KeyChoice::None);
            vec![]
        }
        LogoutVariant::WrongAlg => {
            jws.header.alg = Some("HS256".into());
            jws.key = Some(KeyChoice::OpPublicAsHmacPem);
            vec![]
        }
        LogoutVariant::NoEvents => vec![ClaimOp::Remove {
            name: "events".into(),
        }],
        LogoutVariant::WrongEvents => vec![set("events", json!({ OTHER_EVENT: {} }))],
        LogoutVariant::WithNonce => vec![set("nonce", json!("n-0S6_WzA2Mj"))],
        LogoutVariant::WrongAud => vec![set("aud", json!("another-client.mock-idp.test"))],
        LogoutVariant::WrongIss => vec![set("iss", json!(super::WRONG_ISSUER))],
        LogoutVariant::AttackerKey => {
            jws.key = Some(KeyChoice::Attacker);
            jws.header.kid = Some(Some("{op_kid}".into()));
            vec![]
        }
        LogoutVariant::NoSubOrSid => vec![
            ClaimOp::Remove { name: "sub".into() },
            ClaimOp::Remove { name: "sid".into() },
        ],
    };
    (ops, jws)
}

/// The signed logout token and the facts the call answers with.
struct Prepared {
    token: String,
    claims_text: String,
}

fn prepare(t: &mut Tenant, base: &str, req: &LogoutRequest) -> Result<Prepared> {
    let client = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == req.client_id)
        .cloned()
        .ok_or_else(|| {
            Error::bad_input(
                "client_id",
                format!("no client '{}' is registered at this tenant", req.client_id),
            )
        })?;
    let sub = match (&req.user, &req.sub) {
        (Some(_), Some(_)) => {
            return Err(Error::bad_input("sub", "give user or sub, not both"));
        }
        (Some(email), None) => Some(
            t.user_by_email(email)
                .map(|u| u.uid.clone())
                .ok_or_else(|| Error::bad_input("user", format!("no user '{email}'")))?,
        ),
        (None, sub) => sub.clone(),
    };
    if sub.is_none() && req.sid.is_none() && req.variant != LogoutVariant::NoSubOrSid {
        return Err(Error::bad_input(
            "sub",
            "a logout token names user (or sub) or sid",
        ));
    }
    let layout = crate::oidc::provider::layout_of(t);
    let issuer = Layout::url(base, &layout.issuer);
    let now = crate::oidc::provider::now(t);
    let op = crate::oidc::provider::keys(t).map_err(|e| Error::Config(e.to_string()))?;
    let forge_keys = super::keys_locked(t).map_err(|e| Error::Config(e.to_string()))?;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(req.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 120));
    claims.insert("jti".into(), json!(hex::encode(rand::random::<[u8; 16]>())));
    claims.insert("events".into(), json!({ LOGOUT_EVENT: {} }));
    if let Some(s) = &sub {
        claims.insert("sub".into(), json!(s));
    }
    // No sid asked for: the one the client's ID token for this user carried, if any.
    let remembered = sub
        .as_ref()
        .and_then(|u| t.oidc.sids.get(&(req.client_id.clone(), u.clone())));
    if let Some(s) = req.sid.as_ref().or(remembered) {
        claims.insert("sid".into(), json!(s));
    }
    let (ops, mut spec) = variant_parts(req.variant);
    if let Some(over) = &req.jws {
        spec.overlay(over);
    }
    spec.validate("jws")?;
    let ctx = Context {
        now,
        client_id: &req.client_id,
        issuer: &issuer,
        access_token: None,
        code: None,
    };
    let mut members = Members::from_map(claims);
    members.apply(&ops, &ctx);
    members.apply(&req.claims, &ctx);
    let claims_text = members
        .to_text()
        .map_err(|e| Error::Config(e.to_string()))?;
    let (jku, x5u) = super::default_canaries(base, &t.id);
    let material = Material {
        current: &op.current,
        next: &op.next,
        forge: &forge_keys,
        client_secret: Some(&client.client_secret),
        jku: &jku,
        x5u: &x5u,
    };
    let token = jws::sign(&spec, &claims_text, &material)
        .map_err(|e| Error::Config(format!("logout token: {e}")))?;
    Ok(Prepared { token, claims_text })
}

/// Makes the logout token, POSTs it to the RP and answers
/// `{"status", "body", "error", "variant", "logout_token": {header, claims}}`.
pub async fn send(
    shared: &Arc<Mutex<Tenant>>,
    base: &str,
    req: LogoutRequest,
) -> Result<LogoutAnswer> {
    url::Url::parse(&req.url).map_err(|e| {
        Error::bad_input("url", format!("'{}' is not an absolute URL: {e}", req.url))
    })?;
    for (i, op) in req.claims.iter().enumerate() {
        if op.name().is_empty() {
            return Err(Error::bad_input(
                format!("claims[{i}].name"),
                "must not be empty",
            ));
        }
    }
    let prepared = {
        let mut t = tenant::lock(shared);
        prepare(&mut t, base, &req)?
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(RP_TIMEOUT_SECONDS))
        .build()
        .map_err(|e| Error::Config(format!("http client: {e}")))?;
    let sent = client
        .post(&req.url)
        .form(&[("logout_token", prepared.token.as_str())])
        .send()
        .await;
    let (status, body, error) = match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            let mut end = text.len().min(BODY_LIMIT);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            (Some(status), text[..end].to_string(), None)
        }
        Err(e) => (None, String::new(), Some(e.to_string())),
    };
    let mut decoded = crate::oidc::jwt::decode_for_record(&prepared.token);
    // Duplicate members would hide in a decoded view; the text is what was signed.
    decoded["claims_text"] = json!(prepared.claims_text);
    let answer = LogoutAnswer {
        status,
        body,
        error,
        variant: req.variant,
        logout_token: decoded,
    };
    let mut t = tenant::lock(shared);
    crate::oidc::provider::record(
        &mut t,
        "backchannel_logout",
        "POST",
        &req.url,
        status.unwrap_or(0),
        serde_json::to_value(&answer).unwrap_or(Value::Null),
        &[],
    );
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_makes_a_plan() {
        for v in [
            LogoutVariant::Valid,
            LogoutVariant::AlgNone,
            LogoutVariant::WrongAlg,
            LogoutVariant::NoEvents,
            LogoutVariant::WrongEvents,
            LogoutVariant::WithNonce,
            LogoutVariant::WrongAud,
            LogoutVariant::WrongIss,
            LogoutVariant::AttackerKey,
            LogoutVariant::NoSubOrSid,
        ] {
            let (ops, spec) = variant_parts(v);
            spec.validate("").unwrap();
            assert!(
                v == LogoutVariant::Valid || !ops.is_empty() || spec.key.is_some(),
                "{v:?} changes nothing"
            );
        }
    }
}
