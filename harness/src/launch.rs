//! Starting (or finding) the target SP of a trial.
use std::any::Any;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::admin::AdminDriver;
use crate::error::{HarnessError, Result};
use crate::process::ChildGuard;
use crate::secret::Secret;
use crate::sp_config::{ConfigTemplateSp, make_sp_dir};
use crate::target::{AdminDriverSpec, Builtin, Launch, LoadedTarget, TargetDescriptor};
use crate::template::{Template, Vars};

/// A target ready for a trial; dropping it stops what the harness started for it.
pub struct RunningTarget {
    pub base_url: String,
    pub admin: AdminDriver,
    /// Values the launch chose (`sp.dir`, `sp.port`, `sp.passphrase`), for templates.
    pub vars: Vec<(&'static str, String)>,
    /// The SP's log files, read for evidence and `log:` expectations.
    pub logs: Vec<PathBuf>,
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
        AdminDriverSpec::ConfigTemplate(_) => {
            return Err(HarnessError::Target(format!(
                "target {}: the config-template admin driver needs a process or container launch (the harness renders the files and starts the SP)",
                desc.name
            )));
        }
        AdminDriverSpec::Manual(m) => AdminDriver::Manual {
            org_id: m.org_id.clone(),
        },
    })
}

/// Starts a target for one trial. `dns` is the mock IdP's DNS server, for domain checks.
pub async fn launch(
    loaded: &LoadedTarget,
    dns: Option<SocketAddr>,
    social: Option<crate::embedded::SocialProvider>,
) -> Result<RunningTarget> {
    let desc = &loaded.target;
    match &desc.launch {
        Launch::Builtin(Builtin::ReferenceSp) => {
            let (base_url, token, guard) = crate::embedded::start_reference_sp(dns, social).await?;
            let admin = admin_for(desc, &base_url, Some(token))?;
            Ok(RunningTarget {
                base_url,
                admin,
                vars: Vec::new(),
                logs: Vec::new(),
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
                vars: Vec::new(),
                logs: Vec::new(),
                _guard: None,
            })
        }
        Launch::Process(p) | Launch::Container(p) => {
            if let Launch::Container(_) = &desc.launch {
                // A first build takes minutes: here, before the trial's clock starts, rather
                // than inside configure_sso; later trials find the image at once.
                crate::container::ensure_image(&p.packages)
                    .await
                    .map_err(|e| HarnessError::Target(format!("target {}: {e}", desc.name)))?;
            }
            let dir = make_sp_dir(&desc.name)?;
            let port = crate::browser::free_port()?;
            let passphrase = Secret::generate("pp");
            let launch_vars = vec![
                ("sp.dir", dir.path().display().to_string()),
                ("sp.port", port.to_string()),
                ("sp.passphrase", passphrase.expose().to_string()),
            ];
            let mut vars = Vars::default();
            for (k, v) in &launch_vars {
                vars.set(k, v);
            }
            let render = |what: &str, t: &Template| {
                t.render(&vars)
                    .map_err(|e| HarnessError::Target(format!("target {}: {what}: {e}", desc.name)))
            };
            let base_url = render("launch.base_url", &p.base_url)?;
            let logs = p
                .logs
                .iter()
                .map(|t| render("launch.logs", t).map(PathBuf::from))
                .collect::<Result<Vec<_>>>()?;
            let mut logs = logs;
            logs.push(dir.path().join(PROCESS_LOG));
            let (admin, guard): (AdminDriver, Box<dyn Any + Send + Sync>) = match &desc.admin {
                AdminDriverSpec::ConfigTemplate(c) => {
                    // Nothing runs until SSO is configured: the SP's configuration needs the
                    // IdP's values, as its administrator's would.
                    let sp = Arc::new(ConfigTemplateSp {
                        target: desc.name.clone(),
                        target_dir: loaded
                            .path
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default(),
                        files: c.files.clone(),
                        launch: desc.launch.clone(),
                        sp_dir: dir.path().to_path_buf(),
                        running: Default::default(),
                    });
                    (
                        AdminDriver::ConfigTemplate { sp: sp.clone() },
                        Box::new((sp, dir)),
                    )
                }
                _ => {
                    let proc =
                        start_sp_process(&desc.name, &desc.launch, dir.path(), &vars).await?;
                    (admin_for(desc, &base_url, None)?, Box::new((proc, dir)))
                }
            };
            Ok(RunningTarget {
                base_url,
                admin,
                vars: launch_vars,
                logs,
                _guard: Some(guard),
            })
        }
    }
}

/// The SP's standard output and error, in its private directory.
pub const PROCESS_LOG: &str = "process.log";

/// A started SP: a local process tree, or (later) a container.
pub struct SpProcess {
    _guard: Box<dyn Any + Send + Sync>,
}

