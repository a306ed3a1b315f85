//! Browser sessions: the `refsp_session` cookie names a row in `sessions` (a name that never
//! collides with the mock IdP's `mockidp_session` on the same host).
use crate::error::AppError;
use crate::store::Method;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use rusqlite::{Connection, OptionalExtension, params};

pub const COOKIE: &str = "refsp_session";

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub method: Method,
    /// The organisation whose SSO signed this session in (ENF: only it counts as SSO).
    pub sso_org: Option<String>,
    pub needs_profile: bool,
    /// When the owner last re-entered their password (CFG-4).
    pub reauth_at: Option<i64>,
    /// When this sign-in happened (a fresh sign-in counts as re-authentication).
    pub created_at: i64,
}

pub fn current(c: &Connection, jar: &CookieJar) -> Result<Option<Session>, AppError> {
    let Some(cookie) = jar.get(COOKIE) else {
        return Ok(None);
    };
    let row = c
        .query_row(
            "SELECT id, user_id, method, sso_org, needs_profile, reauth_at, created_at FROM sessions WHERE id = ?1 AND user_id IS NOT NULL",
            [cookie.value()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            },
        )
        .optional()?;
    Ok(row.and_then(
        |(id, user_id, method, sso_org, needs_profile, reauth_at, created_at)| {
            Some(Session {
                id,
                user_id,
                method: Method::parse(&method)?,
                sso_org,
                needs_profile,
                reauth_at,
                created_at,
            })
        },
    ))
}

/// Signs a user in: a fresh session ID (never reuse one that existed before sign-in).
pub fn create(
    c: &Connection,
    jar: CookieJar,
    user_id: i64,
    method: Method,
    sso_org: Option<&str>,
    needs_profile: bool,
    now: i64,
) -> Result<CookieJar, AppError> {
    let id = crate::password::random_token();
    c.execute(
        "INSERT INTO sessions(id, user_id, method, sso_org, needs_profile, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, user_id, method.as_str(), sso_org, needs_profile, now],
    )?;
    let mut cookie = Cookie::new(COOKIE, id);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    Ok(jar.add(cookie))
}

/// Records what a LogoutRequest for the session in `jar` will name (SAML single logout).
pub fn set_saml_subject(
    c: &Connection,
    jar: &CookieJar,
    name_id: Option<&str>,
    session_index: Option<&str>,
) -> Result<(), AppError> {
    if let Some(cookie) = jar.get(COOKIE) {
        c.execute(
            "UPDATE sessions SET saml_name_id = ?1, saml_session_index = ?2 WHERE id = ?3",
            params![name_id, session_index, cookie.value()],
        )?;
    }
    Ok(())
}

/// What an OIDC sign-in leaves for a later refresh: the refresh token (if the OP gave one)
/// and the identity the ID token named.
#[derive(Debug, Clone)]
pub struct OidcTokens {
    pub refresh_token: Option<crate::secret::Secret>,
    pub iss: String,
    pub sub: String,
}

/// Keeps `tokens` with the session in `jar` (the one just created).
pub fn set_oidc_tokens(
    c: &Connection,
    jar: &CookieJar,
    tokens: &OidcTokens,
) -> Result<(), AppError> {
    if let Some(cookie) = jar.get(COOKIE) {
        c.execute(
            "UPDATE sessions SET oidc_refresh_token = ?1, oidc_iss = ?2, oidc_sub = ?3 WHERE id = ?4",
            params![
                tokens.refresh_token.as_ref().map(|s| s.expose().to_string()),
                tokens.iss,
                tokens.sub,
                cookie.value()
            ],
        )?;
    }
    Ok(())
}

