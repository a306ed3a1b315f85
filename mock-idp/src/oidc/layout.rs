//! Where each OIDC endpoint of a tenant lives, following the URL layout of the IdP product
//! the tenant's profile imitates. All paths sit under the tenant prefix `/t/{id}` so tenants
//! never share a URL.

use crate::profile::{Profile, tenant_guid};
use proto::idp::OidcInfo;

/// The products whose URL layout we imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    Authentik,
    Okta,
    Entra,
    Google,
    Keycloak,
    Generic,
}

impl From<Profile> for LayoutKind {
    fn from(profile: Profile) -> Self {
        match profile {
            Profile::Authentik => LayoutKind::Authentik,
            Profile::Okta => LayoutKind::Okta,
            Profile::Entra => LayoutKind::Entra,
            Profile::Google => LayoutKind::Google,
            Profile::Keycloak => LayoutKind::Keycloak,
            Profile::Generic => LayoutKind::Generic,
        }
    }
}

/// One OIDC endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Authorize,
    Token,
    Userinfo,
    Jwks,
    EndSession,
    /// RFC 9126 pushed authorization requests.
    Par,
}

/// The absolute paths (below the server's base URL) of one tenant's OIDC provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub kind: LayoutKind,
    /// The issuer path; the issuer URL is the base URL joined with it, exactly as written
    /// (authentik's ends with `/`, the others do not).
    pub issuer: String,
    pub discovery: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
    pub end_session: String,
    /// The PAR endpoint (RFC 9126), next to the token endpoint where the product has one.
    pub par: String,
}

/// The Entra "directory (tenant) ID" of a mock tenant: the same GUID the SAML side uses in
/// its `sts.windows.net` entity ID, so both protocols of one tenant name one directory.
pub fn entra_guid(tenant_id: &str) -> String {
    tenant_guid(tenant_id)
}

/// The `sts.windows.net` issuer that Entra's v1 endpoints (and v1 access tokens) carry;
/// an RP that configured the v2.0 issuer must refuse it.
pub fn entra_v1_issuer(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{}/", entra_guid(tenant_id))
}

/// The claims endpoint of distributed claims (`oidc::distributed`): one path for every
/// profile, since no product we imitate has one.
pub fn claims_endpoint(base: &str, tenant: &str) -> String {
    format!("{}/t/{tenant}/oidc/claims", base.trim_end_matches('/'))
}

impl Layout {
    /// `slug` is authentik's application slug and Keycloak's realm; it defaults to the tenant id.
    pub fn new(kind: LayoutKind, tenant_id: &str) -> Self {
        let prefix = format!("/t/{tenant_id}");
        let slug = tenant_id;
        let (issuer, authorize, token, userinfo, jwks, end_session) = match kind {
            LayoutKind::Authentik => {
                let app = format!("{prefix}/application/o");
                (
                    format!("{app}/{slug}/"),
                    format!("{app}/authorize/"),
                    format!("{app}/token/"),
                    format!("{app}/userinfo/"),
                    format!("{app}/{slug}/jwks/"),
                    format!("{app}/{slug}/end-session/"),
                )
            }
            LayoutKind::Okta => {
                let iss = format!("{prefix}/oauth2/default");
                (
                    iss.clone(),
                    format!("{iss}/v1/authorize"),
                    format!("{iss}/v1/token"),
                    format!("{iss}/v1/userinfo"),
                    format!("{iss}/v1/keys"),
                    format!("{iss}/v1/logout"),
                )
            }
            LayoutKind::Entra => {
                let dir = format!("{prefix}/{}", entra_guid(tenant_id));
                (
                    format!("{dir}/v2.0"),
                    format!("{dir}/oauth2/v2.0/authorize"),
                    format!("{dir}/oauth2/v2.0/token"),
                    // Entra serves userinfo from Graph; under the tenant it needs a path of
                    // its own so tenants stay apart.
                    format!("{dir}/openid/userinfo"),
                    format!("{dir}/discovery/v2.0/keys"),
                    format!("{dir}/oauth2/v2.0/logout"),
                )
            }
            LayoutKind::Google => (
                prefix.clone(),
                format!("{prefix}/o/oauth2/v2/auth"),
                format!("{prefix}/token"),
                format!("{prefix}/v1/userinfo"),
                format!("{prefix}/oauth2/v3/certs"),
                // Google publishes no end-session endpoint; ours exists so every profile can
                // be signed out of in tests.
                format!("{prefix}/logout"),
            ),
            LayoutKind::Keycloak => {
                let realm = format!("{prefix}/realms/{slug}");
                let oc = format!("{realm}/protocol/openid-connect");
                (
                    realm,
                    format!("{oc}/auth"),
                    format!("{oc}/token"),
                    format!("{oc}/userinfo"),
                    format!("{oc}/certs"),
                    format!("{oc}/logout"),
                )
            }
            LayoutKind::Generic => (
                prefix.clone(),
                format!("{prefix}/authorize"),
                format!("{prefix}/token"),
                format!("{prefix}/userinfo"),
                format!("{prefix}/jwks"),
                format!("{prefix}/logout"),
            ),
        };
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        // Okta's and Keycloak's real PAR paths; the others beside their token endpoint.
        let par = match kind {
            LayoutKind::Authentik => format!("{prefix}/application/o/par/"),
            LayoutKind::Okta => format!("{prefix}/oauth2/default/v1/par"),
            LayoutKind::Entra => format!("{prefix}/{}/oauth2/v2.0/par", entra_guid(tenant_id)),
            LayoutKind::Keycloak => {
                format!("{prefix}/realms/{slug}/protocol/openid-connect/ext/par/request")
            }
            LayoutKind::Google | LayoutKind::Generic => format!("{prefix}/par"),
        };
        Self {
            par,
            kind,
            issuer,
            discovery,
            authorize,
            token,
            userinfo,
            jwks,
            end_session,
        }
    }

