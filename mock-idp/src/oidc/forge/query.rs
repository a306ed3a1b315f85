//! "Was userinfo / token / jwks called after T, how did the client authenticate, was PKCE
//! S256 used, was a nonce sent": a query over the tenant's exchange log (the one log; the
//! token request record carries the PKCE and nonce facts of its sign-in).

use std::collections::BTreeMap;

use proto::idp::RequestsAnswer;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::fault::Protocol;
use crate::record::Exchange;

/// The parsed query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// RFC 3339; exchanges at or after it (the tenant's clock, as `at` is written).
    pub since: Option<String>,
    pub kind: Option<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Result<Self> {
        let mut q = Query::default();
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            match k.as_ref() {
                "since" => {
                    let at = OffsetDateTime::parse(&v, &Rfc3339).map_err(|e| {
                        Error::bad_input("since", format!("'{v}' is not RFC 3339: {e}"))
                    })?;
                    // The log's own format, so the comparison is a plain string comparison.
                    q.since = Some(rfc3339(at));
                }
                "kind" => q.kind = Some(v.into_owned()),
                other => {
                    return Err(Error::bad_input(
                        other,
                        "unknown query parameter (expected since, kind)",
                    ));
                }
            }
        }
        Ok(q)
    }

    fn matches(&self, e: &Exchange) -> bool {
        e.protocol == Protocol::Oidc
            && self
                .since
                .as_ref()
                .is_none_or(|s| e.at.as_str() >= s.as_str())
            && self.kind.as_ref().is_none_or(|k| &e.kind == k)
    }
}

/// The PKCE method an authorization request used, from its recorded parameters.
fn pkce_of(params: &Value) -> Value {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method").and_then(Value::as_str),
    ) {
        (None, _) => Value::Null,
        (Some(_), Some(m)) => json!(m),
        // RFC 7636 4.3: no method means plain.
        (Some(_), None) => json!("plain"),
    }
}

/// One line of the summary for an exchange.
fn line(e: &Exchange) -> Value {
    let d = &e.decoded;
    let mut out = Map::new();
    out.insert("at".into(), json!(e.at));
    out.insert("status".into(), json!(e.http.status));
    out.insert("method".into(), json!(e.http.method));
    match e.kind.as_str() {
        "authorization_request" => {
            let p = &d["params"];
            out.insert("client_id".into(), p["client_id"].clone());
            out.insert("pkce".into(), pkce_of(p));
            out.insert("nonce_sent".into(), json!(p.get("nonce").is_some()));
            out.insert("state_sent".into(), json!(p.get("state").is_some()));
            out.insert(
                "response_mode".into(),
                p.get("response_mode").cloned().unwrap_or(Value::Null),
            );
            // The values too: whether they are unguessable and fresh per sign-in is judged
            // over several requests (they travel in the browser's URL; no secret).
            out.insert(
                "nonce".into(),
                p.get("nonce").cloned().unwrap_or(Value::Null),
            );
            out.insert(
                "state".into(),
                p.get("state").cloned().unwrap_or(Value::Null),
            );
            // Passed by reference (`par`, `request_uri`, `request`), and the loose query
            // parameters whose value the reference contradicts.
            let by_ref = &d["request_object"];
            out.insert("request_by".into(), by_ref["via"].clone());
            out.insert(
                "contradicting".into(),
                by_ref.get("contradicting").cloned().unwrap_or(json!([])),
            );
        }
        "token_request" | "refresh_request" => {
            out.insert("client_auth".into(), d["client_auth"].clone());
            out.insert("grant_type".into(), d["form"]["grant_type"].clone());
            out.insert(
                "code_verifier_sent".into(),
                json!(d["form"].get("code_verifier").is_some()),
            );
            for k in ["client_id", "pkce", "nonce_sent"] {
                if let Some(v) = d.get(k) {
                    out.insert(k.into(), v.clone());
                }
            }
        }
        "userinfo" => {
            out.insert("token_in".into(), d["token_in"].clone());
            // Whether the access token came from a refresh grant.
            out.insert("refreshed".into(), json!(d["refreshed"] == true));
        }
        "end_session" => {
            for k in [
                "post_logout_redirect_uri",
                "registered",
                "state",
                "client_id",
                "id_token_hint",
                "sessions_ended",
                "state_forged",
            ] {
                out.insert(k.into(), d.get(k).cloned().unwrap_or(Value::Null));
            }
        }
        "jwks" => {
            out.insert("path".into(), json!(e.http.path));
            out.insert(
                "advertised".into(),
                d.get("advertised").cloned().unwrap_or(Value::Null),
            );
        }
        "claims" | "claims_refused" => {
            out.insert("token_in".into(), d["token_in"].clone());
            out.insert(
                "source".into(),
                d.get("source").cloned().unwrap_or(Value::Null),
            );
        }
        "canary" | "backchannel_logout" => {
            out.insert("path".into(), json!(e.http.path));
        }
        _ => {}
    }
    Value::Object(out)
}

