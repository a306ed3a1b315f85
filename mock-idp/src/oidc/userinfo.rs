//! The userinfo endpoint (Bearer access token from the token endpoint).

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, header};
use serde_json::{Map, Value, json};

use crate::fault::Fault;
use crate::state::AppState;
use crate::tenant;

use super::claims::{self, ClaimFault, Person};
use super::error::OidcError;
use super::layout::Endpoint;
use super::provider::{effective_email, now, record, resolve};

pub async fn userinfo(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Map<String, Value>>, OidcError> {
    let (shared, _) = resolve(&app, uri.path(), Endpoint::Userinfo)?;
    let mut t = tenant::lock(&shared);
    let answer = (|| {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| OidcError::invalid_token("no Bearer access token"))?;
        let grant = t
            .oidc
            .access_tokens
            .get(token.trim())
            .cloned()
            .ok_or_else(|| OidcError::invalid_token("unknown access token"))?;
        if now(&t) >= grant.expires_at {
            return Err(OidcError::invalid_token("the access token has expired"));
        }
        let user = t
            .user_by_uid(&grant.user_uid)
            .cloned()
            .ok_or_else(|| OidcError::invalid_token("the user of this token no longer exists"))?;
        // The missing-claim faults describe the ID token; userinfo keeps them so an RP that
        // fills gaps from userinfo is visible as such in the log.
        let claim_faults: Vec<ClaimFault> = grant
            .faults
            .contains(&Fault::EmailNotVerified)
            .then_some(ClaimFault::EmailNotVerified)
            .into_iter()
            .collect();
        let email = effective_email(&user.user.email, &grant.faults);
        let person = Person {
            sub: &user.uid,
            email: &email,
            given_name: &user.user.given_name,
            family_name: &user.user.family_name,
            groups: &user.user.groups,
            extra: &user.user.claims,
        };
        let sub_mismatch = grant.faults.contains(&Fault::UserinfoSubMismatch);
        let claims = claims::userinfo(&person, &claim_faults, sub_mismatch)?;
        Ok((claims, grant.faults))
    })();
    match answer {
        Ok((claims, faults)) => {
            record(
                &mut t,
                "userinfo",
                method.as_str(),
                uri.path(),
                200,
                Value::Object(claims.clone()),
                &faults,
            );
            Ok(Json(claims))
        }
        Err(e) => {
            record(
                &mut t,
                "userinfo",
                method.as_str(),
                uri.path(),
                401,
                json!({ "error": e.to_string() }),
                &[],
            );
            Err(e)
        }
    }
}
