//! One sign-in through the IdP's own login page in headless Chromium, and what came of it:
//! signed in at the product, refused by the product (its documented message), or stopped at
//! the IdP (its page text), with a screenshot.
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::descriptor::LoginPage;
use crate::browser::Session;
use crate::secret::Secret;

/// Sets an input's value and fires the events a page listens to, in one round trip.
const SET_VALUE: &str = "const el = arguments[0]; el.focus(); el.value = arguments[1]; \
     el.dispatchEvent(new Event('input', {bubbles: true})); \
     el.dispatchEvent(new Event('change', {bubbles: true})); return 'ok';";

const STEP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Default, Serialize)]
pub struct SignIn {
    /// `#signed-in-as` at the product.
    pub signed_in_as: Option<String>,
    pub display_name: Option<String>,
    /// `#error` / `#error-code` / `#error-detail` at the product.
    pub sp_error: Option<String>,
    pub sp_error_code: Option<String>,
    pub sp_error_detail: Option<String>,
    /// Where the browser ended, and the start of that page's text when it is not the product's.
    pub final_url: String,
    pub idp_page_text: Option<String>,
    /// Why the flow could not be driven (selector missing, browser error).
    pub problem: Option<String>,
    /// Whether the IdP's login form was reached and submitted.
    pub reached_login: bool,
    /// The product took the response but asked for the user's name (none was sent).
    pub name_prompt: bool,
    #[serde(skip)]
    pub screenshot: Option<Vec<u8>>,
}

/// A URL without its query and fragment (state, nonce, PKCE challenge: noise in a reason).
pub(super) fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

impl SignIn {
    /// One line for a verdict's reason.
    pub fn describe(&self) -> String {
        if let Some(e) = &self.signed_in_as {
            return format!("signed in at the product as {e}");
        }
        if let Some(msg) = &self.sp_error {
            let detail = self
                .sp_error_detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            return format!("the product refused the sign-in: \"{msg}\"{detail}");
        }
        let problem = self
            .problem
            .as_deref()
            .map(|p| format!("{p}; "))
            .unwrap_or_default();
        match &self.idp_page_text {
            Some(t) => format!(
                "{problem}the browser stayed at the IdP ({}): \"{t}\"",
                without_query(&self.final_url)
            ),
            None => format!(
                "{problem}the browser ended at {}",
                without_query(&self.final_url)
            ),
        }
    }
}

pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a Secret,
}

