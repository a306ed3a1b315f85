//! `sso-harness staging init --target FILE`: the pinned tenant, what to paste into the SP,
//! the users and domains the pack needs, and one real sign-in that proves the set-up.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use crate::input::template::{Template, Vars};
use crate::run::harness::IdpChoice;
use crate::run::runner::{RunRequest, execute};
use crate::scenario::load::{LoadedScenario, load_dir, parse_scenario};
use crate::scenario::schema::{Protocol, Role, SignInMethod, Step};
use crate::secret::Secret;
use crate::staging::{connect, load};
use crate::target::descriptor::{Launch, LoadedTarget};
use crate::target::staging::StagingSpec;
use crate::trial::manual::user_vars;
use crate::trial::outcome::Verdict;

/// What `init` printed, as JSON (`--json`): everything a script needs to configure the SP.
#[derive(Debug, Serialize)]
pub struct InitValues {
    pub tenant: String,
    pub idp_url: String,
    pub idp_dns: Option<String>,
    pub state_dir: String,
    pub org_id: String,
    pub protocol: Protocol,
    pub saml: SamlValues,
    pub oidc: Option<OidcValues>,
    /// Users the pack signs in with: invite them (sign-in method "invited").
    pub users: Vec<String>,
    /// Domains the pack's users belong to: verify them for the organisation.
    pub domains: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SamlValues {
    pub sso_url: String,
    pub entity_id: String,
    pub metadata_url: String,
    pub certificate_pem: String,
    pub fingerprint_sha256: String,
    /// What the IdP sends the SP (from the target file's `sp:`).
    pub acs_url: Option<String>,
    pub sp_entity_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct OidcValues {
    pub client_id: String,
    /// Shown once, to be pasted into the SP; it is the mock tenant's, not a real IdP's.
    pub client_secret: String,
    pub discovery_url: String,
    pub redirect_uri: String,
}

/// The target's own URLs for its one organisation (`sp:` templates over `{sp.base_url}`
/// and `{org.id}`).
fn sp_vars(t: &LoadedTarget, org: &str) -> Result<Vars, String> {
    let mut vars = Vars::default();
    let base = match &t.target.launch {
        Launch::Url(u) => u
            .render(&Vars::default())
            .map_err(|e| format!("launch.url: {e}"))?,
        _ => return Err("a staging target is `launch: {url: ...}` (an SP already running)".into()),
    };
    let base = if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    };
    vars.set("sp.base_url", &base);
    vars.set("org.id", org);
    let sp = &t.target.sp;
    for (k, tpl) in [
        ("sp.acs_url", &sp.acs_url),
        ("sp.entity_id", &sp.entity_id),
        ("sp.metadata_url", &sp.metadata_url),
        ("sp.oidc_redirect_uri", &sp.oidc_redirect_uri),
        ("sp.tile_url.workspace", &sp.tile_url_workspace),
        ("sp.tile_url.platform", &sp.tile_url_platform),
    ] {
        if let Some(tpl) = tpl {
            let v = tpl.render(&vars).map_err(|e| format!("{k}: {e}"))?;
            vars.set(k, v);
        }
    }
    Ok(vars)
}

/// The users to invite and domains to verify: those the pack's runnable scenarios assume
/// (`add_user ... invited`, `verify_domain`), for this connection's protocol and profile.
pub fn needs(scenarios: &[LoadedScenario], st: &StagingSpec) -> (Vec<String>, Vec<String>) {
    let mut users = BTreeSet::new();
    let mut domains = BTreeSet::new();
    for s in scenarios {
        let sc = &s.scenario;
        // Scenarios a staging target skips anyway need nothing from the person.
        let first_sign_in = sc
            .tags
            .iter()
            .any(|t| t == crate::trial::manual::FIRST_SIGN_IN);
        if sc.idp.protocol != st.protocol || sc.idp.profile != st.profile || first_sign_in {
            continue;
        }
        let vars = user_vars(sc);
        let render = |t: &Template| t.render(&vars).ok();
        for step in &sc.setup {
            match step {
                Step::AddUser(a)
                    if a.method == SignInMethod::Invited
                        && a.role == Role::Member
                        && a.password.is_none()
                        && a.expect_error.is_none() =>
                {
                    users.extend(render(&a.email).map(|e| e.to_lowercase()));
                }
                Step::VerifyDomain(a) if a.expect_error.is_none() => {
                    domains.extend(render(&a.domain).map(|d| d.to_lowercase()));
                }
                _ => {}
            }
        }
    }
    (users.into_iter().collect(), domains.into_iter().collect())
}

/// The one sign-in that proves the SP trusts the tenant: the target's own way to start a
/// sign-in (or the product's email-first page), the IdP's login, the SP's signed-in page.
fn proof(t: &LoadedTarget, st: &StagingSpec, user: &str) -> Result<LoadedScenario, String> {
    let start = if t.target.procedures.start_login.is_empty() {
        "  - open: \"{sp.login_url}\"\n  - fill: { selector: \"input[name=email]\", value: \"{user.email}\" }\n  - click: \"button#continue\"\n".to_string()
    } else {
        "  - start_login: {}\n".to_string()
    };
    let protocol = match st.protocol {
        Protocol::Saml => "saml",
        Protocol::Oidc => "oidc",
    };
    let profile = serde_json::to_value(st.profile)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "generic".into());
    let text = format!(
        "scenario: staging init proves the SP signs in through the pinned tenant\nidp:\n  protocol: {protocol}\n  profile: {profile}\n  users:\n    - {{ email: \"{user}\", given_name: Staging, family_name: Proof }}\nsetup:\n  - create_org\n  - configure_sso: {protocol}\n  - enable_sso: true\nsteps:\n{start}  - idp_login: \"{{user.email}}\"\nexpect:\n  - signed_in_as: \"{{user.email}}\"\n    screenshot: true\n"
    );
    let path = PathBuf::from("<staging init proof>");
    let scenario = parse_scenario(&text, &path).map_err(|e| e.to_string())?;
    Ok(LoadedScenario {
        places: crate::input::places::StepPlaces::find(&text, &path),
        path,
        id: "staging/init-proof".into(),
        scenario,
    })
}

