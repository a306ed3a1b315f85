//! The target file `new-target` writes: every key it sets with a comment saying what it means
//! and which placeholders it may use, so the file is its own documentation when a person opens
//! it to adjust it. Scalars are written as double-quoted strings (JSON string syntax is valid
//! YAML), so any value a person typed survives the round trip exactly.
use std::fmt::Write as _;

use crate::scenario::schema::Protocol;

/// How the SP runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchSpec {
    /// The harness starts it per trial, configured through its environment.
    Command {
        command: Vec<String>,
        env: Vec<(String, String)>,
        ready_url: String,
        logs: Vec<String>,
    },
    /// Already running; a person configures it once with the pinned tenant's values.
    Url { url: String },
}

/// Every answer `new-target` needs, resolved from flags and prompts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    /// SAML first when both; never empty.
    pub protocols: Vec<Protocol>,
    pub launch: LaunchSpec,
    pub login_url: String,
    pub acs_url: Option<String>,
    pub entity_id: Option<String>,
    pub metadata_url: Option<String>,
    pub redirect_uri: Option<String>,
    pub identity: Identity,
    /// Opening it ends the SP's session (`procedures.sign_out`), if the SP has one.
    pub sign_out_url: Option<String>,
}

/// How the signed-in page names the user (`signals:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A CSS selector of the element whose text is the email (`signed_in`).
    Selector(String),
    /// A pattern over the page's text with a capture (`signed_in_text`).
    Text(String),
    /// A "who am I" JSON URL and the dotted path of the email in it (`whoami`).
    Whoami { url: String, field: String },
}

impl Spec {
    pub fn has(&self, p: Protocol) -> bool {
        self.protocols.contains(&p)
    }

    /// The generic sign-in scenario of each protocol, relative to the scenarios folder: what
    /// the proof runs.
    pub fn login_scenarios(&self) -> Vec<&'static str> {
        self.protocols
            .iter()
            .map(|p| match p {
                Protocol::Saml => SAML_LOGIN,
                Protocol::Oidc => OIDC_LOGIN,
            })
            .collect()
    }

    /// The packs to run on the target, in order: the smoke pack (a first report for any SP),
    /// then the attack packs of its protocols (`sso-harness run --scenarios ...`).
    pub fn packs(&self) -> Vec<&'static str> {
        std::iter::once(SMOKE_PACK)
            .chain(self.protocols.iter().map(|p| match p {
                Protocol::Saml => "scenarios/saml-sp",
                Protocol::Oidc => "scenarios/oidc-rp",
            }))
            .collect()
    }
}

pub const SMOKE_PACK: &str = "scenarios/smoke";
pub const SAML_LOGIN: &str = "smoke/saml-sign-in.yaml";
pub const OIDC_LOGIN: &str = "smoke/oidc-sign-in.yaml";
/// The user each login scenario signs in as: a running SP must let this one in for
/// `staging init` to prove it (a unit test keeps these equal to the scenario files).
pub const SAML_LOGIN_USER: &str = "sam@acme.test";
pub const OIDC_LOGIN_USER: &str = "alice@acme.test";

/// The staging tenant and state folder a URL target gets: its name, made a tenant id.
pub fn tenant_id(name: &str) -> String {
    let mut id: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    id.truncate(40);
    let id = id.trim_matches('-').to_string();
    if id.is_empty() { "sp".into() } else { id }
}

/// A YAML double-quoted scalar.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", quoted.join(", "))
}

const PLACEHOLDERS_SP: &str = "\
#   the SP:   {sp.port} (a free loopback port) {sp.dir} (the trial's private directory, 0700)
#             {sp.base_url} {sp.login_url} {sp.acs_url} {sp.entity_id} {sp.oidc_redirect_uri}
#             {target.dir} (this file's folder, absolute: programs shipped beside it)";
const PLACEHOLDERS_SAML: &str = "\
#   SAML IdP: {idp.entity_id} {idp.sso_url} (HTTP-Redirect) {idp.sso_url_post} {idp.metadata_url}
#             {idp.certificate_pem} (the PEM text itself) {idp.fingerprint_sha256} {idp.fingerprint_sha1}
#             files written into {sp.dir} before the command starts: idp-metadata.xml,
#             idp-cert.pem (the IdP's signing certificate), sp-key.pem + sp-cert.pem (a fresh
#             key pair for the SP, e.g. to decrypt assertions or sign its metadata)";
const PLACEHOLDERS_OIDC: &str = "\
#   OIDC IdP: {idp.discovery_url} {idp.issuer} {idp.authorization_endpoint} {idp.token_endpoint}
#             {idp.client_id} {idp.client_secret} (a client registered per trial with
#             sp.oidc_redirect_uri; the secret is never written to the report)";

