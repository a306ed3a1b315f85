//! The HTML the OIDC provider shows a browser. The login form has the same hooks as the SAML
//! login (`input[name=username]`, `input[name=password]`, `button#login`, `.error`), so one
//! scenario step signs in at either.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

/// The login form. `action` is the URL the form posts to, `flow` the pending request's id.
pub fn login(
    tenant: &str,
    action: &str,
    flow: &str,
    username: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    document(
        "Sign in",
        &format!(
            "<h1>Sign in to {tenant}</h1>\n{error}<form method=\"post\" action=\"{action}\">\n\
             <input type=\"hidden\" name=\"flow\" value=\"{flow}\">\n\
             <label>Username <input name=\"username\" type=\"text\" value=\"{username}\" autocomplete=\"username\"></label>\n\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\n\
             <button id=\"login\" type=\"submit\">Sign in</button>\n</form>",
            tenant = escape(tenant),
            action = escape(action),
            flow = escape(flow),
            username = escape(username),
        ),
    )
}

/// An error page; `id` is the element id scenarios assert on.
pub fn error(id: &str, message: &str) -> String {
    document(
        "Error",
        &format!(
            "<div id=\"{}\" class=\"error\"><h1>Something went wrong</h1><p>{}</p></div>",
            escape(id),
            escape(message)
        ),
    )
}

/// Shown after end-session when there is nowhere registered to send the browser.
pub fn signed_out() -> String {
    document(
        "Signed out",
        "<div id=\"signed-out\"><h1>You have been signed out</h1></div>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_page_has_the_shared_hooks_and_escapes() {
        let p = login(
            "acme",
            "/t/acme/oidc/login",
            "f1",
            "a\"<b>",
            Some("Wrong & bad"),
        );
        assert!(p.contains("name=\"username\""));
        assert!(p.contains("name=\"password\""));
        assert!(p.contains("id=\"login\""));
        assert!(p.contains("class=\"error\""));
        assert!(p.contains("Wrong &amp; bad"));
        assert!(p.contains("a&quot;&lt;b&gt;"));
        assert!(!p.contains("<b>"));
    }

    #[test]
    fn error_page_carries_its_id() {
        let p = error("redirect-uri-mismatch", "<x>");
        assert!(p.contains("id=\"redirect-uri-mismatch\""));
        assert!(p.contains("&lt;x&gt;"));
    }
}
