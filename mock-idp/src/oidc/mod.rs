//! The OpenID Connect provider of each tenant: discovery, JWKS with a rotated key, the
//! authorization code flow with PKCE, the token, userinfo and end-session endpoints, all at
//! the URL layout of the product the tenant's profile imitates, and all breakable by the
//! OIDC faults.

pub mod authorize;
pub mod bench;
pub mod claims;
pub mod discovery;
pub mod end_session;
pub mod error;
pub mod faults;
pub mod forge;
pub mod jwt;
pub mod layout;
pub mod page;
pub mod state;
pub mod token;
pub mod userinfo;
pub mod wellknown;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::clock::rfc3339;
use crate::fault::{Fault, Protocol};
use crate::record::{Exchange, HttpInfo};
use crate::server::AppState;
use crate::tenant::{self, OidcInfo, Tenant};

pub use error::OidcError;
pub use state::TenantOidc;

use jwt::SigningKey;
use layout::{Endpoint, Layout, LayoutKind};
use state::OidcKeys;

/// The session cookie is the SAML login's, so one login serves both protocols.
pub use crate::saml::SESSION_COOKIE;

/// Every place any profile puts each endpoint. A handler serves a request only if the path
/// is where the addressed tenant's own layout puts that endpoint (see [`resolve`]), so an
/// Okta tenant never answers at a Keycloak path.
const ROUTES: &[(Endpoint, &[&str])] = &[
    (
        Endpoint::Discovery,
        &[
            "/t/{id}/application/o/{slug}/.well-known/openid-configuration",
            "/t/{id}/oauth2/default/.well-known/openid-configuration",
            "/t/{id}/{guid}/v2.0/.well-known/openid-configuration",
            "/t/{id}/.well-known/openid-configuration",
            "/t/{id}/realms/{realm}/.well-known/openid-configuration",
        ],
    ),
    (
        Endpoint::Authorize,
        &[
            "/t/{id}/application/o/authorize/",
            "/t/{id}/oauth2/default/v1/authorize",
            "/t/{id}/{guid}/oauth2/v2.0/authorize",
            "/t/{id}/o/oauth2/v2/auth",
            "/t/{id}/realms/{realm}/protocol/openid-connect/auth",
            "/t/{id}/authorize",
        ],
    ),
    (
        Endpoint::Token,
        &[
            "/t/{id}/application/o/token/",
            "/t/{id}/oauth2/default/v1/token",
            "/t/{id}/{guid}/oauth2/v2.0/token",
            "/t/{id}/token",
            "/t/{id}/realms/{realm}/protocol/openid-connect/token",
        ],
    ),
    (
        Endpoint::Userinfo,
        &[
            "/t/{id}/application/o/userinfo/",
            "/t/{id}/oauth2/default/v1/userinfo",
            "/t/{id}/{guid}/openid/userinfo",
            "/t/{id}/v1/userinfo",
            "/t/{id}/realms/{realm}/protocol/openid-connect/userinfo",
            "/t/{id}/userinfo",
        ],
    ),
    (
        Endpoint::Jwks,
        &[
            "/t/{id}/application/o/{slug}/jwks/",
            "/t/{id}/oauth2/default/v1/keys",
            "/t/{id}/{guid}/discovery/v2.0/keys",
            "/t/{id}/oauth2/v3/certs",
            "/t/{id}/realms/{realm}/protocol/openid-connect/certs",
            "/t/{id}/jwks",
        ],
    ),
    (
        Endpoint::EndSession,
        &[
            "/t/{id}/application/o/{slug}/end-session/",
            "/t/{id}/oauth2/default/v1/logout",
            "/t/{id}/{guid}/oauth2/v2.0/logout",
            "/t/{id}/logout",
            "/t/{id}/realms/{realm}/protocol/openid-connect/logout",
        ],
    ),
];

/// Where the OIDC login form posts; the same for every profile.
pub const LOGIN_ROUTE: &str = "/t/{id}/oidc/login";

pub fn routes() -> Router<AppState> {
    let mut router = Router::new().route(LOGIN_ROUTE, post(authorize::login));
    for (endpoint, paths) in ROUTES {
        for path in *paths {
            let method = match endpoint {
                Endpoint::Discovery => get(wellknown::discovery),
                Endpoint::Jwks => get(wellknown::jwks),
                Endpoint::Authorize => get(authorize::authorize),
                Endpoint::Token => post(token::token),
                Endpoint::Userinfo => get(userinfo::userinfo).post(userinfo::userinfo),
                Endpoint::EndSession => {
                    get(end_session::end_session).post(end_session::end_session)
                }
            };
            router = router.route(path, method);
        }
    }
    router
}

/// The tenant's layout.
pub fn layout_of(tenant: &Tenant) -> Layout {
    Layout::new(LayoutKind::from(tenant.profile), &tenant.id)
}

/// The OIDC part of `TenantInfo`; `base` has no trailing slash.
pub fn info(tenant: &Tenant, base: &str) -> OidcInfo {
    let l = layout_of(tenant);
    let url = |p: &str| Layout::url(base, p);
    OidcInfo {
        issuer: url(&l.issuer),
        discovery_url: url(&l.discovery),
        authorization_endpoint: url(&l.authorize),
        token_endpoint: url(&l.token),
        userinfo_endpoint: url(&l.userinfo),
        jwks_uri: url(&l.jwks),
        end_session_endpoint: url(&l.end_session),
    }
}

