//! Target descriptors (`targets/*.yaml`): how an SP is started, what it can do, how it is
//! administered and how success and failure show in its pages. Documented in targets/README.md.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::input::location::{Located, Location};
use crate::input::template::Template;
use crate::input::yaml::parse_yaml;
use crate::scenario::schema::{Capability, Step};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDescriptor {
    /// The trial name prefix: `NAME::path/file`.
    pub name: String,
    /// Another target file (relative to this one) whose keys this one starts from: every key
    /// written here replaces the base's, except `known_failures`, which adds to them. A
    /// variant (`mellon-container` of `mellon`) so gets the base's known failures and the
    /// scenarios' `per_target` entries for the base's name without copying them.
    #[serde(default)]
    pub extends: Option<String>,
    /// The names of the targets this one extends, nearest first (filled by the loader).
    #[serde(skip)]
    pub lineage: Vec<String>,
    /// How many of `known_failures` this file lists itself (they come first); the rest are
    /// inherited through `extends` (filled by the loader).
    #[serde(skip)]
    pub own_known_failures: usize,
    #[serde(default)]
    pub description: Option<String>,
    /// A deliberately broken SP written here to prove that scenarios can catch (the
    /// careless-rp targets), not software anyone publishes: the anchor table counts what
    /// only it catches apart, and CI runs only its listed findings.
    #[serde(default)]
    pub self_test: bool,
    /// What `cargo test` (CI, without SSO_HARNESS_FULL_PACKS) runs on this target besides its
    /// listed known failures: scenario ids or folder prefixes (`smoke/saml-sign-in`,
    /// `saml-attacks/nameid-text/`). Absent: the default slice. Published library pairs name
    /// their twin's catching scenario and one sign-in, so CI's time stays bounded as pairs
    /// are added; `sso-harness run` and SSO_HARNESS_FULL_PACKS=1 ignore it.
    #[serde(default)]
    pub ci_runs: Option<Vec<String>>,
    pub launch: Launch,
    #[serde(default)]
    pub capabilities: BTreeSet<Capability>,
    pub admin: AdminDriverSpec,
    /// URLs the admin driver cannot learn (templates over `{sp.base_url}` and `{org.id}`).
    #[serde(default)]
    pub sp: SpUrls,
    #[serde(default)]
    pub signals: Signals,
    /// What the generic steps `connect`, `start_login` and `sign_out` mean on this target.
    #[serde(default)]
    pub procedures: Procedures,
    /// How this target shows that it refused a sign-in (`rejected: true`).
    #[serde(default)]
    pub rejection: Rejection,
    /// How to ask "who is signed in now?" after a negative flow: a session created and then
    /// hidden behind an error page is a finding.
    #[serde(default)]
    pub session_probe: Option<SessionProbe>,
    /// Scenarios expected to fail here; one that passes fails the run as an unexpected pass.
    #[serde(default)]
    pub known_failures: Vec<KnownFailure>,
    /// An SP configured by hand against one pinned mock IdP tenant (`target::staging`).
    #[serde(default)]
    pub staging: Option<crate::target::staging::StagingSpec>,
}

/// Target-specific steps behind the generic packs' `connect: saml|oidc`, `start_login` and
/// `sign_out`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedures {
    #[serde(default)]
    pub connect_saml: Vec<Step>,
    #[serde(default)]
    pub connect_oidc: Vec<Step>,
    #[serde(default)]
    pub start_login: Vec<Step>,
    /// The SP's own way to end its session (`sign_out`): a scenario that signs out is skipped
    /// on a target without it, naming this key.
    #[serde(default)]
    pub sign_out: Vec<Step>,
    /// The RP's own way to refresh its OIDC tokens now (`refresh`; capability `oidc-refresh`).
    #[serde(default)]
    pub refresh: Vec<Step>,
}

/// A protected URL of the SP and the element that names the signed-in user on it. The
/// probe fetches it from the SP's own origin in the trial's browser (its cookies) without
/// following redirects, so a probe never starts a new sign-in at the IdP: a redirect (to a
/// login page or the IdP) or a page without the identity means no session.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionProbe {
    pub url: Template,
    /// Default: `signals.signed_in`.
    #[serde(default)]
    pub signed_in: Option<String>,
}

