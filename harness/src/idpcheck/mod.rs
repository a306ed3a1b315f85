//! IdP application checks (`sso-harness idp-check`): an IdP administrator's application
//! (authentik, Okta, or any OIDC/SAML IdP) checked against the product's documented
//! requirements before users try it. The IdP is real (or a local peer the harness launches);
//! the SP side is the reference SP started in-process and configured from the IdP exactly as
//! a customer configures the product; sign-ins go through headless Chromium and the IdP's own
//! login page. The checks and their fixes live in `scenarios/idp-checks/`.
pub mod catalogue;
pub mod descriptor;
pub mod finding;
pub mod flow;
pub mod oidc;
pub mod peer;
pub mod report;
pub mod saml;
pub mod sp;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::browser::BrowserPool;
use crate::error::{HarnessError, Result};
use crate::net::free_port;
use crate::secret::Secret;
use catalogue::{CheckDef, CheckKind, load_checks};
use descriptor::{LoadedDescriptor, Peer, Protocol, load_descriptor};
pub use finding::{
    CheckVerdict, ERR7, Finding, out_of_group_finding, sign_in_finding, tile_finding,
};
use flow::{Credentials, SignIn};
use peer::LaunchedPeer;
use sp::{SpUnderCheck, sp_urls};

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub check: CheckKind,
    pub title: String,
    pub covers: Vec<String>,
    pub verdict: CheckVerdict,
    pub reason: String,
    /// The fix to make at the IdP for the observed cause, with this run's URLs filled in
    /// (shown when the check failed).
    pub fix: String,
    /// The causes observed (the check's `fixes:` keys), when it failed for a known one.
    pub causes: Vec<String>,
    /// The failed check this one could not be judged without.
    pub depends_on: Option<String>,
    pub file: String,
}

impl CheckResult {
    /// `PASS oidc-claims: reason` (and the fix on the next line when it failed).
    pub fn line(&self) -> String {
        let mut s = format!("{} {}: {}", self.verdict.label(), self.id, self.reason);
        if self.verdict == CheckVerdict::Fail {
            s.push_str(&format!("\n     fix: {}", self.fix));
        }
        s
    }
}

/// Everything one run found, for the console and the report.
pub struct IdpCheckRun {
    pub idp: String,
    pub descriptor: String,
    pub protocol: Protocol,
    pub results: Vec<CheckResult>,
    /// Facts the verdicts were drawn from: decoded ID token claims / SAML response, probes.
    pub evidence: Value,
    pub screenshots: Vec<(String, Vec<u8>)>,
    /// Values that must never appear in a report (passwords, client secret).
    pub secrets: Vec<Secret>,
    pub wall_ms: u64,
}

impl IdpCheckRun {
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.verdict == CheckVerdict::Fail)
            .count()
    }
    pub fn not_checked(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.verdict == CheckVerdict::NotChecked)
            .count()
    }
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.verdict == CheckVerdict::Pass)
            .count()
    }
    pub fn result(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.id == id)
    }
}

pub struct IdpCheckOptions {
    pub descriptor: PathBuf,
    /// Repository root: `peers/` for launched peers.
    pub root: PathBuf,
    /// `scenarios/idp-checks`.
    pub checks_dir: PathBuf,
    pub webdriver_url: Option<String>,
}

/// Values the checks need, from the launched peer or from the descriptor and environment.
struct Resolved {
    discovery_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    metadata_url: Option<String>,
    idp_initiated_url: Option<String>,
    in_pw: Secret,
    out_pw: Secret,
}

fn resolve(d: &LoadedDescriptor, peer: Option<&LaunchedPeer>) -> Result<Resolved> {
    let desc = &d.descriptor;
    if let Some(p) = peer {
        return Ok(Resolved {
            discovery_url: p.discovery_url.clone(),
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.clone(),
            metadata_url: p.metadata_url.clone(),
            idp_initiated_url: p.idp_initiated_url.clone(),
            in_pw: p.in_group_password.clone(),
            out_pw: p.out_of_group_password.clone(),
        });
    }
    let in_pw = d.secret_from_env(
        "users.in_group.password_env",
        desc.users.in_group.password_env.as_deref(),
    )?;
    let out_pw = d.secret_from_env(
        "users.out_of_group.password_env",
        desc.users.out_of_group.password_env.as_deref(),
    )?;
    let client_secret = match &desc.oidc {
        Some(o) => {
            Some(d.secret_from_env("oidc.client_secret_env", o.client_secret_env.as_deref())?)
        }
        None => None,
    };
    Ok(Resolved {
        discovery_url: desc.oidc.as_ref().and_then(|o| o.discovery_url.clone()),
        client_id: desc.oidc.as_ref().and_then(|o| o.client_id.clone()),
        client_secret,
        metadata_url: desc.saml.as_ref().and_then(|s| s.metadata_url.clone()),
        idp_initiated_url: desc.saml.as_ref().and_then(|s| s.idp_initiated_url.clone()),
        in_pw,
        out_pw,
    })
}