/// Renders the launch command with `vars`, starts it in `dir` and waits until it is ready.
pub async fn start_sp_process(
    name: &str,
    launch: &Launch,
    dir: &Path,
    vars: &Vars,
) -> Result<SpProcess> {
    let Some(p) = launch.process() else {
        return Err(HarnessError::Target(format!(
            "target {name}: only process and container launches start an SP"
        )));
    };
    let render = |what: &str, t: &Template| {
        t.render(vars)
            .map_err(|e| HarnessError::Target(format!("target {name}: {what}: {e}")))
    };
    let command = p
        .command
        .iter()
        .map(|t| render("launch.command", t))
        .collect::<Result<Vec<_>>>()?;
    let env = p
        .env
        .iter()
        .map(|(k, t)| Ok((k.clone(), render(&format!("launch.env.{k}"), t)?)))
        .collect::<Result<std::collections::BTreeMap<_, _>>>()?;
    let ready_url = render("launch.ready_url", &p.ready_url)?;
    let mut logs = vec![dir.join(PROCESS_LOG)];
    for t in &p.logs {
        logs.push(PathBuf::from(render("launch.logs", t)?));
    }
    let timeout = Duration::from_millis(p.ready_timeout_ms.unwrap_or(20_000));
    match launch {
        Launch::Container(_) => {
            // The command's output goes to the same process.log as a local process's, through
            // the bind mount, so reports and `log:` expectations read one place.
            let mut wrapped: Vec<String> = vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("exec \"$@\" >>{PROCESS_LOG} 2>&1"),
                "sh".into(),
            ];
            wrapped.extend(command);
            let guard = crate::container::start(crate::container::ContainerRequest {
                target: name,
                packages: &p.packages,
                command: &wrapped,
                env: &env,
                dir,
            })
            .await?;
            wait_ready(name, &ready_url, timeout, &logs, Started::Container(&guard)).await?;
            Ok(SpProcess {
                _guard: Box::new(guard),
            })
        }
        _ => {
            let mut guard = spawn(name, &command, &env, dir)?;
            wait_ready(
                name,
                &ready_url,
                timeout,
                &logs,
                Started::Process(&mut guard),
            )
            .await?;
            Ok(SpProcess {
                _guard: Box::new(guard),
            })
        }
    }
}

/// What `wait_ready` watches for an early exit.
enum Started<'a> {
    Process(&'a mut ChildGuard),
    Container(&'a crate::container::ContainerGuard),
}

fn spawn(
    name: &str,
    command: &[String],
    env: &std::collections::BTreeMap<String, String>,
    dir: &Path,
) -> Result<ChildGuard> {
    let Some((program, args)) = command.split_first() else {
        return Err(HarnessError::Target(format!(
            "target {name}: launch.command is empty"
        )));
    };
    let log_path = dir.join(PROCESS_LOG);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| HarnessError::io(&log_path, e))?;
    let err_log = log
        .try_clone()
        .map_err(|e| HarnessError::io(&log_path, e))?;
    // Its own process group: Apache's prefork master signals its whole group when it stops,
    // which would take the harness (and `cargo test`) down with it. The guard stops the tree
    // by PID, on drop and when `sso-harness run` is interrupted.
    let child = Command::new(program)
        .process_group(0)
        .args(args)
        .envs(env)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| HarnessError::Target(format!("target {name}: cannot start {program}: {e}")))?;
    Ok(ChildGuard(child))
}

/// Polls `ready_url` until it answers below 500; a process that exits first is an error
/// carrying the end of its output (Apache's configuration errors land there).
async fn wait_ready(
    name: &str,
    ready_url: &str,
    timeout: Duration,
    logs: &[PathBuf],
    mut started: Started<'_>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http.get(ready_url).send().await {
            if r.status().as_u16() < 500 {
                return Ok(());
            }
        }
        let exited = match &mut started {
            Started::Process(c) => c.0.try_wait().ok().flatten().map(|s| s.to_string()),
            Started::Container(c) => c.exited().await,
        };
        if let Some(status) = exited {
            return Err(HarnessError::Target(format!(
                "target {name}: the SP exited ({status}) before {ready_url} answered; its output and logs:\n{}",
                tails(logs, 20)
            )));
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::Target(format!(
                "target {name}: {ready_url} did not answer within {} ms; its output and logs:\n{}",
                timeout.as_millis(),
                tails(logs, 20)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The last `n` lines of each file that has any, each under its name.
pub fn tails(paths: &[PathBuf], n: usize) -> String {
    let mut out = Vec::new();
    for path in paths {
        if let Ok(t) = std::fs::read_to_string(path) {
            if !t.trim().is_empty() {
                let lines: Vec<&str> = t.lines().collect();
                out.push(format!(
                    "== {} ==\n{}",
                    path.display(),
                    lines[lines.len().saturating_sub(n)..].join("\n")
                ));
            }
        }
    }
    if out.is_empty() {
        "(no output, no log lines)".into()
    } else {
        out.join("\n")
    }
}