/// Any one of these shows that the target refused a sign-in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// HTTP status of the last document the browser loaded.
    #[serde(default)]
    pub status: Vec<u16>,
    /// Text on the page.
    #[serde(default)]
    pub text: Vec<String>,
    /// A CSS selector that matches (the reference SP's `#error`).
    #[serde(default)]
    pub element: Option<String>,
}

impl Rejection {
    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.text.is_empty() && self.element.is_none()
    }
}

#[derive(Debug, Clone)]
pub enum Launch {
    /// Started in-process, one fresh instance per trial.
    Builtin(Builtin),
    /// A local command; the harness waits for `ready_url` and kills it on drop.
    Process(ProcessLaunch),
    /// Already running (staging): the harness only points the browser at it.
    Url(Template),
    /// The same command inside a container made from Debian + `packages` (testcontainers),
    /// with the trial's private directory mounted at the same path and the host's network.
    Container(ProcessLaunch),
}

impl Launch {
    /// The command's description, for process and container launches.
    pub fn process(&self) -> Option<&ProcessLaunch> {
        match self {
            Launch::Process(p) | Launch::Container(p) => Some(p),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builtin {
    ReferenceSp,
}

/// A command the harness starts per trial. Every string is a template: `{sp.dir}` is the
/// trial's private directory, `{sp.port}` a free loopback port chosen for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessLaunch {
    pub command: Vec<Template>,
    #[serde(default)]
    pub env: BTreeMap<String, Template>,
    pub base_url: Template,
    pub ready_url: Template,
    #[serde(default)]
    pub ready_timeout_ms: Option<u64>,
    /// Log files whose lines go into the report and are matched by `log:` expectations.
    #[serde(default)]
    pub logs: Vec<Template>,
    /// Debian packages that provide the command (the container launcher installs them).
    #[serde(default)]
    pub packages: Vec<String>,
    /// The unprivileged user the SP's workers drop to when started as root (Apache's `User`,
    /// `shibd -u`; `{sp.user}` in templates). When the harness runs as root, the trial's
    /// private directory and every file in it belong to this user, still 0700/0600, so only
    /// root and the SP can read its key and configuration.
    #[serde(default)]
    pub user: Option<String>,
}

#[derive(Debug, Clone)]
pub enum AdminDriverSpec {
    /// The reference SP's admin API over HTTP.
    ReferenceSpApi(ApiAdmin),
    /// Apache-style SPs: a config file rendered with the tenant's values, then a reload.
    ConfigTemplate(ConfigTemplateAdmin),
    /// Set up by hand (staging): set-up steps are logged as preconditions, not performed.
    Manual(ManualAdmin),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAdmin {
    /// Name of an environment variable holding the admin token (builtin targets make one).
    #[serde(default)]
    pub token_env: Option<String>,
}

/// Real SPs: configuration files rendered from the trial's values when SSO is configured,
/// then the SP is (re)started.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigTemplateAdmin {
    pub files: Vec<TemplateFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    /// Relative to the target file's directory.
    pub template: PathBuf,
    /// Relative to the trial's private directory `{sp.dir}`.
    pub output: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualAdmin {
    /// The organisation set up by hand.
    pub org_id: String,
    /// What the tester did, for the support bundle.
    #[serde(default)]
    pub notes: Option<String>,
}

tagged_enum!(Launch, "a launch kind (builtin, process, url, container)", {
    "builtin" => Builtin(Builtin),
    "process" => Process(ProcessLaunch),
    "url" => Url(Template),
    "container" => Container(ProcessLaunch),
});

tagged_enum!(AdminDriverSpec, "an admin driver (reference-sp-api, config-template, manual)", {
    "reference-sp-api" => ReferenceSpApi(ApiAdmin),
    "config-template" => ConfigTemplate(ConfigTemplateAdmin),
    "manual" => Manual(ManualAdmin),
});

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpUrls {
    #[serde(default)]
    pub login_url: Option<Template>,
    #[serde(default)]
    pub acs_url: Option<Template>,
    #[serde(default)]
    pub entity_id: Option<Template>,
    #[serde(default)]
    pub metadata_url: Option<Template>,
    #[serde(default)]
    pub tile_url_workspace: Option<Template>,
    #[serde(default)]
    pub tile_url_platform: Option<Template>,
    #[serde(default)]
    pub oidc_redirect_uri: Option<Template>,
    /// SAML single logout: the SP's SingleLogoutService (the mock IdP sends its logout
    /// messages there), the URL that starts a sign-out at the SP, and the page the SP shows
    /// once the IdP confirmed it.
    #[serde(default)]
    pub slo_url: Option<Template>,
    #[serde(default)]
    pub slo_start_url: Option<Template>,
    #[serde(default)]
    pub slo_done_url: Option<Template>,
    /// How the mock IdP sends logout messages to `slo_url` (default `post`).
    #[serde(default)]
    pub slo_binding: Option<proto::slo::SloBinding>,
    /// Where the RP takes OpenID Connect back-channel logout tokens (POST, form
    /// `logout_token`); without it the back-channel logout scenarios skip.
    #[serde(default)]
    pub backchannel_logout_url: Option<Template>,
    /// Where the RP asks the OP to send the browser after RP-initiated logout
    /// (`post_logout_redirect_uri`); registered with the trial's client so the mock OP
    /// sends the browser back there.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<Template>,
    /// Where the OP's front-channel logout frame goes (OpenID Connect Front-Channel Logout
    /// 1.0; the OP adds `iss` and `sid`); registered with the trial's client. Without it the
    /// front-channel scenarios (`op_logout`) skip.
    #[serde(default)]
    pub frontchannel_logout_url: Option<Template>,
    /// The RP's initiate_login_uri (OpenID Connect Core 4: a third party sends the browser
    /// there with `iss`); the harness adds the query. Scenarios that open it require the
    /// capability `oidc-third-party-login`.
    #[serde(default)]
    pub initiate_login_url: Option<Template>,
    /// Where the RP publishes its public keys (a JWKS), registered as the client's jwks_uri:
    /// the mock OP encrypts ID tokens to its `enc` key when a scenario registers encryption
    /// (`idp.oidc.id_token_encryption`, capability `oidc-encrypted-id-token`), and verifies
    /// RS256 request objects with its keys (`idp.oidc.request_object`).
    #[serde(default)]
    pub oidc_jwks_uri: Option<Template>,
    /// The SP's encryption certificate (PEM) for encrypted-assertion faults; without one the
    /// mock IdP encrypts to a certificate whose key the SP does not hold (ATTR-4's case).
    #[serde(default)]
    pub certificate_pem: Option<Template>,
}

/// CSS selectors that tell success and failure apart on the target's pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    #[serde(default = "default_signed_in")]
    pub signed_in: String,
    /// Where the SP shows the user's name, if it does: many SPs do not, so `display_name`
    /// expectations are checked only on targets that declare it (and skipped with a note
    /// elsewhere, never failed).
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default = "default_error")]
    pub error: String,
    /// For SPs without a stable element: a pattern over the page's visible text whose
    /// capture `identity` (or first group) is who is signed in, e.g.
    /// `Signed in as (?P<identity>\S+)`. Replaces `signed_in` when given.
    #[serde(default)]
    pub signed_in_text: Option<IdentityPattern>,
    /// For SPs with a "who am I" JSON endpoint: fetched from the SP's origin with the
    /// browser's cookies; `field` (a dotted path) is the identity. Replaces both above.
    #[serde(default)]
    pub whoami: Option<Whoami>,
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            signed_in: default_signed_in(),
            display_name: None,
            error: default_error(),
            signed_in_text: None,
            whoami: None,
        }
    }
}