/// The tenant a request addresses, if the request path is where that tenant's layout puts
/// `endpoint`; anything else is a 404, as a real IdP would answer.
pub(crate) fn resolve(
    app: &AppState,
    path: &str,
    endpoint: Endpoint,
) -> Result<(Arc<Mutex<Tenant>>, Layout), OidcError> {
    let id = path
        .strip_prefix("/t/")
        .and_then(|rest| rest.split('/').next())
        .ok_or(OidcError::NotFound)?;
    let shared = app.tenants.get(id)?;
    let layout = layout_of(&tenant::lock(&shared));
    if layout.path(endpoint) != path {
        return Err(if layout.kind == LayoutKind::Entra {
            OidcError::EntraNotFound
        } else {
            OidcError::NotFound
        });
    }
    Ok((shared, layout))
}

/// The tenant's JWS keys, parsed on first use and then kept.
pub(crate) fn keys(tenant: &mut Tenant) -> Result<Arc<OidcKeys>, OidcError> {
    if let Some(k) = &tenant.oidc.keys {
        return Ok(k.clone());
    }
    let kid = |fingerprint: &str| -> String {
        fingerprint
            .chars()
            .filter(|c| *c != ':')
            .take(16)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let primary = tenant.keys.primary.clone();
    let next = tenant.keys.rotated()?;
    let keys = Arc::new(OidcKeys {
        current: SigningKey::new(
            kid(&primary.fingerprint_sha256),
            primary.private_key().clone(),
        )?,
        next: SigningKey::new(kid(&next.fingerprint_sha256), next.private_key().clone())?,
    });
    tenant.oidc.keys = Some(keys.clone());
    Ok(keys)
}

/// Appends one exchange to the tenant's log. `decoded` must already be free of secrets.
pub(crate) fn record(
    tenant: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: &[Fault],
) {
    let exchange = Exchange {
        at: rfc3339(tenant.clock.now()),
        tenant: tenant.id.clone(),
        protocol: Protocol::Oidc,
        kind: kind.to_string(),
        http: HttpInfo {
            method: method.to_string(),
            path: path.to_string(),
            status,
        },
        decoded,
        faults: faults.to_vec(),
    };
    tenant.record(exchange);
}

/// The tenant's clock in Unix seconds.
pub(crate) fn now(tenant: &Tenant) -> i64 {
    tenant.clock.now().unix_timestamp()
}

/// Every `mockidp_session` cookie value the browser sent (another tenant's cookie may share
/// the name when paths overlap).
pub(crate) fn session_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_string())
        })
        .collect()
}

/// The uid signed in by this browser at `tenant`, if any.
pub(crate) fn session_user(tenant: &Tenant, headers: &HeaderMap) -> Option<String> {
    crate::saml::session_uid(tenant, headers).filter(|uid| tenant.user_by_uid(uid).is_some())
}

/// The email the IdP answers for `email` under the `changed_email` fault: a new address at
/// the same domain, while `sub` stays the same.
pub(crate) fn effective_email(email: &str, faults: &[Fault]) -> String {
    if !faults.contains(&Fault::ChangedEmail) {
        return email.to_string();
    }
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}.changed@{domain}"),
        None => format!("{email}.changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_email_keeps_the_domain() {
        assert_eq!(effective_email("a@x.test", &[]), "a@x.test");
        assert_eq!(
            effective_email("a@x.test", &[Fault::ChangedEmail]),
            "a.changed@x.test"
        );
    }

    #[test]
    fn every_session_cookie_value_is_read() {
        let mut h = HeaderMap::new();
        h.append(
            axum::http::header::COOKIE,
            "other=1; mockidp_session=s1".parse().unwrap(),
        );
        h.append(
            axum::http::header::COOKIE,
            "mockidp_session=s2".parse().unwrap(),
        );
        assert_eq!(session_cookies(&h), vec!["s1", "s2"]);
    }

    #[test]
    fn every_layout_path_has_a_route() {
        let templates: Vec<&str> = ROUTES.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        // A template matches a concrete path when every `{param}` segment stands for one
        // segment and the others are equal.
        let matches = |template: &str, path: &str| {
            let (t, p): (Vec<&str>, Vec<&str>) =
                (template.split('/').collect(), path.split('/').collect());
            t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
        };
        for kind in [
            LayoutKind::Authentik,
            LayoutKind::Okta,
            LayoutKind::Entra,
            LayoutKind::Google,
            LayoutKind::Keycloak,
            LayoutKind::Generic,
        ] {
            let l = Layout::new(kind, "acme");
            for e in [
                Endpoint::Discovery,
                Endpoint::Authorize,
                Endpoint::Token,
                Endpoint::Userinfo,
                Endpoint::Jwks,
                Endpoint::EndSession,
            ] {
                let path = l.path(e);
                let routed = ROUTES
                    .iter()
                    .filter(|(ep, _)| *ep == e)
                    .flat_map(|(_, p)| p.iter())
                    .any(|t| matches(t, path));
                assert!(
                    routed,
                    "{kind:?} {e:?} {path} has no route among {templates:?}"
                );
            }
        }
    }
}
