//! Set-up on a staging target (an SP configured by hand): which admin steps the person
//! already did at `staging init`, which are IdP-side and automatic, and which need a person
//! now. A step nobody did is never reported as done: a manual step is asked for at the
//! terminal (`--interactive`) or its trial is skipped with the step named.
use crate::input::template::{Template, Vars};
use crate::scenario::schema::{ClockOwner, Protocol, Role, Scenario, SignInMethod, Step};
use crate::target::staging::StagingSpec;

/// What a step means on a staging target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepClass {
    /// The harness does it itself (browser, mock IdP).
    Automatic,
    /// The person did this at `staging init`; the note says what.
    AlreadyDone(String),
    /// Somebody has to do it by hand now.
    Manual(ManualStep),
    /// Cannot be done on a staging target at all (a second organisation, the SP's clock).
    Impossible(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualStep {
    /// What to do, in the words of an admin console.
    pub what: String,
    /// How to put it back after the trial, when it changes what later trials rely on.
    pub undo: Option<String>,
}

fn render(t: &Template, vars: &Vars) -> String {
    t.render(vars).unwrap_or_else(|_| t.to_string())
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// What `step` means on `staging`; templates are rendered with `vars` (the scenario's users).
pub fn classify(
    step: &Step,
    staging: &StagingSpec,
    org: &str,
    protocol: Protocol,
    vars: &Vars,
) -> StepClass {
    let manual = |what: String, undo: Option<String>| StepClass::Manual(ManualStep { what, undo });
    match step {
        Step::CreateOrg(a) => {
            let default = a.name.as_deref().is_none_or(|n| n == "Acme")
                && a.plan == Default::default()
                && a.billing == Default::default();
            if default {
                StepClass::AlreadyDone(format!("organisation {org}, set up by hand"))
            } else {
                StepClass::Impossible(format!(
                    "needs an organisation {} with plan {:?} and billing {:?}; a staging target has the one organisation {org}",
                    a.name.as_deref().unwrap_or("Acme"),
                    a.plan,
                    a.billing
                ))
            }
        }
        Step::UseOrg(name) => StepClass::Impossible(format!(
            "switches to a second organisation {name:?}; a staging target has the one organisation {org}"
        )),
        Step::VerifyDomain(a) => {
            let d = render(&a.domain, vars);
            if a.expect_error.is_none() && staging.has_domain(&d) {
                StepClass::AlreadyDone(format!("{d} verified by hand at staging init"))
            } else if a.expect_error.is_some() {
                manual(
                    format!(
                        "add the domain {d} to organisation {org} and confirm the SP refuses it"
                    ),
                    None,
                )
            } else {
                manual(
                    format!(
                        "verify the domain {d} for organisation {org} (add it, publish its TXT record, press Check)"
                    ),
                    Some(format!("remove the domain {d} from organisation {org}")),
                )
            }
        }
        Step::AddDomain(a) => {
            let d = render(&a.domain, vars);
            manual(
                format!("add the domain {d} to organisation {org} (do not verify it)"),
                Some(format!("remove the domain {d} from organisation {org}")),
            )
        }
        Step::CheckDomain(a) => manual(
            format!(
                "press Check on the domain {} of organisation {org}",
                render(&a.domain, vars)
            ),
            None,
        ),
        Step::AddUser(a) => {
            let email = render(&a.email, vars);
            let plain = a.method == SignInMethod::Invited
                && a.role == Role::Member
                && a.password.is_none()
                && a.expect_error.is_none()
                && a.given_name.is_none()
                && a.family_name.is_none();
            if plain && staging.has_user(&email) {
                StepClass::AlreadyDone(format!("{email} invited by hand at staging init"))
            } else {
                manual(
                    format!(
                        "add the user {email} to organisation {org} as {:?} (sign-in method {:?}){}",
                        a.role,
                        a.method,
                        if a.expect_error.is_some() {
                            ", and confirm the SP refuses it"
                        } else {
                            ""
                        }
                    ),
                    Some(format!("remove the user {email} from organisation {org}")),
                )
            }
        }
        Step::ConfigureSso(a) => {
            let p = a.protocol.unwrap_or(protocol);
            let as_init = a.sso_url.is_none()
                && a.certificate_pem.is_none()
                && a.discovery_url.is_none()
                && a.idp_name.is_none()
                && a.expect_error.is_none();
            if p == staging.protocol && as_init {
                StepClass::AlreadyDone(format!(
                    "{p} configured by hand at staging init with tenant {}'s values",
                    staging.tenant
                ))
            } else {
                manual(
                    format!(
                        "change organisation {org}'s SSO configuration ({p}) as the scenario's step says"
                    ),
                    Some(format!(
                        "configure organisation {org} again with the values `staging init` printed"
                    )),
                )
            }
        }
        Step::Connect(p) if *p == staging.protocol => {
            StepClass::AlreadyDone(format!("{p} configured by hand at staging init"))
        }
        Step::Connect(p) => StepClass::Impossible(format!(
            "needs an {p} connection; organisation {org} is configured for {}",
            staging.protocol
        )),
        Step::ResponseMode(mode) => manual(
            format!(
                "set organisation {org}'s OIDC connection to ask for response_mode {mode} (JARM for query.jwt)"
            ),
            Some(format!(
                "set organisation {org}'s OIDC connection back to the plain query response"
            )),
        ),
        Step::EnableSso(true) => StepClass::AlreadyDone("SSO turned on at staging init".into()),
        Step::EnableSso(false) => manual(
            format!("turn Single Sign On off for organisation {org}"),
            Some(format!(
                "turn Single Sign On on again for organisation {org}"
            )),
        ),
        Step::EnforceSso(on) => manual(
            format!("turn Enforce SSO {} for organisation {org}", on_off(*on)),
            Some(format!("turn Enforce SSO off for organisation {org}")),
        ),
        Step::ActiveTile(kind) => manual(
            format!("make the {kind:?} Tile URL the active one for organisation {org}"),
            Some(format!(
                "make the Workspace Tile URL the active one for organisation {org}"
            )),
        ),
        Step::BlockSsoLookup(_) => StepClass::Impossible(
            "blocks the SP's SSO look-up, which only a test build can do".into(),
        ),
        Step::AdvanceClock(a) if a.on == ClockOwner::Target => {
            StepClass::Impossible("moves the SP's clock, which only a test build can do".into())
        }
        Step::Repeat(r) => {
            let inner: Vec<StepClass> = r
                .steps
                .iter()
                .map(|s| classify(s, staging, org, protocol, vars))
                .collect();
            if let Some(i) = inner.iter().find(|c| matches!(c, StepClass::Impossible(_))) {
                return i.clone();
            }
            let manual_inner: Vec<&ManualStep> = inner
                .iter()
                .filter_map(|c| match c {
                    StepClass::Manual(m) => Some(m),
                    _ => None,
                })
                .collect();
            if manual_inner.is_empty() {
                StepClass::Automatic
            } else {
                manual(
                    format!(
                        "{} times: {}",
                        r.times,
                        manual_inner
                            .iter()
                            .map(|m| m.what.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    None,
                )
            }
        }
        _ => StepClass::Automatic,
    }
}

/// The scenario's users as placeholders (`{user.email}`, `{users.1.domain}`), enough to
/// name what a manual step is about before the trial starts.
pub fn user_vars(s: &Scenario) -> Vars {
    let mut vars = Vars::default();
    for (i, u) in s.idp.users.iter().enumerate() {
        let domain = u.email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        let mut prefixes = vec![format!("users.{i}")];
        if i == 0 {
            prefixes.push("user".into());
        }
        for p in prefixes {
            vars.set(&format!("{p}.email"), &u.email);
            vars.set(&format!("{p}.domain"), domain);
        }
    }
    vars
}

/// Every step of the scenario (set-up and browser steps) that is not automatic here.
pub fn survey(s: &Scenario, staging: &StagingSpec, org: &str) -> Vec<StepClass> {
    let vars = user_vars(s);
    s.setup
        .iter()
        .chain(&s.steps)
        .map(|step| classify(step, staging, org, s.idp.protocol, &vars))
        .filter(|c| !matches!(c, StepClass::Automatic | StepClass::AlreadyDone(_)))
        .collect()
}

/// Whether a step goes through the IdP or sets up the SSO connection.
fn signs_in(step: &Step) -> bool {
    match step {
        Step::IdpLogin(_)
        | Step::Tile(_)
        | Step::StartLogin(_)
        | Step::ConfigureSso(_)
        | Step::Connect(_)
        | Step::ReplaySamlResponse(_) => true,
        Step::Repeat(r) => r.steps.iter().any(signs_in),
        _ => false,
    }
}

/// The tag of scenarios that judge what happens on a user's very first sign-in.
pub const FIRST_SIGN_IN: &str = "first-sign-in";

/// Why a scenario cannot run on this staging target at all, or without a person at hand.
pub fn skip_reason(
    s: &Scenario,
    staging: &StagingSpec,
    org: &str,
    interactive: bool,
) -> Option<String> {
    // A scenario that never signs in through the IdP (domain checks, admin pages) does not
    // care which protocol or profile the tenant has.
    let signs_in = s.setup.iter().chain(&s.steps).any(signs_in);
    if signs_in && s.idp.protocol != staging.protocol {
        return Some(format!(
            "needs an {} connection; this staging organisation is configured for {} (a target whose staging.protocol is {} can run it)",
            s.idp.protocol, staging.protocol, s.idp.protocol
        ));
    }
    if signs_in && s.idp.profile != staging.profile {
        return Some(format!(
            "needs an IdP of the {:?} profile; the pinned tenant {} imitates {:?}",
            s.idp.profile, staging.tenant, staging.profile
        ));
    }
    if s.tags.iter().any(|t| t == FIRST_SIGN_IN) {
        return Some(
            "needs a user's first sign-in (a new account), and a staging SP keeps its accounts from run to run: only a fresh organisation can show it"
                .into(),
        );
    }
    let rest = survey(s, staging, org);
    if let Some(StepClass::Impossible(why)) =
        rest.iter().find(|c| matches!(c, StepClass::Impossible(_)))
    {
        return Some(format!("cannot run on a staging target: it {why}"));
    }
    if !interactive && !rest.is_empty() {
        let list: Vec<String> = rest
            .iter()
            .filter_map(|c| match c {
                StepClass::Manual(m) => Some(m.what.clone()),
                _ => None,
            })
            .collect();
        return Some(format!(
            "needs {} manual step(s) nobody can do in a non-interactive run: {} (run with --interactive to do them by hand)",
            list.len(),
            list.join("; ")
        ));
    }
    None
}

/// What the person at the terminal answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Done,
    /// Skip this trial (nothing learnt about the SP).
    Skip,
    /// It could not be done: the trial is an ERROR with the person's words.
    CouldNot(String),
}

/// Asks the person at the terminal to do `what` (stderr), and reads the answer from stdin:
/// Enter = done, `s` = skip the trial, anything else = could not be done, with that text.
/// End of input counts as "skip": nobody is there to do it.
pub async fn ask(trial: &str, what: &str) -> Answer {
    // One question at a time, whatever the number of jobs.
    static TERMINAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = TERMINAL.lock().await;
    eprintln!(
        "\n>>> manual step for {trial}:\n    {what}\n    Press Enter when done, `s` + Enter to skip this trial, or type what went wrong + Enter."
    );
    tokio::task::spawn_blocking(|| read_answer(&mut std::io::stdin().lock()))
        .await
        .unwrap_or(Answer::Skip)
}

/// One answer line from `input`.
pub fn read_answer(input: &mut impl std::io::BufRead) -> Answer {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => Answer::Skip,
        Ok(_) => match line.trim() {
            "" => Answer::Done,
            "s" | "S" | "skip" => Answer::Skip,
            other => Answer::CouldNot(other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::Profile;
    use crate::target::staging::StagingIdp;

    fn staging() -> StagingSpec {
        StagingSpec {
            tenant: "staging".into(),
            protocol: Protocol::Saml,
            profile: Profile::Okta,
            idp: StagingIdp {
                url: "http://127.0.0.1:8790/".parse().unwrap(),
                state_dir: "state".into(),
                dns: None,
            },
            domains: vec!["acme.test".into()],
            users: vec!["alice@acme.test".into()],
        }
    }

    fn scenario(yaml: &str) -> Scenario {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    const BASE: &str = "scenario: x\nidp: {protocol: saml, profile: okta, users: [{email: alice@acme.test}]}\nsetup:\n  - verify_domain: acme.test\n  - add_user: {email: \"{user.email}\", method: invited}\n  - configure_sso: saml\n  - enable_sso: true\n";

    #[test]
    fn the_answer_at_the_terminal() {
        let read = |t: &str| read_answer(&mut std::io::Cursor::new(t.as_bytes()));
        assert_eq!(read("\n"), Answer::Done);
        assert_eq!(read("s\n"), Answer::Skip);
        // nobody there: end of input is a skip, never "done"
        assert_eq!(read(""), Answer::Skip);
        assert_eq!(
            read("no access to the console\n"),
            Answer::CouldNot("no access to the console".into())
        );
    }

    #[test]
    fn what_init_did_is_already_done_and_runs_unattended() {
        let s = scenario(BASE);
        assert!(survey(&s, &staging(), "org-1").is_empty());
        assert_eq!(skip_reason(&s, &staging(), "org-1", false), None);
    }

    #[test]
    fn a_step_nobody_did_skips_the_trial_unless_a_person_is_there() {
        let s = scenario(&format!("{BASE}  - enforce_sso: true\n"));
        let why = skip_reason(&s, &staging(), "org-1", false).unwrap();
        assert!(
            why.contains("turn Enforce SSO on for organisation org-1"),
            "{why}"
        );
        assert_eq!(skip_reason(&s, &staging(), "org-1", true), None);
        // an uninvited user or unverified domain is a manual step too
        let s = scenario(&BASE.replace("alice@acme.test", "zed@other.test"));
        let why = skip_reason(&s, &staging(), "org-1", false).unwrap();
        assert!(!why.contains("verify the domain acme.test"), "{why}");
        assert!(why.contains("add the user zed@other.test"), "{why}");
    }

    #[test]
    fn another_protocol_profile_or_organisation_is_skipped_even_interactively() {
        let s = scenario(&BASE.replace("protocol: saml", "protocol: oidc"));
        assert!(
            skip_reason(&s, &staging(), "o", true)
                .unwrap()
                .contains("OIDC connection")
        );
        let s = scenario(&BASE.replace("profile: okta", "profile: entra"));
        assert!(
            skip_reason(&s, &staging(), "o", true)
                .unwrap()
                .contains("Entra")
        );
        let s = scenario(&format!("{BASE}  - use_org: Globex\n"));
        assert!(
            skip_reason(&s, &staging(), "o", true)
                .unwrap()
                .contains("second organisation")
        );
    }
}