fn tenant_spec(st: &StagingSpec, vars: &Vars, client_secret: &Secret) -> proto::idp::TenantSpec {
    let get = |k: &str| vars.get(k).ok().map(str::to_string);
    let apps = ["workspace", "platform"]
        .iter()
        .filter_map(|k| {
            get(&format!("sp.tile_url.{k}")).map(|url| proto::idp::App {
                name: (*k).to_string(),
                url,
                mode: proto::idp::AppMode::Link,
            })
        })
        .collect();
    let oidc_clients = get("sp.oidc_redirect_uri")
        .map(|uri| proto::idp::OidcClient {
            client_id: format!("staging-{}", st.tenant),
            client_secret: client_secret.clone(),
            redirect_uris: vec![uri],
            post_logout_redirect_uris: Vec::new(),
            frontchannel_logout_uri: None,
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            allowed_groups: Vec::new(),
            forge: None,
            id_token_encryption: None,
            auth_request: None,
        })
        .into_iter()
        .collect();
    proto::idp::TenantSpec {
        id: Some(st.tenant.clone()),
        profile: st.profile,
        pinned: true,
        sp: Some(proto::idp::SpSpec {
            entity_id: get("sp.entity_id"),
            acs_url: get("sp.acs_url"),
            metadata_url: None,
            certificate_pem: None,
            slo_url: get("sp.slo_url"),
            slo_binding: None,
        }),
        apps,
        oidc_clients,
        ..proto::idp::TenantSpec::default()
    }
}

/// `sso-harness staging init`.
pub async fn run(
    target: &Path,
    scenarios: &Path,
    wait: bool,
    json: bool,
    webdriver_url: Option<String>,
) -> ExitCode {
    match init(target, scenarios, wait, json, webdriver_url).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sso-harness staging init: {e}");
            ExitCode::from(2)
        }
    }
}

