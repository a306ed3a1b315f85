//! `sso-harness new-target`: writes a commented target file for an SP nobody here wrote
//! (a dev server, a SAML/OIDC library, a gateway), from flags or from answers at the terminal,
//! checks that the harness accepts it, and proves it with one real sign-in through the
//! generic login scenario of each protocol (issue 19: writing one from the docs took 5-20
//! minutes of guessing).
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::input::template::Template;
use crate::scenario::schema::Protocol;

pub mod render;
pub mod shell;

pub use render::{Identity, LaunchSpec, Spec};

/// What the person gave on the command line; anything missing is asked for at a terminal.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub name: Option<String>,
    pub protocols: Vec<Protocol>,
    /// The command line that starts the SP (split like a shell would).
    pub command: Option<String>,
    /// `KEY=VALUE` environment entries of the command.
    pub env: Vec<String>,
    /// An already running SP.
    pub url: Option<String>,
    pub login_url: Option<String>,
    pub acs_url: Option<String>,
    pub entity_id: Option<String>,
    pub metadata_url: Option<String>,
    pub redirect_uri: Option<String>,
    pub ready_url: Option<String>,
    pub logs: Vec<String>,
    pub signed_in: Option<String>,
    /// A pattern over the page's text whose capture is the email (instead of a selector).
    pub signed_in_text: Option<String>,
    /// A "who am I" JSON URL and the dotted path of the email in its answer.
    pub whoami: Option<String>,
    pub whoami_field: Option<String>,
    /// Opening it ends the SP's session (the smoke pack's sign-out).
    pub sign_out_url: Option<String>,
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    pub force: bool,
    /// Run the proving sign-in (the default).
    pub prove: bool,
    /// The scenarios folder holding smoke/ (the proving sign-ins).
    pub scenarios: PathBuf,
    pub report: PathBuf,
    pub webdriver_url: Option<String>,
}

/// The terminal a person answers at, or none (scripts: every value must come by flag).
pub struct Prompter<'a> {
    pub input: &'a mut dyn BufRead,
    pub output: &'a mut dyn Write,
}

impl Prompter<'_> {
    /// One line, trimmed; the default when the answer is empty. `None` at end of input.
    fn ask(&mut self, question: &str, default: Option<&str>) -> Result<String, String> {
        loop {
            match default {
                Some(d) if !d.is_empty() => {
                    let _ = write!(self.output, "{question} [{d}]: ");
                }
                _ => {
                    let _ = write!(self.output, "{question}: ");
                }
            }
            let _ = self.output.flush();
            let mut line = String::new();
            let n = self
                .input
                .read_line(&mut line)
                .map_err(|e| format!("reading the answer: {e}"))?;
            if n == 0 {
                return Err(format!("no answer to {question:?} (end of input)"));
            }
            let line = line.trim();
            if !line.is_empty() {
                return Ok(line.to_string());
            }
            if let Some(d) = default {
                return Ok(d.to_string());
            }
        }
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(self.output, "{text}");
    }
}

/// A value from its flag, else from the terminal, else its default; else a message naming
/// the flag.
fn value(
    given: &Option<String>,
    prompt: &mut Option<Prompter<'_>>,
    flag: &str,
    question: &str,
    default: Option<&str>,
) -> Result<String, String> {
    if let Some(v) = given {
        return Ok(v.clone());
    }
    match prompt {
        Some(p) => p.ask(question, default),
        None => default
            .map(str::to_string)
            .ok_or_else(|| format!("{flag} is missing ({question})")),
    }
}

/// An optional value: from its flag, or asked (an empty answer is none).
fn optional(
    given: &Option<String>,
    prompt: &mut Option<Prompter<'_>>,
    question: &str,
) -> Result<Option<String>, String> {
    if given.is_some() {
        return Ok(given.clone());
    }
    match prompt {
        Some(p) => {
            let a = p.ask(&format!("{question} (empty: none)"), Some(""))?;
            Ok((!a.is_empty()).then_some(a))
        }
        None => Ok(None),
    }
}

