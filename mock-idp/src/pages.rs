//! Browser-facing HTML of both protocols: login form, dashboard, access denied, not found,
//! errors and the auto-submitting POST form. One login page serves SAML and OIDC, so one
//! scenario step signs in at either. Hooks (ids, classes, names) are the README's contract.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A whole HTML document around `body` (which must already be escaped).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
        escape(title),
        body
    )
}

/// The login form. `hidden` are extra hidden fields (flow id, next URL) carried through.
pub fn login(tenant: &str, action: &str, hidden: &[(&str, &str)], error: Option<&str>) -> Response {
    let mut body = format!("<h1>Sign in to {}</h1>\n", escape(tenant));
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"error\">{}</p>\n", escape(e)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\">\n",
        escape(action)
    ));
    for (name, value) in hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str(
        "<label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\"></label>\n\
         <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\n\
         <button type=\"submit\" id=\"login\">Sign in</button>\n</form>",
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (status, Html(page("Sign in", &body))).into_response()
}

pub struct Tile {
    pub name: String,
    pub href: String,
}

pub fn dashboard(tenant: &str, email: &str, tiles: &[Tile]) -> Response {
    let mut body = format!(
        "<h1>{} apps</h1>\n<p id=\"signed-in-as\">{}</p>\n<nav>\n",
        escape(tenant),
        escape(email)
    );
    for t in tiles {
        body.push_str(&format!(
            "<a class=\"tile\" data-app=\"{}\" href=\"{}\">{}</a>\n",
            escape(&t.name),
            escape(&t.href),
            escape(&t.name)
        ));
    }
    body.push_str("</nav>");
    Html(page("Dashboard", &body)).into_response()
}

pub fn access_denied(email: &str) -> Response {
    let body = format!(
        "<div id=\"access-denied\"><h1>Access denied</h1>\n<p>{} is not assigned to this application. Ask your administrator for access.</p></div>",
        escape(email)
    );
    (StatusCode::FORBIDDEN, Html(page("Access denied", &body))).into_response()
}

/// The authorization response as a link instead of a redirect (the
/// `authorization_response_held` fault): the browser stays here, and whoever reads the link
/// can open it elsewhere, as an attacker hands their own response to a victim.
pub fn held_response(url: &str) -> Response {
    let body = format!(
        "<div id=\"held\"><h1>Authorization response held</h1>\n<p><a id=\"held-response\" href=\"{}\">Continue to the application</a></p></div>",
        escape(url)
    );
    (
        StatusCode::OK,
        Html(page("Authorization response held", &body)),
    )
        .into_response()
}

/// The HTTP-POST binding's form, not submitted (the `saml_response_held` fault): the browser
/// stays here, and whoever reads the form can post it from another browser, as an attacker
/// makes a victim's browser post the Response of a sign-in the attacker started.
pub fn held_post_form(acs: &str, saml_response_b64: &str, relay_state: Option<&str>) -> Response {
    let form = message_form(
        " id=\"held-response\"",
        acs,
        "SAMLResponse",
        saml_response_b64,
        relay_state,
    );
    let body = format!(
        "<div id=\"held\"><h1>SAML response held</h1>\n{form}<button type=\"submit\">Continue to the application</button>\n</form></div>"
    );
    (StatusCode::OK, Html(page("SAML response held", &body))).into_response()
}

/// 404 in the imitated IdP's words (Entra's is documented as ERR-9).
pub fn not_found(entra: bool) -> Response {
    let body = if entra {
        "<h1>The sts.windows.net page cannot be found</h1>\n<p>The page you are looking for might have been removed, had its name changed, or is temporarily unavailable.</p>"
    } else {
        "<h1>Not found</h1>\n<p>There is no page at this address.</p>"
    };
    (StatusCode::NOT_FOUND, Html(page("Not found", body))).into_response()
}

pub fn error(status: StatusCode, message: &str) -> Response {
    let body = format!("<h1>Error</h1>\n<p class=\"error\">{}</p>", escape(message));
    (status, Html(page("Error", &body))).into_response()
}

/// The HTTP-POST binding: a form that submits itself to the SP's ACS.
pub fn post_form(acs: &str, saml_response_b64: &str, relay_state: Option<&str>) -> Response {
    post_message(acs, "SAMLResponse", saml_response_b64, relay_state)
}

/// The HTTP-POST binding for any message: `field` is `SAMLRequest` or `SAMLResponse`.
pub fn post_message(
    url: &str,
    field: &str,
    value_b64: &str,
    relay_state: Option<&str>,
) -> Response {
    let mut body = message_form("", url, field, value_b64, relay_state);
    body.push_str("<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n<script>document.forms[0].submit();</script>");
    Html(page("Signing in", &body)).into_response()
}

/// An HTTP-POST binding form up to its closing tag: the action, the message and RelayState.
fn message_form(
    attrs: &str,
    url: &str,
    field: &str,
    value_b64: &str,
    relay_state: Option<&str>,
) -> String {
    let mut form = format!(
        "<form{attrs} method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(url),
        escape(field),
        escape(value_b64)
    );
    if let Some(rs) = relay_state {
        form.push_str(&format!(
            "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">\n",
            escape(rs)
        ));
    }
    form
}
