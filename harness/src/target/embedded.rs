//! The mock IdP and the reference SP started in-process (they are still reached only over
//! HTTP, exactly as a remote IdP or SP would be).
use std::any::Any;
use std::net::SocketAddr;

use crate::error::{HarnessError, Result};
use crate::secret::Secret;

/// A running mock IdP: base URL, DNS address, and what keeps it alive.
pub struct EmbeddedIdp {
    pub base_url: String,
    pub dns_addr: Option<SocketAddr>,
    pub guard: Box<dyn Any + Send + Sync>,
}

pub async fn start_mock_idp() -> Result<EmbeddedIdp> {
    let idp = mock_idp::server::serve(mock_idp::server::ServeOptions::default())
        .await
        .map_err(|e| HarnessError::Idp(format!("cannot start the in-process mock IdP: {e}")))?;
    Ok(EmbeddedIdp {
        base_url: idp.base_url().to_string(),
        dns_addr: Some(idp.dns_addr()),
        guard: Box::new(idp),
    })
}

/// A staging target's mock IdP, served in-process at the fixed address of `url` (the SP
/// stored URLs with it) with the pinned tenants of `state_dir`. A loopback URL is bound as
/// it is; any other host is served on all interfaces at the URL's port and advertised as
/// the URL.
pub async fn start_pinned_idp(
    url: &str,
    state_dir: &std::path::Path,
    dns: Option<SocketAddr>,
) -> Result<EmbeddedIdp> {
    let parsed = url::Url::parse(url)
        .map_err(|e| HarnessError::Idp(format!("staging.idp.url {url}: {e}")))?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let loopback = crate::target::staging::is_loopback(parsed.host_str());
    let listen = if loopback {
        SocketAddr::from(([127, 0, 0, 1], port))
    } else {
        SocketAddr::from(([0, 0, 0, 0], port))
    };
    let options = mock_idp::server::ServeOptions {
        listen,
        public_url: (!loopback || parsed.host_str() == Some("localhost")).then_some(parsed.clone()),
        state_dir: Some(state_dir.to_path_buf()),
        dns_listen: dns.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..mock_idp::server::ServeOptions::default()
    };
    let idp = mock_idp::server::serve(options).await.map_err(|e| {
        HarnessError::Idp(format!(
            "cannot serve the staging mock IdP at {url} (state {}): {e}",
            state_dir.display()
        ))
    })?;
    Ok(EmbeddedIdp {
        base_url: idp.base_url().to_string(),
        dns_addr: Some(idp.dns_addr()),
        guard: Box::new(idp),
    })
}

/// The files of a reference SP database that holds its schema and its own signing key but no
/// organisation yet. Every trial's SP starts from a copy: one deployment restarted with a
/// clean slate, instead of a new RSA key and schema migration per trial (~350 ms each).
struct DatabaseSnapshot {
    main: Vec<u8>,
    wal: Option<Vec<u8>>,
}

impl DatabaseSnapshot {
    fn write_to(&self, db_path: &std::path::Path) -> Result<()> {
        let fail = |e: std::io::Error| {
            HarnessError::Target(format!("reference SP database {}: {e}", db_path.display()))
        };
        // The database holds the SP's signing key: private from its creation.
        let write = |p: &std::path::Path, bytes: &[u8]| {
            crate::children::private::write_file(p, bytes, None).map_err(fail)
        };
        write(db_path, &self.main)?;
        if let Some(wal) = &self.wal {
            write(&wal_path(db_path), wal)?;
        }
        Ok(())
    }
}

fn wal_path(db_path: &std::path::Path) -> std::path::PathBuf {
    let mut p = db_path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// Made once per process by starting (and stopping) one SP on an empty database; the WAL is
/// kept too in case the SP's connections had not checkpointed when it stopped.
async fn fresh_database() -> Result<&'static DatabaseSnapshot> {
    static SNAPSHOT: tokio::sync::OnceCell<DatabaseSnapshot> = tokio::sync::OnceCell::const_new();
    SNAPSHOT
        .get_or_try_init(|| async {
            let dir = crate::children::registry::run()
                .scratch("sso-harness-sp-template-")
                .map_err(|e| HarnessError::Target(format!("reference SP scratch dir: {e}")))?;
            let db_path = dir.path().join("sp.sqlite");
            let sp = reference_sp::serve(reference_sp::Options::new(db_path.clone()))
                .await
                .map_err(|e| {
                    HarnessError::Target(format!("cannot start the in-process reference SP: {e}"))
                })?;
            sp.shutdown().await;
            let read = |p: &std::path::Path| std::fs::read(p);
            let main = read(&db_path).map_err(|e| {
                HarnessError::Target(format!("reference SP database {}: {e}", db_path.display()))
            })?;
            let wal = read(&wal_path(&db_path)).ok();
            Ok(DatabaseSnapshot { main, wal })
        })
        .await
}

/// One reference SP with its own SQLite file (removed with the guard) and test mode on.
struct SpGuard {
    _sp: reference_sp::RunningSp,
    _dir: crate::children::registry::Scratch,
}

/// A Google-like provider for the SP's "Continue with Google" (a mock IdP tenant).
pub struct SocialProvider {
    /// Port the SP must listen on: its redirect URI was registered before it started.
    pub port: u16,
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

pub async fn start_reference_sp(
    dns: Option<SocketAddr>,
    social: Option<SocialProvider>,
) -> Result<(String, Secret, Box<dyn Any + Send + Sync>)> {
    let dir = crate::children::registry::run()
        .scratch("sso-harness-sp-")
        .map_err(|e| HarnessError::Target(format!("reference SP scratch dir: {e}")))?;
    let token = Secret::generate("admin");
    let db_path = dir.path().join("sp.sqlite");
    fresh_database().await?.write_to(&db_path)?;
    let mut opts = reference_sp::Options::new(db_path);
    opts.dns_server = dns;
    opts.admin_token = Some(token.clone());
    opts.test_mode = true;
    if let Some(s) = social {
        opts.listen = SocketAddr::from(([127, 0, 0, 1], s.port));
        opts.social = Some(reference_sp::SocialOptions {
            discovery_url: s.discovery_url,
            client_id: s.client_id,
            client_secret: s.client_secret,
        });
    }
    let sp = reference_sp::serve(opts).await.map_err(|e| {
        HarnessError::Target(format!("cannot start the in-process reference SP: {e}"))
    })?;
    let base = sp.base_url().to_string();
    Ok((base, token, Box::new(SpGuard { _sp: sp, _dir: dir })))
}
