//! The steps that drive the mock OpenID provider between sign-ins: rotate its signing key,
//! change what its JWKS and discovery answer, and make it post a back-channel logout token
//! to the target (the answer is kept for `logout_result`); and `use_idp`, a second OP (the
//! attacker's) that the same RP trusts beside the trial's own.
use proto::idp::TenantInfo;

use crate::scenario::oidc_steps::{
    FrontchannelArgs, LogoutArgs, ProviderArgs, RotateArgs, UseIdpArgs,
};
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
        if let Some(m) = &a.mix_up {
            let to = proto::oidc_forge::MixUp {
                authorization_endpoint: self.render(&m.authorization_endpoint)?,
                client_id: self.render(&m.client_id)?,
            };
            changed.push(format!(
                "authorization requests bounced to {} as client {}",
                to.authorization_endpoint, to.client_id
            ));
            settings.mix_up = Some(to);
        }
        if let Some(t) = &a.endpoints_at {
            let base = self.render(t)?;
            changed.push(format!("token and UserInfo endpoints at {base}"));
            settings.endpoints_at = Some(base);
        }
        if let Some(b) = a.single_key {
            settings.single_key = b;
            changed.push(format!("single_key {b}"));
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

/// The `{attacker.*}` placeholders: empty until `use_idp: attacker` (so a target's env can
/// name them in every trial), then the second OP's values.
pub const ATTACKER_VARS: &[&str] = &[
    "attacker.issuer",
    "attacker.discovery_url",
    "attacker.authorization_endpoint",
    "attacker.token_endpoint",
    "attacker.client_id",
    "attacker.client_secret",
];

/// Fixed subjects for the trial's users, the same at every OP of the trial: `user-0` for the
/// first, `user-1`... An attacker's OP can then sign a token with the victim's `sub` at the
/// honest one (OIDC-RP-59), and a scenario can name it (`claims: {sub: user-0}`). Tenants are
/// per trial, so fixed names never meet.
pub fn share_subjects(users: &mut [proto::idp::User]) {
    for (i, u) in users.iter_mut().enumerate() {
        u.uid = Some(format!("user-{i}"));
    }
}

/// The `{idp.*}` (or `{attacker.*}`) OIDC placeholders of a tenant.
fn set_op_vars(vars: &mut crate::input::template::Vars, prefix: &str, t: &TenantInfo) {
    vars.set(&format!("{prefix}.tenant"), &t.id);
    if let Some(oidc) = &t.oidc {
        for (k, v) in [
            ("issuer", &oidc.issuer),
            ("discovery_url", &oidc.discovery_url),
            ("authorization_endpoint", &oidc.authorization_endpoint),
            ("token_endpoint", &oidc.token_endpoint),
        ] {
            vars.set(&format!("{prefix}.{k}"), v);
        }
    }
}

impl TrialCtx<'_> {
    /// `use_idp`: makes NAME the OP later steps act on; `attacker` is created on first use
    /// (same profile and users, same subjects as the main OP).
    pub(crate) async fn use_idp(&mut self, a: &UseIdpArgs) -> StepResult {
        let mut note = Vec::new();
        if a.name != self.idp_name {
            let known = self.other_idps.iter().position(|(n, _)| *n == a.name);
            let next = match known {
                Some(i) => self.other_idps.remove(i).1,
                None => {
                    let note_made = self.make_attacker_op().await?;
                    note.push(note_made.1);
                    note_made.0
                }
            };
            let previous = self.tenant.replace(next);
            if let Some(p) = previous {
                self.other_idps.push((self.idp_name.clone(), p));
            }
            self.idp_name = a.name.clone();
            self.refresh_idp_vars();
            note.push(format!("steps now act on the {} OP", a.name));
        }
        if let Some(t) = &a.user {
            let email = self.render(t)?;
            self.use_user(&email)?;
            note.push(format!("{{user.*}} is now {email}"));
        }
        Ok(Some(note.join("; ")))
    }

    async fn make_attacker_op(&mut self) -> Result<(TenantInfo, String), StepFailure> {
        let idp = self.idp()?.0;
        let mut users: Vec<proto::idp::User> =
            self.users.iter().map(|(u, pw)| u.wire(pw)).collect();
        share_subjects(&mut users);
        let spec = proto::idp::TenantSpec {
            id: Some(format!("a-{}", self.trial_id)),
            profile: self.scenario.idp.profile,
            users,
            ..proto::idp::TenantSpec::default()
        };
        let t = idp.create_tenant(&spec).await?;
        let note = format!("made the attacker OP (tenant {})", t.id);
        set_op_vars(&mut self.vars, "attacker", &t);
        Ok((t, note))
    }

    /// The `{idp.*}` placeholders follow the current OP, client included.
    fn refresh_idp_vars(&mut self) {
        self.vars.set("idp.name", self.idp_name.clone());
        if let Some(t) = self.tenant.clone() {
            set_op_vars(&mut self.vars, "idp", &t);
            // `{main.*}` and `{attacker.*}` name each OP whichever is current.
            set_op_vars(&mut self.vars, &self.idp_name.clone(), &t);
        }
        for (name, t) in self.other_idps.clone() {
            set_op_vars(&mut self.vars, &name, &t);
        }
        for (name, (id, secret)) in self.idp_clients.clone() {
            self.vars.set(&format!("{name}.client_id"), id);
            self.vars.set(&format!("{name}.client_secret"), secret);
        }
        let client = self
            .idp_clients
            .iter()
            .find(|(n, _)| *n == self.idp_name)
            .map(|(_, c)| c.clone());
        let (id, secret) = client.unwrap_or_default();
        self.vars.set("idp.client_id", id);
        self.vars.set("idp.client_secret", secret);
    }

    /// Called by `configure_sso: oidc`: the client this RP has at the current OP.
    pub(crate) fn remember_client(&mut self, id: &str, secret: &str) {
        self.idp_clients.retain(|(n, _)| *n != self.idp_name);
        self.idp_clients
            .push((self.idp_name.clone(), (id.to_string(), secret.to_string())));
        self.vars.set(&format!("{}.client_id", self.idp_name), id);
        self.vars
            .set(&format!("{}.client_secret", self.idp_name), secret);
    }

    /// Makes the main OP current again (the trial's evidence and clean-up are about it).
    pub fn restore_main_idp(&mut self) {
        if self.idp_name == "main" {
            return;
        }
        if let Some(i) = self.other_idps.iter().position(|(n, _)| n == "main") {
            let main = self.other_idps.remove(i).1;
            if let Some(cur) = self.tenant.replace(main) {
                self.other_idps.push((self.idp_name.clone(), cur));
            }
            self.idp_name = "main".into();
            self.refresh_idp_vars();
        }
    }

    /// `{user.*}` names this scenario user from now on.
    fn use_user(&mut self, email: &str) -> Result<(), StepFailure> {
        let (u, pw) = self
            .users
            .iter()
            .find(|(u, _)| u.email == email)
            .cloned()
            .ok_or_else(|| {
                StepFailure::broken(format!(
                    "use_idp: {email} is not one of the scenario's idp users"
                ))
            })?;
        let domain = u.email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        self.vars.set("user.email", &u.email);
        self.vars.set("user.domain", domain);
        self.vars.set("user.password", pw.expose());
        self.vars
            .set("user.given_name", u.given_name.clone().unwrap_or_default());
        self.vars.set(
            "user.family_name",
            u.family_name.clone().unwrap_or_default(),
        );
        Ok(())
    }
}
