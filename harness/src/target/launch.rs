//! Starting (or finding) the target SP of a trial.
use std::any::Any;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{HarnessError, Result};
use crate::input::template::{Template, Vars};
use crate::secret::Secret;
use crate::target::admin::AdminDriver;
use crate::target::descriptor::{AdminDriverSpec, Builtin, Launch, LoadedTarget, TargetDescriptor};
use crate::target::sp_config::{ConfigTemplateSp, make_sp_dir};
use crate::target::spawn::{PROCESS_LOG, start_sp_process};

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
    social: Option<crate::target::embedded::SocialProvider>,
) -> Result<RunningTarget> {
    let desc = &loaded.target;
    match &desc.launch {
        Launch::Builtin(Builtin::ReferenceSp) => {
            let (base_url, token, guard) =
                crate::target::embedded::start_reference_sp(dns, social).await?;
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
                crate::target::container::ensure_image(&p.packages)
                    .await
                    .map_err(|e| HarnessError::Target(format!("target {}: {e}", desc.name)))?;
            }
            let (dir, owner) = make_sp_dir(&desc.name, p.user.as_deref())?;
            let port = crate::net::free_port()?;
            let passphrase = Secret::generate("pp");
            // The folder of the target file, absolute: a target may start a program that ships
            // beside it in the clone (peers/vulnerable/...), wherever the clone is.
            let target_dir = loaded
                .path
                .parent()
                .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()))
                .unwrap_or_default();
            let mut launch_vars = vec![
                ("target.dir", target_dir.display().to_string()),
                ("sp.dir", dir.path().display().to_string()),
                ("sp.port", port.to_string()),
                ("sp.passphrase", passphrase.expose().to_string()),
            ];
            if let Some(user) = &p.user {
                launch_vars.push(("sp.user", user.clone()));
            }
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
            // The command's own output is always captured there; a target that also lists
            // it would see every line twice.
            let process_log = dir.path().join(PROCESS_LOG);
            logs.retain(|l| l != &process_log);
            logs.push(process_log);
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
                        owner,
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