/// The target file's text.
pub fn render(spec: &Spec) -> String {
    let mut y = String::new();
    let protocols: Vec<String> = spec.protocols.iter().map(|p| p.to_string()).collect();
    let packs = spec.packs()[1..].join(" and ");
    let _ = writeln!(
        y,
        "# Target file written by `sso-harness new-target`: {} ({}).",
        spec.name,
        protocols.join(" + ")
    );
    y.push_str(
        "# Every key is explained below and in targets/README.md; adjust it and re-check with\n",
    );
    // `check` knows a target file by its folder's name (other YAML files are scenarios).
    let _ = writeln!(
        y,
        "#   sso-harness check THIS_FILE      (kept in a folder named targets/)"
    );
    let _ = writeln!(
        y,
        "# then the smoke pack (sign-in, sign-out, one refusal: a first report in a minute), and\n# the attack pack(s), one scenario per thing a correct SP must accept or refuse ({packs}):"
    );
    for pack in spec.packs() {
        let _ = writeln!(
            y,
            "#   sso-harness run --target THIS_FILE --scenarios {pack}"
        );
    }
    let _ = writeln!(y, "name: {}", q(&spec.name));
    let _ = writeln!(
        y,
        "description: {}",
        q(&format!(
            "{} written by sso-harness new-target",
            match &spec.launch {
                LaunchSpec::Command { .. } =>
                    "an SP started by a command, configured through its environment,",
                LaunchSpec::Url { .. } => "an already running SP, configured by hand,",
            }
        ))
    );
    match &spec.launch {
        LaunchSpec::Command {
            command,
            env,
            ready_url,
            logs,
        } => render_command(&mut y, spec, command, env, ready_url, logs),
        LaunchSpec::Url { url } => render_url(&mut y, spec, url),
    }
    render_sp(&mut y, spec);
    render_judging(&mut y, spec);
    y
}

fn render_command(
    y: &mut String,
    spec: &Spec,
    command: &[String],
    env: &[(String, String)],
    ready_url: &str,
    logs: &[String],
) {
    y.push_str(
        "launch:\n\
         \x20 # The harness starts this command for each trial, when the scenario connects SSO\n\
         \x20 # (`connect:`), in the trial's private directory {sp.dir}, and kills it (with its\n\
         \x20 # children) when the trial ends. It runs in {sp.dir}: name files by absolute paths\n\
         \x20 # or {target.dir}/... Every string below is a template. Placeholders:\n",
    );
    for block in std::iter::once(PLACEHOLDERS_SP)
        .chain(spec.has(Protocol::Saml).then_some(PLACEHOLDERS_SAML))
        .chain(spec.has(Protocol::Oidc).then_some(PLACEHOLDERS_OIDC))
    {
        for line in block.lines() {
            let _ = writeln!(y, "  {line}");
        }
    }
    y.push_str(
        "  #   (`{{` and `}}` are literal braces; every placeholder: targets/PLACEHOLDERS.md)\n",
    );
    let _ = writeln!(y, "  process:");
    let _ = writeln!(y, "    command: {}", list(command));
    y.push_str("    # The SP's configuration: its environment, rendered per trial.\n");
    if env.is_empty() {
        y.push_str("    env: {}\n");
    } else {
        y.push_str("    env:\n");
        for (k, v) in env {
            // Keys are checked names (letters, digits, _): plain YAML keys.
            let _ = writeln!(y, "      {k}: {}", q(v));
        }
    }
    y.push_str(
        "    # Where the SP answers; {sp.base_url} below is this URL.\n\
         \x20   base_url: \"http://127.0.0.1:{sp.port}/\"\n\
         \x20   # Polled after the start until it answers with a status below 500.\n",
    );
    let _ = writeln!(y, "    ready_url: {}", q(ready_url));
    y.push_str("    # ready_timeout_ms: 20000\n");
    y.push_str(
        "    # Files whose lines the report shows and `log:` expectations match (the command's\n\
         \x20   # own output is always kept, as {sp.dir}/process.log).\n",
    );
    if logs.is_empty() {
        y.push_str("    # logs: [\"{sp.dir}/sp.log\"]\n");
    } else {
        let _ = writeln!(y, "    logs: {}", list(logs));
    }
    y.push_str(
        "# What the SP can do: scenarios that require anything else are skipped, saying why.\n\
         # Others: idp-initiated (it accepts unsolicited responses), encrypted-assertions.\n",
    );
    let _ = writeln!(y, "capabilities: {}", capabilities(spec));
    y.push_str(
        "# Configured by files rendered from the trial's values: none here, the environment\n\
         # above is the whole configuration. The driver still writes the IdP's metadata and\n\
         # certificate and the SP's key pair into {sp.dir} before it starts the command.\n\
         admin:\n\
         \x20 config-template:\n\
         \x20   files: []\n\
         \x20   # files: [ { template: my-sp/settings.ini, output: settings.ini } ]   # template: beside this file\n",
    );
}

