//! Starting and stopping the mock IdP: one HTTP listener for every tenant and the control
//! API, plus the embedded DNS server.

use crate::dns::{DnsServer, TxtStore};
use crate::error::{Error, Result};
use crate::tenant::{TenantSpec, Tenants};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
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
    /// Tenants to create at start (from `--config`).
    pub tenants: Vec<TenantSpec>,
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
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub tenants: Tenants,
    pub txt: TxtStore,
    /// Base URL without a trailing slash.
    base: Arc<str>,
    pub dns_addr: SocketAddr,
}

impl AppState {
    pub fn new(base: &str, dns_addr: SocketAddr) -> Self {
        Self {
            tenants: Tenants::default(),
            txt: TxtStore::default(),
            base: Arc::from(base.trim_end_matches('/')),
            dns_addr,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::control::routes())
        .merge(crate::saml::routes())
        .merge(crate::oidc::routes())
        // Not a `/t/{id}/{*rest}` route: that would collide with the OIDC layouts' params.
        .fallback(crate::saml::tenant_fallback)
        .with_state(state)
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
    for (i, spec) in options.tenants.into_iter().enumerate() {
        crate::control::create(&state, spec)
            .await
            .map_err(|e| match e {
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