/// Runs every check of the descriptor's protocol.
pub async fn run_idp_check(opts: &IdpCheckOptions) -> Result<IdpCheckRun> {
    let started = std::time::Instant::now();
    // Peers run from their own directories: every path they get must be absolute.
    let root = opts
        .root
        .canonicalize()
        .map_err(|e| HarnessError::io(&opts.root, e))?;
    let d = load_descriptor(&opts.descriptor)?;
    let protocol = d.protocol();
    let checks = load_checks(&opts.checks_dir, protocol).map_err(HarnessError::Load)?;
    if checks.is_empty() {
        return Err(HarnessError::Target(format!(
            "no {} checks in {}",
            protocol.as_str(),
            opts.checks_dir.display()
        )));
    }
    let desc = &d.descriptor;
    let port = match desc.sp.port {
        Some(p) => p,
        None => free_port()?,
    };
    let org_id = desc.sp.org_id.clone();
    let (acs_url, entity_id, redirect_uri) = sp_urls(port, &org_id);
    let peer = match &desc.launch {
        None => None,
        Some(l) => Some(match l.peer {
            Peer::OidcProvider => peer::launch_oidc_provider(&root, l, &desc.users, &redirect_uri)?,
            Peer::Simplesamlphp => {
                peer::launch_simplesamlphp(&root, l, &desc.users, &acs_url, &entity_id)?
            }
            Peer::MockIdp => {
                peer::launch_mock_idp(
                    l,
                    &desc.users,
                    protocol,
                    &redirect_uri,
                    &acs_url,
                    &entity_id,
                )
                .await?
            }
        }),
    };
    let r = resolve(&d, peer.as_ref())?;
    let mut secrets = vec![r.in_pw.clone(), r.out_pw.clone()];
    if let Some(s) = &r.client_secret {
        secrets.push(s.clone());
    }

    let sp = SpUnderCheck::start(port, &org_id).await?;
    let mut domains = vec![desc.users.in_group.domain().to_string()];
    if !domains.contains(&desc.users.out_of_group.domain().to_string()) {
        domains.push(desc.users.out_of_group.domain().to_string());
    }
    for dom in &domains {
        sp.verify_domain(dom).await?;
    }
    sp.add_member(&desc.users.in_group.email).await?;
    sp.add_member(&desc.users.out_of_group.email).await?;

    let pool = BrowserPool::new(1, opts.webdriver_url.clone()).await?;
    let mut screenshots = Vec::new();
    let flows = Flows {
        pool: &pool,
        sp: &sp,
        d: &d,
        r: &r,
    };
    let (findings, evidence): (Vec<(CheckDef, PathBuf, Finding)>, Value) = match protocol {
        Protocol::Oidc => {
            let mut facts = oidc::OidcFacts {
                discovery_url: r.discovery_url.clone().unwrap_or_default(),
                redirect_uri: redirect_uri.clone(),
                expected_email: desc.users.in_group.email.clone(),
                out_of_group_email: desc.users.out_of_group.email.clone(),
                ..Default::default()
            };
            let client_id = r.client_id.clone().unwrap_or_default();
            oidc::gather_static(&mut facts, &client_id).await;
            let secret = r.client_secret.clone().unwrap_or_else(|| Secret::new(""));
            let configured = sp
                .configure_oidc(&client_id, &secret, &facts.discovery_url)
                .await;
            let (s, e) = flows
                .sign_in("in-group", &sp.login_url(), true, true, &mut screenshots)
                .await;
            facts.sign_in = Some(with_setup_error(s, &configured));
            facts.evidence = e;
            let (t, te) = flows
                .sign_in(
                    "tile",
                    &sp.application_link(),
                    false,
                    true,
                    &mut screenshots,
                )
                .await;
            facts.tile = Some(t);
            facts.tile_evidence = te;
            facts.out_of_group = Some(flows.out_of_group(&mut screenshots).await);
            // Probes that met a login page are asked again as the signed-in in-group user.
            let needing = facts.probes_needing_session();
            if let Some(start) = needing
                .first()
                .and_then(|uri| facts.authorization_url(&client_id, uri))
            {
                let session = flows.idp_session(&start, &facts.discovery_url).await;
                if let Ok(cookies) = &session {
                    oidc::probe_with_session(&mut facts, &client_id, cookies.expose()).await;
                }
                facts.probe_sign_in = Some(session.map(|_| ()));
            }
            let findings = checks
                .into_iter()
                .map(|(p, c)| {
                    let f = oidc::evaluate(c.check, &facts);
                    (c, p, f)
                })
                .collect();
            (
                findings,
                serde_json::to_value(&facts).unwrap_or(Value::Null),
            )
        }
        Protocol::Saml => {
            let mut facts = saml::SamlFacts {
                metadata_url: r.metadata_url.clone().unwrap_or_default(),
                expected_email: desc.users.in_group.email.clone(),
                out_of_group_email: desc.users.out_of_group.email.clone(),
                ..Default::default()
            };
            saml::gather_metadata(&mut facts).await;
            let configured = match &facts.metadata {
                Some(Ok(m)) => {
                    sp.configure_saml(&m.sso_url, &m.certificate_pem(), Some(&m.entity_id))
                        .await
                }
                _ => Err(HarnessError::Target(
                    "the SP was not configured: no usable IdP metadata".into(),
                )),
            };
            let (s, e) = flows
                .sign_in("in-group", &sp.login_url(), true, true, &mut screenshots)
                .await;
            facts.sign_in = Some(with_setup_error(s, &configured));
            facts.evidence = e;
            if let Some(url) = &r.idp_initiated_url {
                let (t, te) = flows
                    .sign_in("tile", url, false, true, &mut screenshots)
                    .await;
                facts.tile = Some(t);
                facts.tile_evidence = te;
            }
            facts.out_of_group = Some(flows.out_of_group(&mut screenshots).await);
            let findings = checks
                .into_iter()
                .map(|(p, c)| {
                    let f = saml::evaluate(c.check, &facts);
                    (c, p, f)
                })
                .collect();
            (findings, saml::evidence_json(&facts))
        }
    };
    pool.shutdown().await;
    let fill = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("{redirect_uri}", &redirect_uri)
            .replace("{acs_url}", &acs_url)
            .replace("{entity_id}", &entity_id)
            .replace(
                "{discovery_url}",
                r.discovery_url.as_deref().unwrap_or("the discovery URL"),
            )
    };
    let depends = explained_by_failures(&findings);
    let results = findings
        .into_iter()
        .zip(depends)
        .map(|((c, p, f), dep)| {
            let (verdict, reason) = match &dep {
                Some(d) => (
                    CheckVerdict::NotChecked,
                    format!("depends on {d} which failed ({})", f.reason),
                ),
                None => (f.verdict, f.reason),
            };
            CheckResult {
                fix: fill(&c.fix_for(&f.causes)),
                causes: f.causes.iter().map(|c| c.to_string()).collect(),
                depends_on: dep,
                id: c.id,
                check: c.check,
                title: c.title,
                covers: c.covers,
                verdict,
                reason,
                file: rel(&p, &opts.root),
            }
        })
        .collect();
    drop(sp);
    drop(peer);
    Ok(IdpCheckRun {
        idp: desc.idp.clone(),
        descriptor: rel(&d.path, &opts.root),
        protocol,
        results,
        evidence: json!({
            "sp": { "acs_url": acs_url, "entity_id": entity_id, "redirect_uri": redirect_uri, "org_id": org_id },
            "facts": evidence,
        }),
        screenshots,
        secrets,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// For each finding, the failed check that explains it (its id), if any: the first of its
/// `explained_by` kinds whose own finding failed for a reason of its own. A finding that
/// is itself explained by another does not explain others, so a chain ends at its root.
fn explained_by_failures(findings: &[(CheckDef, PathBuf, Finding)]) -> Vec<Option<String>> {
    let root_failure = |kind: CheckKind| {
        findings
            .iter()
            .find(|(c, _, f)| {
                c.check == kind && f.verdict == CheckVerdict::Fail && f.explained_by.is_empty()
            })
            .map(|(c, _, _)| c.id.clone())
    };
    findings
        .iter()
        .map(|(c, _, f)| {
            if f.verdict != CheckVerdict::Fail {
                return None;
            }
            f.explained_by
                .iter()
                .filter(|k| **k != c.check)
                .find_map(|k| root_failure(*k))
        })
        .collect()
}

fn rel(p: &Path, root: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// A sign-in after a failed SP set-up says so first.
fn with_setup_error(mut s: SignIn, configured: &Result<()>) -> SignIn {
    if let Err(e) = configured {
        let prev = s
            .problem
            .take()
            .map(|p| format!("; {p}"))
            .unwrap_or_default();
        s.problem = Some(format!("configuring the product failed: {e}{prev}"));
    }
    s
}

struct Flows<'a> {
    pool: &'a BrowserPool,
    sp: &'a SpUnderCheck,
    d: &'a LoadedDescriptor,
    r: &'a Resolved,
}

impl Flows<'_> {
    /// One sign-in in a clean browser session; the screenshot is kept under `name`, and what
    /// the SP received is returned alongside.
    /// The user outside the application's group tries the product's own sign-in.
    async fn out_of_group(&self, screenshots: &mut Vec<(String, Vec<u8>)>) -> SignIn {
        self.sign_in(
            "out-of-group",
            &self.sp.login_url(),
            true,
            false,
            screenshots,
        )
        .await
        .0
    }

    /// The IdP session of the in-group user, signed in from `start` (an authorization
    /// request), as a `Cookie` header read at `cookie_url`.
    async fn idp_session(
        &self,
        start: &str,
        cookie_url: &str,
    ) -> std::result::Result<Secret, String> {
        let desc = &self.d.descriptor;
        let user = &desc.users.in_group;
        let mut pooled = self.pool.checkout().await.map_err(|e| e.to_string())?;
        let out = match pooled.get() {
            Ok(s) => {
                flow::idp_session(
                    s,
                    start,
                    cookie_url,
                    &desc.login,
                    &Credentials {
                        username: user.login_name(),
                        password: &self.r.in_pw,
                    },
                )
                .await
            }
            Err(e) => Err(e.to_string()),
        };
        self.pool.checkin(pooled).await;
        out
    }

    async fn sign_in(
        &self,
        name: &str,
        start: &str,
        email_first: bool,
        in_group: bool,
        shots: &mut Vec<(String, Vec<u8>)>,
    ) -> (SignIn, Option<Value>) {
        let desc = &self.d.descriptor;
        let (user, pw) = if in_group {
            (&desc.users.in_group, &self.r.in_pw)
        } else {
            (&desc.users.out_of_group, &self.r.out_pw)
        };
        let _ = self.sp.clear_last_sso().await;
        let mut pooled = match self.pool.checkout().await {
            Ok(p) => p,
            Err(e) => {
                return (
                    SignIn {
                        problem: Some(e.to_string()),
                        ..Default::default()
                    },
                    None,
                );
            }
        };
        let mut out = match pooled.get() {
            Ok(s) => {
                flow::sign_in(
                    s,
                    start,
                    email_first.then_some(user.email.as_str()),
                    &desc.login,
                    &Credentials {
                        username: user.login_name(),
                        password: pw,
                    },
                    &self.sp.base,
                )
                .await
            }
            Err(e) => SignIn {
                problem: Some(e.to_string()),
                ..Default::default()
            },
        };
        self.pool.checkin(pooled).await;
        if let Some(png) = out.screenshot.take() {
            shots.push((name.to_string(), png));
        }
        let evidence = self.sp.last_sso().await.ok().filter(|v| !v.is_null());
        (out, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, check: CheckKind) -> CheckDef {
        CheckDef {
            id: id.into(),
            check,
            title: String::new(),
            covers: vec![],
            fix: "f".into(),
            fixes: Default::default(),
        }
    }

    fn row(id: &str, check: CheckKind, f: Finding) -> (CheckDef, PathBuf, Finding) {
        (def(id, check), PathBuf::new(), f)
    }

    #[test]
    fn a_failure_explained_by_a_failed_check_depends_on_it() {
        let findings = vec![
            row(
                "sign-in",
                CheckKind::OidcSignIn,
                Finding::fail("refused".into()).explained_by([CheckKind::OidcClaims]),
            ),
            row(
                "claims",
                CheckKind::OidcClaims,
                Finding::fail("no email".into()),
            ),
            // Explained by a check that passed: its own failure stands.
            row(
                "tile",
                CheckKind::IdpInitiated,
                Finding::fail("refused".into()).explained_by([CheckKind::OidcRedirectUri]),
            ),
            row(
                "redirect",
                CheckKind::OidcRedirectUri,
                Finding::pass("ok".into()),
            ),
        ];
        assert_eq!(
            explained_by_failures(&findings),
            vec![Some("claims".to_string()), None, None, None]
        );
    }

    #[test]
    fn two_failures_explaining_each_other_both_stand() {
        let findings = vec![
            row(
                "a",
                CheckKind::OidcScopes,
                Finding::fail("x".into()).explained_by([CheckKind::OidcClaims]),
            ),
            row(
                "b",
                CheckKind::OidcClaims,
                Finding::fail("y".into()).explained_by([CheckKind::OidcScopes]),
            ),
        ];
        assert_eq!(explained_by_failures(&findings), vec![None, None]);
    }
}
