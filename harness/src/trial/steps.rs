//! One function per step kind. Every wait polls with a timeout; nothing sleeps blindly.
use std::time::{Duration, Instant};

use serde_json::json;

use crate::scenario::schema::*;
use crate::secret::Secret;
use crate::target::admin::MANUAL_NOTE;
use crate::trial::ctx::{TrialCtx, check_refusal};
use crate::trial::failure::{Diff, FailureKind, StepFailure, StepResult};

/// Sets a form control's value the way a user's input leaves it: focused, value set through
/// the element type's own setter, `input` and `change` fired. Answers "ok" or why not.
/// Finds the element itself (the first match, as WebDriver's find) so that a ready page costs
/// one round trip; answers "missing" or "hidden" while the caller should keep waiting.
/// How long a page off the IdP must stay loaded, with no navigation under way, before
/// `idp_login: {if_shown: true}` takes it as the SP's final answer.
const SETTLED_OFF_IDP: Duration = Duration::from_millis(1500);

const FILL_SCRIPT: &str = r#"
const [selector, value] = arguments;
let el;
try { el = document.querySelector(selector); } catch (e) { return "invalid selector: " + e.message; }
if (!el) { return "missing"; }
if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === "hidden") { return "hidden"; }
if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) {
  return "not an input or textarea: <" + el.tagName.toLowerCase() + ">";
}
if (el.disabled || el.readOnly) { return "the field is disabled or read-only"; }
el.focus();
const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
el.dispatchEvent(new Event("input", { bubbles: true }));
el.dispatchEvent(new Event("change", { bubbles: true }));
return "ok";
"#;

