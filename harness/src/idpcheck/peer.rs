//! Local peers the harness launches for a descriptor's `launch:` block: node oidc-provider
//! as an authentik-like provider, SimpleSAMLphp under Apache as an Okta-like SAML IdP. Each
//! runs from a private scratch directory on a free loopback port and is killed on drop.
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::descriptor::{Launch, PeerFault, Protocol, Users};
use crate::children::guard::ChildGuard;
use crate::error::{HarnessError, Result};
use crate::net::free_port;
use crate::secret::Secret;

/// The group whose members the launched peers let into the application.
pub const APP_GROUP: &str = "chatgpt-users";

/// What a launched peer gives the check: the values a real tenant's descriptor would name.
pub struct LaunchedPeer {
    pub discovery_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub metadata_url: Option<String>,
    pub idp_initiated_url: Option<String>,
    pub in_group_password: Secret,
    pub out_of_group_password: Secret,
    /// Where the peer's logs are, for error messages (none for the in-process mock IdP).
    pub log: Option<PathBuf>,
    /// The peer's process, scratch directory or in-process server: dropped with it.
    _keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

fn peer_err(what: impl std::fmt::Display) -> HarnessError {
    HarnessError::Target(format!("launching the IdP peer: {what}"))
}

/// A private directory (0700) inside the run directory: a peer's keys, passwords and
/// configuration live there.
fn scratch(prefix: &str) -> Result<crate::children::registry::Scratch> {
    crate::children::registry::run()
        .scratch(prefix)
        .map_err(|e| peer_err(format!("scratch dir: {e}")))
}

/// Starts node oidc-provider mounted at `/application/o/<slug>/`, with one client whose
/// redirect URI is `redirect_uri` (or, with the `wrong_redirect_uri` fault, another one).
pub fn launch_oidc_provider(
    root: &Path,
    launch: &Launch,
    users: &Users,
    redirect_uri: &str,
) -> Result<LaunchedPeer> {
    let dir = scratch("sso-harness-oidc-provider-")?;
    let port = free_port()?;
    let script = root.join("peers/node/authentik-like.mjs");
    if !root.join("peers/node/node_modules/oidc-provider").is_dir() {
        return Err(peer_err(format!(
            "{} is missing: run scripts/setup (it installs node oidc-provider there)",
            root.join("peers/node/node_modules/oidc-provider").display()
        )));
    }
    let has = |f: PeerFault| launch.faults.contains(&f);
    let client_id = format!("{}-client", launch.slug);
    let client_secret = Secret::generate("client");
    let in_pw = Secret::generate("pw");
    let out_pw = Secret::generate("pw");
    // authentik's usual slip: the URI registered with a trailing path or an old host.
    let registered = if has(PeerFault::WrongRedirectUri) {
        format!("{}/", redirect_uri.trim_end_matches('/'))
    } else {
        redirect_uri.to_string()
    };
    let mut omit = Vec::new();
    if has(PeerFault::MissingFamilyName) {
        omit.push("family_name");
    }
    let user = |u: &super::descriptor::User, pw: &Secret, groups: Vec<&str>| {
        json!({
            "username": u.login_name(),
            "password": pw.expose(),
            "email": u.email,
            "given_name": u.given_name.clone().unwrap_or_else(|| "Test".into()),
            "family_name": u.family_name.clone().unwrap_or_else(|| "User".into()),
            "groups": groups,
        })
    };
    let config = json!({
        "port": port,
        "slug": launch.slug,
        "client": {
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "redirect_uris": [registered],
            "id_token_signed_response_alg": if has(PeerFault::IdTokenHs256) { "HS256" } else { "RS256" },
        },
        "app_group": APP_GROUP,
        "omit_claims": omit,
        "users": [
            user(&users.in_group, &in_pw, vec![APP_GROUP]),
            user(&users.out_of_group, &out_pw, vec!["everyone"]),
        ],
    });
    let cfg_path = dir.path().join("config.json");
    write_file(&cfg_path, &config.to_string())?;
    let log = dir.path().join("node.log");
    let log_file = std::fs::File::create(&log).map_err(|e| HarnessError::io(&log, e))?;
    let mut cmd = Command::new("node");
    crate::children::registry::run().tag(&mut cmd);
    cmd.arg(&script)
        .arg(&cfg_path)
        .current_dir(root.join("peers/node"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
    let mut child = cmd
        .spawn()
        .map_err(|e| peer_err(format!("cannot run node {}: {e}", script.display())))?;
    let stdout = child.stdout.take();
    let guard = ChildGuard::new(child);
    let line = first_line(stdout, Duration::from_secs(20));
    let Some(line) = line.filter(|l| l.contains("listening on")) else {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(peer_err(format!(
            "node oidc-provider did not start within 20 s: {}",
            last_lines(&tail, 5)
        )));
    };
    let issuer = line
        .rsplit_once("listening on ")
        .map(|(_, i)| i.trim().to_string())
        .unwrap_or_default();
    Ok(LaunchedPeer {
        discovery_url: Some(format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        )),
        client_id: Some(client_id),
        client_secret: Some(client_secret),
        metadata_url: None,
        idp_initiated_url: None,
        in_group_password: in_pw,
        out_of_group_password: out_pw,
        log: Some(log),
        _keep: vec![Box::new(guard), Box::new(dir)],
    })
}

/// The last `n` non-empty lines of a log, in order, on one line.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// The first stdout line of a child, or `None` after `timeout`; the rest is drained so the
/// child never blocks on a full pipe.
fn first_line(stdout: Option<std::process::ChildStdout>, timeout: Duration) -> Option<String> {
    let stdout = stdout?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(l)) = lines.next() {
            let _ = tx.send(l);
        }
        for _ in lines {}
    });
    rx.recv_timeout(timeout).ok()
}

