//! A run: the mock IdP and the browser pool shared by every trial, and one trial per
//! scenario x target.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use proto::idp::TenantSpec;

use crate::browser::BrowserPool;
use crate::error::Result;
use crate::idp::client::IdpClient;
use crate::input::location::Location;
use crate::input::template::Vars;
use crate::scenario::load::LoadedScenario;
use crate::scenario::schema::{Expectation, Protocol, Step};
use crate::secret::Secret;
use crate::target::descriptor::LoadedTarget;
use crate::trial::ctx::{DEFAULT_TIMEOUT, TrialCtx};
use crate::trial::failure::StepFailure;
use crate::trial::outcome::{Screenshot, StepRecord, TrialOutcome, Verdict};

/// A trial may take at most this many step timeouts in all.
const TRIAL_LIMIT_FACTOR: u32 = 30;

/// Where the mock IdP comes from.
#[derive(Debug, Clone)]
pub enum IdpChoice {
    /// Started in-process (the default).
    Embedded,
    /// Already running; `dns` is its DNS server if known, else asked for at start.
    External {
        url: String,
        dns: Option<SocketAddr>,
    },
    /// A staging target's mock IdP: the one answering at `url`, else served in-process
    /// there with the pinned tenants of `state_dir` (its address is fixed: the SP stored it).
    Staging {
        url: String,
        state_dir: std::path::PathBuf,
        dns: Option<SocketAddr>,
    },
    /// No IdP: only trials that need none can pass.
    None,
}

#[derive(Debug, Clone)]
pub struct HarnessOptions {
    pub jobs: usize,
    pub webdriver_url: Option<String>,
    pub idp: IdpChoice,
}

pub struct Harness {
    idp: Option<IdpClient>,
    /// The loopback listener scenarios point SPs at where they must never fetch.
    canary: Option<crate::canary::Canary>,
    dns: Option<SocketAddr>,
    _idp_guard: Option<Box<dyn std::any::Any + Send + Sync>>,
    pool: Arc<BrowserPool>,
    os: String,
    /// Clean-up a trial leaves behind it (browser reset, tenant and TXT removal) so that its
    /// result is ready sooner; `shutdown` waits for it.
    background: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// A trial to run.
#[derive(Clone)]
pub struct TrialPlan {
    pub target: Arc<LoadedTarget>,
    pub scenario: Arc<LoadedScenario>,
    /// A person at the terminal may be asked to do manual steps (staging targets).
    pub interactive: bool,
}

impl TrialPlan {
    pub fn name(&self) -> String {
        format!("{}::{}", self.target.target.name, self.scenario.id)
    }

