//! A trial's verdict follows the kind of its first failure and what the target's
//! `known_failures` list says; nothing else decides it.
use crate::target::descriptor::KnownFailure;
use crate::trial::failure::{FailureKind, StepFailure};
use crate::trial::outcome::Verdict;

/// The verdict and the message the report shows.
///
/// - no failure: pass, or UNEXPECTED PASS when the target lists it (the list must stay true);
/// - broken (harness, browser, process): ERROR, even when listed: a known failure never hides
///   that the trial could not run;
/// - the SP accepted what it must refuse, listed with `finding: true`: FINDING;
/// - listed with `finding: true` but failed another way: FAIL, because the finding it lists
///   was not what happened;
/// - listed without `finding`: known failure;
/// - anything else: FAIL.
pub fn decide(
    failure: Option<&StepFailure>,
    known: Option<&KnownFailure>,
    target: &str,
) -> (Verdict, Option<String>) {
    let text = failure.map(ToString::to_string).unwrap_or_default();
    match (failure.map(|f| f.kind), known) {
        (None, None) => (Verdict::Pass, None),
        (None, Some(k)) => (
            Verdict::UnexpectedPass,
            Some(format!(
                "listed as a known failure on {target} ({}), but it passed: remove it from known_failures",
                k.reason
            )),
        ),
        (Some(FailureKind::Broken), _) => (Verdict::Error, Some(text)),
        (Some(FailureKind::Accepted), Some(k)) if k.finding => (
            Verdict::Finding,
            Some(format!("FINDING: {}\n{text}", k.reason)),
        ),
        (Some(_), Some(k)) if k.finding => (
            Verdict::Fail,
            Some(format!(
                "listed as a finding on {target} ({}), but the trial failed another way: the SP did not accept what it must refuse\n{text}",
                k.reason
            )),
        ),
        (Some(_), Some(k)) => (
            Verdict::KnownFailure,
            Some(format!("known failure ({}):\n{text}", k.reason)),
        ),
        (Some(_), None) => (Verdict::Fail, Some(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(finding: bool) -> KnownFailure {
        KnownFailure {
            scenario: "saml-sp/x".into(),
            reason: "why".into(),
            finding,
        }
    }

    #[test]
    fn each_kind_gives_its_verdict() {
        let accepted = StepFailure::diffs(FailureKind::Accepted, vec![]);
        let mismatch = StepFailure::mismatch("no");
        let broken = StepFailure::broken("chromedriver died");
        let refused = StepFailure::refused("403");
        assert_eq!(decide(None, None, "t").0, Verdict::Pass);
        assert_eq!(
            decide(None, Some(&known(false)), "t").0,
            Verdict::UnexpectedPass
        );
        assert_eq!(decide(Some(&mismatch), None, "t").0, Verdict::Fail);
        assert_eq!(decide(Some(&refused), None, "t").0, Verdict::Fail);
        assert_eq!(decide(Some(&broken), None, "t").0, Verdict::Error);
        // a known failure does not hide a broken trial
        assert_eq!(
            decide(Some(&broken), Some(&known(false)), "t").0,
            Verdict::Error
        );
        assert_eq!(
            decide(Some(&broken), Some(&known(true)), "t").0,
            Verdict::Error
        );
        assert_eq!(
            decide(Some(&mismatch), Some(&known(false)), "t").0,
            Verdict::KnownFailure
        );
        assert_eq!(
            decide(Some(&accepted), Some(&known(true)), "t").0,
            Verdict::Finding
        );
        // a listed finding that failed for another reason is not a finding
        assert_eq!(
            decide(Some(&refused), Some(&known(true)), "t").0,
            Verdict::Fail
        );
        assert_eq!(
            decide(Some(&mismatch), Some(&known(true)), "t").0,
            Verdict::Fail
        );
    }
}