impl Signals {
    /// Where the identity is read, for messages: `#signed-in-as`, `text /.../`, `GET url .field`.
    pub fn identity_source(&self) -> String {
        match (&self.whoami, &self.signed_in_text) {
            (Some(w), _) => format!("GET {} .{}", w.url, w.field),
            (None, Some(p)) => format!("text /{}/", p.0.as_str()),
            (None, None) => self.signed_in.clone(),
        }
    }
}

/// A compiled `signals.signed_in_text` pattern (checked when the file is loaded).
#[derive(Debug, Clone)]
pub struct IdentityPattern(pub regex::Regex);

impl IdentityPattern {
    /// The identity the text names, if any; an empty capture is no identity.
    pub fn identity(&self, text: &str) -> Option<String> {
        let caps = self.0.captures(text)?;
        let m = caps.name("identity").or_else(|| caps.get(1))?;
        let id = m.as_str().trim();
        (!id.is_empty()).then(|| id.to_string())
    }
}

impl<'de> Deserialize<'de> for IdentityPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let re = regex::Regex::new(&s)
            .map_err(|e| serde::de::Error::custom(format!("not a valid pattern: {e}")))?;
        if re.captures_len() < 2 {
            return Err(serde::de::Error::custom(format!(
                "{s:?} has no capture group: write the identity's part as (?P<identity>...)"
            )));
        }
        Ok(Self(re))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whoami {
    /// A template over `{sp.base_url}` and the organisation's values.
    pub url: Template,
    /// Dotted path into the JSON answer, e.g. `user.email`.
    pub field: String,
}

