//! What one trial produced: verdict, step log, screenshots, traces.
use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::browser::HttpEvent;
use crate::trial::failure::FailureKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// An expectation or step did not hold.
    Fail,
    /// The harness or the target could not run the trial.
    Error,
    Skipped,
    /// Failed, as the target's `known_failures` says it must.
    KnownFailure,
    /// The target accepted what a correct SP must refuse (`known_failures` with
    /// `finding: true`): a security finding about the target, shown with its evidence.
    Finding,
    /// Listed as a known failure but passed: fails the run so the list stays true.
    UnexpectedPass,
}

impl Verdict {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Fail | Verdict::Error | Verdict::UnexpectedPass
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::Skipped => "skipped",
            Verdict::KnownFailure => "known failure",
            Verdict::Finding => "FINDING",
            Verdict::UnexpectedPass => "UNEXPECTED PASS",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    /// setup | steps | expect
    pub phase: Cow<'static, str>,
    pub kind: String,
    /// The step as written (placeholders unrendered, so no secret is logged).
    pub detail: String,
    /// `file:line:col` of the step in its scenario (or target procedure) file.
    pub at: String,
    pub started_ms: u64,
    pub duration_ms: u64,
    pub ok: bool,
    /// What kind of failure, when it failed (see `trial::failure::FailureKind`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Cow<'static, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Screenshot {
    pub name: String,
    pub step: Option<usize>,
    /// Path of the PNG relative to the report directory, once written.
    pub file: Option<String>,
    #[serde(skip)]
    pub png: Vec<u8>,
}

/// A security scenario's own description of what it tests, carried into the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Weakness {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cve: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

impl Weakness {
    /// `critical, CWE-347, CVE-2022-41912` (what is known), for one-line summaries.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.severity.clone());
        parts.extend(self.cwe.clone());
        parts.extend(self.cve.iter().cloned());
        parts.join(", ")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialOutcome {
    /// `target::path/file`
    pub name: String,
    pub target: String,
    pub scenario_id: String,
    pub scenario_name: String,
    pub scenario_path: String,
    pub covers: Vec<String>,
    /// What the scenario says of the weakness it tests (anchors, severity, CWE, CVEs, fix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weakness: Option<Weakness>,
    pub verdict: Verdict,
    /// For a FINDING: the accepted risk (reason and date) that keeps it from failing the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_accepted: Option<String>,
    /// Which judgement decided the verdict (identity, session probe, canary, IdP log, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<String>,
    /// The kind of the first failure, which decided the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_kind: Option<FailureKind>,
    /// Why it failed (a readable diff), was skipped, or is a known failure.
    pub message: Option<String>,
    /// UTC, RFC 3339.
    pub started_at: String,
    pub duration_ms: u64,
    /// Time not spent in steps: target start, IdP tenant, browser checkout, evidence.
    pub overhead_ms: u64,
    /// Where the overhead went: tenant_and_target (made concurrently), browser_checkout,
    /// evidence, cleanup.
    pub phases_ms: BTreeMap<String, u64>,
    pub steps: Vec<StepRecord>,
    pub screenshots: Vec<Screenshot>,
    pub http: Vec<HttpEvent>,
    /// Exchanges the mock IdP recorded for this trial's tenant (decoded SAML, JWT claims).
    pub exchanges: Vec<Value>,
    /// Values of the trial context (no secrets).
    pub context: BTreeMap<String, String>,
    pub final_url: Option<String>,
    /// Text of the target's error element when the trial ended.
    pub error_text: Option<String>,
    /// The lines the target's logs got during the trial (real SPs say why they refused here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_log: Vec<String>,
    pub browser: String,
    pub os: String,
    pub protocol: String,
    pub idp_profile: String,
    /// "direct sign-in" or "Tile URL"
    pub sign_in_path: String,
    pub users: Vec<String>,
    /// Secret values seen by this trial: the report writer scrubs them everywhere.
    #[serde(skip)]
    pub secrets: Vec<String>,
}

impl TrialOutcome {
    /// Whether this trial makes the run fail: failures, errors, unexpected passes, and
    /// findings whose risk nobody accepted (or whose acceptance expired).
    pub fn fails_run(&self) -> bool {
        self.verdict.is_failure()
            || (self.verdict == Verdict::Finding && self.risk_accepted.is_none())
    }

    pub fn step_ms(&self) -> u64 {
        self.steps.iter().map(|s| s.duration_ms).sum()
    }
}