/// Checks one template value at once, naming the flag it came from.
fn template(flag: &str, v: &str) -> Result<(), String> {
    Template::parse(v)
        .map(|_| ())
        .map_err(|e| format!("{flag} {v:?}: {e}"))
}

fn parse_protocols(text: &str) -> Result<Vec<Protocol>, String> {
    let mut out = Vec::new();
    for word in text.split([',', ' ', '+']).filter(|w| !w.is_empty()) {
        out.push(match word.to_ascii_lowercase().as_str() {
            "saml" => Protocol::Saml,
            "oidc" => Protocol::Oidc,
            "both" => return Ok(vec![Protocol::Saml, Protocol::Oidc]),
            other => return Err(format!("unknown protocol {other:?}: saml, oidc or both")),
        });
    }
    Ok(out)
}

/// `saml` or `oidc` (the `--protocol` flag).
pub fn protocol_arg(s: &str) -> Result<Protocol, String> {
    match parse_protocols(s)?.as_slice() {
        [p] => Ok(*p),
        _ => Err(format!("{s:?}: saml or oidc (repeat the flag for both)")),
    }
}

fn split_env(entry: &str) -> Result<(String, String), String> {
    let (k, v) = entry
        .split_once('=')
        .ok_or_else(|| format!("--env {entry:?}: expected KEY=VALUE"))?;
    let k = k.trim();
    let ok = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "--env {entry:?}: {k:?} is not an environment variable name (letters, digits, _)"
        ));
    }
    template(&format!("--env {k}"), v)?;
    Ok((k.to_string(), v.to_string()))
}

