//! Sign-in pages: email first (`/login`) routing to password, social or SSO; the signed-in
//! home with the workspace switcher; sign-out; the first-login name prompt (ATTR-3); password
//! reset (LOGIN-4).
use super::sso_start::{self, Start};
use crate::error::AppError;
use crate::html::{esc, hidden, page};
use crate::secret::Secret;
use crate::state::Shared;
use crate::store::{self, Method};
use crate::{messages, oidc_logout, password, session, signin};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use std::sync::atomic::Ordering;

pub async fn root(State(st): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let c = st.db.conn()?;
    Ok(match session::current(&c, &jar)? {
        Some(_) => Redirect::to("/home").into_response(),
        None => Redirect::to("/login").into_response(),
    })
}

fn email_form(error: Option<&str>, email: &str) -> String {
    let err = error
        .map(|e| format!("<p id=\"error\" class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "{err}<form method=\"post\" action=\"/login\">\
         <label>Email address <input type=\"email\" name=\"email\" value=\"{}\" autocomplete=\"username\" required></label>\
         <button id=\"continue\" type=\"submit\">Continue</button></form>\
         <p><a id=\"forgot-password\" href=\"/password-reset\">Forgot password?</a></p>",
        esc(email)
    )
}

pub async fn login_page() -> Response {
    page("Log in", &email_form(None, "")).into_response()
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Email first: look up whether the address belongs to an SSO workspace (the request a
/// network control can break, ERR-4), then offer the methods that apply.
pub async fn login_email(
    State(st): State<Shared>,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    let email = match crate::admin_ops::check_email("email", &f.email) {
        Ok(e) => e,
        Err(_) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                page(
                    "Log in",
                    &email_form(Some("email: enter a valid email address"), &f.email),
                ),
            )
                .into_response());
        }
    };
    if st.block_sso_lookup.load(Ordering::Relaxed) {
        return Err(messages::sso_info_failed()
            .detail("the SSO look-up request was blocked (test-mode network control)")
            .into());
    }
    let (sso_org, user) = {
        let c = st.db.conn()?;
        let domain = store::email_domain(&email).to_ascii_lowercase();
        let org = match store::verified_owner(&c, &domain)? {
            Some(id) => store::get_org(&c, &id)?.filter(|o| o.workspace_sso),
            None => None,
        };
        (org, store::user_by_email(&c, &email)?)
    };
    if let Some(org) = &sso_org {
        let sso_only = user
            .as_ref()
            .is_none_or(|u| matches!(u.method, Method::Sso | Method::Invited));
        if sso_only {
            return sso_start::start_sso(
                &st,
                &org.id,
                Start::Login {
                    hint: Some(email.clone()),
                },
            )
            .await;
        }
    }
    let mut body = format!(
        "<p>Signing in as <strong id=\"login-email\">{}</strong></p>",
        esc(&email)
    );
    let wants_password = user
        .as_ref()
        .is_none_or(|u| u.method != Method::Social || u.has_password);
    if wants_password {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/login/password\">{}\
             <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
             <button id=\"sign-in\" type=\"submit\">Sign in</button></form>",
            hidden("email", &email)
        ));
    }
    if st.social.is_some() {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/login/social\">{}<button id=\"social-google\" type=\"submit\">Continue with Google</button></form>",
            hidden("email", &email)
        ));
    }
    if let Some(org) = &sso_org {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/login/sso\">{}<button id=\"continue-sso\" type=\"submit\">Continue with SSO ({})</button></form>",
            hidden("email", &email),
            esc(&org.name)
        ));
    }
    body.push_str("<p><a href=\"/login\">Use another email</a> · <a href=\"/password-reset\">Forgot password?</a></p>");
    Ok(page("Log in", &body).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Secret,
}