fn default_signed_in() -> String {
    "#signed-in-as".into()
}
fn default_error() -> String {
    "#error".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    /// Scenario id (`smoke/saml-sign-in`); a trailing `*` matches a prefix.
    pub scenario: String,
    pub reason: String,
    /// The target accepts what a correct SP must refuse: reported as a finding, with evidence.
    #[serde(default)]
    pub finding: bool,
    /// A finding someone decided to live with for now: it stays a FINDING, listed first, but
    /// does not fail the run until `until` (YYYY-MM-DD) has passed. Without it a finding
    /// fails the run: open security findings never pass CI by accident.
    #[serde(default)]
    pub accepted_risk: Option<AcceptedRisk>,
}

impl KnownFailure {
    /// Whether this entry is about `scenario_id` (exactly, or by its `*` prefix).
    pub fn names(&self, scenario_id: &str) -> bool {
        match self.scenario.strip_suffix('*') {
            Some(prefix) => scenario_id.starts_with(prefix),
            None => self.scenario == scenario_id,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedRisk {
    /// Why, and who decided (shown with the finding).
    pub reason: String,
    /// The last day the acceptance holds.
    #[serde(deserialize_with = "date")]
    pub until: time::Date,
}

impl AcceptedRisk {
    /// Whether the acceptance still holds on `today`.
    pub fn holds_on(&self, today: time::Date) -> bool {
        today <= self.until
    }
}

fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<time::Date, D::Error> {
    let s = String::deserialize(d)?;
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&s, f)
        .map_err(|e| serde::de::Error::custom(format!("{s:?} is not a date YYYY-MM-DD: {e}")))
}

impl TargetDescriptor {
    pub fn missing(&self, required: &[Capability]) -> Vec<Capability> {
        required
            .iter()
            .filter(|c| !self.capabilities.contains(c))
            .copied()
            .collect()
    }

    /// This target's name and the names it extends, nearest first: the keys a scenario's
    /// `per_target` may use for it.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.lineage.iter().map(String::as_str))
    }

    /// The organisation a person set up by hand (`admin: manual`).
    pub fn manual_org(&self) -> Option<&str> {
        match &self.admin {
            AdminDriverSpec::Manual(m) => Some(&m.org_id),
            _ => None,
        }
    }

    pub fn known_failure(&self, scenario_id: &str) -> Option<&KnownFailure> {
        self.known_failures.iter().find(|k| k.names(scenario_id))
    }

    /// The scenario is listed only by a target this one extends, not by this file: the
    /// base's own runs prove it, so CI need not repeat it on every variant.
    pub fn inherits_known_failure(&self, scenario_id: &str) -> bool {
        self.known_failures
            .iter()
            .position(|k| k.names(scenario_id))
            .is_some_and(|i| i >= self.own_known_failures)
    }
}

/// A descriptor and its file.
#[derive(Debug, Clone)]
pub struct LoadedTarget {
    pub path: PathBuf,
    pub target: TargetDescriptor,
}

pub fn load_target(path: &Path) -> Result<LoadedTarget, Located> {
    load_target_at(path, 0)
}

/// How deep `extends` may chain (a loop is caught by this bound as well).
const MAX_EXTENDS: usize = 4;

fn load_target_at(path: &Path, depth: usize) -> Result<LoadedTarget, Located> {
    let text = crate::input::read::read_text(path)?;
    let own: serde_yaml_ng::Value = parse_yaml(&text, path)?;
    let own_known_failures = match own.get("known_failures") {
        Some(serde_yaml_ng::Value::Sequence(list)) => list.len(),
        _ => 0,
    };
    let base = own
        .get("extends")
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| Located {
                location: Location::start_of(path),
                message: "extends: expected the path of another target file".into(),
            })
        })
        .transpose()?;
    let (mut target, lineage): (TargetDescriptor, Vec<String>) = match base {
        None => (parse_yaml(&text, path)?, Vec::new()),
        Some(rel) => {
            if depth >= MAX_EXTENDS {
                return Err(Located {
                    location: Location::start_of(path),
                    message: format!(
                        "extends: more than {MAX_EXTENDS} levels (or a loop) at {rel}"
                    ),
                });
            }
            let base_path = path.parent().unwrap_or(Path::new(".")).join(&rel);
            // The base is a whole target on its own: its errors are located in its file.
            let base = load_target_at(&base_path, depth + 1).map_err(|e| Located {
                location: e.location,
                message: format!("{} (extended by {})", e.message, path.display()),
            })?;
            let base_text = crate::input::read::read_text(&base_path)?;
            let base_value: serde_yaml_ng::Value = parse_yaml(&base_text, &base_path)?;
            let merged = merge_extends(base_value, own);
            let t: TargetDescriptor = serde_yaml_ng::from_value(merged).map_err(|e| Located {
                location: Location::start_of(path),
                message: format!("after applying extends {rel}: {e}"),
            })?;
            let mut lineage = vec![base.target.name.clone()];
            lineage.extend(base.target.lineage.clone());
            (t, lineage)
        }
    };
    target.lineage = lineage;
    target.own_known_failures = own_known_failures;
    if let Some(st) = &target.staging {
        // At the `staging:` line of the file that says it (this one or a base).
        let line = text
            .lines()
            .position(|l| l.starts_with("staging:"))
            .map_or(1, |i| i + 1);
        let at = |message: String| Located {
            location: Location::new(path, line, 1),
            message,
        };
        st.check().map_err(at)?;
        if !matches!(target.admin, AdminDriverSpec::Manual(_)) {
            return Err(at(
                "staging: needs `admin: {manual: {org_id: ...}}`: a staging SP is the one a person configured by hand"
                    .into(),
            ));
        }
    }
    if let AdminDriverSpec::ConfigTemplate(c) = &target.admin {
        check_templates(path, c)?;
    }
    Ok(LoadedTarget {
        path: path.to_path_buf(),
        target,
    })
}