/// Turns flags (and, at a terminal, answers) into a complete, checked [`Spec`].
pub fn resolve(opts: &Options, mut prompt: Option<Prompter<'_>>) -> Result<Spec, String> {
    let name = value(
        &opts.name,
        &mut prompt,
        "--name",
        "Name of the target (trial names are NAME::scenario)",
        None,
    )?;
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(format!(
            "--name {name:?}: use letters, digits, '-', '_' and '.'"
        ));
    }
    let mut protocols = opts.protocols.clone();
    if protocols.is_empty() {
        let answer = value(
            &None,
            &mut prompt,
            "--protocol",
            "Protocol(s): saml, oidc or both",
            None,
        )?;
        protocols = parse_protocols(&answer)?;
    }
    // SAML first, each once: the proof and the file list them in this order.
    protocols.sort_by_key(|p| *p == Protocol::Oidc);
    protocols.dedup();
    if protocols.is_empty() {
        return Err("--protocol is missing: saml or oidc (repeat the flag for both)".into());
    }

    let (command, url) = match (&opts.command, &opts.url) {
        (Some(_), Some(_)) => {
            return Err(
                "--command and --url exclude each other: the harness starts the SP, or it is already running"
                    .into(),
            );
        }
        (c, u) if c.is_some() || u.is_some() => (c.clone(), u.clone()),
        _ => {
            let a = value(
                &None,
                &mut prompt,
                "--command or --url",
                "How does the SP start? Its command line (the harness starts it per trial), or the URL of an already running SP",
                None,
            )?;
            if a.starts_with("http://") || a.starts_with("https://") {
                (None, Some(a))
            } else {
                (Some(a), None)
            }
        }
    };
    let launch = match (command, url) {
        (Some(line), _) => {
            let mut words = shell::split(&line).map_err(|e| format!("--command: {e}"))?;
            for w in &mut words {
                template("--command", w)?;
                // The command runs in the trial's private directory, not here: a file named
                // relative to here would not be found there.
                if let Some(abs) = absolute_if_file(w) {
                    let note = format!(
                        "--command: {w} is named by its absolute path {abs} (the SP runs in {{sp.dir}})"
                    );
                    match prompt.as_mut() {
                        Some(p) => p.note(&note),
                        None => eprintln!("{note}"),
                    }
                    *w = abs;
                }
            }
            let mut env = Vec::new();
            for e in &opts.env {
                env.push(split_env(e)?);
            }
            if opts.env.is_empty() {
                if let Some(p) = prompt.as_mut() {
                    p.note(&env_help(&protocols));
                    loop {
                        let a = p.ask("  KEY=VALUE (empty line: done)", Some(""))?;
                        if a.is_empty() {
                            break;
                        }
                        match split_env(&a) {
                            Ok(kv) => env.push(kv),
                            Err(e) => p.note(&e),
                        }
                    }
                }
            }
            let ready_url = value(
                &opts.ready_url,
                &mut prompt,
                "--ready-url",
                "URL that answers once the SP is up",
                Some("{sp.base_url}"),
            )?;
            template("--ready-url", &ready_url)?;
            for l in &opts.logs {
                template("--log", l)?;
            }
            LaunchSpec::Command {
                command: words,
                env,
                ready_url,
                logs: opts.logs.clone(),
            }
        }
        (None, Some(url)) => {
            let parsed = url::Url::parse(&url).map_err(|e| format!("--url {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("--url {url:?}: an http(s) URL"));
            }
            if protocols.len() > 1 {
                return Err(
                    "--url: an already running SP is tested with the one connection a person configured: give one --protocol"
                        .into(),
                );
            }
            LaunchSpec::Url {
                url: if url.ends_with('/') {
                    url
                } else {
                    format!("{url}/")
                },
            }
        }
        (None, None) => return Err("--command or --url is missing".into()),
    };

    let login_url = value(
        &opts.login_url,
        &mut prompt,
        "--login-url",
        "Login URL: opening it starts a sign-in",
        Some("{sp.base_url}login"),
    )?;
    template("--login-url", &login_url)?;
    // A suggested answer at a terminal; scripts must say it (a guessed ACS URL or redirect
    // URI fails later, far from its cause).
    let at_terminal = prompt.is_some();
    let guess = |g: &'static str| at_terminal.then_some(g);
    let saml = protocols.contains(&Protocol::Saml);
    let oidc = protocols.contains(&Protocol::Oidc);
    let (mut acs_url, mut entity_id, mut metadata_url, mut redirect_uri) = (None, None, None, None);
    if saml {
        let a = value(
            &opts.acs_url,
            &mut prompt,
            "--acs-url",
            "SAML ACS URL (where the IdP posts the response)",
            guess("{sp.base_url}acs"),
        )?;
        let e = value(
            &opts.entity_id,
            &mut prompt,
            "--entity-id",
            "SAML entity ID of the SP (the audience of assertions)",
            guess("{sp.base_url}metadata"),
        )?;
        let m = optional(
            &opts.metadata_url,
            &mut prompt,
            "URL of the SP's SAML metadata",
        )?;
        template("--acs-url", &a)?;
        template("--entity-id", &e)?;
        if let Some(m) = &m {
            template("--metadata-url", m)?;
        }
        (acs_url, entity_id, metadata_url) = (Some(a), Some(e), m);
    } else if opts.acs_url.is_some() || opts.entity_id.is_some() || opts.metadata_url.is_some() {
        return Err(
            "--acs-url, --entity-id and --metadata-url are SAML values: add --protocol saml".into(),
        );
    }
    if oidc {
        let r = value(
            &opts.redirect_uri,
            &mut prompt,
            "--redirect-uri",
            "OIDC redirect URI (where the IdP sends the code)",
            guess("{sp.base_url}callback"),
        )?;
        template("--redirect-uri", &r)?;
        redirect_uri = Some(r);
    } else if opts.redirect_uri.is_some() {
        return Err("--redirect-uri is an OIDC value: add --protocol oidc".into());
    }
    let identity = identity(opts, &mut prompt)?;
    let sign_out_url = optional(
        &opts.sign_out_url,
        &mut prompt,
        "Sign-out URL: opening it ends the SP's session, e.g. {sp.base_url}logout",
    )?;
    if let Some(u) = &sign_out_url {
        template("--sign-out-url", u)?;
    }
    Ok(Spec {
        name,
        protocols,
        launch,
        login_url,
        acs_url,
        entity_id,
        metadata_url,
        redirect_uri,
        identity,
        sign_out_url,
    })
}