fn css_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl TrialCtx<'_> {
    /// The browser's HTTP timeline is not drained here: a drain is a WebDriver round trip
    /// per step, and each event carries its own time. It is drained where it is read (status
    /// expectations, the IdP login wait), before switching browsers, and when the trial ends.
    pub async fn run_step(&mut self, step: &Step) -> StepResult {
        self.dispatch(step).await
    }

    async fn dispatch(&mut self, step: &Step) -> StepResult {
        // A `repeat` is judged step by step, as each inner step is dispatched.
        if !matches!(step, Step::Repeat(_)) {
            if let Some(r) = self.on_staging(step).await {
                return r;
            }
        }
        match step {
            Step::Open(url) => {
                let url = self.render(url)?;
                // A navigation an earlier step started must not land after this one.
                self.settle(self.default_timeout).await;
                let started = Instant::now();
                self.browser().goto(&url).await?;
                self.settle(self.default_timeout).await;
                self.last_answer = Some(started.elapsed());
                Ok(None)
            }
            Step::Click(a) => {
                let sel = self.render(&a.selector)?;
                let t = self.timeout(a.timeout_ms);
                self.mark_page().await;
                let started = Instant::now();
                self.browser().click_when_ready(&sel, t).await?;
                // WebDriver answers a click before the form post it started is answered.
                self.after_action(self.default_timeout).await;
                self.last_answer = Some(started.elapsed());
                Ok(None)
            }
            Step::Fill(a) => {
                let sel = self.render(&a.selector)?;
                let value = self.render(&a.value)?;
                if a.value.has_secret() {
                    self.secrets.push(value.clone());
                }
                self.fill(&sel, &value).await?;
                Ok(None)
            }
            Step::Select(a) => {
                let sel = self.render(&a.selector)?;
                let el = {
                    let t = self.default_timeout;
                    self.browser().wait_element(&sel, t)
                }
                .await?;
                match (&a.value, &a.label) {
                    (Some(v), _) => el.select_by_value(&self.render(v)?).await,
                    (None, Some(l)) => el.select_by_label(&self.render(l)?).await,
                    (None, None) => return Err("select needs a value or a label".into()),
                }
                .map_err(|e| format!("select in {sel:?}: {e}"))?;
                Ok(None)
            }
            Step::Submit(sel) => {
                let sel = self.render(sel)?;
                let el = {
                    let t = self.default_timeout;
                    self.browser().wait_element(&sel, t)
                }
                .await?;
                let tag = el.tag_name().await.unwrap_or_default();
                self.mark_page().await;
                let started = Instant::now();
                if tag.eq_ignore_ascii_case("form") {
                    let arg = serde_json::to_value(&el)?;
                    self.browser()
                        .execute("arguments[0].requestSubmit();", vec![arg])
                        .await
                        .map_err(|e| StepFailure::broken(format!("submit {sel:?}: {e}")))?;
                } else {
                    el.click()
                        .await
                        .map_err(|e| StepFailure::broken(format!("submit {sel:?}: {e}")))?;
                }
                self.after_action(self.default_timeout).await;
                self.last_answer = Some(started.elapsed());
                Ok(None)
            }
            Step::WaitFor(a) => {
                let sel = self.render(&a.selector)?;
                let want = a.text.as_ref().map(|t| self.render(t)).transpose()?;
                self.wait_for(&sel, want.as_deref(), self.timeout(a.timeout_ms))
                    .await?;
                Ok(None)
            }
            Step::IdpLogin(a) => self.idp_login(a).await,
            Step::Tile(a) => self.tile(a).await,
            Step::Expect(e) => crate::trial::expect::check(self, e).await,
            Step::Screenshot(a) => {
                let name = a
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("step {}", self.step_index.unwrap_or(0) + 1));
                self.capture(&name).await?;
                Ok(None)
            }
            Step::CreateOrg(a) => self.create_org(a).await.map(|_| None),
            Step::AddUser(a) => self.add_user(a).await,
            Step::AddDomain(a) => self.add_domain(a).await,
            Step::CheckDomain(a) => self.check_domain(a).await,
            Step::VerifyDomain(a) => self.verify_domain(a).await,
            Step::ConfigureSso(a) => self.configure_sso(a).await,
            Step::EnableSso(on) => {
                let org = self.org_id().await?;
                let r = self.admin.set_sso(&org, *on).await;
                check_refusal(r, None).map(|_| self.manual_note())
            }
            Step::EnforceSso(on) => {
                let org = self.org_id().await?;
                let r = self.admin.set_enforce(&org, *on).await;
                check_refusal(r, None).map(|_| self.manual_note())
            }
            Step::ActiveTile(kind) => {
                let org = self.org_id().await?;
                let v = serde_json::to_value(kind)?;
                let r = self.admin.set_tile(&org, &v).await;
                check_refusal(r, None).map(|_| self.manual_note())
            }
            Step::BlockSsoLookup(on) => {
                let r = self.admin.block_sso_lookup(*on).await;
                check_refusal(r, None).map(|_| self.manual_note())
            }
            Step::SetFault(a) => {
                let (idp, tenant) = self.idp()?;
                let body = proto::idp::FaultsBody {
                    faults: a.faults.iter().map(|f| f.0).collect(),
                };
                idp.set_faults(&tenant.id, &body, a.scope == FaultScope::Next)
                    .await?;
                Ok(None)
            }
            Step::AdvanceClock(a) => match a.on {
                ClockOwner::Idp => {
                    let (idp, tenant) = self.idp()?;
                    let offset = self.idp_clock.saturating_add(a.by.seconds);
                    idp.set_clock(&tenant.id, offset).await?;
                    self.idp_clock = offset;
                    Ok(Some(format!("mock IdP clock now {offset:+} s")))
                }
                ClockOwner::Target => {
                    let offset = self.target_clock.saturating_add(a.by.seconds);
                    check_refusal(self.admin.set_clock(offset).await, None)?;
                    self.target_clock = offset;
                    Ok(Some(format!("target clock now {offset:+} s")))
                }
            },
            Step::PublishTxt(a) | Step::RemoveTxt(a) => {
                let name = self.render_opt(a.name.as_ref(), "{domain.txt_name}")?;
                let value = self.render_opt(a.value.as_ref(), "{domain.txt_value}")?;
                let (idp, _) = self.idp()?;
                if matches!(step, Step::PublishTxt(_)) {
                    idp.add_txt(&name, &value).await?;
                    self.published_txt.push((name.clone(), value));
                } else {
                    idp.remove_txt(&name, &value).await?;
                    self.published_txt
                        .retain(|(n, v)| !(n == &name && v == &value));
                }
                Ok(Some(format!("TXT {name}")))
            }
            Step::UpdateIdpUser(a) => self.update_idp_user(a).await,
            Step::UseOrg(name) => self.use_org(name).await,
            Step::UseBrowser(name) => {
                // Only the current browser is drained later on: take this one's events now.
                self.collect_http().await;
                self.use_browser(name).await
            }
            Step::Repeat(a) => self.repeat(a).await,
            Step::Connect(protocol) => {
                let procs = &self.target.procedures;
                let (name, steps) = match protocol {
                    Protocol::Saml => ("connect_saml", &procs.connect_saml),
                    Protocol::Oidc => ("connect_oidc", &procs.connect_oidc),
                };
                self.procedure(name, steps).await
            }
            Step::ReplaySamlResponse(_) => self.replay_saml_response().await,
            Step::RotateKeys(a) => self.rotate_keys(a).await,
            Step::OidcProvider(a) => self.oidc_provider(a).await,
            Step::BackchannelLogout(a) => self.backchannel_logout(a).await,
            Step::ResponseMode(mode) => {
                // Read by the next `configure_sso: oidc`: the admin API's response_mode, and
                // `{sp.oidc_response_mode}` for a target that takes it in its set-up.
                self.vars.set("sp.oidc_response_mode", mode);
                Ok(Some(format!(
                    "the OIDC connection will ask for response_mode {mode}"
                )))
            }
            Step::OpLogout(_) => self.op_logout().await,
            Step::FrontchannelLogout(a) => self.frontchannel_logout(a).await,
            Step::UseIdp(a) => self.use_idp(a).await,
            Step::KeepResponse(_) => {
                let href = self.held_response().await?;
                Ok(Some(format!(
                    "kept the held authorization response for later ({}?code=...)",
                    href.split('?').next().unwrap_or_default()
                )))
            }
            Step::CarryResponse(to) => {
                self.collect_http().await;
                self.carry_response(to).await
            }
            Step::StartLogin(_) => {
                let steps = &self.target.procedures.start_login;
                self.procedure("start_login", steps).await
            }
            Step::SignOut(_) => {
                // The page that shows the user now is where a session that survived the
                // sign-out would show again (the probe's fallback URL).
                if self.on_sp_page().await {
                    self.signed_out_from = self.browser().current_url().await.ok();
                }
                let steps = &self.target.procedures.sign_out;
                self.procedure("sign_out", steps).await
            }
            Step::Refresh(_) => {
                let steps = &self.target.procedures.refresh;
                self.procedure("refresh", steps).await
            }
        }
    }

    /// Runs one of the target's procedures; an empty one is an error naming the target file's key.
    async fn procedure(&mut self, name: &str, steps: &[Step]) -> StepResult {
        if steps.is_empty() {
            return Err(StepFailure::broken(format!(
                "target {} defines no procedures.{name} (the generic packs need it)",
                self.target.name
            )));
        }
        let mut notes = Vec::new();
        for (j, step) in steps.iter().enumerate() {
            let note = Box::pin(self.dispatch(step)).await.map_err(|e| {
                e.within(&format!(
                    "procedures.{name} step {} ({})",
                    j + 1,
                    step.kind()
                ))
            })?;
            notes.extend(note);
        }
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// On a staging target: what the person did at init is not done again (one pinned
    /// organisation, tenant and OIDC client), and what nobody did is asked for or skips the
    /// trial. None: the step runs as anywhere else.
    async fn on_staging(&mut self, step: &Step) -> Option<StepResult> {
        use crate::trial::manual::{Answer, StepClass, ask, classify};
        let staging = self.target.staging.as_ref()?;
        let org = self.target.manual_org()?.to_string();
        let class = classify(step, staging, &org, self.scenario.idp.protocol, &self.vars);
        if !matches!(class, StepClass::Automatic) {
            // The organisation's URLs (ACS, metadata, tiles) are known from the first admin
            // step on, as when the harness creates the organisation itself.
            if let Err(e) = self.org_id().await {
                return Some(Err(e));
            }
        }
        match class {
            StepClass::Automatic => None,
            // The organisation is the one set up by hand; learning its URLs is still needed.
            StepClass::AlreadyDone(note) if matches!(step, Step::CreateOrg(_)) => Some(
                self.create_org(&OrgArgs::default())
                    .await
                    .map(|_| Some(note)),
            ),
            // The SP was configured at init; its published metadata still tells the mock
            // IdP the certificate to encrypt assertions to, as after any configuration.
            StepClass::AlreadyDone(note) if matches!(step, Step::ConfigureSso(_)) => Some(
                self.import_sp_metadata()
                    .await
                    .map(|_| Some(format!("already so: {note}"))),
            ),
            StepClass::AlreadyDone(note) => Some(Ok(Some(format!("already so: {note}")))),
            StepClass::Impossible(why) => {
                let why = format!("cannot run on a staging target: it {why}");
                self.manual_skip = Some(why.clone());
                Some(Err(StepFailure::broken(why)))
            }
            StepClass::Manual(m) if !self.interactive => {
                let why = format!(
                    "needs a manual step nobody can do in a non-interactive run: {}",
                    m.what
                );
                self.manual_skip = Some(why.clone());
                Some(Err(StepFailure::broken(why)))
            }
            StepClass::Manual(m) => match ask(&self.trial_id, &m.what).await {
                Answer::Done => {
                    self.manual_undo.extend(m.undo.clone());
                    Some(Ok(Some(format!(
                        "done by hand (confirmed at the terminal): {}",
                        m.what
                    ))))
                }
                Answer::Skip => {
                    let why = format!("skipped at the terminal at the manual step: {}", m.what);
                    self.manual_skip = Some(why.clone());
                    Some(Err(StepFailure::broken(why)))
                }
                Answer::CouldNot(said) => Some(Err(StepFailure::broken(format!(
                    "the manual step could not be done ({}): {said}",
                    m.what
                )))),
            },
        }
    }

    fn manual_note(&self) -> Option<String> {
        self.admin.is_manual().then(|| MANUAL_NOTE.to_string())
    }

    async fn fill(&mut self, sel: &str, value: &str) -> Result<(), StepFailure> {
        // As Playwright's `fill` does: set the value and fire the events a page listens to,
        // in one round trip. Typing key by key through WebDriver costs a command per
        // character, seconds for a pasted certificate, and tests nothing the SP sees.
        let timeout = self.default_timeout;
        let deadline = Instant::now() + timeout;
        loop {
            let args = vec![json!(sel), json!(value)];
            // A script error (the page navigating away under it) is worth another look.
            let answer = match self.browser().execute(FILL_SCRIPT, args).await {
                Ok(v) => v
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("unexpected answer {v}")),
                Err(e) => Err(e.to_string()),
            };
            match answer.as_deref() {
                Ok("ok") => return Ok(()),
                Ok("missing" | "hidden") | Err(_) if Instant::now() < deadline => {}
                Ok("missing" | "hidden") => {
                    let url = self.browser().current_url().await.unwrap_or_default();
                    return Err(format!(
                        "no element matches {sel:?} after {} ms (page {url})",
                        timeout.as_millis()
                    )
                    .into());
                }
                Ok(other) => return Err(format!("fill {sel:?}: {other}").into()),
                Err(e) => return Err(format!("fill {sel:?}: {e}").into()),
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
    }

    pub(crate) async fn wait_for(
        &mut self,
        sel: &str,
        text: Option<&str>,
        timeout: Duration,
    ) -> Result<(), StepFailure> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(actual) = self.browser().element_text(sel).await {
                match text {
                    None => return Ok(()),
                    Some(want) if actual.contains(want) => return Ok(()),
                    Some(want) if Instant::now() >= deadline => {
                        return Err(StepFailure::diff(
                            FailureKind::Mismatch,
                            Diff::new(
                                format!("text of {sel:?} after {} ms", timeout.as_millis()),
                                format!("{want:?}"),
                                format!("{actual:?}"),
                            )
                            .related("to contain"),
                        ));
                    }
                    Some(_) => {}
                }
            }
            if Instant::now() >= deadline {
                let url = self.browser().current_url().await.unwrap_or_default();
                return Err(format!(
                    "no element matches {sel:?} after {} ms (page {url})",
                    timeout.as_millis()
                )
                .into());
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
    }

    async fn idp_login(&mut self, a: &IdpLoginArgs) -> StepResult {
        let email = self.render_opt(a.user.as_ref(), "{user.email}")?;
        let password = match &a.password {
            Some(p) => Secret::new(self.render(p)?),
            None => self
                .user_by_email(&email)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    format!("idp_login: {email} is not one of the scenario's idp users")
                })?,
        };
        self.secrets.push(password.expose().to_string());
        if a.if_shown && !self.idp_login_form_may_show().await? {
            return Ok(Some(format!(
                "no login form: the browser stayed at the SP ({email} not typed)"
            )));
        }
        if !self.wait_idp_login_form().await? {
            return Ok(Some(format!(
                "no login form: the IdP still had a session and answered at once ({email} not typed)"
            )));
        }
        self.fill("input[name=username]", &email).await?;
        self.fill("input[name=password]", password.expose()).await?;
        let t = self.default_timeout;
        let started = Instant::now();
        self.mark_page().await;
        self.browser().click_when_ready("button#login", t).await?;
        // The IdP answers with a redirect or a page that posts the response to the SP: wait
        // for the SP's answer too, so the next step (and a verdict) sees the SP's page, not
        // the IdP's login page a navigation is about to replace.
        self.after_action(t).await;
        self.leave_idp(started + t).await;
        self.last_answer = Some(started.elapsed());
        Ok(Some(format!("signed in to the IdP as {email}")))
    }

    /// After the login form was sent: while the browser is still on an IdP page, wait for it
    /// to move on to the SP (a click's navigation can start after WebDriver answered, and a
    /// form_post page submits itself from a script), then for the SP's answer to settle.
    /// An IdP page that stays loaded, with nothing under way, for `SETTLED_OFF_IDP` is the
    /// IdP's own answer (an error page): the wait ends there, or at `deadline`.
    async fn leave_idp(&mut self, deadline: Instant) {
        let Some(base) = self.idp.map(|i| i.base_url()) else {
            return;
        };
        let mut stable_since: Option<Instant> = None;
        while Instant::now() < deadline {
            self.collect_http().await;
            let url = self.browser().current_url().await.unwrap_or_default();
            if !url.starts_with(base.as_str()) {
                break;
            }
            if self.browser().navigation_pending() {
                stable_since = None;
            } else if stable_since.get_or_insert_with(Instant::now).elapsed() >= SETTLED_OFF_IDP {
                return;
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
        self.settle(deadline.saturating_duration_since(Instant::now()))
            .await;
    }

    /// For `idp_login: {if_shown: true}`: false when the browser has settled on a page that
    /// is not the IdP's and has visited no IdP page since the sign-in started (the SP
    /// refused before sending it there); true as soon as it is at the IdP or on its way.
    async fn idp_login_form_may_show(&mut self) -> Result<bool, StepFailure> {
        let Some(base) = self.idp.map(|i| i.base_url()) else {
            return Ok(true);
        };
        // A refusal page has loaded completely; give redirects a moment to start.
        let deadline = Instant::now() + self.default_timeout;
        let mut stable_since: Option<Instant> = None;
        loop {
            self.collect_http().await;
            if self.browser().has_element("input[name=username]").await {
                return Ok(true);
            }
            let url = self.browser().current_url().await.unwrap_or_default();
            if url.starts_with(base.as_str()) {
                return Ok(true);
            }
            let settled = url.starts_with("http")
                && !self.browser().navigation_pending()
                && self.browser().ready_state().await == "complete";
            if settled {
                let since = *stable_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SETTLED_OFF_IDP {
                    return Ok(false);
                }
            } else {
                stable_since = None;
            }
            if Instant::now() >= deadline {
                return Ok(true);
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
    }

    /// `carry_response: NAME`: the mock IdP held its answer to the sign-in in the current
    /// browser, which never delivers it: an OIDC authorization response as a link (fault
    /// `authorization_response_held`) or a SAML Response as its unsent POST form (fault
    /// `saml_response_held`). The browser NAME (opened if new) opens the link or posts the
    /// form instead, as a victim does what an attacker's link or page makes it do: its
    /// response belongs to a sign-in another browser started.
    async fn carry_response(&mut self, to: &str) -> StepResult {
        let t = self.default_timeout;
        let form = self.held_saml_form().await?;
        if let Some(HeldForm {
            action,
            saml_response,
            relay_state,
        }) = form
        {
            self.use_browser(to).await?;
            let started = Instant::now();
            self.post_saml_response(&action, &saml_response, relay_state.as_deref())
                .await?;
            self.settle(t).await;
            self.last_answer = Some(started.elapsed());
            return Ok(Some(format!(
                "browser {to} posted the held SAML response to {action}"
            )));
        }
        let href = self.held_response().await?;
        self.use_browser(to).await?;
        let started = Instant::now();
        self.browser().goto(&href).await?;
        self.settle(t).await;
        self.last_answer = Some(started.elapsed());
        let shown = href.split('?').next().unwrap_or_default().to_string();
        Ok(Some(format!(
            "browser {to} opened the held authorization response ({shown}?code=...&state=...)"
        )))
    }

    /// The held SAML POST form on the current page (fault `saml_response_held`), or None
    /// when what the IdP held is an OIDC link (`a#held-response`).
    async fn held_saml_form(&mut self) -> Result<Option<HeldForm>, StepFailure> {
        const READ: &str = r#"
const f = document.querySelector("form#held-response");
if (!f) { return null; }
const v = (n) => { const i = f.querySelector(`input[name="${n}"]`); return i ? i.value : null; };
return [f.action, v("SAMLResponse"), v("RelayState")];
"#;
        let t = self.default_timeout;
        self.browser()
            .wait_element("#held-response", t)
            .await
            .map_err(|e| {
                StepFailure::broken(format!(
                    "no held response (set the fault authorization_response_held or \
                     saml_response_held before the sign-in): {e}"
                ))
            })?;
        let found = self.browser().execute(READ, vec![]).await?;
        let Some(parts) = found.as_array() else {
            return Ok(None);
        };
        let text = |i: usize| parts.get(i).and_then(|v| v.as_str()).map(str::to_string);
        match (text(0), text(1)) {
            (Some(action), Some(saml_response)) => Ok(Some(HeldForm {
                action,
                saml_response,
                relay_state: text(2),
            })),
            _ => Err(StepFailure::broken(
                "the held SAML form has no action or no SAMLResponse",
            )),
        }
    }

    /// The held authorization response's URL on the current page, also kept in
    /// `{held.response_url}` (for an `open` later, after other steps in this browser).
    async fn held_response(&mut self) -> Result<String, StepFailure> {
        let t = self.default_timeout;
        let el = self
            .browser()
            .wait_element("a#held-response", t)
            .await
            .map_err(|e| {
                StepFailure::broken(format!(
                    "no held authorization response (set the fault \
                     authorization_response_held before the sign-in): {e}"
                ))
            })?;
        let href = el.attr("href").await.ok().flatten().ok_or_else(|| {
            StepFailure::broken("the held authorization response link has no href")
        })?;
        self.vars.set("held.response_url", &href);
        Ok(href)
    }

    /// Waits for the IdP's login form: true when it shows; false when the browser visited the
    /// IdP and came back without one (the IdP session from an earlier sign-in was reused).
    async fn wait_idp_login_form(&mut self) -> Result<bool, StepFailure> {
        if self.browser().has_element("input[name=username]").await {
            return Ok(true);
        }
        let idp_base = self.idp.map(|i| i.base_url());
        // Pages loaded before this step are not a visit to the IdP by this step.
        self.collect_http().await;
        let seen_before = self.http.len();
        let deadline = Instant::now() + self.default_timeout;
        loop {
            if self.browser().has_element("input[name=username]").await {
                return Ok(true);
            }
            self.collect_http().await;
            if let Some(base) = &idp_base {
                let visited_idp = self.http[seen_before.min(self.http.len())..]
                    .iter()
                    .any(|e| e.url.starts_with(base.as_str()));
                let url = self.browser().current_url().await.unwrap_or_default();
                let back_at_sp = !url.starts_with(base.as_str()) && url.starts_with("http");
                let last_is_sp = self
                    .http
                    .last()
                    .is_some_and(|e| !e.url.starts_with(base.as_str()));
                if visited_idp && back_at_sp && last_is_sp {
                    return Ok(false);
                }
            }
            if Instant::now() >= deadline {
                let url = self.browser().current_url().await.unwrap_or_default();
                return Err(format!(
                    "no IdP login form (input[name=username]) after {} ms, and the browser did not pass through the IdP (page {url})",
                    self.default_timeout.as_millis()
                ).into());
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
    }

    async fn tile(&mut self, a: &TileArgs) -> StepResult {
        let app = self.render(&a.app)?;
        let dashboard = self.idp()?.1.saml.dashboard_url.clone();
        let current = self.browser().current_url().await.unwrap_or_default();
        if !current.starts_with(&dashboard) {
            self.browser().goto(&dashboard).await?;
        }
        let tile = format!("a.tile[data-app=\"{}\"]", css_string(&app));
        let deadline = Instant::now() + self.default_timeout;
        let mut logged_in = false;
        loop {
            if self.browser().has_element(&tile).await {
                break;
            }
            if !logged_in
                && a.login != Some(false)
                && self.browser().has_element("input[name=username]").await
            {
                self.idp_login(&IdpLoginArgs::default()).await?;
                logged_in = true;
            }
            if Instant::now() >= deadline {
                let url = self.browser().current_url().await.unwrap_or_default();
                return Err(format!(
                    "no tile {tile} on the IdP dashboard after {} ms (page {url})",
                    self.default_timeout.as_millis()
                )
                .into());
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
        let t = self.default_timeout;
        self.browser().click_when_ready(&tile, t).await?;
        self.settle(t).await;
        self.used_tile = true;
        Ok(None)
    }

    /// The organisation of this trial, created on first use.
    pub async fn org_id(&mut self) -> Result<String, StepFailure> {
        if let Some((_, o)) = self.current_org.and_then(|i| self.orgs.get(i)) {
            return Ok(o.org_id.clone());
        }
        self.create_org(&OrgArgs::default()).await
    }

    /// Makes another organisation of this trial the current one (created when new).
    async fn use_org(&mut self, name: &str) -> StepResult {
        match self.orgs.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let org = self.orgs[i].1.clone();
                self.current_org = Some(i);
                self.learn_org(&org, name)?;
                self.tell_idp_about_sp().await?;
                Ok(Some(format!("organisation {name} ({})", org.org_id)))
            }
            None => {
                let id = self
                    .create_org(&OrgArgs {
                        name: Some(name.to_string()),
                        ..OrgArgs::default()
                    })
                    .await?;
                Ok(Some(format!("created organisation {name} ({id})")))
            }
        }
    }

    /// Switches to another browser (its own cookies and storage), opening it on first use.
    /// Replay: the last SAML response the mock IdP sent is posted again to the ACS it went
    /// to, from a fresh browser (no cookies: no request state, no session), as an attacker
    /// who captured it would. The trial then continues in that browser (`replay`), so the
    /// final expectations and the session probe judge the replay.
    async fn replay_saml_response(&mut self) -> StepResult {
        let (idp, tenant) = self.idp()?;
        let tenant_id = tenant.id.clone();
        let last = idp.last_saml_response(&tenant_id).await?;
        self.collect_http().await;
        let note = self.use_browser("replay").await?;
        let started = Instant::now();
        self.post_saml_response(
            &last.acs_url,
            last.saml_response.expose(),
            last.relay_state.as_deref(),
        )
        .await?;
        self.settle(self.default_timeout).await;
        self.last_answer = Some(started.elapsed());
        Ok(Some(format!(
            "{}posted the last SAML response again to {} from a fresh browser",
            note.map(|n| format!("{n}; ")).unwrap_or_default(),
            last.acs_url
        )))
    }

    /// The current browser posts a SAMLResponse (and RelayState) to `action` as the IdP's
    /// auto-submitting page would: a form built on a blank page and submitted, so the
    /// browser sends its own cookies for the SP and nothing else.
    async fn post_saml_response(
        &mut self,
        action: &str,
        saml_response: &str,
        relay_state: Option<&str>,
    ) -> Result<(), StepFailure> {
        const POST: &str = r#"
const [action, response, relay] = arguments;
const f = document.createElement("form");
f.method = "POST"; f.action = action;
const add = (n, v) => { const i = document.createElement("input"); i.type = "hidden"; i.name = n; i.value = v; f.appendChild(i); };
add("SAMLResponse", response);
if (relay !== null) { add("RelayState", relay); }
document.body.appendChild(f);
f.submit();
return "ok";
"#;
        self.browser().goto("about:blank").await?;
        self.browser()
            .execute(
                POST,
                vec![json!(action), json!(saml_response), json!(relay_state)],
            )
            .await?;
        Ok(())
    }

    async fn use_browser(&mut self, name: &str) -> StepResult {
        if name == "main" {
            self.current_browser = None;
            return Ok(None);
        }
        if let Some(i) = self.extra_browsers.iter().position(|(n, _)| n == name) {
            self.current_browser = Some(i);
            return Ok(None);
        }
        let session = self.pool.extra_session().await?;
        self.extra_browsers.push((name.to_string(), session));
        self.current_browser = Some(self.extra_browsers.len() - 1);
        Ok(Some(format!("opened browser {name}")))
    }

    async fn repeat(&mut self, a: &RepeatArgs) -> StepResult {
        for n in 1..=a.times {
            self.vars.set("n", n.to_string());
            for (j, step) in a.steps.iter().enumerate() {
                Box::pin(self.dispatch(step)).await.map_err(|e| {
                    e.within(&format!(
                        "repetition {n} of {}, step {} ({})",
                        a.times,
                        j + 1,
                        step.kind()
                    ))
                })?;
            }
        }
        Ok(Some(format!("{} x {} steps", a.times, a.steps.len())))
    }

    async fn create_org(&mut self, a: &OrgArgs) -> Result<String, StepFailure> {
        let name = a.name.clone().unwrap_or_else(|| "Acme".to_string());
        let plan = serde_json::to_value(a.plan)?;
        let billing = serde_json::to_value(a.billing)?;
        let org = self.admin.create_org(&name, &plan, &billing).await?;
        self.learn_org(&org, &name)?;
        let id = org.org_id.clone();
        self.orgs.push((name, org));
        self.current_org = Some(self.orgs.len() - 1);
        self.tell_idp_about_sp().await?;
        Ok(id)
    }

    /// Once the SP has a connection it publishes metadata; like an IdP administrator, the
    /// mock IdP imports it so it knows the certificate to encrypt assertions to. An SP that
    /// publishes no metadata (or none yet) is left as it is.
    async fn import_sp_metadata(&mut self) -> Result<(), StepFailure> {
        let Ok(url) = self.vars.get("sp.metadata_url").map(str::to_string) else {
            return Ok(());
        };
        let Ok(resp) = reqwest::get(&url).await else {
            return Ok(());
        };
        if !resp.status().is_success() {
            return Ok(());
        }
        let body = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
        let Some(cert) = crate::target::sp_metadata::certificate_pem(&body) else {
            return Ok(());
        };
        let Ok((idp, tenant)) = self.idp() else {
            return Ok(());
        };
        let tenant_id = tenant.id.clone();
        let get = |k: &str| self.vars.get(k).ok().map(str::to_string);
        let sp = proto::idp::SpSpec {
            entity_id: get("sp.entity_id"),
            acs_url: get("sp.acs_url"),
            metadata_url: Some(url),
            certificate_pem: Some(cert),
            slo_url: get("sp.slo_url"),
            slo_binding: self.target.sp.slo_binding,
        };
        idp.put_sp(&tenant_id, &sp).await.map_err(StepFailure::from)
    }

    /// The mock IdP learns the SP's values (audience, ACS) and gets its dashboard tiles.
    async fn tell_idp_about_sp(&mut self) -> Result<(), StepFailure> {
        let Ok((idp, tenant)) = self.idp() else {
            return Ok(());
        };
        let tenant_id = tenant.id.clone();
        let get = |k: &str| self.vars.get(k).ok().map(str::to_string);
        if let (Some(entity), Some(acs)) = (get("sp.entity_id"), get("sp.acs_url")) {
            // Encrypted-assertion faults need the SP's certificate: the one the target file
            // declares here, replaced by the one in the SP's metadata once `configure_sso`
            // imports it. Without either, the mock IdP refuses the fault with a clear 400.
            let cert = self
                .target
                .sp
                .certificate_pem
                .as_ref()
                .map(|t| self.render(t))
                .transpose()?;
            let sp = proto::idp::SpSpec {
                entity_id: Some(entity),
                acs_url: Some(acs),
                metadata_url: get("sp.metadata_url"),
                certificate_pem: cert,
                slo_url: get("sp.slo_url"),
                slo_binding: self.target.sp.slo_binding,
            };
            idp.put_sp(&tenant_id, &sp).await?;
        }
        let apps: Vec<proto::idp::App> = match &self.scenario.idp.apps {
            Some(apps) => apps
                .iter()
                .map(|a| {
                    Ok(proto::idp::App {
                        name: a.name.clone(),
                        url: self.render(&a.url)?,
                        mode: a.mode,
                    })
                })
                .collect::<Result<_, StepFailure>>()?,
            None => ["workspace", "platform"]
                .iter()
                .filter_map(|k| {
                    get(&format!("sp.tile_url.{k}")).map(|url| proto::idp::App {
                        name: (*k).to_string(),
                        url,
                        mode: proto::idp::AppMode::Link,
                    })
                })
                .collect(),
        };
        if !apps.is_empty() {
            idp.put_apps(&tenant_id, &apps).await?;
        }
        Ok(())
    }

    async fn add_user(&mut self, a: &SpUserArgs) -> StepResult {
        let org = self.org_id().await?;
        let name = |v: serde_json::Value| v.as_str().map(str::to_string).unwrap_or_default();
        let password = match &a.password {
            Some(p) => {
                let p = self.render(p)?;
                self.secrets.push(p.clone());
                Some(Secret::new(p))
            }
            None => None,
        };
        let body = proto::sp_admin::AddUser {
            email: self.render(&a.email)?,
            role: name(serde_json::to_value(a.role)?),
            method: name(serde_json::to_value(a.method)?),
            password,
            given_name: a.given_name.as_ref().map(|g| self.render(g)).transpose()?,
            family_name: a.family_name.as_ref().map(|f| self.render(f)).transpose()?,
        };
        let expected = a
            .expect_error
            .as_ref()
            .map(|t| self.render(t))
            .transpose()?;
        let r = self.admin.add_user(&org, &body).await;
        check_refusal(r, expected).map(|_| self.manual_note())
    }

    async fn add_domain(&mut self, a: &DomainArgs) -> StepResult {
        let org = self.org_id().await?;
        let domain = self.render(&a.domain)?;
        let expected = a
            .expect_error
            .as_ref()
            .map(|t| self.render(t))
            .transpose()?;
        let r = self.admin.add_domain(&org, &domain).await;
        self.vars.set("domain.name", &domain);
        match check_refusal(r, expected)? {
            Some(Some(attempt)) => {
                self.vars.set("domain.txt_name", &attempt.txt_name);
                self.vars.set("domain.txt_value", &attempt.txt_value);
                Ok(Some(format!("TXT {} to publish", attempt.txt_name)))
            }
            Some(None) => Ok(self.manual_note()),
            None => Ok(Some("refused as expected".into())),
        }
    }

    async fn check_domain(&mut self, a: &CheckDomainArgs) -> StepResult {
        let org = self.org_id().await?;
        let domain = self.render(&a.domain)?;
        let r = self.admin.check_domain(&org, &domain).await;
        let Some(result) = check_refusal(r, None)?.flatten() else {
            return Ok(self.manual_note());
        };
        if let Some(want) = a.expect {
            let want = serde_json::to_value(want)?;
            if want.as_str() != Some(result.status.as_str()) {
                return Err(StepFailure::diff(
                    FailureKind::Mismatch,
                    Diff::new(
                        format!("domain {domain} check status"),
                        want.to_string(),
                        format!(
                            "{:?}{}",
                            result.status,
                            result.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                        ),
                    ),
                ));
            }
        }
        Ok(Some(format!("status {}", result.status)))
    }

    async fn verify_domain(&mut self, a: &DomainArgs) -> StepResult {
        let added = self.add_domain(a).await?;
        if a.expect_error.is_some() || self.admin.is_manual() {
            return Ok(added);
        }
        let domain = self.render(&a.domain)?;
        let name = self.vars.get("domain.txt_name")?.to_string();
        let value = self.vars.get("domain.txt_value")?.to_string();
        let (idp, _) = self.idp()?;
        idp.add_txt(&name, &value).await?;
        self.published_txt.push((name.clone(), value));
        let org = self.org_id().await?;
        let deadline = Instant::now() + self.default_timeout;
        loop {
            let r = self.admin.check_domain(&org, &domain).await;
            let result = check_refusal(r, None)?.flatten();
            match result {
                Some(c) if c.status == "verified" => return Ok(Some(format!("{domain} verified"))),
                Some(c) if Instant::now() >= deadline => {
                    return Err(format!(
                        "domain {domain} not verified after publishing TXT {name}: status {}{}",
                        c.status,
                        c.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                    )
                    .into());
                }
                None => return Ok(self.manual_note()),
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn configure_sso(&mut self, a: &SsoArgs) -> StepResult {
        let org = self.org_id().await?;
        let protocol = a.protocol.unwrap_or(self.scenario.idp.protocol);
        let expected = a
            .expect_error
            .as_ref()
            .map(|t| self.render(t))
            .transpose()?;
        let r = match protocol {
            Protocol::Saml => {
                if let Some(applied) = self.admin.apply_config(&self.vars).await {
                    let note = applied?;
                    self.import_sp_metadata().await?;
                    return Ok(Some(note));
                }
                let sso_url = self.render_opt(a.sso_url.as_ref(), "{idp.sso_url}")?;
                let cert = self.render_opt(a.certificate_pem.as_ref(), "{idp.certificate_pem}")?;
                let entity_id = self.vars.get("idp.entity_id").ok().map(str::to_string);
                let slo_url = self.vars.get("idp.slo_url").ok().map(str::to_string);
                let r = self
                    .admin
                    .configure_saml(
                        &org,
                        &sso_url,
                        &cert,
                        entity_id.as_deref(),
                        slo_url.as_deref(),
                    )
                    .await;
                if r.is_ok() {
                    self.import_sp_metadata().await?;
                }
                r
            }
            Protocol::Oidc => {
                // A second OP gets its own client_id, as two OPs register an RP separately.
                let client_id = if self.idp_name == "main" {
                    format!("sp-{org}")
                } else {
                    format!("sp-{org}-{}", self.idp_name)
                };
                let secret = Secret::generate("client-secret");
                self.secrets.push(secret.expose().to_string());
                let (idp, tenant) = self.idp()?;
                let tenant_id = tenant.id.clone();
                let opts = self.scenario.idp.oidc.clone().unwrap_or_default();
                let redirect_uris = match &opts.redirect_uris {
                    Some(list) => list
                        .iter()
                        .map(|t| self.render(t))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => vec![self.vars.get("sp.oidc_redirect_uri")?.to_string()],
                };
                let client = proto::idp::OidcClient {
                    client_id: client_id.clone(),
                    client_secret: secret.clone(),
                    redirect_uris,
                    // The target's post-logout landing (RP-initiated logout), when it has one.
                    post_logout_redirect_uris: self
                        .vars
                        .get("sp.post_logout_redirect_uri")
                        .ok()
                        .map(|u| vec![u.to_string()])
                        .unwrap_or_default(),
                    frontchannel_logout_uri: self
                        .vars
                        .get("sp.frontchannel_logout_url")
                        .ok()
                        .map(str::to_string),
                    // phone and address too: an RP may ask for them (OIDC Core 5.4); the mock
                    // OP releases those claims only when asked.
                    scopes: opts.scopes.clone().unwrap_or_else(|| {
                        ["openid", "email", "profile", "phone", "address"]
                            .map(String::from)
                            .to_vec()
                    }),
                    allowed_groups: opts.allowed_groups.clone(),
                    forge: match &opts.forge {
                        Some(f) => Some(f.render(&self.vars).map_err(StepFailure::broken)?),
                        None => None,
                    },
                    id_token_encryption: match &opts.id_token_encryption {
                        Some(e) => Some(proto::idp::IdTokenEncryption {
                            alg: e.alg.clone(),
                            enc: e.enc.clone(),
                            jwks_uri: self
                                .vars
                                .get("sp.oidc_jwks_uri")
                                .map_err(|_| {
                                    StepFailure::broken(
                                        "idp.oidc.id_token_encryption needs the target's sp.oidc_jwks_uri (where the RP publishes its encryption key); require the capability oidc-encrypted-id-token",
                                    )
                                })?
                                .to_string(),
                        }),
                        None => None,
                    },
                    auth_request: self.auth_request_rules(&opts)?,
                };
                idp.add_oidc_client(&tenant_id, &client).await?;
                // `query` (the plain response) unless a `response_mode` step asked otherwise.
                let response_mode = self
                    .vars
                    .get("sp.oidc_response_mode")
                    .ok()
                    .map(str::to_string);
                if response_mode.is_none() {
                    self.vars.set("sp.oidc_response_mode", "query");
                }
                self.vars.set("idp.client_id", &client_id);
                self.vars.set("idp.client_secret", secret.expose());
                let response_type = opts.response_type.as_deref().unwrap_or("code");
                let hybrid = response_type
                    .split(' ')
                    .any(|w| w == "id_token" || w == "token");
                let flow_mode = opts.response_mode.as_deref().unwrap_or(if hybrid {
                    "fragment"
                } else {
                    "query"
                });
                self.vars.set("idp.response_type", response_type);
                self.vars.set("idp.response_mode", flow_mode);
                // How a target that can host request objects signs them (`off`: it sends none).
                self.vars.set(
                    "idp.request_object_alg",
                    opts.request_object
                        .as_ref()
                        .map_or("off", |r| r.alg.as_str()),
                );
                self.vars.set(
                    "idp.detached_signature",
                    if opts.detached_signature {
                        "true"
                    } else {
                        "false"
                    },
                );
                self.remember_client(&client_id, secret.expose());
                if let Some(applied) = self.admin.apply_config(&self.vars).await {
                    return applied.map(Some).map_err(StepFailure::from);
                }
                let name = self.render_opt(a.idp_name.as_ref(), "")?;
                let name = if name.is_empty() {
                    format!("{:?}", self.scenario.idp.profile)
                } else {
                    name
                };
                let discovery = self.render_opt(a.discovery_url.as_ref(), "{idp.discovery_url}")?;
                self.admin
                    .configure_oidc(
                        &org,
                        &name,
                        &client_id,
                        &secret,
                        &discovery,
                        response_mode.as_deref(),
                        opts.response_type.as_deref(),
                        opts.detached_signature,
                    )
                    .await
            }
        };
        check_refusal(r, expected).map(|_| self.manual_note())
    }

    async fn update_idp_user(&mut self, a: &IdpUserUpdate) -> StepResult {
        let email = self.render_opt(a.user.as_ref(), "{user.email}")?;
        let changes = proto::idp::UserPatch {
            email: a.email.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            groups: a.groups.clone(),
            attributes: a.attributes.clone(),
            ..proto::idp::UserPatch::default()
        };
        let (idp, tenant) = self.idp()?;
        idp.patch_user(&tenant.id, &email, &changes).await?;
        if let Some(new) = &a.email {
            // Later steps sign in with the new address; the password stays.
            if let Some(i) = self
                .users
                .iter()
                .position(|(u, _)| u.email.eq_ignore_ascii_case(&email))
            {
                self.users[i].0.email = new.clone();
                let key = if i == 0 {
                    "user.email".to_string()
                } else {
                    format!("users.{i}.email")
                };
                self.vars.set(&key, new);
                if i == 0 {
                    self.vars.set("users.0.email", new);
                }
            }
        }
        Ok(None)
    }
}

/// A SAML Response the mock IdP held as its unsent POST form.
struct HeldForm {
    action: String,
    saml_response: String,
    relay_state: Option<String>,
}
