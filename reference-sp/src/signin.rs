//! Who may sign in, and into which workspaces: the rules shared by password, social and SSO
//! sign-in (ENF-*, LOGIN-5, ATTR-3/6/7, ERR-1/2/3/5).
use crate::error::AppError;
use crate::messages;
use crate::saml::validate::Identity;
use crate::store::{self, Method, Org, Role, User};
use rusqlite::Connection;

/// ENF-2/3/4: a workspace refuses a non-SSO session when it enforces SSO and the user's
/// email domain is verified there; a session signed in by that workspace's SSO is let in.
pub fn blocked_by_enforcement(
    c: &Connection,
    org: &Org,
    user: &User,
    sso_org: Option<&str>,
) -> Result<bool, AppError> {
    if !(org.enforced && org.workspace_sso) || sso_org == Some(org.id.as_str()) {
        return Ok(false);
    }
    Ok(store::is_domain_verified_in(c, &org.id, user.domain())?)
}

/// The workspaces this session may enter, in switcher order.
pub fn accessible_workspaces(
    c: &Connection,
    user: &User,
    sso_org: Option<&str>,
) -> Result<Vec<(Org, Role)>, AppError> {
    let mut out = Vec::new();
    for (org, role) in store::orgs_of_user(c, user.id)? {
        if !blocked_by_enforcement(c, &org, user, sso_org)? {
            out.push((org, role));
        }
    }
    Ok(out)
}

/// A non-SSO sign-in (password or social) is refused when every workspace of the user
/// requires SSO for them (ERR-3 `require_sso_login`).
pub fn check_non_sso_allowed(c: &Connection, user: &User) -> Result<(), AppError> {
    let all = store::orgs_of_user(c, user.id)?;
    if all.is_empty() {
        return Ok(());
    }
    if accessible_workspaces(c, user, None)?.is_empty() {
        return Err(messages::require_sso().into());
    }
    Ok(())
}

/// SSO sign-in into `org`: maps the IdP's identity to a user (ERR-1, ERR-5, ATTR-6/7),
/// records the profile, takes the names (ATTR-2). Returns the user and whether they must
/// still give a name and birthday (ATTR-3).
pub fn resolve_sso_user(
    c: &Connection,
    org: &str,
    id: &Identity,
) -> Result<(User, bool), AppError> {
    let user = match store::sso_profile(c, org, &id.subject)? {
        Some(profile) if !profile.email.eq_ignore_ascii_case(&id.email) => {
            return Err(messages::no_accessible_workspaces(format!(
                "the IdP now signs this person in as {}, but the account is still tied to the SAML profile of {}",
                id.email, profile.email
            ))
            .into());
        }
        Some(profile) => store::user_by_id(c, profile.user_id)?,
        None => {
            let user = store::user_by_email(c, &id.email)?;
            if let Some(user) = &user {
                if store::role_in(c, org, user.id)?.is_some() {
                    store::insert_sso_profile(c, org, &id.subject, &id.email, user.id)?;
                }
            }
            user
        }
    };
    let Some(user) = user else {
        return Err(messages::not_in_workspace(&id.email).into());
    };
    if store::role_in(c, org, user.id)?.is_none() {
        return Err(messages::not_in_workspace(&id.email).into());
    }
    if user.method == Method::Invited {
        store::set_user_method(c, user.id, Method::Sso)?;
    }
    store::set_user_names(
        c,
        user.id,
        id.given_name.as_deref(),
        id.family_name.as_deref(),
        None,
    )?;
    let user = store::user_by_id(c, user.id)?
        .ok_or_else(|| AppError::Internal("user vanished during sign-in".into()))?;
    let needs_profile = user.given_name.is_none() && user.family_name.is_none();
    Ok((user, needs_profile))
}

/// Social sign-in (Google-like): signs up a new user, or signs in one created that way.
pub fn resolve_social_user(
    c: &Connection,
    email: &str,
    given: Option<&str>,
    family: Option<&str>,
    now: i64,
) -> Result<User, AppError> {
    let user = match store::user_by_email(c, email)? {
        None => {
            let id = store::insert_user(
                c,
                &store::NewUser {
                    email,
                    method: Method::Social,
                    password_hash: None,
                    given_name: given,
                    family_name: family,
                },
                now,
            )?;
            store::user_by_id(c, id)?
                .ok_or_else(|| AppError::Internal("user vanished during sign-up".into()))?
        }
        Some(u) if u.method == Method::Invited => {
            store::set_user_method(c, u.id, Method::Social)?;
            store::set_user_names(c, u.id, given, family, None)?;
            u
        }
        Some(u) if u.method == Method::Social => u,
        Some(u) => return Err(messages::method_mismatch(&u.email, "Google").into()),
    };
    check_non_sso_allowed(c, &user)?;
    Ok(user)
}
