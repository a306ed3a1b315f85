//! The OIDC-only pages. The login form and the access-denied page are shared with SAML
//! (`crate::pages`), so one scenario step signs in at either protocol.

use crate::pages::{escape, page as document};

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
    fn error_page_carries_its_id() {
        let p = error("redirect-uri-mismatch", "<x>");
        assert!(p.contains("id=\"redirect-uri-mismatch\""));
        assert!(p.contains("&lt;x&gt;"));
    }
}
