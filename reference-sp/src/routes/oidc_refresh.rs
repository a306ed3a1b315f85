//! `GET /sso/oidc/refresh`: refreshes the tokens of the signed-in OIDC session now (what the
//! product does before an access token expires), then shows the home page. A refresh the
//! product refuses (a refreshed ID token about someone else, UserInfo that disagrees) is the
//! SSO error page, and the session keeps the identity it was signed in with.
use crate::error::AppError;
use crate::messages;
use crate::oidc_refresh::{self, Original};
use crate::session;
use crate::state::Shared;
use crate::store::{self, SsoConfig};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

pub async fn refresh(State(st): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let (id, org, tokens, cfg) = {
        let c = st.db.conn()?;
        let Some(s) = session::current(&c, &jar)? else {
            return Ok(Redirect::to("/login").into_response());
        };
        let (Some(org), Some(tokens)) = (s.sso_org.clone(), session::oidc(&c, &s.id)?) else {
            return Err(messages::sso_failed(
                "this session did not come from an OIDC sign-in: there is nothing to refresh",
            )
            .into());
        };
        let cfg = store::sso_config(&c, &org)?;
        (s.id, org, tokens, cfg)
    };
    let fail = |reason: String| AppError::from(messages::sso_failed(reason)).for_org(&org);
    let Some(SsoConfig::Oidc(o)) = cfg else {
        return Err(fail(format!("{org} no longer has an OIDC connection")));
    };
    let Some(refresh_token) = &tokens.refresh_token else {
        return Err(fail("the OP gave this sign-in no refresh token".into()));
    };
    let rp = st.org_rp(&o);
    let original = Original {
        iss: &tokens.iss,
        sub: &tokens.sub,
    };
    let refreshed = oidc_refresh::refresh(&st.http, &rp, refresh_token, &original)
        .await
        .map_err(fail)?;
    {
        let c = st.db.conn()?;
        // An OP that does not rotate refresh tokens answers none: the old one stays good.
        let next = refreshed.refresh_token.as_ref().unwrap_or(refresh_token);
        session::set_refresh_token(&c, &id, Some(next))?;
    }
    tracing::info!(org = %org, "OIDC tokens refreshed");
    Ok(Redirect::to(&format!("/home?workspace={org}")).into_response())
}