/// The answer: the tenant's now (the next `since`), the matching exchanges, and per kind
/// whether it was called and the facts of each call.
pub fn answer(exchanges: &[Exchange], q: &Query, now: OffsetDateTime) -> RequestsAnswer {
    let matching: Vec<&Exchange> = exchanges.iter().filter(|e| q.matches(e)).collect();
    let mut summary: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in &matching {
        summary.entry(e.kind.clone()).or_default().push(line(e));
    }
    let called = [
        "discovery",
        "jwks",
        "authorization_request",
        "token_request",
        "refresh_request",
        "userinfo",
        "end_session",
        "canary",
        "backchannel_logout",
        "claims",
        "pushed_authorization_request",
        "request_uri_fetch",
    ]
    .into_iter()
    .map(|kind| (kind.to_string(), summary.contains_key(kind)))
    .collect();
    RequestsAnswer {
        now: rfc3339(now),
        since: q.since.clone(),
        called,
        summary,
        exchanges: matching.into_iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::HttpInfo;

    fn ex(at: &str, kind: &str, decoded: Value) -> Exchange {
        Exchange {
            at: at.into(),
            tenant: "t".into(),
            protocol: Protocol::Oidc,
            kind: kind.into(),
            http: HttpInfo {
                method: "POST".into(),
                path: "/p".into(),
                status: 200,
            },
            decoded,
            faults: vec![],
            forge: None,
        }
    }

    #[test]
    fn since_and_kind_filter_and_facts_are_read() {
        let log = vec![
            ex("2026-01-01T00:00:00.000Z", "userinfo", json!({})),
            ex(
                "2026-01-01T00:00:01.000Z",
                "authorization_request",
                json!({"params": {"client_id": "c", "code_challenge": "x", "code_challenge_method": "S256", "nonce": "n"}}),
            ),
            ex(
                "2026-01-01T00:00:02.000Z",
                "token_request",
                json!({"client_auth": "client_secret_post", "form": {"grant_type": "authorization_code", "code_verifier": "[redacted]"}, "pkce": "S256", "nonce_sent": true}),
            ),
        ];
        let q = Query::parse("since=2026-01-01T00:00:00.500Z").unwrap();
        let now = OffsetDateTime::now_utc();
        let a = serde_json::to_value(answer(&log, &q, now)).unwrap();
        assert_eq!(a["called"]["userinfo"], false);
        assert_eq!(a["called"]["token_request"], true);
        assert_eq!(a["summary"]["authorization_request"][0]["pkce"], "S256");
        assert_eq!(a["summary"]["authorization_request"][0]["nonce_sent"], true);
        let t = &a["summary"]["token_request"][0];
        assert_eq!(t["client_auth"], "client_secret_post");
        assert_eq!(t["code_verifier_sent"], true);
        assert_eq!(t["nonce_sent"], true);
        let q = Query::parse("kind=userinfo").unwrap();
        assert_eq!(answer(&log, &q, now).exchanges.len(), 1);
        // A differently written instant is normalised before comparing.
        let q = Query::parse("since=2026-01-01T01:00:01%2B01:00").unwrap();
        assert_eq!(answer(&log, &q, now).exchanges.len(), 2);
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        assert!(
            Query::parse("since=yesterday")
                .unwrap_err()
                .to_string()
                .starts_with("since")
        );
        assert!(
            Query::parse("sinse=x")
                .unwrap_err()
                .to_string()
                .starts_with("sinse")
        );
    }
}
