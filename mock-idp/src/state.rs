//! What every handler shares: the tenants, the DNS TXT store, the base URL and the DNS
//! server's address. Handlers of both protocols and the control API read it; it knows none
//! of them.

use crate::dns::TxtStore;
use crate::statedir::StateDir;
use crate::tenant::Tenants;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub tenants: Tenants,
    pub txt: TxtStore,
    /// Base URL without a trailing slash.
    base: Arc<str>,
    pub dns_addr: SocketAddr,
    /// `--state-dir`: where pinned tenants are kept; `None` refuses to pin.
    pub state_dir: Option<Arc<StateDir>>,
}

impl AppState {
    pub fn new(base: &str, dns_addr: SocketAddr) -> Self {
        Self {
            tenants: Tenants::default(),
            txt: TxtStore::default(),
            base: Arc::from(base.trim_end_matches('/')),
            dns_addr,
            state_dir: None,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }
}