    /// Why this trial cannot run on this target, if it cannot.
    pub fn skip_reason(&self) -> Option<String> {
        let desc = &self.target.target;
        let missing = desc.missing(&self.scenario.scenario.requires);
        if missing.is_empty() && desc.procedures.sign_out.is_empty() {
            // Not every SP has a sign-out, so its absence skips rather than fails.
            if uses_sign_out(&self.scenario.scenario.steps) {
                return Some(format!(
                    "target {} defines no procedures.sign_out (add its own way to sign out, e.g. `sign_out: [ {{ open: \"{{sp.base_url}}logout\" }} ]` or a click)",
                    desc.name
                ));
            }
        }
        if missing.is_empty()
            && desc.sp.backchannel_logout_url.is_none()
            && self.scenario.scenario.uses_step("backchannel_logout")
        {
            return Some(format!(
                "target {} declares no sp.backchannel_logout_url (where the RP takes \
                 back-channel logout tokens)",
                desc.name
            ));
        }
        if missing.is_empty()
            && desc.sp.frontchannel_logout_url.is_none()
            && (self.scenario.scenario.uses_step("op_logout")
                || self.scenario.scenario.uses_step("frontchannel_logout"))
        {
            return Some(format!(
                "target {} declares no sp.frontchannel_logout_url (where the OP's \
                 front-channel logout frame goes)",
                desc.name
            ));
        }
        if missing.is_empty() {
            let (Some(staging), Some(org)) = (&desc.staging, desc.manual_org()) else {
                return None;
            };
            crate::trial::manual::skip_reason(
                &self.scenario.scenario,
                staging,
                org,
                self.interactive,
            )
        } else {
            Some(format!(
                "target {} lacks capability {}",
                self.target.target.name,
                missing
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

/// Whether `steps` sign out (here or inside a `repeat`): such a scenario needs the target's
/// `procedures.sign_out`.
pub fn uses_sign_out(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::SignOut(_) => true,
        Step::Repeat(r) => uses_sign_out(&r.steps),
        _ => false,
    })
}

/// Every scenario x target, filtered by a substring of the trial name.
pub fn plan(
    targets: &[Arc<LoadedTarget>],
    scenarios: &[Arc<LoadedScenario>],
    filter: Option<&str>,
) -> Vec<TrialPlan> {
    let mut out = Vec::new();
    for t in targets {
        for s in scenarios {
            let p = TrialPlan {
                target: t.clone(),
                scenario: s.clone(),
                interactive: false,
            };
            if filter.is_none_or(|f| p.name().contains(f)) {
                out.push(p);
            }
        }
    }
    out
}

fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    format!("{pretty} ({})", std::env::consts::ARCH)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Harness {
    pub async fn start(opts: &HarnessOptions) -> Result<Self> {
        crate::browser::install_crypto_provider();
        // The mock IdP and the browsers do not depend on each other: start them together, and
        // start one browser per job now rather than in the first trials.
        let idp = async {
            Ok::<_, crate::HarnessError>(match &opts.idp {
                IdpChoice::Embedded => {
                    let e = crate::target::embedded::start_mock_idp().await?;
                    (Some(IdpClient::new(&e.base_url)), e.dns_addr, Some(e.guard))
                }
                IdpChoice::External { url, dns } => {
                    let client = IdpClient::new(url);
                    // The reference SP checks domains against the mock IdP's DNS server, as
                    // in-process runs do: ask the running IdP where it is.
                    let dns = match dns {
                        Some(d) => *d,
                        None => client.dns_addr().await.map_err(|e| {
                            crate::HarnessError::Idp(format!(
                                "the mock IdP at {url} did not say where its DNS server is (domain verification needs it): {e}"
                            ))
                        })?,
                    };
                    (Some(client), Some(dns), None)
                }
                IdpChoice::Staging {
                    url,
                    state_dir,
                    dns,
                } => {
                    let (client, dns, guard) = staging_idp(url, state_dir, *dns).await?;
                    (Some(client), dns, guard)
                }
                IdpChoice::None => (None, None, None),
            })
        };
        let pool = async {
            let pool = BrowserPool::new(opts.jobs.max(1), opts.webdriver_url.clone()).await?;
            pool.warm(opts.jobs.max(1)).await;
            Ok::<_, crate::HarnessError>(pool)
        };
        let (idp, pool) = tokio::join!(idp, pool);
        let (idp, dns, guard) = idp?;
        let canary = crate::canary::Canary::start().await?;
        Ok(Self {
            idp,
            canary: Some(canary),
            dns,
            _idp_guard: guard,
            pool: Arc::new(pool?),
            os: os_name(),
            background: Default::default(),
        })
    }

    pub async fn shutdown(&self) {
        let pending = self
            .background
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for task in pending {
            let _ = task.await;
        }
        self.pool.shutdown().await;
    }

    /// Runs clean-up off the trial's critical path; `shutdown` waits for it.
    fn in_background(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        if let Ok(mut v) = self.background.lock() {
            v.retain(|h| !h.is_finished());
            v.push(handle);
        }
    }

    pub fn idp_url(&self) -> Option<String> {
        self.idp.as_ref().map(IdpClient::base_url)
    }

    pub async fn run_trial(&self, plan: &TrialPlan) -> TrialOutcome {
        let t0 = Instant::now();
        let s = &plan.scenario.scenario;
        let desc = &plan.target.target;
        let mut out = TrialOutcome {
            name: plan.name(),
            target: desc.name.clone(),
            scenario_id: plan.scenario.id.clone(),
            scenario_name: s.scenario.clone(),
            scenario_path: plan.scenario.path.display().to_string(),
            covers: s.covers.iter().map(ToString::to_string).collect(),
            weakness: weakness(s),
            verdict: Verdict::Error,
            failure_kind: None,
            oracle: None,
            risk_accepted: None,
            message: None,
            started_at: now_rfc3339(),
            duration_ms: 0,
            overhead_ms: 0,
            phases_ms: Default::default(),
            steps: Vec::new(),
            screenshots: Vec::new(),
            http: Vec::new(),
            exchanges: Vec::new(),
            context: Default::default(),
            final_url: None,
            error_text: None,
            target_log: Vec::new(),
            browser: "Chromium (headless)".into(),
            os: self.os.clone(),
            protocol: format!("{:?}", s.idp.protocol).to_uppercase(),
            idp_profile: format!("{:?}", s.idp.profile).to_lowercase(),
            sign_in_path: "direct sign-in".into(),
            users: s.idp.users.iter().map(|u| u.email.clone()).collect(),
            secrets: Vec::new(),
        };
        if let Some(reason) = plan.skip_reason() {
            out.verdict = Verdict::Skipped;
            out.message = Some(reason);
            return out;
        }
        let result = self.try_run(plan, &mut out, t0).await;
        let failure = match result {
            Ok(TrialEnd::Judged(f)) => f,
            Ok(TrialEnd::Skipped(reason)) => {
                out.verdict = Verdict::Skipped;
                out.message = Some(reason);
                out.duration_ms = ms(t0.elapsed());
                return out;
            }
            Err(e) => Some(StepFailure::broken(e.to_string())),
        };
        // The mock IdP's log can show the failure says nothing about the SP (set-up).
        let failure = failure.map(|f| {
            let tenant = out.context.get("idp.tenant").cloned().unwrap_or_default();
            match crate::trial::setup_error::explain(
                s,
                &f,
                &out.exchanges,
                &tenant,
                desc.staging.is_some(),
            ) {
                Some(why) => {
                    let mut b = StepFailure::broken(why);
                    b.context = Some(format!("what the trial saw before: {f}"));
                    b
                }
                None => f,
            }
        });
        let decision = crate::trial::verdict::decide(
            failure.as_ref(),
            desc.known_failure(&plan.scenario.id),
            &desc.name,
            time::OffsetDateTime::now_utc().date(),
        );
        out.verdict = decision.verdict;
        out.message = decision.message;
        if let (Verdict::Finding, Some(w), Some(m)) =
            (out.verdict, &out.weakness, out.message.as_mut())
        {
            m.push_str(&format!("\nweakness: {}", w.label()));
            if let Some(fix) = &w.remediation {
                m.push_str(&format!("\nfix: {fix}"));
            }
        }
        out.risk_accepted = decision.risk_accepted;
        out.oracle = failure.as_ref().and_then(|f| f.oracle).map(str::to_string);
        out.failure_kind = failure.map(|f| f.kind);
        if let Ok(v) = self.pool.chromium_version.lock() {
            if let Some(v) = v.clone() {
                out.browser = format!("{v} (headless)");
            }
        }
        out.duration_ms = ms(t0.elapsed());
        out.overhead_ms = out.duration_ms.saturating_sub(out.step_ms());
        out
    }

    /// Judged(None) passed, Judged(Some(diff)) failed, Skipped nobody could do a manual
    /// step, Err could not run.
    async fn try_run(
        &self,
        plan: &TrialPlan,
        out: &mut TrialOutcome,
        t0: Instant,
    ) -> Result<TrialEnd> {
        let s = &plan.scenario.scenario;
        let desc = &plan.target.target;
        let trial_id = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        let mut vars = Vars::default();
        vars.set("trial.id", &trial_id);
        vars.set("idp.name", "main");
        if let Some(c) = &self.canary {
            vars.set("canary.url", c.url_for(&trial_id));
            vars.set("canary.host", c.host());
        }

        // Users, with a password made up for this trial when the scenario gives none.
        let mut users = Vec::new();
        for (i, u) in s.idp.users.iter().enumerate() {
            let pw = u.password.clone().unwrap_or_else(|| Secret::generate("pw"));
            let domain = u.email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            for prefix in [
                format!("users.{i}"),
                if i == 0 {
                    "user".to_string()
                } else {
                    String::new()
                },
            ] {
                if prefix.is_empty() {
                    continue;
                }
                vars.set(&format!("{prefix}.email"), &u.email);
                vars.set(&format!("{prefix}.domain"), domain);
                vars.set(&format!("{prefix}.password"), pw.expose());
                if let Some(g) = &u.given_name {
                    vars.set(&format!("{prefix}.given_name"), g);
                }
                if let Some(f) = &u.family_name {
                    vars.set(&format!("{prefix}.family_name"), f);
                }
            }
            out.secrets.push(pw.expose().to_string());
            users.push((u.clone(), pw));
        }

        // A fresh tenant on the mock IdP.
        let mut mark = Instant::now();
        let mut phase = |out: &mut TrialOutcome, name: &str| {
            out.phases_ms.insert(name.to_string(), ms(mark.elapsed()));
            mark = Instant::now();
        };
        // The tenant and the target do not depend on each other: make them at the same time.
        // The builtin SP's "Continue with Google" is another tenant (google profile, same users).
        let wants_social = self.idp.is_some()
            && matches!(desc.launch, crate::target::descriptor::Launch::Builtin(_))
            && desc
                .capabilities
                .contains(&crate::scenario::schema::Capability::SocialLogin)
            && s.requires
                .contains(&crate::scenario::schema::Capability::SocialLogin);
        let social_tenant = wants_social.then(|| format!("s-{trial_id}"));
        let (tenant, launched) = tokio::join!(
            async {
                match (&self.idp, &desc.staging) {
                    // The tenant the person configured the SP with, for this trial only.
                    (Some(idp), Some(st)) => lease_pinned(
                        idp,
                        st,
                        &tenant_spec(s, &users, &trial_id, &vars)?,
                        s,
                        &trial_id,
                        &vars,
                    )
                    .await
                    .map(Some),
                    (Some(idp), None) => idp
                        .create_tenant(&tenant_spec(s, &users, &trial_id, &vars)?)
                        .await
                        .map(Some),
                    (None, _) => Ok(None),
                }
            },
            async {
                let social = match (&self.idp, wants_social) {
                    (Some(idp), true) => Some(self.social_provider(idp, &users, &trial_id).await?),
                    _ => None,
                };
                let secret = social
                    .as_ref()
                    .map(|p| p.client_secret.expose().to_string());
                crate::target::launch::launch(&plan.target, self.dns, social)
                    .await
                    .map(|r| (r, secret))
            }
        );
        let tenant = tenant?;
        let (running, social_secret) = launched?;
        out.secrets.extend(social_secret);
        if let (Some(idp), Some(t)) = (&self.idp, &tenant) {
            vars.set("idp.base_url", idp.base_url());
            vars.set("idp.tenant", &t.id);
            let saml = &t.saml;
            for (k, v) in [
                ("idp.entity_id", &saml.entity_id),
                ("idp.sso_url", &saml.sso_url),
                ("idp.sso_url_post", &saml.sso_url_post),
                ("idp.metadata_url", &saml.metadata_url),
                ("idp.dashboard_url", &saml.dashboard_url),
                ("idp.idp_initiated_url", &saml.idp_initiated_url),
                ("idp.slo_url", &saml.slo_url),
                ("idp.logout_url", &saml.logout_url),
                ("idp.certificate_pem", &saml.certificate_pem),
                ("idp.fingerprint_sha1", &saml.fingerprint_sha1),
                ("idp.fingerprint_sha256", &saml.fingerprint_sha256),
            ] {
                vars.set(k, v);
            }
            if let Some(oidc) = &t.oidc {
                for (k, v) in [
                    ("idp.issuer", &oidc.issuer),
                    ("idp.discovery_url", &oidc.discovery_url),
                    ("idp.authorization_endpoint", &oidc.authorization_endpoint),
                    ("idp.token_endpoint", &oidc.token_endpoint),
                    ("idp.end_session_endpoint", &oidc.end_session_endpoint),
                ] {
                    vars.set(k, v);
                }
            }
        }
        for k in crate::trial::op_steps::ATTACKER_VARS {
            vars.set(k, "");
        }
        phase(out, "tenant_and_target");
        let base = if running.base_url.ends_with('/') {
            running.base_url.clone()
        } else {
            format!("{}/", running.base_url)
        };
        vars.set("sp.base_url", &base);
        for (k, v) in &running.vars {
            vars.set(k, v);
        }
        let login = match &desc.sp.login_url {
            Some(t) => t.render(&vars).map_err(crate::HarnessError::Template)?,
            None => format!("{base}login"),
        };
        let origins = sp_origins(&[&base, &login]);
        vars.set("sp.login_url", login);
        if s.idp.protocol == Protocol::Oidc
            && matches!(desc.launch, crate::target::descriptor::Launch::Url(_))
        {
            if let Some(u) = self.idp_url() {
                if u.contains("127.0.0.1") || u.contains("localhost") {
                    eprintln!(
                        "warning: OIDC against a remote target with a loopback mock IdP ({u}): the SP must reach the IdP's token and JWKS endpoints itself; start the mock IdP with --public URL"
                    );
                }
            }
        }

        let mut pooled = self.pool.checkout().await?;
        let session = pooled.get()?;
        phase(out, "browser_checkout");
        let default_timeout = s
            .timeout_ms
            .map(std::time::Duration::from_millis)
            .unwrap_or(DEFAULT_TIMEOUT);
        let mut ctx = TrialCtx {
            scenario: s,
            target: desc,
            vars,
            main_browser: session,
            extra_browsers: Vec::new(),
            current_browser: None,
            pool: &self.pool,
            idp: self.idp.as_ref(),
            tenant,
            admin: &running.admin,
            orgs: Vec::new(),
            current_org: None,
            users,
            screenshots: Vec::new(),
            http: Vec::new(),
            t0,
            default_timeout,
            secrets: Vec::new(),
            used_tile: false,
            step_index: None,
            published_txt: Vec::new(),
            idp_clock: s.idp.clock.map(|c| c.offset.seconds).unwrap_or(0),
            target_clock: 0,
            target_logs: running.logs.clone(),
            sp_origins: origins,
            trial_id: trial_id.clone(),
            canary: self.canary.as_ref(),
            exchanges: Vec::new(),
            last_answer: None,
            interactive: plan.interactive,
            manual_skip: None,
            last_logout: None,
            idp_name: "main".into(),
            other_idps: Vec::new(),
            idp_clients: Vec::new(),
            manual_undo: Vec::new(),
            signed_out_from: None,
        };
        // A WebDriver call can hang (a page that never loads); no trial may hold the run.
        let limit = TRIAL_LIMIT_FACTOR * default_timeout.max(DEFAULT_TIMEOUT);
        let failure =
            match tokio::time::timeout(limit, run_all(&mut ctx, plan, &mut out.steps)).await {
                Ok(f) => f,
                Err(_) => Some(StepFailure::broken(format!(
                    "the trial did not finish within {} s (step {} was running)",
                    limit.as_secs(),
                    ctx.step_index.map(|i| i + 1).unwrap_or(0)
                ))),
            };
        if failure.is_some() {
            let already = ctx
                .screenshots
                .last()
                .is_some_and(|s: &Screenshot| s.step == ctx.step_index);
            if !already {
                let _ = ctx.capture("at failure").await;
            }
        }
        // Evidence, whatever the verdict; the main OP is the trial's tenant again.
        ctx.restore_main_idp();
        let evidence = Instant::now();
        ctx.collect_http().await;
        out.final_url = ctx.browser().current_url().await.ok();
        out.error_text = ctx.browser().element_text(&desc.signals.error).await;
        out.target_log = ctx.target_log_lines();
        if let (Some(idp), Some(t)) = (self.idp.as_ref(), ctx.tenant.as_ref()) {
            out.exchanges = idp.exchanges(&t.id).await.unwrap_or_else(|e| {
                vec![serde_json::json!({ "error": format!("could not fetch exchanges: {e}") })]
            });
        }
        if let (Some(idp), Some(st)) = (self.idp.as_ref(), social_tenant.as_ref()) {
            if let Ok(x) = idp.exchanges(st).await {
                out.exchanges.extend(x);
            }
        }
        if let Some(idp) = self.idp.as_ref() {
            for (_, t) in &ctx.other_idps {
                if let Ok(x) = idp.exchanges(&t.id).await {
                    out.exchanges.extend(x);
                }
            }
        }
        // A pinned tenant goes back to its set-up state now (the next trial waits for it).
        if let (Some(idp), Some(t), Some(_)) =
            (self.idp.as_ref(), ctx.tenant.as_ref(), &desc.staging)
        {
            if let Err(e) = idp.end_trial(&t.id, &trial_id).await {
                eprintln!(
                    "warning: could not hand back the pinned tenant {}: {e}",
                    t.id
                );
            }
        }
        // What a person changed by hand is put back by hand, before the next trial.
        let undo = std::mem::take(&mut ctx.manual_undo);
        if ctx.interactive && !undo.is_empty() {
            for what in undo.iter().rev() {
                let _ = crate::trial::manual::ask(&trial_id, &format!("put back: {what}")).await;
            }
        }
        let manual_skip = ctx.manual_skip.take();
        // The trial's records on the mock IdP are not evidence: remove them after its result.
        if let Some(idp) = self.idp.clone() {
            let txt = std::mem::take(&mut ctx.published_txt);
            let tenants: Vec<String> = ctx
                .tenant
                .as_ref()
                .filter(|_| desc.staging.is_none())
                .map(|t| t.id.clone())
                .into_iter()
                .chain(social_tenant.clone())
                .chain(ctx.other_idps.iter().map(|(_, t)| t.id.clone()))
                .collect();
            self.in_background(async move {
                for (name, value) in txt {
                    let _ = idp.remove_txt(&name, &value).await;
                }
                for t in tenants {
                    let _ = idp.delete_tenant(&t).await;
                }
            });
        }
        if ctx.used_tile {
            out.sign_in_path = "Tile URL (IdP dashboard)".into();
        }
        out.phases_ms
            .insert("evidence".into(), ms(evidence.elapsed()));
        let cleanup = Instant::now();
        out.context = ctx.vars.public();
        out.secrets.append(&mut ctx.secrets);
        out.secrets
            .extend(ctx.vars.secret_values().map(str::to_string));
        out.screenshots = std::mem::take(&mut ctx.screenshots);
        out.http = std::mem::take(&mut ctx.http);
        let extras: Vec<_> = ctx.extra_browsers.drain(..).map(|(_, s)| s).collect();
        drop(ctx);
        drop(running);
        // The session goes back to the pool once reset; its pool slot stays taken until then,
        // so the next trial on it overlaps its own start (tenant, target) with the reset.
        let pool = self.pool.clone();
        self.in_background(async move {
            for extra in extras {
                extra.close().await;
            }
            pool.checkin(pooled).await;
        });
        out.phases_ms
            .insert("cleanup".into(), ms(cleanup.elapsed()));
        Ok(match manual_skip {
            Some(reason) => TrialEnd::Skipped(reason),
            None => TrialEnd::Judged(failure),
        })
    }
}

impl Harness {
    /// A google-profile tenant and an OIDC client whose redirect URI is the SP's social
    /// callback on a port chosen now (the SP is told to listen there).
    async fn social_provider(
        &self,
        idp: &IdpClient,
        users: &[(crate::scenario::schema::IdpUser, Secret)],
        trial_id: &str,
    ) -> Result<crate::target::embedded::SocialProvider> {
        let spec = TenantSpec {
            id: Some(format!("s-{trial_id}")),
            profile: crate::scenario::schema::Profile::Google,
            users: idp_users(users),
            ..TenantSpec::default()
        };
        let tenant = idp.create_tenant(&spec).await?;
        let port = crate::net::free_port()?;
        let client_id = format!("social-{trial_id}");
        let secret = Secret::generate("social-secret");
        idp.add_oidc_client(
            &tenant.id,
            &proto::idp::OidcClient {
                client_id: client_id.clone(),
                client_secret: secret.clone(),
                redirect_uris: vec![format!("http://127.0.0.1:{port}/sso/social/callback")],
                post_logout_redirect_uris: Vec::new(),
                frontchannel_logout_uri: None,
                scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
                allowed_groups: Vec::new(),
                forge: None,
                id_token_encryption: None,
                auth_request: None,
            },
        )
        .await?;
        let discovery_url = tenant.oidc.map(|o| o.discovery_url).ok_or_else(|| {
            crate::HarnessError::Idp("the google tenant has no discovery URL".into())
        })?;
        Ok(crate::target::embedded::SocialProvider {
            port,
            discovery_url,
            client_id,
            client_secret: secret,
        })
    }
}

/// A staging target's mock IdP: the one already answering at `url` (`sso-harness staging
/// idp`, `mock-idp serve --state-dir`), else one served here with the pinned tenants of
/// `state_dir`; the guard, when this process serves it, stops it when dropped.
pub async fn staging_idp(
    url: &str,
    state_dir: &std::path::Path,
    dns: Option<SocketAddr>,
) -> Result<(
    IdpClient,
    Option<SocketAddr>,
    Option<Box<dyn std::any::Any + Send + Sync>>,
)> {
    let client = IdpClient::new(url);
    if let Ok(d) = client.dns_addr().await {
        return Ok((client, Some(d), None));
    }
    let e = crate::target::embedded::start_pinned_idp(url, state_dir, dns).await?;
    Ok((IdpClient::new(&e.base_url), e.dns_addr, Some(e.guard)))
}

/// How a trial ended.
enum TrialEnd {
    /// None: passed; Some: the first failure.
    Judged(Option<StepFailure>),
    /// Nobody could do a manual step: nothing was learnt about the SP.
    Skipped(String),
}

/// How long a trial waits for a pinned tenant another trial (or a killed run's lease)
/// holds, before it gives up with an error.
const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Takes the staging target's pinned tenant for this trial, with the trial's users, faults,
/// clock and SAML/OIDC options; waits while another trial holds it.
async fn lease_pinned(
    idp: &IdpClient,
    staging: &crate::target::staging::StagingSpec,
    spec: &TenantSpec,
    s: &crate::scenario::schema::Scenario,
    trial_id: &str,
    vars: &Vars,
) -> Result<proto::idp::TenantInfo> {
    let id = &staging.tenant;
    if idp.get_tenant(id).await?.is_none() {
        return Err(crate::HarnessError::Idp(format!(
            "the mock IdP at {} has no tenant {id}: run `sso-harness staging init --target <this target file>` first (it creates the tenant and prints what to configure in the SP)",
            idp.base_url()
        )));
    }
    // The scenario's OIDC forge goes onto the pinned client for this trial, as onto the
    // client `configure_sso: oidc` registers elsewhere.
    let oidc = match s.idp.oidc.as_ref() {
        Some(o) => Some(proto::idp::TrialOidc {
            scopes: o.scopes.clone(),
            allowed_groups: (!o.allowed_groups.is_empty()).then(|| o.allowed_groups.clone()),
            forge: o
                .forge
                .as_ref()
                .map(|f| f.render(vars))
                .transpose()
                .map_err(crate::HarnessError::Template)?,
        }),
        None => None,
    };
    let overlay = proto::idp::TrialOverlay {
        trial_id: trial_id.to_string(),
        ttl_seconds: 600,
        users: spec.users.clone(),
        saml: spec.saml.clone(),
        faults: spec.faults.clone(),
        clock_offset_seconds: spec.clock_offset_seconds,
        oidc,
    };
    let deadline = Instant::now() + LEASE_WAIT;
    loop {
        if let Some(info) = idp.begin_trial(id, &overlay).await? {
            return Ok(info);
        }
        if Instant::now() >= deadline {
            return Err(crate::HarnessError::Idp(format!(
                "the pinned tenant {id} stayed held by another trial for {} s (another run on the same mock IdP? its lease expires after 10 minutes)",
                LEASE_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The scenario's users as the mock IdP's directory holds them.
fn idp_users(users: &[(crate::scenario::schema::IdpUser, Secret)]) -> Vec<proto::idp::User> {
    users.iter().map(|(u, pw)| u.wire(pw)).collect()
}

/// The trial's tenant: its users, profile, faults, clock and SAML signing choices.
fn tenant_spec(
    s: &crate::scenario::schema::Scenario,
    users: &[(crate::scenario::schema::IdpUser, Secret)],
    trial_id: &str,
    vars: &Vars,
) -> Result<TenantSpec> {
    let mut saml = proto::idp::SamlOptions::default();
    if let Some(o) = &s.idp.saml {
        if let Some(sign) = o.sign {
            saml.sign = sign;
        }
        if let Some(sha1) = o.sha1 {
            saml.sha1 = sha1;
        }
        if let Some(f) = &o.forge {
            saml.forge = Some(
                f.render(vars)
                    .map_err(crate::error::HarnessError::Template)?,
            );
        }
        saml.logout = o.logout.clone();
    }
    let mut users = idp_users(users);
    if s.uses_step("use_idp") {
        crate::trial::op_steps::share_subjects(&mut users);
    }
    Ok(TenantSpec {
        id: Some(format!("t-{trial_id}")),
        profile: s.idp.profile,
        users,
        saml,
        faults: s.idp.faults.iter().map(|f| f.0).collect(),
        clock_offset_seconds: s.idp.clock.map(|c| c.offset.seconds).unwrap_or(0),
        ..TenantSpec::default()
    })
}

/// The scenario's anchors, severity, CWE, CVEs and remediation, when it names any.
fn weakness(s: &crate::scenario::schema::Scenario) -> Option<crate::trial::outcome::Weakness> {
    let w = crate::trial::outcome::Weakness {
        anchors: s.anchors.iter().map(ToString::to_string).collect(),
        severity: s.severity.map(|v| v.to_string()),
        cwe: s.cwe.as_ref().map(ToString::to_string),
        cve: s.cve.iter().map(ToString::to_string).collect(),
        remediation: s.remediation.clone(),
    };
    (w != crate::trial::outcome::Weakness::default()).then_some(w)
}

/// The origins of the SP's URLs (its base and login URL may differ, e.g. a login page on
/// another port); pages elsewhere are never evidence about the SP.
fn sp_origins(urls: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = urls
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Runs setup, steps and final expectations; stops at the first failure, which names the
/// step and its place in the scenario file.
async fn run_all(
    ctx: &mut TrialCtx<'_>,
    plan: &TrialPlan,
    log: &mut Vec<StepRecord>,
) -> Option<StepFailure> {
    let s = ctx.scenario;
    // The target's own entry, else the nearest target it extends.
    let per_target = plan.target.target.names().find_map(|n| {
        s.per_target
            .get(n)
            .filter(|p| !p.expect.is_empty())
            .map(|p| (n, p))
    });
    let finals: Vec<Expectation> = match per_target {
        Some((_, p)) => p.expect.clone(),
        None => s.expect.clone(),
    };
    let forbidden = crate::trial::probe::forbidden(&finals, ctx);
    let finals: Vec<Step> = finals
        .into_iter()
        .map(|e| Step::Expect(Box::new(e)))
        .collect();
    let places = &plan.scenario.places;
    let expect_places: &[Location] = match per_target {
        Some((name, _)) => places
            .per_target_expect
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default(),
        None => &places.expect,
    };
    let phases: [(&'static str, &[Step], &[Location]); 3] = [
        ("setup", &s.setup, &places.setup),
        ("steps", &s.steps, &places.steps),
        ("expect", &finals, expect_places),
    ];
    let mut index = 0;
    for (phase, steps, at) in phases {
        for (i, step) in steps.iter().enumerate() {
            ctx.step_index = Some(index);
            let started = ctx.t0.elapsed();
            let r = ctx.run_step(step).await;
            let duration = ctx.t0.elapsed().saturating_sub(started);
            let place = at
                .get(i)
                .cloned()
                .unwrap_or_else(|| Location::start_of(&plan.scenario.path));
            let failure = record_step(
                log,
                StepRecord {
                    index,
                    phase: phase.into(),
                    kind: step.kind().to_string(),
                    detail: describe(step),
                    at: place.to_string(),
                    started_ms: ms(started),
                    duration_ms: ms(duration),
                    ok: true,
                    failure: None,
                    message: None,
                    note: None,
                },
                r,
            );
            if let Some(f) = failure {
                return Some(f.within(&format!(
                    "{phase} step {} ({}) failed at {place}",
                    index + 1,
                    step.kind()
                )));
            }
            index += 1;
        }
    }
    // A negative flow ends with the session probe: a session the SP created and hid behind
    // an error page is the SP accepting what it must refuse.
    if let Some(forbidden) = forbidden {
        ctx.step_index = Some(index);
        let started = ctx.t0.elapsed();
        let r = crate::trial::probe::probe(ctx, &forbidden).await;
        let duration = ctx.t0.elapsed().saturating_sub(started);
        let failure = record_step(
            log,
            StepRecord {
                index,
                phase: "probe".into(),
                kind: "session_probe".into(),
                detail: if plan.target.target.session_probe.is_none()
                    && ctx.signed_out_from.is_some()
                {
                    "who is signed in now? (the page that showed the user before the sign-out)"
                } else {
                    "who is signed in now? (target's session_probe)"
                }
                .into(),
                at: plan.target.path.display().to_string(),
                started_ms: ms(started),
                duration_ms: ms(duration),
                ok: true,
                failure: None,
                message: None,
                note: None,
            },
            r.map(Some),
        );
        if let Some(f) = failure {
            return Some(f.within(&format!(
                "session probe (step {}) after the flow",
                index + 1
            )));
        }
    }
    None
}

/// Completes a step's record with its result, logs it, and hands back the failure if any.
fn record_step(
    log: &mut Vec<StepRecord>,
    mut rec: StepRecord,
    result: Result<Option<String>, StepFailure>,
) -> Option<StepFailure> {
    let failure = match result {
        Ok(note) => {
            rec.note = note;
            None
        }
        Err(f) => {
            rec.ok = false;
            rec.failure = Some(f.kind.label().into());
            rec.message = Some(f.to_string());
            Some(f)
        }
    };
    log.push(rec);
    failure
}

/// The step as the scenario wrote it (placeholders unrendered, so secrets stay out).
fn describe(step: &Step) -> String {
    let d = format!("{step:?}");
    // Debug of the enum is `Kind(args)`; keep the args, they are short.
    match d.split_once('(') {
        Some((_, rest)) => rest.strip_suffix(')').unwrap_or(rest).to_string(),
        None => d,
    }
}
