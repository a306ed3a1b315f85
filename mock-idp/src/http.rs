//! Reading `application/x-www-form-urlencoded` input (forms and query strings) of the
//! browser-facing endpoints.

use std::collections::HashMap;

/// Form fields; a repeated field keeps its last value (the SAML endpoints' reading).
pub fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Form or query parameters; a repeated parameter keeps its first value (the OIDC endpoints'
/// reading: the first `redirect_uri` is the one that was registered).
pub fn params(raw: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_keep_last_or_first() {
        assert_eq!(form(b"a=1&a=2&b=%20x")["a"], "2");
        assert_eq!(form(b"a=1&a=2&b=%20x")["b"], " x");
        assert_eq!(params(b"a=1&a=2")["a"], "1");
    }
}