fn render_url(y: &mut String, spec: &Spec, url: &str) {
    let tenant = tenant_id(&spec.name);
    let protocol = spec.protocols.first().copied().unwrap_or_default();
    y.push_str(
        "# Already running: the harness only points the browser at it. A person configures\n\
         # it once with the values of one pinned mock IdP tenant:\n\
         #   sso-harness staging init --target THIS_FILE\n\
         # prints what to paste (SSO URL, certificate, or discovery URL and client), waits, and\n\
         # proves it with one sign-in.\n\
         launch:\n",
    );
    let _ = writeln!(y, "  url: {}", q(url));
    y.push_str(
        "# What the SP can do: scenarios that require anything else are skipped, saying why.\n",
    );
    let _ = writeln!(y, "capabilities: {}", capabilities(spec));
    y.push_str(
        "admin:\n\
         \x20 manual:\n\
         \x20   # Set up by hand: set-up steps are logged as assumed, never done. An SP without\n\
         \x20   # organisations keeps any id here.\n\
         \x20   org_id: \"default\"\n\
         \x20   notes: \"SSO configured by hand with the values `staging init` printed\"\n\
         staging:\n",
    );
    let _ = writeln!(
        y,
        "  tenant: {}           # the pinned mock IdP tenant",
        q(&tenant)
    );
    let _ = writeln!(
        y,
        "  protocol: {}          # the one connection the SP is configured with",
        match protocol {
            Protocol::Saml => "saml",
            Protocol::Oidc => "oidc",
        }
    );
    y.push_str(
        "  profile: generic         # which IdP the tenant imitates (okta, entra, google, authentik, keycloak)\n\
         \x20 idp:\n\
         \x20   # Where browsers (and, for OIDC, the SP's server) reach the mock IdP; fixed, the SP\n\
         \x20   # stores URLs that contain it.\n\
         \x20   url: \"http://127.0.0.1:8790/\"\n\
         \x20   # The tenant's key and clients, relative to this file. Never commit it.\n",
    );
    let _ = writeln!(y, "    state_dir: {}", q(&format!("{tenant}-idp-state")));
    y.push_str(
        "  # Users you let in at init: the one the proving sign-in uses (add the others\n\
         \x20 # `staging init` lists for the whole pack).\n",
    );
    let user = match protocol {
        Protocol::Saml => SAML_LOGIN_USER,
        Protocol::Oidc => OIDC_LOGIN_USER,
    };
    let _ = writeln!(y, "  users: [{}]", q(user));
    y.push_str("  domains: []\n");
}

fn capabilities(spec: &Spec) -> String {
    let mut caps: Vec<String> = spec
        .protocols
        .iter()
        .map(|p| match p {
            Protocol::Saml => "saml".to_string(),
            Protocol::Oidc => "oidc".to_string(),
        })
        .collect();
    if spec.metadata_url.is_some() {
        caps.push("sp-metadata".into());
    }
    format!("[{}]", caps.join(", "))
}

fn render_sp(y: &mut String, spec: &Spec) {
    y.push_str(
        "# The SP's own URLs (templates over {sp.base_url}); the mock IdP tenant is told the\n\
         # ACS URL and entity ID (the audience it puts into assertions) and registers the\n\
         # redirect URI for its OIDC client.\n\
         sp:\n",
    );
    let _ = writeln!(
        y,
        "  login_url: {}        # opening it starts a sign-in (or shows a protected page)",
        q(&spec.login_url)
    );
    if let Some(v) = &spec.acs_url {
        let _ = writeln!(y, "  acs_url: {}", q(v));
    }
    if let Some(v) = &spec.entity_id {
        let _ = writeln!(y, "  entity_id: {}", q(v));
    }
    match &spec.metadata_url {
        Some(v) => {
            let _ = writeln!(
                y,
                "  metadata_url: {}     # imported by the IdP (certificate for encrypted assertions)",
                q(v)
            );
        }
        None if spec.has(Protocol::Saml) => {
            y.push_str(
                "  # metadata_url: \"{sp.base_url}metadata\"   # if it publishes SAML metadata\n",
            );
        }
        None => {}
    }
    if let Some(v) = &spec.redirect_uri {
        let _ = writeln!(y, "  oidc_redirect_uri: {}", q(v));
    }
    y.push_str(
        "# What the generic packs' steps mean here: `connect:` configures SSO (starts the\n\
         # command with the tenant's values), `start_login` opens the login URL.\n\
         procedures:\n",
    );
    if spec.has(Protocol::Saml) {
        y.push_str("  connect_saml: [ { configure_sso: saml } ]\n");
    }
    if spec.has(Protocol::Oidc) {
        y.push_str("  connect_oidc: [ { configure_sso: oidc } ]\n");
    }
    y.push_str("  start_login: [ { open: \"{sp.login_url}\" } ]\n");
    y.push_str(
        "  # `sign_out`: the SP's own way to end its session (smoke/*-sign-out); any steps, e.g.\n\
         \x20 # [ { click: \"#sign-out\" } ]. Without it those trials are skipped, naming this key.\n",
    );
    match &spec.sign_out_url {
        Some(v) => {
            let _ = writeln!(y, "  sign_out: [ {{ open: {} }} ]", q(v));
        }
        None => y.push_str("  # sign_out: [ { open: \"{sp.base_url}logout\" } ]\n"),
    }
}

