//! Starting one SP process (or container) from a rendered launch command, and waiting until
//! it answers. Used by the launcher and by the config-template driver, which restarts the SP
//! after rendering its files; it knows neither of them.
use std::any::Any;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::children::guard::ChildGuard;
use crate::error::{HarnessError, Result};
use crate::input::template::{Template, Vars};
use crate::target::descriptor::Launch;

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
            let guard =
                crate::target::container::start(crate::target::container::ContainerRequest {
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
    Container(&'a crate::target::container::ContainerGuard),
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
    // The SP's output may carry its secrets: private like the rest of its directory.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::children::private::FILE_MODE)
        .open(&log_path)
        .map_err(|e| HarnessError::io(&log_path, e))?;
    let err_log = log
        .try_clone()
        .map_err(|e| HarnessError::io(&log_path, e))?;
    // Its own process group: Apache's prefork master signals its whole group when it stops,
    // which would take the harness (and `cargo test`) down with it. The guard stops the tree
    // by PID, on drop and when `sso-harness run` is interrupted.
    let mut cmd = Command::new(program);
    crate::children::registry::run().tag(&mut cmd);
    let child = cmd
        .process_group(0)
        .args(args)
        .envs(env)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .spawn()
        .map_err(|e| HarnessError::Target(format!("target {name}: cannot start {program}: {e}")))?;
    Ok(ChildGuard::new(child))
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
            Started::Process(c) => c.try_wait().ok().flatten().map(|s| s.to_string()),
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
