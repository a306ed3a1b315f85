//! Starting (or finding) the target SP of a trial.
use std::any::Any;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::admin::AdminDriver;
use crate::error::{HarnessError, Result};
use crate::process::ChildGuard;
use crate::secret::Secret;
use crate::target::{AdminDriverSpec, Builtin, Launch, ProcessLaunch, TargetDescriptor};
use crate::template::Vars;

/// A target ready for a trial; dropping it stops what the harness started for it.
pub struct RunningTarget {
    pub base_url: String,
    pub admin: AdminDriver,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

fn admin_for(
    desc: &TargetDescriptor,
    base_url: &str,
    token: Option<Secret>,
) -> Result<AdminDriver> {
    Ok(match &desc.admin {
        AdminDriverSpec::ReferenceSpApi(api) => {
            let token = match (token, &api.token_env) {
                (Some(t), _) => t,
                (None, Some(var)) => Secret::new(std::env::var(var).map_err(|_| {
                    HarnessError::Target(format!(
                        "target {}: environment variable {var} (admin token) is not set",
                        desc.name
                    ))
                })?),
                (None, None) => {
                    return Err(HarnessError::Target(format!(
                        "target {}: reference-sp-api needs token_env unless the target is builtin",
                        desc.name
                    )));
                }
            };
            AdminDriver::reference_sp_api(base_url, token)
        }
        AdminDriverSpec::ConfigTemplate(_) => AdminDriver::ConfigTemplate {
            target: desc.name.clone(),
        },
        AdminDriverSpec::Manual(m) => AdminDriver::Manual {
            org_id: m.org_id.clone(),
        },
    })
}

/// Starts a target for one trial. `dns` is the mock IdP's DNS server, for domain checks.
pub async fn launch(
    desc: &TargetDescriptor,
    dns: Option<SocketAddr>,
    social: Option<crate::embedded::SocialProvider>,
) -> Result<RunningTarget> {
    match &desc.launch {
        Launch::Builtin(Builtin::ReferenceSp) => {
            let (base_url, token, guard) = crate::embedded::start_reference_sp(dns, social).await?;
            let admin = admin_for(desc, &base_url, Some(token))?;
            Ok(RunningTarget {
                base_url,
                admin,
                _guard: Some(guard),
            })
        }
        Launch::Url(t) => {
            let base_url = t
                .render(&Vars::default())
                .map_err(|e| HarnessError::Target(format!("target {}: url: {e}", desc.name)))?;
            let admin = admin_for(desc, &base_url, None)?;
            Ok(RunningTarget {
                base_url,
                admin,
                _guard: None,
            })
        }
        Launch::Process(p) => {
            let guard = start_process(&desc.name, p).await?;
            let admin = admin_for(desc, &p.base_url, None)?;
            Ok(RunningTarget {
                base_url: p.base_url.clone(),
                admin,
                _guard: Some(Box::new(guard)),
            })
        }
        Launch::Container(c) => Err(HarnessError::Target(format!(
            "target {}: container launch ({}) is parsed but not supported yet; start it yourself and use `launch: {{url: ...}}`",
            desc.name, c.image
        ))),
    }
}

async fn start_process(name: &str, p: &ProcessLaunch) -> Result<ChildGuard> {
    let Some((program, args)) = p.command.split_first() else {
        return Err(HarnessError::Target(format!(
            "target {name}: process.command is empty"
        )));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(&p.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd
        .spawn()
        .map_err(|e| HarnessError::Target(format!("target {name}: cannot start {program}: {e}")))?;
    let guard = ChildGuard(child);
    let timeout = Duration::from_millis(p.ready_timeout_ms.unwrap_or(20_000));
    let deadline = Instant::now() + timeout;
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http.get(&p.ready_url).send().await {
            if r.status().as_u16() < 500 {
                return Ok(guard);
            }
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::Target(format!(
                "target {name}: {} did not answer within {} ms",
                p.ready_url,
                timeout.as_millis()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