fn render_judging(y: &mut String, spec: &Spec) {
    y.push_str(
        "# How success shows: who the SP says is signed in (only its own origin counts; an\n\
         # empty identity is no sign-in). One of: `signed_in` (a CSS selector of the element\n\
         # holding the email), `signed_in_text` (a pattern over the page's text whose capture\n\
         # `identity` is the email), `whoami` (a JSON URL fetched with the browser's cookies).\n\
         signals:\n",
    );
    match &spec.identity {
        Identity::Selector(sel) => {
            let _ = writeln!(y, "  signed_in: {}", q(sel));
        }
        Identity::Text(pattern) => {
            let _ = writeln!(y, "  signed_in_text: {}", q(pattern));
        }
        Identity::Whoami { url, field } => {
            let _ = writeln!(y, "  whoami: {{ url: {}, field: {} }}", q(url), q(field));
        }
    }
    y.push_str(
        "  # display_name: \"#display-name\"   # where it shows the user's name, if it does\n\
         \x20 # error: \"#error\"                 # where it shows an error message\n\
         # How it refuses a sign-in (`rejected: true` in the negative scenarios); any one suffices.\n\
         # Add 500 if it refuses with a server error, `text:` or `element:` if it answers 200.\n\
         rejection:\n\
         \x20 status: [400, 401, 403]\n\
         \x20 # text: [\"Sign-in failed\"]\n\
         \x20 # element: \"#error\"\n\
         # \"Who is signed in now?\", asked after every flow the SP had to refuse: a protected\n\
         # page that shows the user and never starts a sign-in by itself is ideal.\n\
         # session_probe:\n\
         #   url: \"{sp.base_url}me\"\n\
         # Scenarios that fail here for a known reason (see targets/README.md):\n\
         # known_failures:\n\
         #   - { scenario: saml-sp/wrong-recipient, reason: \"...\", finding: true }\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every placeholder the comments teach is one the harness knows (a renamed placeholder
    /// must not live on in the files people copy).
    #[test]
    fn the_comments_name_only_known_placeholders() {
        let spec = Spec {
            name: "x".into(),
            protocols: vec![Protocol::Saml, Protocol::Oidc],
            launch: LaunchSpec::Command {
                command: vec!["x".into()],
                env: Vec::new(),
                ready_url: "{sp.base_url}".into(),
                logs: Vec::new(),
            },
            login_url: "{sp.base_url}login".into(),
            acs_url: None,
            entity_id: None,
            metadata_url: None,
            redirect_uri: None,
            identity: Identity::Selector("#me".into()),
            sign_out_url: None,
        };
        let text = render(&spec);
        let mut seen = 0;
        // Comments and quoted values; YAML's own flow maps (`{}`, `{ k: v }`) are not
        // templates.
        for line in text
            .lines()
            .filter(|l| (l.trim_start().starts_with('#') || l.contains("\"{")) && !l.contains("{ "))
        {
            let t = crate::input::template::Template::parse(line)
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            seen += t.placeholders().count();
        }
        assert!(seen > 20, "{seen} placeholders in:\n{text}");
    }

    /// A URL target names the login scenarios' users; a scenario that changes its user must
    /// change them here too.
    #[test]
    fn the_login_users_are_the_login_scenarios_users() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        for (file, user) in [(SAML_LOGIN, SAML_LOGIN_USER), (OIDC_LOGIN, OIDC_LOGIN_USER)] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            assert!(text.contains(&format!("email: {user}")), "{file}: {user}");
        }
    }
}
