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
