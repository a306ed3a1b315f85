//! The token endpoint's `refresh_token` grant (RFC 6749 6, OIDC Core 12): a new access token,
//! a new refresh token (the presented one is spent), and a new ID token for the same user and
//! client. OIDC Core 12.2 says the refreshed ID token's iss and sub must be the original's;
//! the forge's `refresh_claims` break exactly that (or anything else) on purpose.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;

use crate::fault::Fault;
use crate::tenant::{self, Tenant};

use super::claims::{self, Context, Person};
use super::error::OidcError;
use super::forge::{self, spec::ForgeSpec};
use super::grant::{
    ClientAuth, Facts, Issued, Signing, TokenResponse, authenticate, deliverable, encryption_of,
    sign_id_token,
};
use super::layout::Layout;
use super::provider::{effective_email, keys, now};
use super::state::{ACCESS_TOKEN_SECONDS, AccessGrant, RefreshGrant, new_secret};
use crate::state::AppState;

type Failure = (OidcError, Vec<Fault>);

pub(super) async fn issue(
    app: &AppState,
    shared: &Mutex<Tenant>,
    layout: &Layout,
    (client_id, secret, auth): (String, String, ClientAuth),
    form: &HashMap<String, String>,
) -> Result<Issued, Failure> {
    let no_faults = |e: OidcError| (e, Vec::new());
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| no_faults(OidcError::invalid_request("refresh_token is missing")))?;
    let (grant, user, keys, now, client_secret, forge_keys, encryption) = {
        let mut t = tenant::lock(shared);
        let client_secret = authenticate(&t, &client_id, &secret).map_err(no_faults)?;
        let encryption = encryption_of(&t, &client_id);
        let grant = t.oidc.refresh_tokens.take(presented).ok_or_else(|| {
            no_faults(OidcError::invalid_grant(
                "the refresh token is unknown or was already used",
            ))
        })?;
        let fail = |e: OidcError| (e, grant.faults.clone());
        if grant.client_id != client_id {
            return Err(fail(OidcError::invalid_grant(
                "the refresh token was issued to another client",
            )));
        }
        // RFC 6749 6: a narrower scope may be asked for, never a wider one.
        if let Some(asked) = form.get("scope")
            && let Some(extra) = asked
                .split(' ')
                .filter(|s| !s.is_empty())
                .find(|s| !grant.scopes.iter().any(|g| g == s))
        {
            return Err(fail(OidcError::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("scope '{extra}' was not granted to this refresh token"),
            )));
        }
        let user = t.user_by_uid(&grant.user_uid).cloned().ok_or_else(|| {
            fail(OidcError::invalid_grant(
                "the user of this refresh token no longer exists",
            ))
        })?;
        let keys = keys(&mut t).map_err(fail)?;
        let forge_keys = match refresh_forge(grant.forge.as_deref()) {
            Some(_) => Some(forge::keys_locked(&mut t).map_err(fail)?),
            None => None,
        };
        (
            grant,
            user,
            keys,
            now(&t),
            client_secret,
            forge_keys,
            encryption,
        )
    };
    let active = grant.faults.clone();
    let fail = |e: OidcError| (e, active.clone());
    let issuer = Layout::url(app.base(), &layout.issuer);
    let tenant_id = layout
        .issuer
        .strip_prefix("/t/")
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string();
    let email = effective_email(&user.user.email, &active);
    let person = Person {
        sub: &user.uid,
        email: &email,
        given_name: &user.user.given_name,
        family_name: &user.user.family_name,
        groups: &user.user.groups,
        extra: &user.user.claims,
    };
    // No nonce (OIDC Core 12.2: a refreshed ID token need not carry one) and the original
    // auth_time; the sign-in's claim faults shaped the sign-in, not the refresh.
    let ctx = Context {
        issuer: &issuer,
        v1_issuer: None,
        client_id: &client_id,
        nonce: None,
        now,
        auth_time: grant.auth_time,
    };
    let claims = claims::id_token(&person, &ctx, &[]).map_err(|e| fail(e.into()))?;
    let key = if active.contains(&Fault::KeyRotation) {
        &keys.next
    } else {
        &keys.current
    };
    let access_token = new_secret();
    let forged = refresh_forge(grant.forge.as_deref());
    let (id_token, payload_text) = sign_id_token(
        forged.as_ref(),
        claims,
        Signing {
            key,
            next: &keys.next,
            forge_keys: forge_keys.as_deref(),
            client_secret: &client_secret,
            base: app.base(),
            tenant: &tenant_id,
            ctx: forge::mutate::Context {
                now,
                client_id: &client_id,
                issuer: &issuer,
                access_token: Some(access_token.expose()),
                code: None,
            },
            faults: &[],
        },
    )
    .map_err(fail)?;
    // A refreshed token is encrypted genuinely: the sign-in's `jwe` shaped the sign-in.
    let (delivered, jwe) = deliverable(&id_token, encryption.as_ref(), None)
        .await
        .map_err(fail)?;
    let refresh_token = new_secret();
    {
        let mut t = tenant::lock(shared);
        t.oidc.access_tokens.insert(
            &access_token,
            AccessGrant {
                client_id: client_id.clone(),
                user_uid: user.uid.clone(),
                expires_at: now.saturating_add(ACCESS_TOKEN_SECONDS),
                faults: active.clone(),
                forge: grant.forge.clone(),
                scopes: grant.scopes.clone(),
                refreshed: true,
            },
        );
        t.oidc
            .refresh_tokens
            .insert(&refresh_token, RefreshGrant { ..grant.clone() });
    }
    let response = TokenResponse {
        access_token: access_token.expose().to_string(),
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        id_token: delivered,
        scope: grant.scopes.join(" "),
        refresh_token: Some(refresh_token.expose().to_string()),
    };
    let answer = forge::Answer {
        status: StatusCode::OK,
        body: serde_json::to_string(&response).map_err(|e| fail(e.into()))?,
        content_type: "application/json",
    };
    Ok(Issued {
        answer,
        auth,
        id_token: Some(id_token),
        faults: active,
        facts: Facts {
            client_id,
            pkce: None,
            nonce_sent: false,
        },
        forge: forged,
        payload_text,
        jwe,
    })
}

/// The forge of a refreshed ID token: only the sign-in forge's `refresh_claims`, applied to
/// a genuine token (the sign-in's header, key and claim forgeries shaped that sign-in).
fn refresh_forge(forge: Option<&ForgeSpec>) -> Option<ForgeSpec> {
    let ops = &forge?.refresh_claims;
    (!ops.is_empty()).then(|| ForgeSpec {
        claims: ops.clone(),
        ..ForgeSpec::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::oidc_forge::{ClaimOp, IssuerVariant};

    #[test]
    fn only_refresh_claims_shape_the_refreshed_token() {
        assert!(refresh_forge(None).is_none());
        let sign_in_only = ForgeSpec {
            header: proto::oidc_forge::HeaderSpec {
                alg: Some("none".into()),
                ..Default::default()
            },
            ..ForgeSpec::default()
        };
        assert!(refresh_forge(Some(&sign_in_only)).is_none());
        let with = ForgeSpec {
            refresh_claims: vec![ClaimOp::Issuer {
                variant: IssuerVariant::Other,
            }],
            ..sign_in_only
        };
        let f = refresh_forge(Some(&with)).unwrap();
        assert_eq!(f.claims, with.refresh_claims);
        assert!(
            f.header.alg.is_none(),
            "the refreshed token is signed genuinely"
        );
    }
}
