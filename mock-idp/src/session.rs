//! The IdP's browser session, shared by both protocols: one login at a tenant signs the
//! browser in for SAML and OIDC alike. The session lives in the tenant (`sessions`: cookie
//! value -> user uid); the browser holds the `mockidp_session` cookie, scoped to the tenant's
//! path so tenants never see each other's sessions.

use crate::tenant::{Tenant, random_id};
use axum::http::{HeaderMap, header};

/// The IdP's session cookie; named so it never collides with an SP's on the same host.
pub const SESSION_COOKIE: &str = "mockidp_session";

/// Every `mockidp_session` cookie value the browser sent (another tenant's cookie may share
/// the name when paths overlap).
pub fn session_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_string())
        })
        .collect()
}

/// The uid of the user signed in to this tenant, from the `mockidp_session` cookie.
pub fn session_uid(t: &Tenant, headers: &HeaderMap) -> Option<String> {
    session_cookies(headers)
        .iter()
        .find_map(|value| t.sessions.get(value).cloned())
}

/// The browser's session at `t`: its cookie value and the uid signed in.
pub fn session_of(t: &Tenant, headers: &HeaderMap) -> Option<(String, String)> {
    session_cookies(headers).into_iter().find_map(|value| {
        t.sessions
            .get(&value)
            .map(|uid| (value.clone(), uid.clone()))
    })
}

/// The session's public id (`sid` of ID tokens and front-channel logout): derived from the
/// cookie value, which is a secret and never leaves the browser and the OP.
pub fn public_sid(cookie: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("sid:{cookie}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The uid signed in at `t`, if that user still exists.
pub fn session_user(t: &Tenant, headers: &HeaderMap) -> Option<String> {
    session_uid(t, headers).filter(|uid| t.user_by_uid(uid).is_some())
}

/// Starts a session for `uid` at `t`; returns the cookie value to set.
pub fn start(t: &mut Tenant, uid: &str) -> String {
    let sid = random_id("");
    t.sessions.insert(sid.clone(), uid.to_string());
    sid
}

/// The `Set-Cookie` value that hands the browser session `sid` of tenant `tenant_id`.
pub fn set_cookie(tenant_id: &str, sid: &str) -> String {
    format!("{SESSION_COOKIE}={sid}; Path=/t/{tenant_id}/; HttpOnly; SameSite=Lax")
}

/// The `Set-Cookie` value that ends the browser's session at tenant `tenant_id`.
pub fn expire_cookie(tenant_id: &str) -> String {
    format!("{SESSION_COOKIE}=; Path=/t/{tenant_id}/; Max-Age=0; HttpOnly; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_cookie_value_is_read() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "other=1; mockidp_session=s1".parse().unwrap(),
        );
        h.append(header::COOKIE, "mockidp_session=s2".parse().unwrap());
        assert_eq!(session_cookies(&h), vec!["s1", "s2"]);
    }

    #[test]
    fn a_session_names_its_user_at_its_tenant_only() {
        let spec = serde_json::from_str(r#"{"id":"s","users":[{"email":"a@x.test"}]}"#).unwrap();
        let mut t = Tenant::from_spec(spec).unwrap();
        let uid = t.users[0].uid.clone();
        let sid = start(&mut t, &uid);
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            format!("mockidp_session=unknown; {SESSION_COOKIE}={sid}")
                .parse()
                .unwrap(),
        );
        assert_eq!(session_uid(&t, &h), Some(uid.clone()));
        assert_eq!(session_user(&t, &h), Some(uid));
        assert_eq!(session_uid(&t, &HeaderMap::new()), None);
        assert!(set_cookie("s", &sid).starts_with(&format!("mockidp_session={sid}; Path=/t/s/")));
        assert!(expire_cookie("s").contains("Max-Age=0"));
    }
}