/// The base's mapping with every key of the variant written over it; `known_failures` are
/// the variant's followed by the base's.
fn merge_extends(base: serde_yaml_ng::Value, own: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value;
    let (Value::Mapping(mut out), Value::Mapping(own)) = (base, own) else {
        return Value::Null;
    };
    for (k, v) in own {
        if k.as_str() == Some("known_failures") {
            let mut list = match v {
                Value::Sequence(s) => s,
                _ => Vec::new(),
            };
            if let Some(Value::Sequence(b)) = out.get(&k) {
                list.extend(b.iter().cloned());
            }
            out.insert(k, Value::Sequence(list));
        } else {
            out.insert(k, v);
        }
    }
    Value::Mapping(out)
}

/// Every configuration template exists and names only known placeholders, so a typo is
/// reported when the target is loaded (`sso-harness check`), not in the middle of a trial.
fn check_templates(target_file: &Path, c: &ConfigTemplateAdmin) -> Result<(), Located> {
    for f in &c.files {
        let src = template_path(target_file, &f.template)?;
        let text = crate::input::read::read_text(&src).map_err(|e| Located {
            location: Location::start_of(target_file),
            message: format!("admin.config-template.files: template {e}"),
        })?;
        for (i, line) in text.lines().enumerate() {
            Template::parse(line).map_err(|message| Located {
                location: Location::new(&src, i + 1, 1),
                message,
            })?;
        }
        if f.output.is_absolute() || f.output.components().any(|c| c.as_os_str() == "..") {
            return Err(Located {
                location: Location::start_of(target_file),
                message: format!(
                    "admin.config-template.files: output {} must stay inside the trial's directory (relative, no '..')",
                    f.output.display()
                ),
            });
        }
    }
    Ok(())
}

/// Where a configuration template of `target_file` is: relative to the target file's folder,
/// and inside it (no absolute path, no `..`, no symlink out of it), so a target file can make
/// the harness read only its own templates.
pub fn template_path(target_file: &Path, template: &Path) -> Result<PathBuf, Located> {
    let dir = target_file.parent().unwrap_or(Path::new("."));
    let outside = |why: String| Located {
        location: Location::start_of(target_file),
        message: format!(
            "admin.config-template.files: template {} {why}",
            template.display()
        ),
    };
    if template.is_absolute() || template.components().any(|c| c.as_os_str() == "..") {
        return Err(outside(
            "must stay inside the target file's folder (relative, no '..')".into(),
        ));
    }
    let src = dir.join(template);
    // A symlink may point elsewhere in the folder, not out of it.
    if let (Ok(base), Ok(real)) = (std::fs::canonicalize(dir), std::fs::canonicalize(&src)) {
        if !real.starts_with(&base) {
            return Err(outside(format!(
                "is a symlink to {}, outside {}",
                real.display(),
                base.display()
            )));
        }
    }
    Ok(src)
}