/// `w` made absolute when it names an existing file or folder relative to the current
/// directory (and holds no placeholder; `{{`/`}}` escaped when the path has braces).
fn absolute_if_file(w: &str) -> Option<String> {
    let p = Path::new(w);
    if w.is_empty() || p.is_absolute() || w.contains(['{', '}']) || !p.exists() {
        return None;
    }
    // A bare program name found here (`python3` next to a folder called python3) stays a
    // program name unless it was written as a path.
    if !w.contains('/') && !w.contains('.') {
        return None;
    }
    let abs = std::fs::canonicalize(p).ok()?;
    Some(abs.to_str()?.to_string())
}

/// How the signed-in page names the user: one of `--signed-in`, `--signed-in-text`,
/// `--whoami` (with `--whoami-field`), or at a terminal a selector, `text:PATTERN` or
/// `whoami:URL FIELD`.
fn identity(opts: &Options, prompt: &mut Option<Prompter<'_>>) -> Result<Identity, String> {
    let given = [
        opts.signed_in.is_some(),
        opts.signed_in_text.is_some(),
        opts.whoami.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(
            "--signed-in, --signed-in-text and --whoami exclude each other: give the one way the SP shows the user"
                .into(),
        );
    }
    let checked = |id: Identity| -> Result<Identity, String> {
        match &id {
            Identity::Selector(s) if s.trim().is_empty() => {
                Err("--signed-in: a CSS selector, e.g. '#user-email'".into())
            }
            Identity::Text(p) => {
                let re = regex::Regex::new(p)
                    .map_err(|e| format!("--signed-in-text {p:?}: not a valid pattern: {e}"))?;
                if re.captures_len() < 2 {
                    return Err(format!(
                        "--signed-in-text {p:?}: no capture: write the email's part as (?P<identity>...)"
                    ));
                }
                Ok(id)
            }
            Identity::Whoami { url, field } => {
                template("--whoami", url)?;
                if field.trim().is_empty() {
                    return Err("--whoami-field: the dotted path of the email in the JSON answer, e.g. user.email".into());
                }
                Ok(id)
            }
            Identity::Selector(_) => Ok(id),
        }
    };
    if let Some(s) = &opts.signed_in {
        return checked(Identity::Selector(s.clone()));
    }
    if let Some(p) = &opts.signed_in_text {
        return checked(Identity::Text(p.clone()));
    }
    if let Some(url) = &opts.whoami {
        let field = value(
            &opts.whoami_field,
            prompt,
            "--whoami-field",
            "Dotted path of the email in the who-am-I answer",
            None,
        )?;
        return checked(Identity::Whoami {
            url: url.clone(),
            field,
        });
    }
    let Some(p) = prompt.as_mut() else {
        return Err(
            "--signed-in is missing (CSS selector of the element showing the signed-in user's email; or --signed-in-text PATTERN, or --whoami URL --whoami-field PATH)"
                .into(),
        );
    };
    loop {
        let a = p.ask(
            "How does the signed-in page show the user's email? A CSS selector (#user-email), text:PATTERN with a capture (text:Signed in as (?P<identity>\\S+)), or whoami:URL FIELD",
            None,
        )?;
        let id = if let Some(pattern) = a.strip_prefix("text:") {
            Identity::Text(pattern.trim().to_string())
        } else if let Some(rest) = a.strip_prefix("whoami:") {
            let (url, field) = rest.trim().rsplit_once(' ').unwrap_or((rest.trim(), ""));
            Identity::Whoami {
                url: url.trim().to_string(),
                field: field.trim().to_string(),
            }
        } else {
            Identity::Selector(a)
        };
        match checked(id) {
            Ok(id) => return Ok(id),
            Err(e) => p.note(&e),
        }
    }
}

