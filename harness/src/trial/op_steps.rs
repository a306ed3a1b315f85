//! The steps that drive the mock OpenID provider between sign-ins: rotate its signing key,
//! change what its JWKS and discovery answer, and make it post a back-channel logout token
//! to the target (the answer is kept for `logout_result`).
use crate::scenario::oidc_steps::{LogoutArgs, ProviderArgs, RotateArgs};
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::{StepFailure, StepResult};

impl TrialCtx<'_> {
    pub(crate) async fn rotate_keys(&mut self, a: &RotateArgs) -> StepResult {
        let (idp, tenant) = self.idp()?;
        let body = proto::oidc_forge::RotateBody {
            old: a.old,
            new: a.new,
        };
        let r = idp.rotate_oidc_keys(&tenant.id, &body).await?;
        let kids: Vec<String> = r
            .jwks_kids
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| k.to_string())
            })
            .collect();
        Ok(Some(format!(
            "signing key {} -> {}; the JWKS lists {}",
            r.previous_kid,
            r.current_kid,
            kids.join(", ")
        )))
    }

    pub(crate) async fn oidc_provider(&mut self, a: &ProviderArgs) -> StepResult {
        let (idp, tenant) = self.idp()?;
        let mut settings = idp.oidc_provider(&tenant.id).await?;
        let mut changed = Vec::new();
        if let Some(s) = a.jwks_status {
            settings.jwks_status = s;
            changed.push(format!("jwks_status {s}"));
        }
        if let Some(b) = a.jwks_unreachable {
            settings.jwks_unreachable = b;
            changed.push(format!("jwks_unreachable {b}"));
        }
        if let Some(b) = a.jwks_kid_collision {
            settings.jwks_kid_collision = b;
            changed.push(format!("jwks_kid_collision {b}"));
        }
        if let Some(b) = a.iss_parameter_supported {
            settings.iss_parameter_supported = b;
            changed.push(format!("iss_parameter_supported {b}"));
        }
        if let Some(b) = a.single_key {
            settings.single_key = b;
            changed.push(format!("single_key {b}"));
        }
        idp.put_oidc_provider(&tenant.id, &settings).await?;
        Ok(Some(format!("mock OP now: {}", changed.join(", "))))
    }

    /// The mock OP signs a logout token (genuine or broken, as the variant says) for the
    /// trial's client and posts it to `{sp.backchannel_logout_url}`. What the RP answered is
    /// judged by `logout_result`; an RP that did not answer at all is judged there too, so
    /// this step fails only when the mock OP could not send.
    pub(crate) async fn backchannel_logout(&mut self, a: &LogoutArgs) -> StepResult {
        let url = self
            .vars
            .get("sp.backchannel_logout_url")
            .map(str::to_string)
            .map_err(|_| {
                StepFailure::broken(format!(
                    "target {} declares no sp.backchannel_logout_url (where the RP takes \
                     back-channel logout tokens)",
                    self.target.name
                ))
            })?;
        let client_id = self
            .vars
            .get("idp.client_id")
            .map(str::to_string)
            .map_err(|_| {
                StepFailure::broken(
                    "backchannel_logout needs the trial's OIDC client: run `connect: oidc` \
                     (or `configure_sso: oidc`) first",
                )
            })?;
        let user = self.render_opt(a.user.as_ref(), "{user.email}")?;
        let sid = a.sid.as_ref().map(|t| self.render(t)).transpose()?;
        let req = proto::oidc_forge::LogoutRequest {
            url: url.clone(),
            client_id,
            variant: a.variant,
            user: Some(user.clone()),
            sub: None,
            sid,
            claims: Vec::new(),
            jws: None,
        };
        let (idp, tenant) = self.idp()?;
        let answer = idp.backchannel_logout(&tenant.id, &req).await?;
        let variant = serde_json::to_value(a.variant)?;
        let said = match (answer.status, &answer.error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(e)) => format!("no answer ({e})"),
            (None, None) => "no answer".to_string(),
        };
        self.last_logout = Some(answer);
        Ok(Some(format!(
            "logout token ({}) for {user} posted to {url}: the RP answered {said}",
            variant.as_str().unwrap_or_default()
        )))
    }
}
