//! A check's verdict and the judgements shared by the SAML and OIDC checks (sign-in, tile,
//! out-of-group refusal), so that `oidc` and `saml` depend on this file and not on the
//! runner in `mod.rs`.
use serde::Serialize;

use super::catalogue::CheckKind;
use super::flow::SignIn;

/// ERR-7, the product's message when the IdP refuses the user for the application.
pub const ERR7: &str = "Please use your organization's SSO to access your account";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckVerdict {
    Pass,
    Fail,
    /// Could not be judged: something it depends on failed (named in the reason), or the IdP
    /// did not give an answer to judge (it asked for a login, showed an unknown page). Shown,
    /// never counted as a failure.
    NotChecked,
}

impl CheckVerdict {
    pub fn label(self) -> &'static str {
        match self {
            CheckVerdict::Pass => "PASS",
            CheckVerdict::Fail => "FAIL",
            CheckVerdict::NotChecked => "NOT CHECKED",
        }
    }
}

/// A check's verdict and why, before it is tied to its definition.
#[derive(Debug, Clone)]
pub struct Finding {
    pub verdict: CheckVerdict,
    pub reason: String,
    /// What was observed to be wrong, as the check's `fixes:` keys (`missing_email`, ...): the
    /// fix shown follows them instead of the check's general `fix`. Several when several
    /// things are missing at once.
    pub causes: Vec<&'static str>,
    /// Checks whose requirement explains this failure, most likely first: when one of them
    /// failed in the same run, this one is reported as not checked, depending on it, so that
    /// one cause is one failure with its own fix.
    pub explained_by: Vec<CheckKind>,
}

impl Finding {
    fn new(verdict: CheckVerdict, reason: String) -> Self {
        Self {
            verdict,
            reason,
            causes: Vec::new(),
            explained_by: Vec::new(),
        }
    }
    pub fn pass(reason: String) -> Self {
        Self::new(CheckVerdict::Pass, reason)
    }
    pub fn fail(reason: String) -> Self {
        Self::new(CheckVerdict::Fail, reason)
    }
    pub fn not_checked(reason: String) -> Self {
        Self::new(CheckVerdict::NotChecked, reason)
    }
    /// The observed cause, one of the check's `fixes:` keys.
    pub fn because(mut self, cause: &'static str) -> Self {
        self.causes.push(cause);
        self
    }
    /// Another check whose failure would explain this one.
    pub fn explained_by(mut self, kinds: impl IntoIterator<Item = CheckKind>) -> Self {
        self.explained_by.extend(kinds);
        self
    }
}

/// The in-group user signs in and lands signed in as themself.
pub fn sign_in_finding(s: Option<&SignIn>, email: &str) -> Finding {
    let Some(s) = s else {
        return Finding::not_checked("the sign-in did not run".into());
    };
    match &s.signed_in_as {
        Some(e) if e.trim().eq_ignore_ascii_case(email) => Finding::pass(format!(
            "{email} signed in through the IdP's login page{}",
            s.display_name
                .as_deref()
                .map(|n| format!(" (shown as {n:?})"))
                .unwrap_or_default()
        )),
        Some(e) => Finding::fail(format!("signed in as {e}, not {email}")),
        None => Finding::fail(s.describe()),
    }
}

pub fn tile_finding(s: Option<&SignIn>, email: &str) -> Finding {
    match s {
        None => Finding::not_checked(
            "no IdP-initiated URL in the descriptor (saml.idp_initiated_url)".into(),
        ),
        Some(s) => sign_in_finding(Some(s), email),
    }
}

/// A user outside the application's group must not get in; the product's documented message
/// (ERR-7) shows when the IdP answers access_denied, an IdP may also stop them on its own page.
pub fn out_of_group_finding(s: Option<&SignIn>, email: &str) -> Finding {
    let Some(s) = s else {
        return Finding::not_checked("the sign-in did not run".into());
    };
    if let Some(who) = &s.signed_in_as {
        return Finding::fail(format!(
            "{email} is not in the application's group but was signed in (as {who})"
        ));
    }
    if s.name_prompt {
        return Finding::fail(format!(
            "{email} is not in the application's group but the IdP let them in (the product received a response and asked for their name)"
        ));
    }
    if let Some(msg) = &s.sp_error {
        if msg.contains(ERR7) {
            return Finding::pass(format!(
                "refused with the documented message \"{msg}\"{}",
                s.sp_error_detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
        }
        return Finding::fail(format!(
            "refused, but not for the group: \"{msg}\"{} (expected \"Oops! {ERR7}.\")",
            s.sp_error_detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
    }
    if s.problem.is_some() {
        return Finding::fail(s.describe());
    }
    if !s.reached_login {
        return Finding::not_checked(format!(
            "the IdP's login page was never reached: {}",
            s.describe()
        ));
    }
    Finding::pass(format!(
        "refused by the IdP before the product was reached: {}",
        s.describe()
    ))
}