/// The OIDC tokens of the session `id`, if it came from an OIDC sign-in.
pub fn oidc(c: &Connection, id: &str) -> Result<Option<OidcTokens>, AppError> {
    let row = c
        .query_row(
            "SELECT oidc_refresh_token, oidc_iss, oidc_sub FROM sessions WHERE id = ?1 AND oidc_iss IS NOT NULL AND oidc_sub IS NOT NULL",
            [id],
            |r| {
                Ok(OidcTokens {
                    refresh_token: r
                        .get::<_, Option<String>>(0)?
                        .map(crate::secret::Secret::new),
                    iss: r.get(1)?,
                    sub: r.get(2)?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

/// The next refresh token of the session `id` (refresh tokens rotate).
pub fn set_refresh_token(
    c: &Connection,
    id: &str,
    token: Option<&crate::secret::Secret>,
) -> Result<(), AppError> {
    c.execute(
        "UPDATE sessions SET oidc_refresh_token = ?1 WHERE id = ?2",
        params![token.map(|s| s.expose().to_string()), id],
    )?;
    Ok(())
}

/// The SAML subject of the session in `jar`: (sso_org, NameID, SessionIndex).
pub fn saml_subject(
    c: &Connection,
    jar: &CookieJar,
) -> Result<Option<(String, String, Option<String>)>, AppError> {
    let Some(cookie) = jar.get(COOKIE) else {
        return Ok(None);
    };
    Ok(c.query_row(
        "SELECT sso_org, saml_name_id, saml_session_index FROM sessions WHERE id = ?1 AND sso_org IS NOT NULL AND saml_name_id IS NOT NULL",
        [cookie.value()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?)
}

/// What an OIDC sign-in leaves with its session.
pub struct OidcFacts<'a> {
    /// The ID token: sign-out sends it to the OP as `id_token_hint` (RP-initiated logout).
    pub id_token: &'a str,
    /// The contact details the OP released (the home page shows them).
    pub phone: Option<&'a str>,
    pub address: Option<&'a str>,
    /// The OP's session id (`sid` of the ID token): front-channel logout names it.
    pub sid: Option<&'a str>,
}

/// Keeps `facts` with the session in `jar`.
pub fn set_oidc(c: &Connection, jar: &CookieJar, facts: &OidcFacts<'_>) -> Result<(), AppError> {
    if let Some(cookie) = jar.get(COOKIE) {
        c.execute(
            "UPDATE sessions SET oidc_id_token = ?1, oidc_phone = ?2, oidc_address = ?3, oidc_sid = ?4 WHERE id = ?5",
            params![facts.id_token, facts.phone, facts.address, facts.sid, cookie.value()],
        )?;
    }
    Ok(())
}

/// The phone number and address the OIDC sign-in of the session `id` released.
pub fn oidc_contact(
    c: &Connection,
    id: &str,
) -> Result<(Option<String>, Option<String>), AppError> {
    Ok(c.query_row(
        "SELECT oidc_phone, oidc_address FROM sessions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .unwrap_or((None, None)))
}

/// The organisation and ID token of the session in `jar`, when an OIDC sign-in made it.
pub fn oidc_subject(c: &Connection, jar: &CookieJar) -> Result<Option<(String, String)>, AppError> {
    let Some(cookie) = jar.get(COOKIE) else {
        return Ok(None);
    };
    Ok(c.query_row(
        "SELECT sso_org, oidc_id_token FROM sessions WHERE id = ?1 AND sso_org IS NOT NULL AND oidc_id_token IS NOT NULL",
        [cookie.value()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// Ends every session of `org` whose SAML subject is `name_id` (and, when given, one of
/// `session_indexes`); returns how many ended.
pub fn end_saml_sessions(
    c: &Connection,
    org: &str,
    name_id: &str,
    session_indexes: &[String],
) -> Result<usize, AppError> {
    let mut n = 0;
    if session_indexes.is_empty() {
        n += c.execute(
            "DELETE FROM sessions WHERE sso_org = ?1 AND saml_name_id = ?2",
            params![org, name_id],
        )?;
    }
    for si in session_indexes {
        n += c.execute(
            "DELETE FROM sessions WHERE sso_org = ?1 AND saml_name_id = ?2 AND saml_session_index = ?3",
            params![org, name_id, si],
        )?;
    }
    Ok(n)
}

pub fn destroy(c: &Connection, jar: CookieJar) -> Result<CookieJar, AppError> {
    if let Some(cookie) = jar.get(COOKIE) {
        c.execute("DELETE FROM sessions WHERE id = ?1", [cookie.value()])?;
    }
    let mut gone = Cookie::from(COOKIE);
    gone.set_path("/");
    Ok(jar.remove(gone))
}

pub fn set_reauth(c: &Connection, id: &str, now: i64) -> Result<(), AppError> {
    c.execute(
        "UPDATE sessions SET reauth_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

pub fn clear_needs_profile(c: &Connection, id: &str) -> Result<(), AppError> {
    c.execute("UPDATE sessions SET needs_profile = 0 WHERE id = ?1", [id])?;
    Ok(())
}
