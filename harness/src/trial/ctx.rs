//! The context of one trial: fresh IdP tenant, browser session, target, values learnt so far.
use std::time::{Duration, Instant};

use crate::browser::{HttpEvent, Session};
use crate::idp::client::{IdpClient, TenantInfo};
use crate::input::template::{Template, Vars};
use crate::scenario::schema::{IdpUser, Scenario};
use crate::secret::Secret;
use crate::target::admin::{AdminDriver, AdminError, OrgInfo};
use crate::target::descriptor::TargetDescriptor;
use crate::trial::failure::{Diff, FailureKind, StepFailure};
use crate::trial::outcome::Screenshot;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TrialCtx<'a> {
    pub scenario: &'a Scenario,
    pub target: &'a TargetDescriptor,
    pub vars: Vars,
    /// The trial's first browser session (from the pool).
    pub main_browser: &'a mut Session,
    /// Further browsers (`use_browser: NAME`), each with its own cookies; closed at the end.
    pub extra_browsers: Vec<(String, Session)>,
    /// Index into `extra_browsers`, or None for the main one.
    pub current_browser: Option<usize>,
    pub pool: &'a crate::browser::BrowserPool,
    pub idp: Option<&'a IdpClient>,
    pub tenant: Option<TenantInfo>,
    pub admin: &'a AdminDriver,
    /// Organisations created in this trial, by name; `current_org` indexes the active one.
    pub orgs: Vec<(String, OrgInfo)>,
    pub current_org: Option<usize>,
    /// The scenario's IdP users with their (given or generated) passwords.
    pub users: Vec<(IdpUser, Secret)>,
    pub screenshots: Vec<Screenshot>,
    pub http: Vec<HttpEvent>,
    pub t0: Instant,
    pub default_timeout: Duration,
    /// Secret values to scrub from every report.
    pub secrets: Vec<String>,
    pub used_tile: bool,
    pub step_index: Option<usize>,
    /// TXT records this trial published, removed when it ends so parallel and later trials
    /// do not see an ever-growing record set under the same name.
    pub published_txt: Vec<(String, String)>,
    pub idp_clock: i64,
    pub target_clock: i64,
    /// The target's log files (real SPs), for `log:` expectations and the report.
    pub target_logs: Vec<std::path::PathBuf>,
    /// Origins served by the SP under test (`scheme://host:port`): only pages from these count
    /// as evidence of a sign-in or a refusal. The mock IdP's own pages never do.
    pub sp_origins: Vec<String>,
    /// This trial's id (its canary path and tenant names use it).
    pub trial_id: String,
    /// The harness's canary listener, when the run has one.
    pub canary: Option<&'a crate::canary::Canary>,
    /// The mock IdP's exchanges for this trial's tenant, as last fetched.
    pub exchanges: Vec<serde_json::Value>,
    /// How long the last browser action (open, click, submit) took until its navigation
    /// settled: the SP's answer time for `answers_within_ms`.
    pub last_answer: Option<Duration>,
    /// A person may be asked to do manual steps (`--interactive`, staging targets).
    pub interactive: bool,
    /// Set when the trial stopped because nobody could do a manual step: SKIPPED, not ERROR.
    pub manual_skip: Option<String>,
    /// What the person should put back after the trial (manual steps that changed the SP).
    pub manual_undo: Vec<String>,
    /// The SP page that was shown when `sign_out` started (it showed the user): where the
    /// session probe asks "who is signed in now?" on a target that declares no session_probe.
    pub signed_out_from: Option<String>,
    /// What the RP answered the last `backchannel_logout` step's token.
    pub last_logout: Option<proto::oidc_forge::LogoutAnswer>,
    /// `use_idp`: the name of the OP `tenant` is (`main` unless switched), and the other
    /// OPs of the trial by name (the main one too while another is current).
    pub idp_name: String,
    pub other_idps: Vec<(String, TenantInfo)>,
    /// The OIDC client registered at each OP by `configure_sso: oidc`: (id, secret).
    pub idp_clients: Vec<(String, (String, String))>,
}

