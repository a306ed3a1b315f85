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

/// Signed out at the OP, with an iframe per front-channel logout URI (OpenID Connect
/// Front-Channel Logout 1.0, 4). Once every frame has loaded (or after 5 s) the page shows
/// `#frontchannel-done` and, when `next` is given, goes on there (the post-logout redirect).
pub fn signed_out_with_frames(frames: &[String], next: Option<&str>) -> String {
    let mut body = String::from(
        "<div id=\"signed-out\"><h1>You have been signed out</h1></div>\n<div id=\"frontchannel\">",
    );
    for f in frames {
        body.push_str(&format!(
            "<iframe class=\"frontchannel-logout\" src=\"{}\" width=\"1\" height=\"1\"></iframe>",
            escape(f)
        ));
    }
    body.push_str("</div>\n");
    body.push_str(&format!(
        "<div id=\"next\" data-next=\"{}\"></div>\n",
        escape(next.unwrap_or(""))
    ));
    // Plain script, no data in it: the URLs stay in attributes, escaped.
    body.push_str(
        "<script>(function(){var frames=document.querySelectorAll('iframe.frontchannel-logout');\
var left=frames.length,finished=false;function done(){if(finished)return;finished=true;\
var p=document.createElement('p');p.id='frontchannel-done';p.textContent='Every application was told';\
document.body.appendChild(p);var next=document.getElementById('next').getAttribute('data-next');\
if(next){location.replace(next);}}\
frames.forEach(function(f){f.addEventListener('load',function(){if(--left<=0)done();});});\
if(left===0)done();setTimeout(done,5000);})();</script>",
    );
    document("Signed out", &body)
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
