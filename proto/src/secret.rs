//! Secrets in request bodies. A [`Secret`] serializes as `[redacted]`, which is what every
//! answer, log and report must show; a client sending a password or client secret to the
//! party that owns it needs the value instead. Request types mark their secret fields with
//! `#[serde(serialize_with = "crate::secret::serialize")]`, which writes `[redacted]` too
//! unless the serialization runs inside [`to_request_json`] / [`to_request_value`]: only
//! those write the value, so "this body leaves with its secrets" stays greppable.

use serde::{Serialize, Serializer};
use sso_secret::{REDACTED, Secret};
use std::cell::Cell;

thread_local! {
    static EXPOSE: Cell<bool> = const { Cell::new(false) };
}

/// Restores the flag even when serialization fails or panics.
struct Exposing(bool);

impl Exposing {
    fn start() -> Self {
        Exposing(EXPOSE.with(|e| e.replace(true)))
    }
}

impl Drop for Exposing {
    fn drop(&mut self) {
        let before = self.0;
        EXPOSE.with(|e| e.set(before));
    }
}

/// `serialize_with` for secret fields of request types.
pub fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    if EXPOSE.with(Cell::get) {
        s.serialize_str(secret.expose())
    } else {
        s.serialize_str(REDACTED)
    }
}

/// `serialize_with` for optional secret fields.
pub fn serialize_opt<S: Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(v) => serialize(v, s),
        None => s.serialize_none(),
    }
}

/// The JSON text of a request body, secrets included: for sending to the party that owns them.
pub fn to_request_json<T: Serialize + ?Sized>(body: &T) -> serde_json::Result<String> {
    let _on = Exposing::start();
    serde_json::to_string(body)
}

/// [`to_request_json`] as a `serde_json::Value` (for clients that take one).
pub fn to_request_value<T: Serialize + ?Sized>(body: &T) -> serde_json::Result<serde_json::Value> {
    let _on = Exposing::start();
    serde_json::to_value(body)
}

#[cfg(test)]
mod tests {
    use crate::idp::{OidcClient, User};

    fn user() -> User {
        User {
            email: "a@x.test".into(),
            password: "pw-canary".into(),
            ..Default::default()
        }
    }

    #[test]
    fn secrets_are_redacted_unless_sent_as_a_request() {
        let u = user();
        let shown = serde_json::to_string(&u).unwrap();
        assert!(!shown.contains("pw-canary"), "{shown}");
        assert!(shown.contains("[redacted]"));
        let sent = super::to_request_json(&u).unwrap();
        assert!(sent.contains("\"password\":\"pw-canary\""), "{sent}");
        // Back to redacted afterwards.
        assert!(!serde_json::to_string(&u).unwrap().contains("pw-canary"));
        let c: OidcClient = serde_json::from_value(serde_json::json!({
            "client_id": "c", "client_secret": "cs-canary", "redirect_uris": []
        }))
        .unwrap();
        assert_eq!(
            super::to_request_value(&c).unwrap()["client_secret"],
            "cs-canary"
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap()["client_secret"],
            "[redacted]"
        );
    }
}