pub async fn login_password(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let email = crate::admin_ops::check_email("email", &f.email).map_err(|_| {
        AppError::page(
            StatusCode::BAD_REQUEST,
            "email: enter a valid email address",
        )
    })?;
    if f.password.is_empty() {
        return Err(AppError::page(
            StatusCode::BAD_REQUEST,
            "password: enter your password",
        ));
    }
    let wrong = || {
        AppError::page(
            StatusCode::UNAUTHORIZED,
            "Incorrect email address or password.",
        )
    };
    let now = st.now();
    let c = st.db.conn()?;
    let Some(user) = store::user_by_email(&c, &email)? else {
        return Err(wrong());
    };
    let Some(hash) = &user.password_hash else {
        return Err(match user.method {
            // LOGIN-5 / ERR-2: the account was made through SSO or social sign-in.
            Method::Sso | Method::Social => {
                messages::method_mismatch(&user.email, "a password").into()
            }
            _ => AppError::page(
                StatusCode::UNAUTHORIZED,
                "This account has no password yet. Use \"Forgot password?\" to set one.",
            ),
        });
    };
    if !password::verify(&f.password, hash.expose()) {
        return Err(wrong());
    }
    signin::check_non_sso_allowed(&c, &user)?;
    let jar = session::create(&c, jar, user.id, Method::Password, None, false, now)?;
    Ok((jar, Redirect::to("/home")).into_response())
}

pub async fn login_sso(
    State(st): State<Shared>,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    let email = crate::admin_ops::check_email("email", &f.email).map_err(|_| {
        AppError::page(
            StatusCode::BAD_REQUEST,
            "email: enter a valid email address",
        )
    })?;
    let org = {
        let c = st.db.conn()?;
        let domain = store::email_domain(&email).to_ascii_lowercase();
        match store::verified_owner(&c, &domain)? {
            Some(id) => store::get_org(&c, &id)?.filter(|o| o.workspace_sso),
            None => None,
        }
    };
    let Some(org) = org else {
        return Err(AppError::page(
            StatusCode::NOT_FOUND,
            format!(
                "No SSO connection is set up for {}.",
                store::email_domain(&email)
            ),
        ));
    };
    sso_start::start_sso(&st, &org.id, Start::Login { hint: Some(email) }).await
}

pub async fn login_social(
    State(st): State<Shared>,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    let hint = crate::admin_ops::check_email("email", &f.email).ok();
    sso_start::start_social(&st, hint.as_deref()).await
}