fn env_help(protocols: &[Protocol]) -> String {
    let mut s = String::from(
        "Environment of the command (its configuration). Values may use placeholders:\n  {sp.port} {sp.dir} {sp.base_url} {sp.acs_url} {sp.entity_id} {sp.oidc_redirect_uri} {target.dir}",
    );
    if protocols.contains(&Protocol::Saml) {
        s.push_str(
            "\n  SAML: {idp.entity_id} {idp.sso_url} {idp.metadata_url} {idp.certificate_pem}; files {sp.dir}/idp-metadata.xml {sp.dir}/idp-cert.pem {sp.dir}/sp-key.pem {sp.dir}/sp-cert.pem",
        );
    }
    if protocols.contains(&Protocol::Oidc) {
        s.push_str(
            "\n  OIDC: {idp.discovery_url} {idp.issuer} {idp.client_id} {idp.client_secret}",
        );
    }
    s
}

/// Where the file goes: `--out`, else `targets/NAME.yaml` when there is a targets folder
/// here, else `NAME.yaml`.
fn out_path(opts: &Options, spec: &Spec) -> PathBuf {
    if let Some(o) = &opts.out {
        return o.clone();
    }
    let file = format!("{}.yaml", spec.name);
    if Path::new("targets").is_dir() {
        Path::new("targets").join(file)
    } else {
        PathBuf::from(file)
    }
}

/// Writes the file and checks that it loads as a target.
pub fn write(spec: &Spec, out: &Path, force: bool) -> Result<(), String> {
    if out.exists() && !force {
        return Err(format!(
            "{} exists; --force replaces it, --out writes elsewhere",
            out.display()
        ));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = render::render(spec).replace("THIS_FILE", &out.display().to_string());
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    crate::target::descriptor::load_target(out)
        .map(|_| ())
        .map_err(|e| format!("the written file does not load (a bug of new-target): {e}"))
}

/// The whole command: resolve, write, check, prove. Exit 0 when the file is written (and the
/// proof passed), 1 when the proof failed (the file stays, with what to change), 2 when no
/// file could be written.
pub async fn run(opts: Options) -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stderr();
    let prompt = interactive.then_some(Prompter {
        input: &mut input,
        output: &mut output,
    });
    let spec = match resolve(&opts, prompt) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sso-harness new-target: {e}");
            eprintln!(
                "(`sso-harness new-target --help` lists the flags; at a terminal, missing values are asked for)"
            );
            return ExitCode::from(2);
        }
    };
    drop(input);
    let out = out_path(&opts, &spec);
    if let Err(e) = write(&spec, &out, opts.force) {
        eprintln!("sso-harness new-target: {e}");
        return ExitCode::from(2);
    }
    println!("wrote {} (sso-harness check accepts it)", out.display());
    if !opts.prove {
        next_steps(&spec, &out);
        return ExitCode::SUCCESS;
    }
    let code = match &spec.launch {
        LaunchSpec::Command { .. } => prove(&spec, &out, &opts).await,
        LaunchSpec::Url { .. } => {
            // A running SP must first be configured by a person with the pinned tenant's
            // values: staging init prints them, waits at a terminal, then proves.
            let login = opts.scenarios.join(spec.login_scenarios()[0]);
            crate::staging::init::run(&out, &login, interactive, false, opts.webdriver_url.clone())
                .await
        }
    };
    next_steps(&spec, &out);
    code
}

fn next_steps(spec: &Spec, out: &Path) {
    println!("next: the smoke pack (a first report), then the attack pack(s):");
    for pack in spec.packs() {
        println!(
            "  sso-harness run --target {} --scenarios {pack}",
            out.display()
        );
    }
}