async fn set_value(s: &mut Session, selector: &str, value: &str) -> Result<(), String> {
    let el = s
        .wait_element(selector, STEP_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let arg = serde_json::to_value(&el).map_err(|e| format!("{selector}: {e}"))?;
    s.client
        .execute(SET_VALUE, vec![arg, json!(value)])
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot fill {selector}: {e}"))
}

async fn click(s: &mut Session, selector: &str) -> Result<(), String> {
    let el = s
        .wait_element(selector, STEP_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    el.click()
        .await
        .map_err(|e| format!("cannot click {selector}: {e}"))
}

/// `sp_base` has no trailing slash; the `/` keeps port 8085 from matching 80850.
fn on_sp(url: &str, sp_base: &str) -> bool {
    url.strip_prefix(sp_base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The product's page shows how the sign-in ended: signed in, an error, or the name prompt.
async fn shows_outcome(s: &mut Session) -> bool {
    s.has_element("#signed-in-as").await
        || s.has_element("#error").await
        || s.has_element("#name-prompt").await
}

/// Waits until the page is the product's outcome (signed in, an error, the name prompt) or
/// the IdP's login form; `true` when the login form is there. An IdP page that rests for 6 s
/// without the form (an error page) ends the wait early.
async fn wait_login_or_outcome(s: &mut Session, login: &LoginPage, sp_base: &str) -> bool {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut resting: Option<(String, Instant)> = None;
    loop {
        let url = s.current_url().await.unwrap_or_default();
        if on_sp(&url, sp_base) {
            if shows_outcome(s).await {
                return false;
            }
        } else {
            if s.has_element(&login.username).await {
                return true;
            }
            match &resting {
                Some((u, since)) if *u == url => {
                    if since.elapsed() > Duration::from_secs(6) {
                        return false;
                    }
                }
                _ => resting = Some((url, Instant::now())),
            }
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for the product's outcome after the IdP's form was submitted; gives up early when
/// the browser rests on one IdP page (its error page, or the form shown again) for 3 s.
async fn wait_outcome(s: &mut Session, sp_base: &str) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut resting: Option<(String, Instant)> = None;
    loop {
        let url = s.current_url().await.unwrap_or_default();
        if on_sp(&url, sp_base) {
            if shows_outcome(s).await {
                return;
            }
            resting = None;
        } else {
            match &resting {
                Some((u, since)) if *u == url => {
                    if since.elapsed() > Duration::from_secs(3) {
                        return;
                    }
                }
                _ => resting = Some((url, Instant::now())),
            }
        }
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Opens `start_url` (after typing `email_first` on the product's sign-in page when given),
/// signs in at the IdP's page and reports where it ended.
pub async fn sign_in(
    s: &mut Session,
    start_url: &str,
    email_first: Option<&str>,
    login: &LoginPage,
    creds: &Credentials<'_>,
    sp_base: &str,
) -> SignIn {
    let mut out = SignIn::default();
    match drive(s, start_url, email_first, login, creds, sp_base).await {
        Ok(reached) => out.reached_login = reached,
        Err(e) => out.problem = Some(e),
    }
    out.final_url = s.current_url().await.unwrap_or_default();
    if on_sp(&out.final_url, sp_base) {
        out.signed_in_as = s.element_text("#signed-in-as").await;
        out.display_name = s.element_text("#display-name").await;
        out.sp_error = s.element_text("#error").await;
        out.sp_error_code = s.element_text("#error-code").await;
        out.sp_error_detail = s.element_text("#error-detail").await;
        if s.has_element("#name-prompt").await {
            out.sp_error = Some("the product asks for the user's name and birthday".into());
            out.name_prompt = true;
        }
    } else {
        let text = s.page_text().await.unwrap_or_default();
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        out.idp_page_text = Some(text.chars().take(300).collect());
    }
    out.screenshot = s.screenshot().await.ok();
    out
}

async fn drive(
    s: &mut Session,
    start_url: &str,
    email_first: Option<&str>,
    login: &LoginPage,
    creds: &Credentials<'_>,
    sp_base: &str,
) -> Result<bool, String> {
    s.goto(start_url).await.map_err(|e| e.to_string())?;
    if let Some(email) = email_first {
        set_value(s, "input[name=email]", email).await?;
        click(s, "#continue").await?;
    }
    if !wait_login_or_outcome(s, login, sp_base).await {
        return Ok(false);
    }
    set_value(s, &login.username, creds.username).await?;
    if let Some(next) = &login.next {
        click(s, next).await?;
    }
    set_value(s, &login.password, creds.password.expose()).await?;
    click(s, &login.submit).await?;
    wait_outcome(s, sp_base).await;
    Ok(true)
}

/// Signs in at the IdP's login page that `start_url` (an authorization request) shows, then
/// reads the browser's cookies at `cookie_url` (a page of the IdP, e.g. its discovery
/// document): the IdP session, as a `Cookie` header value, so that requests the browser does
/// not make can be asked again as the signed-in user.
pub async fn idp_session(
    s: &mut Session,
    start_url: &str,
    cookie_url: &str,
    login: &LoginPage,
    creds: &Credentials<'_>,
) -> Result<Secret, String> {
    s.goto(start_url).await.map_err(|e| e.to_string())?;
    s.wait_element(&login.username, STEP_TIMEOUT)
        .await
        .map_err(|e| format!("the IdP's login form did not show: {e}"))?;
    set_value(s, &login.username, creds.username).await?;
    if let Some(next) = &login.next {
        click(s, next).await?;
    }
    set_value(s, &login.password, creds.password.expose()).await?;
    let form_url = s.current_url().await.unwrap_or_default();
    click(s, &login.submit).await?;
    // Signed in once the form is gone (the IdP moved on to its answer or another page).
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let url = s.current_url().await.unwrap_or_default();
        if url != form_url || !s.has_element(&login.password).await {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the login form was still shown {} s after signing in",
                STEP_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    if s.has_element(&login.password).await {
        return Err("the IdP showed its login form again after signing in".into());
    }
    s.goto(cookie_url).await.map_err(|e| e.to_string())?;
    let cookies = s
        .client
        .get_all_cookies()
        .await
        .map_err(|e| format!("cannot read the browser's cookies: {e}"))?;
    if cookies.is_empty() {
        return Err(format!(
            "the browser holds no cookie for {} after signing in",
            without_query(cookie_url)
        ));
    }
    Ok(Secret::new(
        cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; "),
    ))
}
