//! Pushed authorization requests (RFC 9126). When the OP's discovery document says
//! `require_pushed_authorization_requests: true`, the authorization request the product
//! built is POSTed to the OP's PAR endpoint with the client's credentials, and the browser
//! carries only the client_id and the `request_uri` the OP answered: nothing of the request
//! can be read or changed on its way through the browser.
use crate::secret::Secret;

/// The OP's PAR endpoint when its discovery document requires PAR, `None` when it does not.
/// The endpoint receives the client secret, so it must be on the issuer's own origin (as
/// the token endpoint must, `oidc::check_endpoint_origins`).
pub(crate) async fn required(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<Option<url::Url>, String> {
    let doc = crate::oidc_discovery::json(http, discovery_url).await?;
    endpoint_of(&doc)
}

/// What [`required`] decides from a discovery document.
fn endpoint_of(doc: &serde_json::Value) -> Result<Option<url::Url>, String> {
    let required = doc
        .get("require_pushed_authorization_requests")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if !required {
        return Ok(None);
    }
    let endpoint = doc
        .get("pushed_authorization_request_endpoint")
        .and_then(|v| v.as_str())
        .ok_or("the OP requires pushed authorization requests but its discovery document names no pushed_authorization_request_endpoint")?;
    let endpoint = url::Url::parse(endpoint)
        .map_err(|e| format!("the PAR endpoint {endpoint:?} is not a URL: {e}"))?;
    let issuer = doc
        .get("issuer")
        .and_then(|v| v.as_str())
        .and_then(|i| url::Url::parse(i).ok())
        .ok_or("the discovery document has no issuer URL")?;
    if endpoint.origin() != issuer.origin() {
        return Err(format!(
            "the discovery document names the pushed_authorization_request_endpoint {endpoint}, which is not on the issuer's origin {}",
            issuer.origin().ascii_serialization()
        ));
    }
    Ok(Some(endpoint))
}

/// RFC 6749 2.3.1: client_secret_basic form-encodes both parts before base64.
fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Pushes the parameters of `authorize_url` and answers the URL the browser goes to: the
/// authorization endpoint with only client_id and the request_uri.
pub(crate) async fn push(
    http: &reqwest::Client,
    endpoint: &url::Url,
    client_id: &str,
    client_secret: &Secret,
    authorize_url: url::Url,
) -> Result<url::Url, String> {
    let form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    let resp = http
        .post(endpoint.clone())
        .basic_auth(
            form_encoded(client_id),
            Some(form_encoded(client_secret.expose())),
        )
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("cannot reach the OP's PAR endpoint {endpoint}: {e}"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    // RFC 9126 2.2: 201 Created with the request_uri.
    if status != reqwest::StatusCode::CREATED {
        return Err(format!(
            "the OP's PAR endpoint answered HTTP {status}: {} {}",
            body["error"].as_str().unwrap_or(""),
            body["error_description"].as_str().unwrap_or("")
        ));
    }
    let request_uri = body["request_uri"]
        .as_str()
        .ok_or("the OP's PAR endpoint answered no request_uri")?;
    let mut url = authorize_url;
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn par_only_when_required_and_only_on_the_issuers_origin() {
        let base = json!({
            "issuer": "http://op.test/t/x",
            "pushed_authorization_request_endpoint": "http://op.test/t/x/par",
        });
        assert_eq!(
            endpoint_of(&base).unwrap(),
            None,
            "advertised is not required"
        );
        let mut doc = base.clone();
        doc["require_pushed_authorization_requests"] = json!(true);
        assert_eq!(
            endpoint_of(&doc).unwrap().unwrap().as_str(),
            "http://op.test/t/x/par"
        );
        doc["pushed_authorization_request_endpoint"] = json!("http://evil.test/par");
        assert!(
            endpoint_of(&doc)
                .unwrap_err()
                .contains("not on the issuer's origin")
        );
        doc.as_object_mut()
            .unwrap()
            .remove("pushed_authorization_request_endpoint");
        assert!(endpoint_of(&doc).is_err());
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        assert_eq!(form_encoded("a b:c+d"), "a+b%3Ac%2Bd");
    }
}