/// Creates (or reuses) the pinned tenant and works out what the SP needs. The returned
/// IdP keeps serving while it lives, when this process serves it.
pub async fn prepare(
    target: &Path,
    scenarios: &Path,
) -> Result<(InitValues, crate::staging::StagingIdp), String> {
    let (t, st) = load(target)?;
    let org = t
        .target
        .manual_org()
        .ok_or("a staging target has `admin: {manual: {org_id: ...}}`")?
        .to_string();
    let (pack, errors) = load_dir(scenarios);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let (users, domains) = needs(&pack, &st);
    let vars = sp_vars(&t, &org)?;
    let idp = connect(&t, &st).await?;
    let client_secret = Secret::generate("staging-client");
    let info = match idp
        .client
        .get_tenant(&st.tenant)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(i) if i.pinned => i,
        Some(_) => {
            return Err(format!(
                "the mock IdP at {} has a tenant {} that is not pinned (made by a test run?): pick another staging.tenant",
                idp.client.base_url(),
                st.tenant
            ));
        }
        None => idp
            .client
            .create_tenant(&tenant_spec(&st, &vars, &client_secret))
            .await
            .map_err(|e| e.to_string())?,
    };
    // A reused tenant keeps the secret the SP already has: ask the mock IdP for it.
    let client_id = format!("staging-{}", st.tenant);
    let secret = match &info.oidc {
        Some(_) if vars.get("sp.oidc_redirect_uri").is_ok() => idp
            .client
            .oidc_client_secret(&st.tenant, &client_id)
            .await
            .map_err(|e| e.to_string())?,
        _ => client_secret,
    };
    let values = InitValues {
        tenant: info.id.clone(),
        idp_url: idp.client.base_url(),
        idp_dns: idp.dns.map(|d| d.to_string()),
        state_dir: st.state_dir(&t.path).display().to_string(),
        org_id: org.clone(),
        protocol: st.protocol,
        saml: SamlValues {
            sso_url: info.saml.sso_url.clone(),
            entity_id: info.saml.entity_id.clone(),
            metadata_url: info.saml.metadata_url.clone(),
            certificate_pem: info.saml.certificate_pem.clone(),
            fingerprint_sha256: info.saml.fingerprint_sha256.clone(),
            acs_url: vars.get("sp.acs_url").ok().map(str::to_string),
            sp_entity_id: vars.get("sp.entity_id").ok().map(str::to_string),
        },
        oidc: info.oidc.as_ref().and_then(|o| {
            vars.get("sp.oidc_redirect_uri").ok().map(|uri| OidcValues {
                client_id: client_id.clone(),
                client_secret: secret.expose().to_string(),
                discovery_url: o.discovery_url.clone(),
                redirect_uri: uri.to_string(),
            })
        }),
        users,
        domains,
    };
    Ok((values, idp))
}

/// One real sign-in through the pinned tenant, as the trials will do it; the outcome says
/// what went wrong when it fails.
pub async fn prove(
    target: &Path,
    idp: &crate::staging::StagingIdp,
    values: &InitValues,
    webdriver_url: Option<String>,
    report_root: &Path,
) -> Result<(crate::trial::outcome::TrialOutcome, PathBuf), String> {
    let (t, st) = load(target)?;
    let Some(user) = st.users.first().or(values.users.first()).cloned() else {
        return Err(
            "no user to prove a sign-in with: list one invited user in staging.users".into(),
        );
    };
    let proof = proof(&t, &st, &user)?;
    let result = execute(RunRequest {
        targets: vec![Arc::new(t)],
        scenarios: vec![Arc::new(proof)],
        scenarios_label: "staging init proof".into(),
        filter: None,
        jobs: 1,
        webdriver_url,
        idp: IdpChoice::External {
            url: idp.client.base_url(),
            dns: idp.dns,
        },
        report_root: report_root.to_path_buf(),
        progress: false,
        interactive: false,
        shard: None,
        durations: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    let index = result.index_html();
    result
        .outcomes
        .into_iter()
        .next()
        .map(|o| (o, index))
        .ok_or_else(|| "the proving sign-in did not run".to_string())
}

async fn init(
    target: &Path,
    scenarios: &Path,
    wait: bool,
    json: bool,
    webdriver_url: Option<String>,
) -> Result<ExitCode, String> {
    let (values, idp) = prepare(target, scenarios).await?;
    let (_, st) = load(target)?;
    let mut text = describe(&values, &st, target);
    let (t, _) = load(target)?;
    match crate::staging::reachability(&t, &st) {
        Ok(m) => text.push_str(&format!("\nReachability: {m}\n")),
        Err(m) => text.push_str(&format!("\nReachability: NOT REACHABLE: {m}\n")),
    }
    if json {
        eprint!("{text}");
        println!(
            "{}",
            serde_json::to_string_pretty(&values).map_err(|e| e.to_string())?
        );
    } else {
        print!("{text}");
    }
    let missing_users: Vec<&String> = values.users.iter().filter(|u| !st.has_user(u)).collect();
    let missing_domains: Vec<&String> = values
        .domains
        .iter()
        .filter(|d| !st.has_domain(d))
        .collect();
    if !missing_users.is_empty() || !missing_domains.is_empty() {
        eprintln!(
            "\nThe target file's staging block does not list everything above yet; after inviting and verifying, put in {}:\n  domains: [{}]\n  users: [{}]\n(scenarios needing a user or domain that is not listed are skipped, never run against an SP that was not set up for them)",
            target.display(),
            values.domains.join(", "),
            values.users.join(", ")
        );
    }
    if wait && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!(
            "\nConfigure the SP with the values above, then press Enter to prove it with one sign-in (the mock IdP serves meanwhile)."
        );
        let _ = tokio::task::spawn_blocking(|| {
            let mut l = String::new();
            std::io::stdin().read_line(&mut l)
        })
        .await;
    }
    let report_root = std::env::temp_dir().join("sso-harness-staging-init");
    let (o, index) = prove(target, &idp, &values, webdriver_url, &report_root).await?;
    if o.verdict == Verdict::Pass {
        eprintln!(
            "\nproof: {} signed in through tenant {} ({}). Staging is ready:\n  sso-harness run --target {} --scenarios {}",
            o.users.first().cloned().unwrap_or_default(),
            st.tenant,
            st.protocol,
            target.display(),
            scenarios.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "\nproof FAILED ({}): {}\n{}\nevidence: {}",
            o.verdict.label(),
            o.message.clone().unwrap_or_default(),
            hints(st.protocol),
            index.display()
        );
        Ok(ExitCode::from(1))
    }
}

fn hints(p: Protocol) -> &'static str {
    match p {
        Protocol::Saml => {
            "Check in the SP: the SSO URL and the certificate are exactly the ones printed (a new state directory means a new certificate), SSO is turned on for the organisation, the user is invited, and the user's domain is verified."
        }
        Protocol::Oidc => {
            "Check in the SP: client ID, client secret and discovery URL exactly as printed, the redirect URI registered, SSO turned on, the user invited; and that the SP's server can reach the mock IdP's URL (it fetches the token and keys itself)."
        }
    }
}

