//! Starting and stopping the SP: binds the listener, builds the shared state and serves every
//! route. The one place routes are assembled; nothing in the crate uses this file (the crate
//! root only re-exports it), so handler modules depend on the state and never on the router.
use crate::error::Error;
use crate::options::Options;
use crate::routes::{
    admin_api, backchannel, frontchannel, identity, initiate, login, oidc_jwks, oidc_refresh,
    oidc_request, slo, sso, test_api,
};
use crate::state::{AppState, Shared};
use axum::Router;
use axum::routing::{delete, get, post, put};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A running SP; dropping it stops the server.
pub struct RunningSp {
    base_url: url::Url,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSp {
    /// `http://127.0.0.1:PORT/` (or the public URL), with a trailing slash.
    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
    /// Stops listening and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn serve(options: Options) -> Result<RunningSp, Error> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: options.listen.to_string(),
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| Error::Listen {
        addr: options.listen.to_string(),
        source,
    })?;
    let base_url = match &options.public_url {
        Some(u) => u.clone(),
        None => url::Url::parse(&format!("http://{local_addr}/")).map_err(|e| Error::Option {
            option: "--listen",
            message: e.to_string(),
        })?,
    };
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(Error::Option {
            option: "--public-url",
            message: format!("{base_url} is not an http(s) URL"),
        });
    }
    let state = AppState::new(&options, &base_url)?;
    let app = router(Arc::new(state));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!("reference-sp server stopped: {e}");
        }
    });
    Ok(RunningSp {
        base_url,
        local_addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Every route of the SP (README "URLs of one organisation", "Admin API", "Browser-facing
/// pages").
fn router(state: Shared) -> Router {
    let mut app = Router::new()
        .merge(admin_api_routes())
        .merge(login_routes())
        .merge(identity_routes())
        .merge(sso_routes());
    // Without --test-mode these routes do not exist at all (404).
    if state.test_mode {
        app = app.merge(test_api_routes());
    }
    // Last on the way out: error pages get the messages file's texts.
    app.layer(axum::middleware::map_response_with_state(
        state.clone(),
        apply_messages,
    ))
    .with_state(state)
}

async fn apply_messages(
    axum::extract::State(state): axum::extract::State<Shared>,
    response: axum::response::Response,
) -> axum::response::Response {
    state.messages.apply(response)
}

fn admin_api_routes() -> Router<Shared> {
    Router::new()
        .route("/api/admin/orgs", post(admin_api::create_org))
        .route("/api/admin/orgs/{org}", get(admin_api::get_org))
        .route("/api/admin/orgs/{org}/users", post(admin_api::add_user))
        .route(
            "/api/admin/orgs/{org}/domains",
            post(admin_api::add_domain).get(admin_api::list_domains),
        )
        .route(
            "/api/admin/orgs/{org}/domains/{domain}/check",
            post(admin_api::check_domain),
        )
        .route("/api/admin/orgs/{org}/sso/saml", put(admin_api::put_saml))
        .route("/api/admin/orgs/{org}/sso/oidc", put(admin_api::put_oidc))
        .route("/api/admin/orgs/{org}/sso", put(admin_api::put_sso))
        .route("/api/admin/orgs/{org}/enforce", put(admin_api::put_enforce))
        .route("/api/admin/orgs/{org}/tile", put(admin_api::put_tile))
        .route(
            "/api/admin/orgs/{org}/sso/profiles/{email}",
            delete(admin_api::delete_profile),
        )
}

fn test_api_routes() -> Router<Shared> {
    Router::new()
        .route("/api/admin/test/clock", put(test_api::put_clock))
        .route("/api/admin/test/block-sso-lookup", put(test_api::put_block))
        .route("/api/admin/test/outbox", get(test_api::outbox))
        .route("/api/admin/test/orgs", post(test_api::create_org_with_id))
        .route(
            "/api/admin/test/last-sso",
            get(test_api::last_sso).delete(test_api::clear_last_sso),
        )
}

fn login_routes() -> Router<Shared> {
    Router::new()
        .route("/", get(login::root))
        .route("/login", get(login::login_page).post(login::login_email))
        .route("/login/password", post(login::login_password))
        .route("/login/sso", post(login::login_sso))
        .route("/login/social", post(login::login_social))
        .route("/logout", post(login::logout).get(login::logout))
        .route("/home", get(login::home))
        .route(
            "/welcome",
            get(login::welcome_page).post(login::welcome_submit),
        )
        .route(
            "/password-reset",
            get(login::reset_page).post(login::reset_request),
        )
        .route(
            "/password-reset/{token}",
            get(login::reset_form).post(login::reset_submit),
        )
}

fn identity_routes() -> Router<Shared> {
    Router::new()
        .route("/admin/identity", get(identity::show))
        .route("/admin/identity/domains", post(identity::add_domain))
        .route(
            "/admin/identity/domains/check",
            post(identity::check_domain),
        )
        .route("/admin/identity/saml", post(identity::save_saml))
        .route("/admin/identity/oidc", post(identity::save_oidc))
        .route("/admin/identity/sso", post(identity::toggle_sso))
        .route("/admin/identity/enforce", post(identity::toggle_enforce))
        .route("/admin/identity/tile", post(identity::switch_tile))
        .route("/admin/identity/test-sso", post(identity::test_sso))
}

fn sso_routes() -> Router<Shared> {
    Router::new()
        .route("/sso/saml/metadata/{org}", get(sso::metadata))
        .route("/sso/saml/acs", post(sso::acs))
        .route("/sso/saml/slo", get(slo::slo_get).post(slo::slo_post))
        .route("/sso/saml/logout", get(slo::start))
        .route("/signed-out", get(slo::signed_out))
        .route("/sso/tile/{org}/{product}", get(sso::tile))
        .route("/sso/start/{org}", get(sso::start_link))
        // GET: the code flow's query; POST: the hybrid flow's form_post.
        .route(
            "/sso/oidc/callback",
            get(sso::oidc_callback).post(sso::oidc_callback_post),
        )
        .route("/sso/oidc/signed-out", get(login::oidc_signed_out))
        // Third-party-initiated login (OpenID Connect Core 4): the organisation's OP only.
        .route("/sso/oidc/initiate/{org}", get(initiate::initiate_login))
        .route(
            "/sso/oidc/frontchannel-logout/{org}",
            get(frontchannel::frontchannel_logout),
        )
        .route("/sso/oidc/refresh", get(oidc_refresh::refresh))
        .route("/sso/oidc/jwks", get(oidc_jwks::jwks))
        .route(
            "/sso/oidc/request/{reference}",
            get(oidc_request::request_object),
        )
        .route(
            "/sso/oidc/backchannel-logout/{org}",
            post(backchannel::backchannel_logout),
        )
        .route("/sso/social/callback", get(sso::social_callback))
}
