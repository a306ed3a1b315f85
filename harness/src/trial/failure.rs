//! Why a step did not succeed, as a type: the verdict of a trial follows the kind of its first
//! failure (see `trial::verdict`), and every "expected vs actual" text comes from one renderer
//! (`Diff`), so reports and terminals read the same everywhere.
use std::fmt;

use crate::HarnessError;

/// One expected-vs-actual difference. Rendered as
/// ```text
/// what
///   - expected: ...
///   + actual: ...
///     note
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// What was looked at, e.g. `text on the page` or `signed-in identity (#signed-in-as)`.
    pub what: String,
    /// How the expected value relates to the actual one (`to contain`, `NOT to contain`,
    /// `one of`); rendered as `expected to contain: ...`. Empty: equality.
    pub relation: &'static str,
    pub expected: String,
    pub actual: String,
    /// A hint shown under the diff (the closest line on the page, the last log lines).
    pub note: Option<String>,
}

impl Diff {
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            what: what.into(),
            relation: "",
            expected: expected.into(),
            actual: actual.into(),
            note: None,
        }
    }

    /// `expected to contain: "x"` rather than `expected: "x"`.
    pub fn related(mut self, relation: &'static str) -> Self {
        self.relation = relation;
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.relation.is_empty() { "" } else { " " };
        write!(
            f,
            "{}\n  - expected{sep}{}: {}\n  + actual: {}",
            self.what, self.relation, self.expected, self.actual
        )?;
        if let Some(n) = &self.note {
            write!(f, "\n    {}", n.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

/// What kind of failure a step had; the trial's verdict follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The expectation did not hold (FAIL).
    Mismatch,
    /// The SP refused what the scenario expects it to accept (FAIL): a positive path broke.
    Refused,
    /// The SP accepted what it must refuse, e.g. it signed a forged identity in (FINDING).
    Accepted,
    /// The harness, the browser or the target's process broke: nothing was learnt about the
    /// SP's behaviour (ERROR).
    Broken,
}

impl FailureKind {
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Mismatch => "expectation not met",
            FailureKind::Refused => "the SP refused",
            FailureKind::Accepted => "the SP accepted what it must refuse",
            FailureKind::Broken => "the harness or browser broke",
        }
    }
}

/// A failed step: its kind, the differences seen, and what the page looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub kind: FailureKind,
    /// A one-line summary when there is no diff (a broken browser, a missing procedure).
    pub message: Option<String>,
    pub diffs: Vec<Diff>,
    /// The page state at the failure (URL, status, first lines of text), when known.
    pub context: Option<String>,
    /// Which judgement decided it (`identity on the SP's page`, `session probe`, `canary`,
    /// `mock IdP log`, ...), shown with the verdict.
    pub oracle: Option<&'static str>,
}

impl StepFailure {
    fn of(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: Some(message.into()),
            diffs: Vec::new(),
            context: None,
            oracle: None,
        }
    }

    pub fn mismatch(message: impl Into<String>) -> Self {
        Self::of(FailureKind::Mismatch, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::of(FailureKind::Refused, message)
    }

    pub fn broken(message: impl Into<String>) -> Self {
        Self::of(FailureKind::Broken, message)
    }

    pub fn diff(kind: FailureKind, diff: Diff) -> Self {
        Self {
            kind,
            message: None,
            diffs: vec![diff],
            context: None,
            oracle: None,
        }
    }

    pub fn diffs(kind: FailureKind, diffs: Vec<Diff>) -> Self {
        Self {
            kind,
            message: None,
            diffs,
            context: None,
            oracle: None,
        }
    }

    pub fn decided_by(mut self, oracle: &'static str) -> Self {
        self.oracle = Some(oracle);
        self
    }

    pub fn with_context(mut self, context: String) -> Self {
        self.context = Some(context);
        self
    }

    /// Prefixes the message (e.g. `procedures.connect_saml step 2 (fill): ...`), keeping the kind.
    pub fn within(mut self, prefix: &str) -> Self {
        self.message = Some(match self.message.take() {
            Some(m) => format!("{prefix}: {m}"),
            None => prefix.to_string(),
        });
        self
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(m) = &self.message {
            f.write_str(m)?;
            first = false;
        }
        for d in &self.diffs {
            if !first {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
            first = false;
        }
        if let Some(o) = self.oracle {
            write!(f, "\ndecided by: {o}")?;
        }
        if let Some(c) = &self.context {
            write!(f, "\n{}", c.trim_end())?;
        }
        Ok(())
    }
}

/// Template and set-up messages are the scenario's or the target's mistakes as far as a step
/// can tell: a mismatch unless a caller says otherwise.
impl From<String> for StepFailure {
    fn from(m: String) -> Self {
        Self::mismatch(m)
    }
}

impl From<&str> for StepFailure {
    fn from(m: &str) -> Self {
        Self::mismatch(m)
    }
}

/// A browser call that did not come back is broken; a page that never showed an element is a
/// mismatch (the SP did not show what the scenario expected).
impl From<HarnessError> for StepFailure {
    fn from(e: HarnessError) -> Self {
        match e {
            HarnessError::Step(m) => Self::mismatch(m),
            other => Self::broken(other.to_string()),
        }
    }
}

/// An admin action the SP refused by a documented rule, or one that could not be made.
impl From<crate::target::admin::AdminError> for StepFailure {
    fn from(e: crate::target::admin::AdminError) -> Self {
        match e {
            crate::target::admin::AdminError::Refused(m) => Self::refused(format!("refused: {m}")),
            crate::target::admin::AdminError::Failed(e) => Self::broken(e.to_string()),
        }
    }
}

/// A value the harness could not turn into JSON is the harness's failure.
impl From<serde_json::Error> for StepFailure {
    fn from(e: serde_json::Error) -> Self {
        Self::broken(e.to_string())
    }
}

/// A step's note for the log, or why it failed.
pub type StepResult = Result<Option<String>, StepFailure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_renders_expected_and_actual_with_note() {
        let d = Diff::new("URL", "\"/home\"", "\"http://sp/login\"")
            .related("to contain")
            .with_note("closest: x");
        assert_eq!(
            d.to_string(),
            "URL\n  - expected to contain: \"/home\"\n  + actual: \"http://sp/login\"\n    closest: x"
        );
        assert_eq!(
            Diff::new("HTTP status", "403", "200").to_string(),
            "HTTP status\n  - expected: 403\n  + actual: 200"
        );
    }

    #[test]
    fn browser_errors_are_broken_and_missing_elements_are_mismatches() {
        let b: StepFailure = HarnessError::Browser("chromedriver went away".into()).into();
        assert_eq!(b.kind, FailureKind::Broken);
        let m: StepFailure = HarnessError::Step("no element matches \"#x\"".into()).into();
        assert_eq!(m.kind, FailureKind::Mismatch);
    }

    #[test]
    fn within_keeps_the_kind() {
        let f = StepFailure::broken("gone").within("procedures.connect_saml step 1 (open)");
        assert_eq!(f.kind, FailureKind::Broken);
        assert_eq!(f.to_string(), "procedures.connect_saml step 1 (open): gone");
    }
}
