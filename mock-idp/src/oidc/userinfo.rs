//! The userinfo endpoint (Bearer access token from the token endpoint).

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::fault::Fault;
use crate::state::AppState;
use crate::tenant;

use super::claims::{self, ClaimFault, Person};
use super::error::OidcError;
use super::layout::{Endpoint, Layout};
use super::provider::{effective_email, now, record, resolve};
use super::state::AccessGrant;

pub async fn userinfo(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, OidcError> {
    let (shared, layout) = resolve(&app, uri.path(), Endpoint::Userinfo)?;
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
        Ok((claims, grant))
    })();
    match answer {
        Ok((claims, grant)) => {
            let forged = match &grant.forge {
                Some(spec) => Some(forged_userinfo(
                    &mut t, &app, &layout, spec, &grant, &claims,
                )?),
                None => None,
            };
            let mut shown = Value::Object(claims.clone());
            if let Some(answer) = &forged {
                shown = json!({
                    "claims": claims,
                    "forge": grant.forge.as_deref(),
                    "content_type": answer.content_type,
                    "body": if answer.content_type == "application/jwt" {
                        super::jwt::decode_for_record(&answer.body)
                    } else {
                        json!(answer.body)
                    },
                });
            }
            record(
                &mut t,
                "userinfo",
                method.as_str(),
                uri.path(),
                200,
                shown,
                &grant.faults,
            );
            Ok(match forged {
                None => Json(claims).into_response(),
                Some(answer) => {
                    let mut r = (answer.status, answer.body).into_response();
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(answer.content_type),
                    );
                    r
                }
            })
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

/// The userinfo answer a forge asks for (mutated JSON, or a JWT), made under the tenant lock
/// (one signature at most).
fn forged_userinfo(
    t: &mut tenant::Tenant,
    app: &AppState,
    layout: &Layout,
    spec: &super::forge::spec::ForgeSpec,
    grant: &AccessGrant,
    claims: &Map<String, Value>,
) -> Result<super::forge::Answer, OidcError> {
    let keys = super::keys(t)?;
    let forge_keys = super::forge::keys_locked(t)?;
    let client_secret = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == grant.client_id)
        .map(|c| c.client_secret.clone());
    let issuer = Layout::url(app.base(), &layout.issuer);
    let inputs = super::forge::TokenInputs {
        current: &keys.current,
        next: &keys.next,
        forge_keys: &forge_keys,
        client_secret: client_secret.as_ref(),
        base: app.base(),
        tenant: &t.id,
        ctx: super::forge::mutate::Context {
            now: now(t),
            client_id: &grant.client_id,
            issuer: &issuer,
            access_token: None,
            code: None,
        },
    };
    super::forge::userinfo(spec, claims.clone(), &inputs)
}
