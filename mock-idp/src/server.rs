//! Starting and stopping the mock IdP: one HTTP listener for every tenant and the control
//! API, plus the embedded DNS server. The one place routes are assembled.

use crate::dns::{DnsServer, TxtStore};
use crate::error::{Error, Result};
use crate::oidc::layout::Endpoint;
pub use crate::state::AppState;
use crate::statedir::StateDir;
use crate::tenant::TenantSpec;
use crate::{control, oidc, saml};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};
use proto::idp::MAX_BODY_BYTES;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// HTTP(S) listen address; loopback port 0 by default.
    pub listen: SocketAddr,
    /// The URL browsers and SPs use to reach this server, when it is not the bound address
    /// (a tunnel, a test host).
    pub public_url: Option<Url>,
    /// Serve HTTPS with a certificate from a local CA.
    pub tls: Option<TlsOptions>,
    /// DNS listen address (UDP and TCP on the same port); loopback port 0 by default.
    pub dns_listen: SocketAddr,
    /// Tenants to create at start (from `--config`). A pinned one whose id the state
    /// directory already holds is not created again: the kept tenant is the one an SP trusts.
    pub tenants: Vec<TenantSpec>,
    /// `--state-dir`: pinned tenants are kept here and loaded at start (same key, certificate
    /// and OIDC clients); without it, pinning is refused.
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Directory the local CA certificate is written to, as `ca.pem`.
    pub ca_out: PathBuf,
}

impl Default for ServeOptions {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen: loopback,
            public_url: None,
            tls: None,
            dns_listen: loopback,
            tenants: Vec::new(),
            state_dir: None,
        }
    }
}

impl ServeOptions {
    /// Options for a server reached at `public`: bound on every interface at the public
    /// URL's port (80 or 443 by scheme when the URL has none), so the advertised URL is
    /// where it answers (through a port mapping or a tunnel with the same port).
    pub fn public(public: Url) -> Result<Self> {
        let listen = public_listen_addr(&public)?;
        Ok(Self {
            listen,
            public_url: Some(public),
            ..Self::default()
        })
    }
}

/// `0.0.0.0:<port of the URL>`, the port by scheme when the URL has none.
pub fn public_listen_addr(public: &Url) -> Result<SocketAddr> {
    let port = public.port_or_known_default().ok_or_else(|| {
        Error::bad_input(
            "--public",
            format!("'{public}' has no port and its scheme has no default one"),
        )
    })?;
    Ok(SocketAddr::from(([0, 0, 0, 0], port)))
}

/// Every route of the server: the control API, the SAML IdP and the OIDC provider of every
/// tenant. Assembled here, and only here, so the handler modules depend on the shared state
/// and never on each other's routes (nor on this file).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(control_routes())
        .merge(saml_routes())
        .merge(oidc_routes())
        // Not a `/t/{id}/{*rest}` route: that would collide with the OIDC layouts' params.
        .fallback(saml::portal::tenant_fallback)
        .with_state(state)
}

fn control_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_control/tenants",
            post(control::create_tenant).get(control::list_tenants),
        )
        .route(
            "/_control/tenants/{id}",
            get(control::get_tenant).delete(control::delete_tenant),
        )
        .route("/_control/tenants/{id}/sp", put(control::put_sp))
        .route("/_control/tenants/{id}/faults", put(control::put_faults))
        .route(
            "/_control/tenants/{id}/faults/next",
            post(control::post_next_faults),
        )
        .route("/_control/tenants/{id}/clock", put(control::put_clock))
        .route("/_control/tenants/{id}/users", post(control::post_user))
        .route(
            "/_control/tenants/{id}/users/{email}",
            patch(control::patch_user),
        )
        .route("/_control/tenants/{id}/apps", put(control::put_apps))
        .route(
            "/_control/tenants/{id}/oidc/clients",
            post(control::post_oidc_client),
        )
        .route(
            "/_control/tenants/{id}/oidc/clients/{client_id}/secret",
            get(control::get_client_secret),
        )
        .route(
            "/_control/tenants/{id}/trial",
            put(control::put_trial).delete(control::delete_trial),
        )
        .route(
            "/_control/tenants/{id}/exchanges",
            get(control::get_exchanges),
        )
        .route(
            "/_control/tenants/{id}/saml/last-response",
            get(control::get_last_saml_response),
        )
        .route(
            "/_control/dns/txt",
            post(control::post_txt).delete(control::delete_txt),
        )
        .route("/_control/dns", get(control::get_dns))
        .route("/_control/faults", get(control::get_faults))
        .route("/_control/forge/attacks", get(control::get_attacks))
        .merge(oidc_forge_control_routes())
        // The contract's limit, stated here rather than inherited from axum's default; a
        // larger body is answered 413 by `control::JsonBody`.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The OIDC forge's control calls, and the canary URLs a token header points an RP at.