fn describe(v: &InitValues, st: &StagingSpec, target: &Path) -> String {
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(format!(
        "Pinned tenant {} ({:?} profile) on the mock IdP at {}",
        v.tenant, st.profile, v.idp_url
    ));
    line(format!(
        "  its key, certificate and OIDC client live in {} (back it up: a new key means configuring the SP again)",
        v.state_dir
    ));
    line(String::new());
    match v.protocol {
        Protocol::Saml => {
            line(format!(
                "Paste into the SP's SAML settings of organisation {}:",
                v.org_id
            ));
            line(format!(
                "  SSO URL (Identity Provider Single Sign-On URL): {}",
                v.saml.sso_url
            ));
            line(format!(
                "  IdP entity ID (Issuer):                        {}",
                v.saml.entity_id
            ));
            line(format!(
                "  IdP metadata URL:                              {}",
                v.saml.metadata_url
            ));
            line(format!(
                "  Certificate SHA-256 fingerprint:               {}",
                v.saml.fingerprint_sha256
            ));
            line("  Signing certificate (PEM):".into());
            for l in v.saml.certificate_pem.lines() {
                line(format!("    {l}"));
            }
            line("The IdP sends its responses to:".into());
            line(format!(
                "  ACS URL:                {}",
                v.saml
                    .acs_url
                    .as_deref()
                    .unwrap_or("(set sp.acs_url in the target file)")
            ));
            line(format!(
                "  Audience (SP entity ID): {}",
                v.saml
                    .sp_entity_id
                    .as_deref()
                    .unwrap_or("(set sp.entity_id in the target file)")
            ));
        }
        Protocol::Oidc => match &v.oidc {
            Some(c) => {
                line(format!(
                    "Paste into the SP's OIDC settings of organisation {}:",
                    v.org_id
                ));
                line(format!("  Discovery URL: {}", c.discovery_url));
                line(format!("  Client ID:     {}", c.client_id));
                line(format!("  Client secret: {}", c.client_secret));
                line(format!(
                    "  Redirect URI registered at the IdP: {}",
                    c.redirect_uri
                ));
                line(
                    "  The SP's server must reach the mock IdP's URL itself (token and keys)."
                        .into(),
                );
            }
            None => line(
                "OIDC: set sp.oidc_redirect_uri in the target file so the tenant gets a client"
                    .into(),
            ),
        },
    }
    line("Then turn Single Sign On on for the organisation.".into());
    line(String::new());
    if !v.users.is_empty() {
        line(
            "Invite these users (sign-in method: invited); the mock IdP has them in every trial:"
                .into(),
        );
        for u in &v.users {
            line(format!("  {u}"));
        }
    }
    if !v.domains.is_empty() {
        line(
            "Verify these domains for the organisation (the SP shows a TXT record for each):"
                .into(),
        );
        for d in &v.domains {
            line(format!("  {d}"));
        }
        if let Some(dns) = &v.idp_dns {
            line(format!(
                "  An SP that resolves through the mock IdP's DNS ({dns}) sees records published with:\n    curl -X POST {}_control/dns/txt -H 'content-type: application/json' -d '{{\"name\": \"NAME\", \"value\": \"VALUE\"}}'\n  (publish while `sso-harness staging idp --target {}` or this command runs)",
                v.idp_url,
                target.display()
            ));
        }
    }
    o
}
