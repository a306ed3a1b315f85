//! Small JSON-over-HTTP helper shared by the mock IdP client and the admin drivers.
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A failed call: the status and the server's `error` (and `path`/`field`) text.
#[derive(Debug, Clone)]
pub struct CallError {
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Result<Value, CallError> {
    let mut req = http.request(method.clone(), url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.map_err(|e| CallError {
        status: None,
        message: format!("{method} {url}: {e}"),
    })?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let json: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    if status.is_success() {
        return Ok(json);
    }
    let mut message = json
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| text.chars().take(300).collect());
    for key in ["path", "field"] {
        if let Some(p) = json.get(key).and_then(Value::as_str) {
            message.push_str(&format!(" (at {key} {p})"));
        }
    }
    Err(CallError {
        status: Some(status.as_u16()),
        message: format!("{method} {url}: {message}"),
    })
}

pub fn parse<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, CallError> {
    serde_json::from_value(v).map_err(|e| CallError {
        status: None,
        message: format!("unexpected answer to {what}: {e}"),
    })
}