fn oidc_forge_control_routes() -> Router<AppState> {
    use oidc::forge::control as forge;
    Router::new()
        .route(
            "/_control/tenants/{id}/oidc/forge",
            get(forge::get_forge)
                .put(forge::put_forge)
                .delete(forge::delete_forge),
        )
        .route(
            "/_control/tenants/{id}/oidc/forge/next",
            post(forge::post_next),
        )
        .route(
            "/_control/tenants/{id}/oidc/forge/keys",
            get(forge::get_keys),
        )
        .route(
            "/_control/tenants/{id}/oidc/provider",
            get(forge::get_provider).put(forge::put_provider),
        )
        .route(
            "/_control/tenants/{id}/oidc/rotate",
            post(forge::post_rotate),
        )
        .route(
            "/_control/tenants/{id}/oidc/backchannel-logout",
            post(forge::post_logout),
        )
        .route(
            "/_control/tenants/{id}/oidc/requests",
            get(forge::get_requests),
        )
        .route("/_control/oidc/forge/catalogue", get(forge::get_catalogue))
}

fn saml_routes() -> Router<AppState> {
    use saml::{portal, slo, sso};
    Router::new()
        .route("/t/{id}/saml/metadata", get(sso::metadata_handler))
        .route(
            "/t/{id}/saml/slo",
            get(slo::slo_redirect).post(slo::slo_post),
        )
        .route("/t/{id}/saml/logout", get(slo::idp_logout))
        .route(
            "/t/{id}/saml/sso",
            get(sso::sso_redirect).post(sso::sso_post),
        )
        .route("/t/{id}/saml/idp-initiated", get(portal::idp_initiated))
        .route(
            "/t/{id}/login",
            get(portal::login_page).post(portal::login_submit),
        )
        .route("/t/{id}/dashboard", get(portal::dashboard))
        .route("/t/{id}/apps/{app}", get(portal::app_tile))
}

/// Every place any profile puts each OIDC endpoint. A handler serves a request only if the
/// path is where the addressed tenant's own layout puts that endpoint
/// (`oidc::provider::resolve`), so an Okta tenant never answers at a Keycloak path.
const OIDC_ROUTES: &[(Endpoint, &[&str])] = &[
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
    (
        Endpoint::Par,
        &[
            "/t/{id}/application/o/par/",
            "/t/{id}/oauth2/default/v1/par",
            "/t/{id}/{guid}/oauth2/v2.0/par",
            "/t/{id}/par",
            "/t/{id}/realms/{realm}/protocol/openid-connect/ext/par/request",
        ],
    ),
];

/// Where the OIDC login form posts; the same for every profile.
pub const OIDC_LOGIN_ROUTE: &str = "/t/{id}/oidc/login";

fn oidc_routes() -> Router<AppState> {
    use oidc::{authorize, end_session, token, userinfo, wellknown};
    let mut router = Router::new()
        .route(OIDC_LOGIN_ROUTE, post(authorize::login))
        // What a forged `jku` / `x5u` header points at; a fetch is logged as a canary.
        .route(
            "/t/{id}/forge/attacker-jwks",
            get(oidc::forge::control::canary_jwks),
        )
        .route(
            "/t/{id}/forge/attacker-cert",
            get(oidc::forge::control::canary_cert),
        )
        // Distributed claims (the forge's `claim_sources`): answers only its own tokens.
        .route(
            "/t/{id}/oidc/claims",
            get(oidc::distributed::claims).post(oidc::distributed::claims),
        );
    for (endpoint, paths) in OIDC_ROUTES {
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
                Endpoint::Par => post(oidc::par::par),
            };
            router = router.route(path, method);
        }
    }
    router
}

