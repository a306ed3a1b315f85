//! The reference SP: an executable model of the documented SSO product. It knows nothing of
//! the harness; the harness reaches it over HTTP like any other SP.
//!
//! ```no_run
//! # async fn f() -> Result<(), reference_sp::Error> {
//! let sp = reference_sp::serve(reference_sp::Options::new("sp.sqlite")).await?;
//! println!("{}", sp.base_url());
//! # Ok(()) }
//! ```
mod admin_ops;
mod certs;
mod clock;
mod db;
mod dns;
mod error;
mod html;
mod messages;
mod oidc;
mod password;
mod routes;
mod saml;
pub mod secret;
mod session;
mod signin;
mod state;
mod store;

pub use error::Error;
pub use secret::Secret;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A Google-like social sign-in provider (an OIDC provider, e.g. a mock IdP tenant with the
/// `google` profile).
#[derive(Debug, Clone)]
pub struct SocialOptions {
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub db_path: PathBuf,
    /// DNS server asked for domain-verification TXT records (UDP); the system's first
    /// nameserver when absent.
    pub dns_server: Option<SocketAddr>,
    /// Bearer token of the admin API; without one the admin API refuses every call.
    pub admin_token: Option<Secret>,
    /// The URL browsers use to reach this SP; `http://{bound address}` when absent.
    pub public_url: Option<url::Url>,
    /// Enables `/api/admin/test/*` (clock offset, blocking the SSO look-up).
    pub test_mode: bool,
    pub social: Option<SocialOptions>,
}

impl Options {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_path: db_path.into(),
            dns_server: None,
            admin_token: None,
            public_url: None,
            test_mode: false,
            social: None,
        }
    }
}

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
    let state = state::AppState::new(&options, &base_url)?;
    let app = routes::router(Arc::new(state));
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