/// Finds a target by name (`reference-sp`) in `dir`, or loads a path to a descriptor.
pub fn find_target(name_or_path: &str, dir: &Path) -> Result<LoadedTarget, Located> {
    let as_path = Path::new(name_or_path);
    // A path (not a bare name) is read as one, so a missing or unreadable file says so.
    let looks_like_path = name_or_path.contains('/')
        || matches!(
            as_path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
    if looks_like_path || as_path.is_file() {
        return load_target(as_path);
    }
    let (targets, errors) = load_targets(dir);
    if let Some(t) = targets.into_iter().find(|t| t.target.name == name_or_path) {
        return Ok(t);
    }
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    Err(Located {
        location: Location::start_of(dir),
        message: format!("no target named {name_or_path:?} in this directory"),
    })
}

/// Every `*.yaml` descriptor of a directory, sorted by file name.
pub fn load_targets(dir: &Path) -> (Vec<LoadedTarget>, Vec<Located>) {
    let found = crate::input::discover::list_dir(dir);
    let mut ok = Vec::new();
    let mut errors = found.errors;
    for p in found.files {
        match load_target(&p) {
            Ok(t) => ok.push(t),
            Err(e) => errors.push(e),
        }
    }
    (ok, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_locates_errors() {
        let text = "name: t\nlaunch: {builtin: reference-sp}\ncapabilities: [saml, oidc]\nadmin: {reference-sp-api: {}}\n";
        let t: TargetDescriptor = parse_yaml(text, Path::new("t.yaml")).unwrap();
        assert!(t.missing(&[Capability::Saml, Capability::TileUrl]) == vec![Capability::TileUrl]);
        let e =
            parse_yaml::<TargetDescriptor>(&text.replace("launch", "lanch"), Path::new("t.yaml"))
                .unwrap_err()
                .to_string();
        assert!(
            e.starts_with("t.yaml:2:1: unknown key 'lanch' (did you mean 'launch'?)"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_placeholder_in_a_config_template_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.conf"), "Listen {sp.port}\nX {sp.prot}\n").unwrap();
        let target = dir.path().join("t.yaml");
        std::fs::write(
            &target,
            "name: t\nlaunch: {process: {command: [x], base_url: 'http://127.0.0.1:{sp.port}/', ready_url: 'http://127.0.0.1:{sp.port}/'}}\nadmin: {config-template: {files: [{template: a.conf, output: a.conf}]}}\n",
        )
        .unwrap();
        let e = load_target(&target).unwrap_err().to_string();
        let want = format!(
            "{}:2:1: unknown placeholder {{sp.prot}}",
            dir.path().join("a.conf").display()
        );
        assert!(e.starts_with(&want), "{e}");
        std::fs::write(dir.path().join("a.conf"), "Listen {sp.port}\n").unwrap();
        assert!(load_target(&target).is_ok());
    }

    #[test]
    fn a_variant_knows_which_known_failures_it_inherits() {
        let dir = tempfile::tempdir().unwrap();
        let base = "name: base\nlaunch: {builtin: reference-sp}\nadmin: {reference-sp-api: {}}\n\
                    known_failures:\n  - {scenario: a/one, reason: r}\n  - {scenario: 'b/*', reason: r}\n";
        std::fs::write(dir.path().join("base.yaml"), base).unwrap();
        std::fs::write(
            dir.path().join("variant.yaml"),
            "name: variant\nextends: base.yaml\nknown_failures:\n  - {scenario: b/two, reason: own}\n",
        )
        .unwrap();
        let v = load_target(&dir.path().join("variant.yaml"))
            .unwrap()
            .target;
        assert_eq!(v.lineage, ["base"]);
        assert!(v.inherits_known_failure("a/one"));
        // Listed by both: the variant's own entry comes first and wins.
        assert!(!v.inherits_known_failure("b/two"));
        assert!(v.inherits_known_failure("b/three"));
        assert!(!v.inherits_known_failure("c/unlisted"));
        let b = load_target(&dir.path().join("base.yaml")).unwrap().target;
        assert!(!b.inherits_known_failure("a/one") && !b.inherits_known_failure("b/two"));
    }
}
