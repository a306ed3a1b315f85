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
use crate::target::staging::StagingSpec;

/// The mock IdP a staging target uses: the one answering at its URL, else one served here.
pub struct StagingIdp {
    pub client: IdpClient,
    pub dns: Option<SocketAddr>,
    /// Some when this process serves it (dropping it stops the server).
    pub served: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// The target file and its `staging:` block, or a message that says what is missing.
pub fn load(path: &Path) -> Result<(LoadedTarget, StagingSpec), String> {
    let t = load_target(path).map_err(|e| e.to_string())?;
    match t.target.staging.clone() {
        Some(st) => Ok((t, st)),
        None => Err(format!(
            "{}: no `staging:` block: see targets/staging.example.yaml (tenant, protocol, profile, idp.url, idp.state_dir)",
            path.display()
        )),
    }
}

pub async fn connect(t: &LoadedTarget, st: &StagingSpec) -> Result<StagingIdp, String> {
    let url = st.idp_url();
    let client = IdpClient::new(&url);
    if let Ok(dns) = client.dns_addr().await {
        return Ok(StagingIdp {
            client,
            dns: Some(dns),
            served: None,
        });
    }
    let state = st.state_dir(&t.path);
    let e = crate::target::embedded::start_pinned_idp(&url, &state, st.idp.dns)
        .await
        .map_err(|e| e.to_string())?;
    Ok(StagingIdp {
        client: IdpClient::new(&e.base_url),
        dns: e.dns_addr,
        served: Some(e.guard),
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
