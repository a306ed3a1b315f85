//! The steps that drive the mock OpenID provider between sign-ins: rotate its signing key,
//! change what its JWKS and discovery answer, and make it post a back-channel logout token
//! to the target (the answer is kept for `logout_result`).
use crate::scenario::oidc_steps::{FrontchannelArgs, LogoutArgs, ProviderArgs, RotateArgs};
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
        if let Some(b) = a.per_run_jwks_uri {
            // A value no RP could know before this trial's discovery document said it.
            settings.jwks_uri_tag = b.then(|| uuid::Uuid::new_v4().simple().to_string());
            changed.push(format!("per_run_jwks_uri {b}"));
        }
        idp.put_oidc_provider(&tenant.id, &settings).await?;
        Ok(Some(format!("mock OP now: {}", changed.join(", "))))
    }

    /// The user signs out at the mock OP: the browser opens its end_session endpoint (no
    /// parameters), whose page loads every front-channel logout URI in an iframe with `iss`
    /// and `sid` (`sp.frontchannel_logout_url`) and says when all have loaded.
    pub(crate) async fn op_logout(&mut self) -> StepResult {
        // Where a session that survived would show again (the probe's fallback URL).
        if self.on_sp_page().await {
            self.signed_out_from = self.browser().current_url().await.ok();
        }
        let url = self.vars.get("idp.end_session_endpoint")?.to_string();
        self.settle(self.default_timeout).await;
        self.browser().goto(&url).await?;
        self.wait_for("#frontchannel-done", None, self.default_timeout)
            .await?;
        Ok(Some(
            "signed out at the mock OP; its front-channel logout frames loaded".into(),
        ))
    }

    /// The browser loads the target's front-channel logout URL as a page of anyone's could
    /// make it (a top-level navigation, which carries the RP's cookies), with `iss` and `sid`
    /// the OP did not send. A careful RP ends nothing; judged by `session_kept`.
    pub(crate) async fn frontchannel_logout(&mut self, a: &FrontchannelArgs) -> StepResult {
        let base = self.vars.get("sp.frontchannel_logout_url")?.to_string();
        let issuer = self.vars.get("idp.issuer")?.to_string();
        let forged = || format!("forged-{}", uuid::Uuid::new_v4().simple());
        let (iss, sid) = match a {
            FrontchannelArgs::ForgedSid => (issuer, Some(forged())),
            FrontchannelArgs::NoSid => (issuer, None),
            FrontchannelArgs::WrongIss => (
                "https://op.attacker.test/".to_string(),
                Some(self.signed_in_sid().await?.unwrap_or_else(forged)),
            ),
        };
        let mut url = url::Url::parse(&base).map_err(|e| {
            StepFailure::broken(format!(
                "sp.frontchannel_logout_url {base:?} is not a URL: {e}"
            ))
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("iss", &iss);
            if let Some(s) = &sid {
                q.append_pair("sid", s);
            }
        }
        self.settle(self.default_timeout).await;
        self.browser().goto(url.as_str()).await?;
        self.settle(self.default_timeout).await;
        Ok(Some(format!("the browser loaded {url}")))
    }

    /// The `sid` of the last ID token the mock OP issued in this trial, from its record.
    async fn signed_in_sid(&mut self) -> Result<Option<String>, StepFailure> {
        let (idp, tenant) = self.idp()?;
        let answer = idp.oidc_requests(&tenant.id, None).await?;
        Ok(answer
            .exchanges
            .iter()
            .rev()
            .filter(|e| e.kind == "id_token")
            .find_map(|e| e.decoded["claims"]["sid"].as_str().map(str::to_string)))
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
