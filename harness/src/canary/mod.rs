//! The canary: an HTTP listener on loopback owned by the harness. Scenarios embed its URL
//! (`{canary.url}`) where an SP must never fetch anything: a `jku`/`x5u` header, a `kid` that
//! looks like a URL, an XML external entity, an XSLT transform. `no_egress: true` fails when
//! the trial's canary path got a request, with the request as evidence.
//!
//! Each trial has its own path (`/c/<trial id>/`), so parallel trials never see each other's
//! hits. Every request is answered 404 with an empty body: an SP that fetched is caught by
//! the fetch itself, and gets nothing it could use.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde::Serialize;

use crate::error::{HarnessError, Result};

/// One request the canary received.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hit {
    pub method: String,
    /// Path and query as received.
    pub target: String,
    pub user_agent: Option<String>,
    /// UTC, RFC 3339.
    pub at: String,
}

/// At most this many hits are kept (a looping fetcher must not grow the harness's memory).
const MAX_HITS: usize = 10_000;

#[derive(Clone, Default)]
struct Hits(Arc<Mutex<Vec<Hit>>>);

/// A running canary; dropping it stops the listener.
pub struct Canary {
    addr: SocketAddr,
    hits: Hits,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(hits): State<Hits>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> StatusCode {
    let hit = Hit {
        method: method.to_string(),
        target: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| uri.path().to_string()),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
        at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    if let Ok(mut v) = hits.0.lock() {
        if v.len() < MAX_HITS {
            v.push(hit);
        }
    }
    StatusCode::NOT_FOUND
}

impl Canary {
    /// Listens on 127.0.0.1, port 0.
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| HarnessError::Target(format!("canary: cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| HarnessError::Target(format!("canary: {e}")))?;
        let hits = Hits::default();
        let app = Router::new().fallback(record).with_state(hits.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, hits, task })
    }

    /// The base URL of a trial's canary path, e.g. `http://127.0.0.1:PORT/c/3f2a/`.
    pub fn url_for(&self, trial_id: &str) -> String {
        format!("http://{}/c/{trial_id}/", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The requests made to a trial's path so far.
    pub fn hits_for(&self, trial_id: &str) -> Vec<Hit> {
        let prefix = format!("/c/{trial_id}/");
        self.hits
            .0
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|h| h.target.starts_with(&prefix))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_hits_per_trial_path_only() {
        let c = Canary::start().await.unwrap();
        let http = reqwest::Client::new();
        let r = http
            .get(format!("{}jwks.json", c.url_for("t1")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        http.post(format!("{}x", c.url_for("t2")))
            .send()
            .await
            .unwrap();
        let hits = c.hits_for("t1");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].method, "GET");
        assert_eq!(hits[0].target, "/c/t1/jwks.json");
        assert!(c.hits_for("t3").is_empty());
    }
}