/// One sign-in per protocol through the generic login scenario, on the file just written.
async fn prove(spec: &Spec, out: &Path, opts: &Options) -> ExitCode {
    use crate::run::runner::{RunRequest, execute};
    use crate::trial::outcome::Verdict;
    let target = match crate::target::descriptor::load_target(out) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sso-harness new-target: {e}");
            return ExitCode::from(2);
        }
    };
    let mut scenarios = Vec::new();
    for rel in spec.login_scenarios() {
        let path = opts.scenarios.join(rel);
        let (found, errors) = crate::scenario::load::load_dir(&path);
        if let Some(e) = errors.first() {
            eprintln!(
                "sso-harness new-target: the proving scenario {}: {e} (--scenarios names the folder holding smoke/)",
                path.display()
            );
            return ExitCode::from(2);
        }
        scenarios.extend(found.into_iter().map(Arc::new));
    }
    println!(
        "proving it: {} sign-in(s) through {}",
        scenarios.len(),
        spec.login_scenarios().join(", ")
    );
    let req = RunRequest {
        targets: vec![Arc::new(target)],
        scenarios,
        scenarios_label: format!("new-target proof of {}", spec.name),
        filter: None,
        jobs: 1,
        webdriver_url: opts.webdriver_url.clone(),
        idp: crate::run::harness::IdpChoice::Embedded,
        report_root: opts.report.clone(),
        progress: true,
        interactive: false,
        shard: None,
        durations: None,
    };
    let result = match execute(req).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sso-harness new-target: the proof could not run: {e}");
            return ExitCode::from(1);
        }
    };
    let mut ok = !result.summary.has_failures();
    for o in &result.outcomes {
        let passed = o.verdict == Verdict::Pass;
        ok &= passed;
        println!("{} {}", o.verdict.label(), o.name);
        if !passed {
            if let Some(m) = &o.message {
                println!("{}", indent(m));
            }
            println!(
                "{}",
                indent(&hint(o.message.as_deref().unwrap_or_default()))
            );
        }
    }
    println!("{}", result.summary.line());
    println!("report: {}", result.index_html().display());
    if ok {
        println!("proved: the target signs in through the mock IdP");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What to change in the file, from the failure's text.
fn hint(message: &str) -> String {
    // The user's email on the last page while no one counts as signed in: the selector
    // misses the element that holds it (the commonest first mistake).
    let expected = message
        .split("expected: \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .filter(|e| e.contains('@'));
    let shown = message.split_once("page text:").map(|(_, t)| t);
    if let (Some(e), Some(t)) = (expected, shown) {
        if message.contains("not signed in") && t.contains(e) {
            return format!(
                "hint: the page shows {e}, but signals.signed_in does not select the element that holds it (only that element's text must be the email): fix signals.signed_in"
            );
        }
    }
    fixed_hint(message).to_string()
}

fn fixed_hint(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("did not answer within") || m.contains("exited") || m.contains("cannot start") {
        "hint: the SP did not come up: check the command, its environment and --ready-url (its output is above and in the report's Target log)"
    } else if m.contains("signed_in") || m.contains("signed in") || m.contains("signed-in") {
        "hint: no signed-in user was found: check signals.signed_in (the element holding the email; or signed_in_text, whoami) and sp.login_url; the report has a screenshot of the last page"
    } else if m.contains("redirect_uri") {
        "hint: the IdP refused the redirect URI: sp.oidc_redirect_uri must be exactly what the SP sends"
    } else {
        "hint: the report shows every step, the last page, the SAML/OIDC messages and the SP's log"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> Options {
        Options {
            name: Some("my-sp".into()),
            protocols: vec![Protocol::Oidc, Protocol::Saml],
            command: Some("python3 '{target.dir}/app.py' --port {sp.port}".into()),
            env: vec![
                "IDP_SSO_URL={idp.sso_url}".into(),
                "CLIENT_SECRET={idp.client_secret}".into(),
            ],
            acs_url: Some("{sp.base_url}saml/acs".into()),
            entity_id: Some("{sp.base_url}saml/metadata".into()),
            redirect_uri: Some("{sp.base_url}oidc/callback".into()),
            signed_in: Some("#user".into()),
            ..Options::default()
        }
    }

    #[test]
    fn flags_alone_make_a_complete_spec_with_defaults_for_the_rest() {
        let spec = resolve(&flags(), None).unwrap();
        assert_eq!(spec.protocols, vec![Protocol::Saml, Protocol::Oidc]);
        assert_eq!(spec.login_url, "{sp.base_url}login");
        let LaunchSpec::Command {
            command,
            env,
            ready_url,
            ..
        } = &spec.launch
        else {
            panic!("a command launch: {:?}", spec.launch);
        };
        assert_eq!(
            command,
            &["python3", "{target.dir}/app.py", "--port", "{sp.port}"]
        );
        assert_eq!(env[0], ("IDP_SSO_URL".into(), "{idp.sso_url}".into()));
        assert_eq!(ready_url, "{sp.base_url}");
    }

    #[test]
    fn a_missing_or_wrong_value_names_its_flag() {
        let mut o = flags();
        o.acs_url = None;
        assert!(
            resolve(&o, None)
                .unwrap_err()
                .starts_with("--acs-url is missing")
        );
        let mut o = flags();
        o.env.push("X={idp.sso_ur}".into());
        let e = resolve(&o, None).unwrap_err();
        assert!(
            e.contains("--env X") && e.contains("did you mean {idp.sso_url}"),
            "{e}"
        );
        let mut o = flags();
        o.env.push("1X=a".into());
        assert!(
            resolve(&o, None)
                .unwrap_err()
                .contains("not an environment variable name")
        );
        let mut o = flags();
        o.url = Some("http://127.0.0.1:8080".into());
        assert!(
            resolve(&o, None)
                .unwrap_err()
                .contains("exclude each other")
        );
        let mut o = flags();
        o.protocols = vec![Protocol::Oidc];
        assert!(resolve(&o, None).unwrap_err().contains("SAML values"));
    }

    #[test]
    fn a_person_at_a_terminal_is_asked_for_what_is_missing() {
        let answers = "demo\nboth\nnode app.mjs\nPORT={sp.port}\nBAD\n\n\n\n\n\n\n\n#me\n{sp.base_url}logout\n";
        let mut input = std::io::Cursor::new(answers.as_bytes().to_vec());
        let mut output = Vec::new();
        let spec = resolve(
            &Options::default(),
            Some(Prompter {
                input: &mut input,
                output: &mut output,
            }),
        )
        .unwrap();
        let shown = String::from_utf8(output).unwrap();
        assert!(shown.contains("{idp.client_secret}"), "{shown}");
        assert!(shown.contains("expected KEY=VALUE"), "{shown}");
        assert_eq!(spec.name, "demo");
        assert_eq!(spec.acs_url.as_deref(), Some("{sp.base_url}acs"));
        assert_eq!(spec.redirect_uri.as_deref(), Some("{sp.base_url}callback"));
        assert_eq!(spec.metadata_url, None);
        assert_eq!(spec.identity, Identity::Selector("#me".into()));
        assert_eq!(spec.sign_out_url.as_deref(), Some("{sp.base_url}logout"));
        assert!(shown.contains("Sign-out URL"), "{shown}");
        let LaunchSpec::Command { env, .. } = &spec.launch else {
            panic!("{:?}", spec.launch);
        };
        assert_eq!(env, &[("PORT".to_string(), "{sp.port}".to_string())]);
    }

    #[test]
    fn a_selector_that_misses_the_shown_email_is_named() {
        let m = "signed-in identity (#nope)\n  - expected: \"alice@acme.test\"\n  + actual: not signed in\npage text:\n  | Signed in as alice@acme.test\n";
        assert!(
            hint(m).contains("the page shows alice@acme.test"),
            "{}",
            hint(m)
        );
        let elsewhere = m.replace("Signed in as alice@acme.test", "Sign in");
        assert!(hint(&elsewhere).contains("check signals.signed_in"));
        assert!(hint("target x: the SP exited (exit status: 1)").contains("did not come up"));
    }

    #[test]
    fn the_written_file_loads_and_keeps_every_value() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.yaml");
        let mut o = flags();
        o.env.push("QUOTED=a \"b\" # c: {{d}}".into());
        let spec = resolve(&o, None).unwrap();
        write(&spec, &out, false).unwrap();
        let t = crate::target::descriptor::load_target(&out).unwrap().target;
        let p = t.launch.process().unwrap();
        assert_eq!(p.env["QUOTED"].source(), "a \"b\" # c: {{d}}");
        assert_eq!(p.command[1].source(), "{target.dir}/app.py");
        assert_eq!(t.signals.signed_in, "#user");
        assert!(t.procedures.connect_saml.len() == 1 && t.procedures.connect_oidc.len() == 1);
        assert!(
            t.procedures.sign_out.is_empty(),
            "no --sign-out-url, no sign_out"
        );
        let mut o = flags();
        o.sign_out_url = Some("{sp.base_url}auth/logout?next=/".into());
        write(&resolve(&o, None).unwrap(), &out, true).unwrap();
        let t = crate::target::descriptor::load_target(&out).unwrap().target;
        match t.procedures.sign_out.as_slice() {
            [crate::scenario::schema::Step::Open(u)] => {
                assert_eq!(u.source(), "{sp.base_url}auth/logout?next=/")
            }
            other => panic!("{other:?}"),
        }
        o.sign_out_url = Some("{sp.base_ur}logout".into());
        assert!(resolve(&o, None).unwrap_err().contains("--sign-out-url"));
        write(&spec, &out, true).unwrap();
        assert!(write(&spec, &out, false).unwrap_err().contains("exists"));

        // The other two ways a page names the user survive the round trip.
        let mut o = flags();
        o.signed_in = None;
        o.signed_in_text = Some(r"Signed in as (?P<identity>\S+)".into());
        write(&resolve(&o, None).unwrap(), &out, true).unwrap();
        let t = crate::target::descriptor::load_target(&out).unwrap().target;
        let p = t.signals.signed_in_text.unwrap();
        assert_eq!(
            p.identity("x Signed in as a@b.test y").as_deref(),
            Some("a@b.test")
        );
        let mut o = flags();
        o.signed_in = None;
        o.whoami = Some("{sp.base_url}api/me".into());
        o.whoami_field = Some("user.email".into());
        write(&resolve(&o, None).unwrap(), &out, true).unwrap();
        let t = crate::target::descriptor::load_target(&out).unwrap().target;
        let w = t.signals.whoami.unwrap();
        assert_eq!(
            (w.url.source(), w.field.as_str()),
            ("{sp.base_url}api/me", "user.email")
        );
        o.signed_in = Some("#x".into());
        assert!(
            resolve(&o, None)
                .unwrap_err()
                .contains("exclude each other")
        );
        o.signed_in = None;
        o.whoami = None;
        o.signed_in_text = Some("Signed in as \\S+".into());
        assert!(resolve(&o, None).unwrap_err().contains("no capture"));
        write(&spec, &out, true).unwrap();

        let mut o = flags();
        o.command = None;
        o.env.clear();
        o.protocols = vec![Protocol::Oidc];
        o.acs_url = None;
        o.entity_id = None;
        o.url = Some("https://sp.example.test/app".into());
        let spec = resolve(&o, None).unwrap();
        let url = dir.path().join("u.yaml");
        write(&spec, &url, false).unwrap();
        let t = crate::target::descriptor::load_target(&url).unwrap().target;
        let st = t.staging.unwrap();
        assert_eq!(st.tenant, "my-sp");
        assert_eq!(st.protocol, Protocol::Oidc);
    }
}