impl TrialCtx<'_> {
    /// The browser the steps currently drive.
    pub fn browser(&mut self) -> &mut Session {
        match self
            .current_browser
            .and_then(|i| self.extra_browsers.get_mut(i))
        {
            Some((_, s)) => s,
            None => self.main_browser,
        }
    }

    /// A placeholder the trial cannot fill is the scenario's mistake, not the SP's: broken.
    pub fn render(&self, t: &Template) -> Result<String, StepFailure> {
        t.render(&self.vars).map_err(StepFailure::broken)
    }

    pub fn render_opt(&self, t: Option<&Template>, default: &str) -> Result<String, StepFailure> {
        match t {
            Some(t) => self.render(t),
            None => {
                let t = Template::parse(default).map_err(StepFailure::broken)?;
                self.render(&t)
            }
        }
    }

    pub fn timeout(&self, ms: Option<u64>) -> Duration {
        ms.map(Duration::from_millis)
            .unwrap_or(self.default_timeout)
    }

    pub fn idp(&self) -> Result<(&IdpClient, &TenantInfo), StepFailure> {
        match (self.idp, self.tenant.as_ref()) {
            (Some(c), Some(t)) => Ok((c, t)),
            _ => Err(StepFailure::broken(
                "this step needs the mock IdP, and this run has none",
            )),
        }
    }

    pub async fn capture(&mut self, name: &str) -> Result<(), StepFailure> {
        let png = self.browser().screenshot().await?;
        self.screenshots.push(Screenshot {
            name: name.to_string(),
            step: self.step_index,
            file: None,
            png,
        });
        Ok(())
    }

    /// Waits until the navigation the last action started has settled: no document request
    /// pending and the page loaded, at most `limit`. A click that posts a form returns before
    /// the server answers; without this the next step races the answer (a verdict taken
    /// before the SP's 403 arrived, an `open` overtaken by the post's redirect).
    pub async fn settle(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.collect_http().await;
            let pending = self.browser().navigation_pending();
            if !pending && self.browser().ready_state().await == "complete" {
                return;
            }
            if Instant::now() >= deadline {
                if std::env::var_os("SSO_HARNESS_DEBUG_SETTLE").is_some() {
                    let pending = self.browser().pending_urls();
                    let state = self.browser().ready_state().await;
                    let _ = std::fs::write(
                        "/tmp/settle-debug.txt",
                        format!("settle gave up: pending {pending:?}, readyState {state:?}"),
                    );
                }
                return;
            }
            tokio::time::sleep(crate::browser::POLL).await;
        }
    }

    /// Marks the page shown, so that `after_action` can tell whether a click replaced it.
    pub async fn mark_page(&mut self) {
        let _ = self
            .browser()
            .execute("window.__ssoHarnessMark = true; return true;", vec![])
            .await;
    }

    /// After a click or submit: a navigation may start a moment later (a script that posts a
    /// form from a timer, a `fetch` then `location.href = ...`), after WebDriver answered.
    /// Wait up to `QUIET` for one to show (a document request sent, or the marked page gone);
    /// then wait for whatever started to settle. A click that starts nothing costs `QUIET`.
    pub async fn after_action(&mut self, limit: Duration) {
        const QUIET: Duration = Duration::from_millis(300);
        let quiet_until = Instant::now() + QUIET;
        loop {
            self.collect_http().await;
            if self.browser().navigation_pending() {
                break;
            }
            let still_marked = self
                .browser()
                .execute("return window.__ssoHarnessMark === true;", vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if !still_marked || Instant::now() >= quiet_until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.settle(limit).await;
    }

    /// Requests the canary got on this trial's path.
    pub fn canary_hits(&self) -> Vec<crate::canary::Hit> {
        self.canary
            .map(|c| c.hits_for(&self.trial_id))
            .unwrap_or_default()
    }

    /// Fetches the mock IdP's exchanges for this trial's tenant again.
    pub async fn refresh_exchanges(&mut self) {
        if let (Some(idp), Some(t)) = (self.idp, self.tenant.as_ref()) {
            if let Ok(x) = idp.exchanges(&t.id).await {
                self.exchanges = x;
            }
        }
    }

    /// The recorded exchanges of one kind (`userinfo`, `token_request`, ...).
    pub fn exchanges_of(&self, kind: &str) -> Vec<&serde_json::Value> {
        self.exchanges
            .iter()
            .filter(|x| x["kind"].as_str() == Some(kind))
            .collect()
    }

    /// The kinds recorded so far, in order, without repeats.
    pub fn exchange_kinds(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in self.exchanges.iter().filter_map(|x| x["kind"].as_str()) {
            if !out.iter().any(|o| o == k) {
                out.push(k.to_string());
            }
        }
        out
    }

    /// Bounded answer: the last action's navigation settled within `limit_ms`, and the SP's
    /// base URL still answers (any HTTP status) within the same bound.
    pub async fn answered_within(&mut self, limit_ms: u64) -> Result<(), (FailureKind, Diff)> {
        let limit = Duration::from_millis(limit_ms);
        let took = self.last_answer.unwrap_or_default();
        if took > limit {
            return Err((
                FailureKind::Accepted,
                Diff::new(
                    "time the SP took to answer",
                    format!("at most {limit_ms} ms"),
                    format!("{} ms", took.as_millis()),
                ),
            ));
        }
        let base = self
            .vars
            .get("sp.base_url")
            .map(str::to_string)
            .unwrap_or_default();
        let probe = reqwest::Client::builder()
            .timeout(limit.max(Duration::from_millis(500)))
            .build()
            .map(|c| c.get(&base).send());
        let answered = match probe {
            Ok(f) => f
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match answered {
            Ok(_) => Ok(()),
            Err(e) => Err((
                FailureKind::Accepted,
                Diff::new(
                    format!("the SP's answer to {base} afterwards"),
                    "an HTTP answer",
                    format!("none: {e}"),
                ),
            )),
        }
    }

    /// The origin of the page shown, when it is an http(s) page.
    pub async fn page_origin(&mut self) -> Option<String> {
        let url = self.browser().current_url().await.ok()?;
        let u = url::Url::parse(&url).ok()?;
        matches!(u.scheme(), "http" | "https").then(|| u.origin().ascii_serialization())
    }

    /// Whether the page shown is served by the SP under test.
    pub async fn on_sp_page(&mut self) -> bool {
        match self.page_origin().await {
            Some(o) => self.sp_origins.contains(&o),
            None => false,
        }
    }

    pub async fn collect_http(&mut self) {
        let t0 = self.t0;
        let events = self.browser().drain_http(t0).await;
        self.http.extend(events);
    }

    /// Every line of the target's logs (each file is the trial's own: a fresh directory).
    pub fn target_log_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for path in &self.target_logs {
            if let Ok(text) = std::fs::read_to_string(path) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("log");
                out.extend(text.lines().map(|l| format!("{name}: {l}")));
            }
        }
        out
    }

    pub fn user_by_email(&self, email: &str) -> Option<&(IdpUser, Secret)> {
        self.users
            .iter()
            .find(|(u, _)| u.email.eq_ignore_ascii_case(email))
    }

    /// Publishes the values learnt about an organisation to the template variables.
    pub fn learn_org(&mut self, org: &OrgInfo, name: &str) -> Result<(), StepFailure> {
        self.vars.set("org.id", &org.org_id);
        self.vars.set("org.name", name);
        let urls = &self.target.sp;
        let pairs = [
            ("sp.acs_url", org.acs_url.clone(), urls.acs_url.as_ref()),
            (
                "sp.entity_id",
                org.entity_id.clone(),
                urls.entity_id.as_ref(),
            ),
            (
                "sp.metadata_url",
                org.metadata_url.clone(),
                urls.metadata_url.as_ref(),
            ),
            (
                "sp.tile_url.workspace",
                org.tile_urls.as_ref().and_then(|t| t.workspace.clone()),
                urls.tile_url_workspace.as_ref(),
            ),
            (
                "sp.tile_url.platform",
                org.tile_urls.as_ref().and_then(|t| t.platform.clone()),
                urls.tile_url_platform.as_ref(),
            ),
            (
                "sp.oidc_redirect_uri",
                org.oidc_redirect_uri.clone(),
                urls.oidc_redirect_uri.as_ref(),
            ),
            ("sp.slo_url", None, urls.slo_url.as_ref()),
            ("sp.slo_start_url", None, urls.slo_start_url.as_ref()),
            ("sp.slo_done_url", None, urls.slo_done_url.as_ref()),
            // After the redirect URI: an RP may take logout tokens there (mod_auth_openidc).
            (
                "sp.backchannel_logout_url",
                None,
                urls.backchannel_logout_url.as_ref(),
            ),
            (
                "sp.post_logout_redirect_uri",
                None,
                urls.post_logout_redirect_uri.as_ref(),
            ),
            (
                "sp.frontchannel_logout_url",
                None,
                urls.frontchannel_logout_url.as_ref(),
            ),
            (
                "sp.initiate_login_url",
                None,
                urls.initiate_login_url.as_ref(),
            ),
            // After the redirect URI: mod_auth_openidc publishes its keys there (`?jwks=rsa`).
            ("sp.oidc_jwks_uri", None, urls.oidc_jwks_uri.as_ref()),
        ];
        for (name, from_admin, from_descriptor) in pairs {
            let value = match (from_admin, from_descriptor) {
                (Some(v), _) => Some(v),
                (None, Some(t)) => Some(self.render(t)?),
                (None, None) => None,
            };
            if let Some(v) = value {
                self.vars.set(name, v);
            }
        }
        Ok(())
    }
}

/// An admin call's result checked against an optional expected refusal.
pub fn check_refusal<T>(
    result: Result<T, AdminError>,
    expected: Option<String>,
) -> Result<Option<T>, StepFailure> {
    let what = "the target's answer to the admin action";
    match (result, expected) {
        (Ok(v), None) => Ok(Some(v)),
        (Ok(_), Some(want)) => Err(StepFailure::diff(
            FailureKind::Mismatch,
            Diff::new(
                what,
                format!("refused with a message containing {want:?}"),
                "accepted",
            ),
        )),
        (Err(AdminError::Refused(msg)), Some(want)) => {
            if msg.contains(&want) {
                Ok(None)
            } else {
                Err(StepFailure::diff(
                    FailureKind::Mismatch,
                    Diff::new(
                        what,
                        format!("refused with a message containing {want:?}"),
                        format!("refused with {msg:?}"),
                    ),
                ))
            }
        }
        (Err(AdminError::Refused(msg)), None) => {
            Err(StepFailure::refused(format!("refused: {msg}")))
        }
        (Err(AdminError::Failed(e)), _) => Err(StepFailure::broken(e.to_string())),
    }
}
