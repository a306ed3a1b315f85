//! Staging: an SP a person configured by hand against one pinned mock IdP tenant.
//! `init` creates (or reuses) the tenant, prints what to paste into the SP and proves it with
//! one sign-in; `serve_idp` keeps the target's mock IdP up at its fixed address. The trials
//! themselves run through the ordinary runner (`run::runner`), which leases the tenant per
//! trial (`run::harness`) and asks for or skips manual steps (`trial::manual`).
pub mod diff;
pub mod init;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::idp::client::IdpClient;
use crate::target::descriptor::{LoadedTarget, load_target};
use crate::target::staging::{StagingSpec, is_loopback};

/// The mock IdP a staging target uses: the one answering at its URL, else one served here.
pub struct StagingIdp {
    pub client: IdpClient,
    pub dns: Option<SocketAddr>,
    /// Some when this process serves it (dropping it stops the server).
    pub served: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// The target file and its `staging:` block, or a message that says what is missing.
pub fn load(path: &Path) -> Result<(LoadedTarget, StagingSpec), String> {
    // A name from targets/ or a path, as every command that takes a target.
    let t = match path.to_str() {
        Some(name) if !path.is_file() => {
            crate::target::descriptor::find_target(name, Path::new("targets"))
        }
        _ => load_target(path),
    }
    .map_err(|e| e.to_string())?;
    match t.target.staging.clone() {
        Some(st) => Ok((t, st)),
        None => Err(format!(
            "{}: no `staging:` block: see targets/staging.example.yaml (tenant, protocol, profile, idp.url, idp.state_dir)",
            path.display()
        )),
    }
}

pub async fn connect(t: &LoadedTarget, st: &StagingSpec) -> Result<StagingIdp, String> {
    let (client, dns, served) =
        crate::run::harness::staging_idp(&st.idp_url(), &st.state_dir(&t.path), st.idp.dns)
            .await
            .map_err(|e| e.to_string())?;
    Ok(StagingIdp {
        client,
        dns,
        served,
    })
}

/// `sso-harness staging idp --target FILE`: serves until Ctrl-C.
pub async fn serve_idp(path: &Path) -> ExitCode {
    let (t, st) = match load(path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sso-harness: {e}");
            return ExitCode::from(2);
        }
    };
    let idp = match connect(&t, &st).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("sso-harness: {e}");
            return ExitCode::from(2);
        }
    };
    if idp.served.is_none() {
        eprintln!(
            "sso-harness: a mock IdP already answers at {}; nothing to do",
            idp.client.base_url()
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "mock-idp serving {} (tenants in {})",
        idp.client.base_url(),
        st.state_dir(&t.path).display()
    );
    if let Some(d) = idp.dns {
        println!("mock-idp dns on {d} (udp+tcp)");
    }
    println!("Ctrl-C stops it; the pinned tenants stay in the state directory.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// Which of the two set-ups that work this target needs, and whether its file gives it:
/// SAML needs only the browser to reach the mock IdP; OIDC needs the SP's server to reach it
/// too (token and keys endpoints). `Err` says what to change.
pub fn reachability(t: &LoadedTarget, st: &StagingSpec) -> Result<String, String> {
    use crate::scenario::schema::Protocol;
    let idp = &st.idp.url;
    match st.protocol {
        Protocol::Saml => Ok(format!(
            "SAML: every message goes through the browser, so only this machine's browser must reach the mock IdP at {idp}; the SP never connects to it (a loopback URL is fine)"
        )),
        Protocol::Oidc => {
            let sp = match &t.target.launch {
                crate::target::descriptor::Launch::Url(u) => u
                    .render(&crate::input::template::Vars::default())
                    .ok()
                    .and_then(|u| url::Url::parse(&u).ok()),
                _ => None,
            };
            let sp_host = sp.as_ref().and_then(|u| u.host_str().map(str::to_string));
            if is_loopback(idp.host_str()) && !is_loopback(sp_host.as_deref()) {
                Err(format!(
                    "OIDC: the SP's server fetches the token and keys from the mock IdP itself, and {idp} is this machine's loopback, which the SP at {} cannot reach. Set staging.idp.url to an address the SP can reach (a tunnel, or this machine's address); the harness then binds that port on all interfaces",
                    sp_host.unwrap_or_default()
                ))
            } else {
                Ok(format!(
                    "OIDC: the browser and the SP's server both reach the mock IdP at {idp} (the SP fetches the token and keys itself); make sure its network allows it"
                ))
            }
        }
    }
}

/// `sso-harness staging check --target FILE`.
pub fn check(path: &Path) -> ExitCode {
    let (t, st) = match load(path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sso-harness: {e}");
            return ExitCode::from(2);
        }
    };
    match reachability(&t, &st) {
        Ok(m) => {
            println!("{m}");
            ExitCode::SUCCESS
        }
        Err(m) => {
            println!("NOT REACHABLE: {m}");
            ExitCode::from(1)
        }
    }
}
