//! Small network helpers shared by every stage: free loopback ports and JSON over HTTP.
pub mod http_json;

use crate::error::{HarnessError, Result};

/// A port free on 127.0.0.1 now (the caller binds it next; a race is possible but rare).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| HarnessError::Target(format!("no free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError::Target(format!("no free port: {e}")))
}