/// Ends the session here; a session an OIDC connection made goes on to the OP's
/// end_session_endpoint (RP-initiated logout, `crate::oidc_logout`).
pub async fn logout(State(st): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let (oidc, jar) = {
        let c = st.db.conn()?;
        let oidc = match session::oidc_subject(&c, &jar)? {
            Some((org, id_token)) => match store::sso_config(&c, &org)? {
                Some(store::SsoConfig::Oidc(o)) => Some((o, id_token)),
                _ => None,
            },
            None => None,
        };
        (oidc, session::destroy(&c, jar)?)
    };
    if let Some((cfg, id_token)) = oidc {
        match oidc_logout::end_session_endpoint(&st.http, &cfg.discovery_url).await {
            Ok(Some(endpoint)) => {
                let state = password::random_token();
                match oidc_logout::logout_url(
                    &endpoint,
                    &cfg.client_id,
                    &id_token,
                    &st.oidc_post_logout_uri(),
                    &state,
                ) {
                    Ok(url) => {
                        let jar = oidc_logout::remember_state(jar, &state);
                        return Ok((jar, Redirect::to(&url)).into_response());
                    }
                    Err(e) => tracing::warn!("sign-out at the OP skipped: {e}"),
                }
            }
            Ok(None) => {}
            // The session here has ended either way; the OP's is the user's to end.
            Err(e) => tracing::warn!("sign-out at the OP skipped: {e}"),
        }
    }
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct SignedOutQuery {
    state: Option<String>,
}

/// `GET /sso/oidc/signed-out`: the OP sent the browser back after RP-initiated logout. Only
/// the state this browser's logout request carried confirms it; anything else did not come
/// from a sign-out started here and changes nothing.
pub async fn oidc_signed_out(jar: CookieJar, Query(q): Query<SignedOutQuery>) -> Response {
    let (ok, jar) = oidc_logout::take_state(jar, q.state.as_deref());
    if ok {
        let body = page(
            "Signed out",
            "<p id=\"signed-out\">You are signed out of this service and of your identity provider.</p>\n<p><a href=\"/login\">Sign in again</a></p>",
        );
        return (jar, body).into_response();
    }
    tracing::warn!(state = ?q.state, "post-logout visit with a state this browser did not send");
    let err = AppError::page(
        StatusCode::BAD_REQUEST,
        "This sign-out confirmation does not answer a sign-out started in this browser; nothing was done.",
    );
    (jar, err).into_response()
}

#[derive(Deserialize)]
pub struct HomeQuery {
    workspace: Option<String>,
}

pub async fn home(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<HomeQuery>,
) -> Result<Response, AppError> {
    let c = st.db.conn()?;
    let Some(s) = session::current(&c, &jar)? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if s.needs_profile {
        return Ok(Redirect::to("/welcome").into_response());
    }
    let user = store::user_by_id(&c, s.user_id)?
        .ok_or_else(|| AppError::Internal("session user vanished".into()))?;
    let workspaces = signin::accessible_workspaces(&c, &user, s.sso_org.as_deref())?;
    let current = match &q.workspace {
        Some(w) => {
            if !workspaces.iter().any(|(o, _)| &o.id == w) {
                let member = store::role_in(&c, w, user.id)?.is_some();
                return Err(if member {
                    messages::require_sso().into()
                } else {
                    AppError::page(
                        StatusCode::FORBIDDEN,
                        "You are not a member of this workspace.",
                    )
                });
            }
            Some(w.clone())
        }
        None => s
            .sso_org
            .clone()
            .or_else(|| workspaces.first().map(|(o, _)| o.id.clone())),
    };
    let mut list = String::new();
    for (org, role) in &workspaces {
        list.push_str(&format!(
            "<li><a class=\"workspace\" data-org=\"{id}\" href=\"/home?workspace={id}\">{name}</a> ({role}){cur}{admin}</li>",
            id = esc(&org.id),
            name = esc(&org.name),
            role = role.as_str(),
            cur = if current.as_deref() == Some(org.id.as_str()) { " <strong class=\"current\">current</strong>" } else { "" },
            admin = if *role == store::Role::Owner {
                format!(
                    " <a class=\"identity-link\" href=\"/admin/identity?org={id}&amp;product=workspace\">Identity</a> <a class=\"identity-link-platform\" href=\"/admin/identity?org={id}&amp;product=platform\">Platform identity</a>",
                    id = esc(&org.id)
                )
            } else {
                String::new()
            },
        ));
    }
    // The contact details the identity provider released at this sign-in, if any.
    let (phone, address) = session::oidc_contact(&c, &s.id)?;
    let contact: String = [("phone", "Phone", phone), ("address", "Address", address)]
        .into_iter()
        .filter_map(|(id, label, v)| {
            v.map(|v| format!("<p>{label}: <span id=\"{id}\">{}</span></p>", esc(&v)))
        })
        .collect();
    let body = format!(
        "<p>Signed in as <span id=\"signed-in-as\">{}</span></p>\
         <p>Name: <span id=\"display-name\">{}</span></p>{contact}\
         <p>Signed in with <span id=\"sign-in-method\">{}</span></p>\
         <p>Current workspace: <span id=\"current-workspace\">{}</span></p>\
         <nav id=\"workspace-switcher\"><h2>Workspaces</h2><ul>{}</ul></nav>\
         <form method=\"post\" action=\"/logout\"><button id=\"sign-out\" type=\"submit\">Sign out</button></form>",
        esc(&user.email),
        esc(&user.display_name()),
        esc(s.method.as_str()),
        esc(current.as_deref().unwrap_or("")),
        list
    );
    Ok(page("Home", &body).into_response())
}

pub async fn welcome_page(State(st): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let c = st.db.conn()?;
    let Some(s) = session::current(&c, &jar)? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = store::user_by_id(&c, s.user_id)?
        .ok_or_else(|| AppError::Internal("session user vanished".into()))?;
    Ok(page("Tell us about you", &welcome_form(&user.email, None)).into_response())
}

fn welcome_form(email: &str, error: Option<&str>) -> String {
    format!(
        "{}<p id=\"name-prompt\">Welcome, {}. Your identity provider did not send your name: please enter your name and birthday.</p>\
         <form method=\"post\" action=\"/welcome\">\
         <label>First name <input name=\"given_name\" required></label>\
         <label>Last name <input name=\"family_name\" required></label>\
         <label>Birthday <input type=\"date\" name=\"birthday\" required></label>\
         <button id=\"save-profile\" type=\"submit\">Continue</button></form>",
        error
            .map(|e| format!("<p id=\"error\" class=\"error\">{}</p>", esc(e)))
            .unwrap_or_default(),
        esc(email)
    )
}

#[derive(Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    birthday: String,
}