/// A running mock IdP. Dropping it stops the listeners; `shutdown` waits for them.
pub struct RunningIdp {
    addr: SocketAddr,
    base_url: Url,
    state: AppState,
    dns: DnsServer,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningIdp {
    /// `http://127.0.0.1:PORT/` (or the public URL), with a trailing slash.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn dns_addr(&self) -> SocketAddr {
        self.dns.addr()
    }

    /// Direct access for in-process callers (tests, benches).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn shutdown(mut self) {
        self.dns.stop().await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub async fn serve(options: ServeOptions) -> Result<RunningIdp> {
    // Every tenant needs fresh RSA keys; making them ahead keeps tenant creation cheap.
    crate::keys::KeyPool::global().start();
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let dns = DnsServer::start(options.dns_listen, TxtStore::default()).await?;
    let tls = match &options.tls {
        Some(t) => {
            let local = crate::tls::local_ca()?;
            crate::tls::write_ca(&t.ca_out, &local.ca_pem)?;
            Some(local)
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = match &options.public_url {
        Some(url) => url.clone(),
        None => Url::parse(&format!("{scheme}://{addr}/"))
            .map_err(|e| Error::Config(format!("bad listen address {addr}: {e}")))?,
    };
    let mut state = AppState::new(base_url.as_str(), dns.addr());
    state.txt = dns_store(&dns);
    let mut kept = Vec::new();
    if let Some(root) = &options.state_dir {
        let sd = std::sync::Arc::new(StateDir::open(root)?);
        state.state_dir = Some(sd.clone());
        let loading = state.clone();
        kept = tokio::task::spawn_blocking(move || crate::pinned::load(&loading, &sd))
            .await
            .map_err(|e| Error::Config(format!("loading the state directory failed: {e}")))??;
    }
    for (i, spec) in options.tenants.into_iter().enumerate() {
        if spec.pinned && spec.id.as_ref().is_some_and(|id| kept.contains(id)) {
            tracing::info!(
                "tenants[{i}]: pinned tenant {:?} is kept in the state directory; not created again",
                spec.id
            );
            continue;
        }
        control::create(&state, spec).await.map_err(|e| match e {
            Error::BadInput { path, message } => {
                Error::bad_input(format!("tenants[{i}].{path}"), message)
            }
            other => other,
        })?;
    }
    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = match tls {
        Some(local) => tokio::spawn(crate::tls::serve(listener, app, local.config, stopped)),
        None => tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        }),
    };
    Ok(RunningIdp {
        addr,
        base_url,
        state,
        dns,
        stop: Some(stop),
        task: Some(task),
    })
}

fn dns_store(dns: &DnsServer) -> TxtStore {
    dns.store()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::layout::{Layout, LayoutKind};

    #[test]
    fn a_public_url_is_bound_at_its_port_on_every_interface() {
        let at = |u: &str| public_listen_addr(&Url::parse(u).unwrap()).unwrap();
        assert_eq!(at("http://idp.test:8443/"), "0.0.0.0:8443".parse().unwrap());
        assert_eq!(at("http://idp.test/"), "0.0.0.0:80".parse().unwrap());
        assert_eq!(at("https://idp.test/base/"), "0.0.0.0:443".parse().unwrap());
        assert!(public_listen_addr(&Url::parse("foo://idp.test/").unwrap()).is_err());
        let o = ServeOptions::public(Url::parse("https://idp.test:9000/").unwrap()).unwrap();
        assert_eq!(o.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(o.public_url.unwrap().as_str(), "https://idp.test:9000/");
    }

    #[test]
    fn every_layout_path_has_a_route() {
        let templates: Vec<&str> = OIDC_ROUTES
            .iter()
            .flat_map(|(_, p)| p.iter().copied())
            .collect();
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
                Endpoint::Par,
            ] {
                let path = l.path(e);
                let routed = OIDC_ROUTES
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