/// A PHP single-quoted string literal body.
fn php_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

fn render(template: &Path, vars: &[(&str, String)]) -> Result<String> {
    let mut text =
        crate::input::read::read_text(template).map_err(|e| peer_err(format!("template {e}")))?;
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    if let Some(i) = text.find("{{") {
        let name: String = text[i..].chars().take(40).collect();
        return Err(peer_err(format!(
            "{}: placeholder {name}... is not filled",
            template.display()
        )));
    }
    Ok(text)
}

/// A private file (0600 from its creation): configurations hold passwords and secrets.
fn write_file(path: &Path, text: &str) -> Result<()> {
    crate::children::private::write_file(path, text.as_bytes(), None)
        .map_err(|e| HarnessError::io(path, e))
}

/// A throwaway RSA key and self-signed certificate made with the openssl CLI.
fn make_cert(key: &Path, cert: &Path, cn: &str) -> Result<()> {
    let mut cmd = Command::new("openssl");
    crate::children::registry::run().tag(&mut cmd);
    let out = cmd
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
        ])
        .arg(format!("/CN={cn}"))
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| peer_err(format!("cannot run openssl: {e}")))?;
    if !out.status.success() {
        return Err(peer_err(format!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

fn wait_port(port: u16, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// SimpleSAMLphp (Debian package, 1.19) as an Okta-like SAML IdP under a private Apache with
/// mod_php: exampleauth:UserPass users, the product registered as an SP with `acs_url` and
/// `entity_id`, the application group enforced by authorize:Authorize.
pub fn launch_simplesamlphp(
    root: &Path,
    launch: &Launch,
    users: &Users,
    acs_url: &str,
    entity_id: &str,
) -> Result<LaunchedPeer> {
    let templates = root.join("peers/simplesamlphp");
    if !Path::new("/usr/share/simplesamlphp/www").is_dir() {
        return Err(peer_err(
            "/usr/share/simplesamlphp is missing: run scripts/setup (Debian package simplesamlphp)",
        ));
    }
    let dir = scratch("sso-harness-simplesamlphp-")?;
    let d = dir.path();
    // Everything is made inside a 0700 directory only this process can enter; once written,
    // the tree is handed to Apache's workers (www-data, when we are root), who read the
    // configuration and key and write sessions and logs, and nobody else.
    for sub in [
        "config",
        "config/metadata",
        "cert",
        "log",
        "data",
        "tmp",
        "sessions",
        "run",
    ] {
        let p = d.join(sub);
        crate::children::private::create_dir_under(d, &p, None)
            .map_err(|e| HarnessError::io(&p, e))?;
    }
    make_cert(
        &d.join("cert/idp.key"),
        &d.join("cert/idp.crt"),
        "simplesamlphp-peer",
    )?;
    make_cert(
        &d.join("sp-enc.key"),
        &d.join("sp-enc.crt"),
        "product-encryption",
    )?;
    let enc_pem = std::fs::read_to_string(d.join("sp-enc.crt"))
        .map_err(|e| HarnessError::io(d.join("sp-enc.crt"), e))?;
    let enc_b64: String = enc_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();

    let port = free_port()?;
    let has = |f: PeerFault| launch.faults.contains(&f);
    if has(PeerFault::WrongRedirectUri) || has(PeerFault::IdTokenHs256) {
        return Err(peer_err("this fault is for the OIDC peer"));
    }
    let in_pw = Secret::generate("pw");
    let out_pw = Secret::generate("pw");
    let user = |u: &super::descriptor::User, pw: &Secret, group: &str| {
        format!(
            "        '{}:{}' => ['uid' => ['{}'], 'email' => ['{}'], 'givenName' => ['{}'], 'sn' => ['{}'], 'groups' => ['{}']],",
            php_str(u.login_name()),
            php_str(pw.expose()),
            php_str(u.login_name()),
            php_str(&u.email),
            php_str(u.given_name.as_deref().unwrap_or("Test")),
            php_str(u.family_name.as_deref().unwrap_or("User")),
            php_str(group)
        )
    };
    let dir_s = d.to_string_lossy().into_owned();
    let vars: Vec<(&str, String)> = vec![
        ("PORT", port.to_string()),
        ("DIR", dir_s),
        ("SALT", Secret::generate("salt").expose().to_string()),
        (
            "ADMIN_PASSWORD",
            Secret::generate("admin").expose().to_string(),
        ),
        (
            "USERS",
            [
                user(&users.in_group, &in_pw, APP_GROUP),
                user(&users.out_of_group, &out_pw, "everyone"),
            ]
            .join("\n"),
        ),
        ("ENTITY_ID", php_str(entity_id)),
        ("ACS_URL", php_str(acs_url)),
        (
            "SIGN",
            if has(PeerFault::UnsignedResponse) {
                "false"
            } else {
                "true"
            }
            .into(),
        ),
        (
            "ENCRYPT",
            if has(PeerFault::EncryptedAssertion) {
                "true"
            } else {
                "false"
            }
            .into(),
        ),
        ("SP_ENC_CERT", enc_b64),
        ("APP_GROUP", APP_GROUP.into()),
        (
            "SURNAME_MAPPING",
            if has(PeerFault::MissingFamilyName) {
                // Okta's slip: the last name left under the directory's own name.
                String::new()
            } else {
                "            'sn' => 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',"
                    .into()
            },
        ),
    ];
    for (from, to) in [
        ("apache.conf", "apache.conf"),
        ("config.php", "config/config.php"),
        ("authsources.php", "config/authsources.php"),
        (
            "metadata/saml20-idp-hosted.php",
            "config/metadata/saml20-idp-hosted.php",
        ),
        (
            "metadata/saml20-sp-remote.php",
            "config/metadata/saml20-sp-remote.php",
        ),
    ] {
        let text = render(&templates.join(from), &vars)?;
        write_file(&d.join(to), &text)?;
    }
    let log = d.join("log/apache-error.log");
    let workers = if crate::children::private::running_as_root() {
        crate::children::private::SpUser::lookup("www-data")
    } else {
        None
    };
    crate::children::private::seal_tree(d, workers).map_err(|e| HarnessError::io(d, e))?;
    if let Some(u) = workers {
        crate::children::registry::run()
            .let_through(u)
            .map_err(|e| peer_err(format!("run directory: {e}")))?;
    }
    // Apache's master signals its whole process group when it stops (SIGTERM from the guard):
    // in its own group it cannot take the harness down with it.
    let mut cmd = Command::new("/usr/sbin/apache2");
    crate::children::registry::run().tag(&mut cmd);
    let child = cmd
        .process_group(0)
        .arg("-f")
        .arg(d.join("apache.conf"))
        .arg("-DFOREGROUND")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| peer_err(format!("cannot run /usr/sbin/apache2: {e}")))?;
    let guard = ChildGuard::new(child);
    if !wait_port(port, Duration::from_secs(20)) {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(peer_err(format!(
            "Apache with SimpleSAMLphp did not listen on {port} within 20 s: {}",
            last_lines(&tail, 5)
        )));
    }
    let base = format!("http://127.0.0.1:{port}/simplesaml");
    let mut idp_initiated = url::Url::parse(&format!("{base}/saml2/idp/SSOService.php"))
        .map_err(|e| peer_err(e.to_string()))?;
    idp_initiated
        .query_pairs_mut()
        .append_pair("spentityid", entity_id);
    Ok(LaunchedPeer {
        discovery_url: None,
        client_id: None,
        client_secret: None,
        metadata_url: Some(format!("{base}/saml2/idp/metadata.php")),
        idp_initiated_url: Some(idp_initiated.to_string()),
        in_group_password: in_pw,
        out_of_group_password: out_pw,
        log: Some(log),
        _keep: vec![Box::new(guard), Box::new(dir)],
    })
}

/// The workspace's mock IdP in-process, with one tenant set up as the product's guides say:
/// the in-group user in the application's group, the other one outside it, the product's
/// redirect URI (OIDC client restricted to the group) or ACS URL and entity ID (SAML), and
/// the descriptor's `profile` and `idp_faults`. `wrong_redirect_uri` registers another URI.
pub async fn launch_mock_idp(
    launch: &Launch,
    users: &Users,
    protocol: Protocol,
    redirect_uri: &str,
    acs_url: &str,
    entity_id: &str,
) -> Result<LaunchedPeer> {
    use proto::idp::{OidcClient, SpSpec, TenantSpec, User};
    if let Some(f) = launch
        .faults
        .iter()
        .find(|f| **f != PeerFault::WrongRedirectUri)
    {
        return Err(peer_err(format!(
            "the mock-idp peer takes the mock IdP's own faults under idp_faults, not {f:?}"
        )));
    }
    let idp = crate::target::embedded::start_mock_idp().await?;
    let client = crate::idp::client::IdpClient::new(&idp.base_url);
    let in_pw = Secret::generate("pw");
    let out_pw = Secret::generate("pw");
    let user = |u: &super::descriptor::User, pw: &Secret, group: &str| User {
        email: u.email.clone(),
        given_name: u.given_name.clone().unwrap_or_else(|| "Test".into()),
        family_name: u.family_name.clone().unwrap_or_else(|| "User".into()),
        password: pw.clone(),
        groups: vec![group.to_string()],
        ..Default::default()
    };
    let client_id = format!("{}-client", launch.slug);
    let client_secret = Secret::generate("client");
    let registered = if launch.faults.contains(&PeerFault::WrongRedirectUri) {
        format!("{}/", redirect_uri.trim_end_matches('/'))
    } else {
        redirect_uri.to_string()
    };
    let mut spec = TenantSpec {
        profile: launch.profile.unwrap_or_default(),
        users: vec![
            user(&users.in_group, &in_pw, APP_GROUP),
            user(&users.out_of_group, &out_pw, "everyone"),
        ],
        faults: launch.idp_faults.clone(),
        ..Default::default()
    };
    match protocol {
        Protocol::Oidc => spec.oidc_clients.push(OidcClient {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_uris: vec![registered],
            post_logout_redirect_uris: Vec::new(),
            frontchannel_logout_uri: None,
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            allowed_groups: vec![APP_GROUP.to_string()],
            forge: None,
            id_token_encryption: None,
            auth_request: None,
        }),
        Protocol::Saml => {
            spec.sp = Some(SpSpec {
                entity_id: Some(entity_id.to_string()),
                acs_url: Some(acs_url.to_string()),
                ..Default::default()
            })
        }
    }
    let info = client.create_tenant(&spec).await?;
    let (discovery_url, metadata_url, idp_initiated_url) = match protocol {
        Protocol::Oidc => (
            Some(
                info.oidc
                    .as_ref()
                    .map(|o| o.discovery_url.clone())
                    .ok_or_else(|| peer_err("the mock IdP tenant has no OIDC provider"))?,
            ),
            None,
            None,
        ),
        Protocol::Saml => (
            None,
            Some(info.saml.metadata_url.clone()),
            Some(info.saml.idp_initiated_url.clone()),
        ),
    };
    let oidc = protocol == Protocol::Oidc;
    Ok(LaunchedPeer {
        discovery_url,
        client_id: oidc.then_some(client_id),
        client_secret: oidc.then_some(client_secret),
        metadata_url,
        idp_initiated_url,
        in_group_password: in_pw,
        out_of_group_password: out_pw,
        log: None,
        _keep: vec![Box::new(idp)],
    })
}