    pub fn path(&self, endpoint: Endpoint) -> &str {
        match endpoint {
            Endpoint::Discovery => &self.discovery,
            Endpoint::Authorize => &self.authorize,
            Endpoint::Token => &self.token,
            Endpoint::Userinfo => &self.userinfo,
            Endpoint::Jwks => &self.jwks,
            Endpoint::EndSession => &self.end_session,
            Endpoint::Par => &self.par,
        }
    }

    /// The absolute URL of `endpoint` (or of the issuer) under `base`, which may or may not
    /// end with `/`.
    pub fn url(base: &str, path: &str) -> String {
        format!("{}{path}", base.trim_end_matches('/'))
    }

    /// The OIDC part of `TenantInfo`, served from `base`.
    pub fn info(&self, base: &str) -> OidcInfo {
        let url = |p: &str| Self::url(base, p);
        OidcInfo {
            issuer: url(&self.issuer),
            discovery_url: url(&self.discovery),
            authorization_endpoint: url(&self.authorize),
            token_endpoint: url(&self.token),
            userinfo_endpoint: url(&self.userinfo),
            jwks_uri: url(&self.jwks),
            end_session_endpoint: url(&self.end_session),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentik_puts_the_slug_in_issuer_jwks_and_end_session_only() {
        let l = Layout::new(LayoutKind::Authentik, "acme");
        assert_eq!(l.issuer, "/t/acme/application/o/acme/");
        assert_eq!(
            l.discovery,
            "/t/acme/application/o/acme/.well-known/openid-configuration"
        );
        assert_eq!(l.authorize, "/t/acme/application/o/authorize/");
        assert_eq!(l.token, "/t/acme/application/o/token/");
        assert_eq!(l.userinfo, "/t/acme/application/o/userinfo/");
        assert_eq!(l.jwks, "/t/acme/application/o/acme/jwks/");
        assert_eq!(l.end_session, "/t/acme/application/o/acme/end-session/");
    }

    #[test]
    fn okta_uses_the_default_authorization_server() {
        let l = Layout::new(LayoutKind::Okta, "acme");
        assert_eq!(l.issuer, "/t/acme/oauth2/default");
        assert_eq!(
            l.discovery,
            "/t/acme/oauth2/default/.well-known/openid-configuration"
        );
        assert_eq!(l.token, "/t/acme/oauth2/default/v1/token");
        assert_eq!(l.jwks, "/t/acme/oauth2/default/v1/keys");
    }

    #[test]
    fn entra_uses_a_stable_guid_per_tenant() {
        let g = entra_guid("acme");
        assert_eq!(g, entra_guid("acme"));
        assert_ne!(g, entra_guid("acme-2"));
        assert!(uuid::Uuid::parse_str(&g).is_ok(), "{g}");
        let l = Layout::new(LayoutKind::Entra, "acme");
        assert_eq!(l.issuer, format!("/t/acme/{g}/v2.0"));
        assert_eq!(l.authorize, format!("/t/acme/{g}/oauth2/v2.0/authorize"));
        assert_eq!(l.token, format!("/t/acme/{g}/oauth2/v2.0/token"));
        assert_eq!(
            entra_v1_issuer("acme"),
            format!("https://sts.windows.net/{g}/")
        );
    }

    #[test]
    fn google_keycloak_and_generic() {
        let g = Layout::new(LayoutKind::Google, "acme");
        assert_eq!(g.issuer, "/t/acme");
        assert_eq!(g.authorize, "/t/acme/o/oauth2/v2/auth");
        assert_eq!(g.jwks, "/t/acme/oauth2/v3/certs");
        assert_eq!(g.discovery, "/t/acme/.well-known/openid-configuration");
        let k = Layout::new(LayoutKind::Keycloak, "acme");
        assert_eq!(k.issuer, "/t/acme/realms/acme");
        assert_eq!(
            k.authorize,
            "/t/acme/realms/acme/protocol/openid-connect/auth"
        );
        assert_eq!(k.jwks, "/t/acme/realms/acme/protocol/openid-connect/certs");
        let x = Layout::new(LayoutKind::Generic, "acme");
        assert_eq!(x.token, "/t/acme/token");
        assert_eq!(
            Layout::url("http://h:1/", &x.token),
            "http://h:1/t/acme/token"
        );
    }
}