pub async fn welcome_submit(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<WelcomeForm>,
) -> Result<Response, AppError> {
    let c = st.db.conn()?;
    let Some(s) = session::current(&c, &jar)? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = store::user_by_id(&c, s.user_id)?
        .ok_or_else(|| AppError::Internal("session user vanished".into()))?;
    let problem = if f.given_name.trim().is_empty() {
        Some("given_name: enter your first name")
    } else if f.family_name.trim().is_empty() {
        Some("family_name: enter your last name")
    } else if time::Date::parse(
        f.birthday.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_err()
    {
        Some("birthday: enter a date as YYYY-MM-DD")
    } else {
        None
    };
    if let Some(p) = problem {
        return Ok((
            StatusCode::BAD_REQUEST,
            page("Tell us about you", &welcome_form(&user.email, Some(p))),
        )
            .into_response());
    }
    store::set_user_names(
        &c,
        user.id,
        Some(f.given_name.trim()),
        Some(f.family_name.trim()),
        Some(f.birthday.trim()),
    )?;
    session::clear_needs_profile(&c, &s.id)?;
    Ok(Redirect::to("/home").into_response())
}

pub async fn reset_page() -> Response {
    page(
        "Reset your password",
        "<form method=\"post\" action=\"/password-reset\"><label>Email address <input type=\"email\" name=\"email\" required></label>\
         <button id=\"send-reset\" type=\"submit\">Send reset link</button></form>",
    )
    .into_response()
}

/// LOGIN-4: only an account that has a password gets a reset link; an account created
/// through SSO or social sign-in has none to reset, so nothing is sent.
pub async fn reset_request(
    State(st): State<Shared>,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    let email = crate::admin_ops::check_email("email", &f.email).map_err(|_| {
        AppError::page(
            StatusCode::BAD_REQUEST,
            "email: enter a valid email address",
        )
    })?;
    let now = st.now();
    st.db.tx(|tx| -> Result<(), AppError> {
        if let Some(u) = store::user_by_email(tx, &email)? {
            if matches!(u.method, Method::Password | Method::Invited) {
                let token = password::random_token();
                tx.execute(
                    "INSERT INTO password_resets(token, user_id, created_at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![token, u.id, now],
                )?;
                tx.execute(
                    "INSERT INTO outbox(recipient, subject, link, sent_at) VALUES (?1, 'Reset your password', ?2, ?3)",
                    rusqlite::params![u.email, format!("{}/password-reset/{token}", st.base()), now],
                )?;
            } else {
                tracing::info!(method = u.method.as_str(), "password reset asked for an account without a password; nothing sent");
            }
        }
        Ok(())
    })?;
    Ok(page(
        "Reset your password",
        &format!(
            "<p id=\"reset-requested\">If {} has a password, a link to reset it is on its way. Accounts created with SSO or a social sign-in such as Google have no password to reset: sign in with the original method.</p>",
            esc(&email)
        ),
    )
    .into_response())
}

pub async fn reset_form(Path(token): Path<String>) -> Response {
    page(
        "Choose a new password",
        &format!(
            "<form method=\"post\" action=\"/password-reset/{}\"><label>New password <input type=\"password\" name=\"password\" required></label>\
             <button id=\"set-password\" type=\"submit\">Set password</button></form>",
            esc(&token)
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    password: Secret,
}

pub async fn reset_submit(
    State(st): State<Shared>,
    Path(token): Path<String>,
    Form(f): Form<NewPassword>,
) -> Result<Response, AppError> {
    if f.password.expose().len() < 8 {
        return Err(AppError::page(
            StatusCode::BAD_REQUEST,
            "password: use at least 8 characters",
        ));
    }
    let hash = password::hash(&f.password).map_err(AppError::Internal)?;
    let now = st.now();
    st.db.tx(|tx| -> Result<(), AppError> {
        let user: Option<i64> = rusqlite::OptionalExtension::optional(tx.query_row(
            "DELETE FROM password_resets WHERE token = ?1 AND created_at > ?2 RETURNING user_id",
            rusqlite::params![token, now - 3600],
            |r| r.get(0),
        ))?;
        let Some(user) = user else {
            return Err(AppError::page(
                StatusCode::BAD_REQUEST,
                "This reset link is invalid or has expired.",
            ));
        };
        store::set_password_hash(tx, user, &hash)?;
        Ok(())
    })?;
    Ok(page("Password changed", "<p id=\"password-changed\">Your password has been changed. <a href=\"/login\">Log in</a></p>").into_response())
}
