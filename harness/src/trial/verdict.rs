//! A trial's verdict follows the kind of its first failure and what the target's
//! `known_failures` list says; nothing else decides it.
use crate::target::descriptor::KnownFailure;
use crate::trial::failure::{FailureKind, StepFailure};
use crate::trial::outcome::Verdict;

/// What decided a trial.
pub struct Decision {
    pub verdict: Verdict,
    pub message: Option<String>,
    /// For a FINDING: the accepted risk that keeps it from failing the run, while it holds.
    pub risk_accepted: Option<String>,
}

/// The verdict and the message the report shows.
///
/// - no failure: pass, or UNEXPECTED PASS when the target lists it (the list must stay true);
/// - broken (harness, browser, process): ERROR, even when listed: a known failure never hides
///   that the trial could not run;
/// - the SP accepted what it must refuse: FINDING, listed or not; it fails the run unless
///   the target lists it with an `accepted_risk` that has not expired;
/// - listed with `finding: true` but failed another way: FAIL, because the finding it lists
///   was not what happened;
/// - listed without `finding`: known failure;
/// - anything else: FAIL.
pub fn decide(
    failure: Option<&StepFailure>,
    known: Option<&KnownFailure>,
    target: &str,
    today: time::Date,
) -> Decision {
    let (verdict, message) = classify(failure, known, target);
    let mut risk_accepted = None;
    let message = if verdict == Verdict::Finding {
        let risk = known.and_then(|k| k.accepted_risk.as_ref());
        let note = match risk {
            Some(r) if r.holds_on(today) => {
                risk_accepted = Some(format!("accepted until {}: {}", r.until, r.reason));
                format!("risk accepted until {}: {}", r.until, r.reason)
            }
            Some(r) => format!(
                "the accepted risk expired on {} ({}): this finding fails the run again",
                r.until, r.reason
            ),
            None => "not accepted: this finding fails the run (fix the SP, or list it in the target's known_failures with an accepted_risk {reason, until})".to_string(),
        };
        message.map(|m| format!("{m}\n{note}"))
    } else {
        message
    };
    Decision {
        verdict,
        message,
        risk_accepted,
    }
}

fn classify(
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
        (Some(FailureKind::Accepted), _) => (
            Verdict::Finding,
            Some(format!(
                "FINDING: the SP accepted what it must refuse (not listed as a finding of {target})\n{text}"
            )),
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
            accepted_risk: None,
        }
    }

    fn day(s: &str) -> time::Date {
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    fn d(f: Option<&StepFailure>, k: Option<&KnownFailure>) -> Verdict {
        decide(f, k, "t", day("2026-12-02")).verdict
    }

    #[test]
    fn a_finding_fails_the_run_unless_its_risk_is_accepted_and_current() {
        let accepted = StepFailure::diffs(FailureKind::Accepted, vec![]);
        let today = day("2026-12-02");
        let mut k = known(true);
        let no_risk = decide(Some(&accepted), Some(&k), "t", today);
        assert_eq!(no_risk.verdict, Verdict::Finding);
        assert!(no_risk.risk_accepted.is_none());
        k.accepted_risk = Some(crate::target::descriptor::AcceptedRisk {
            reason: "no switch in 0.18".into(),
            until: day("2026-12-31"),
        });
        let held = decide(Some(&accepted), Some(&k), "t", today);
        assert!(held.risk_accepted.is_some());
        let expired = decide(Some(&accepted), Some(&k), "t", day("2027-01-01"));
        assert!(expired.risk_accepted.is_none());
        assert!(expired.message.unwrap().contains("expired"));
        // unlisted: still a finding, never accepted
        let unlisted = decide(Some(&accepted), None, "t", today);
        assert_eq!(unlisted.verdict, Verdict::Finding);
        assert!(unlisted.risk_accepted.is_none());
    }

    #[test]
    fn each_kind_gives_its_verdict() {
        let accepted = StepFailure::diffs(FailureKind::Accepted, vec![]);
        let mismatch = StepFailure::mismatch("no");
        let broken = StepFailure::broken("chromedriver died");
        let refused = StepFailure::refused("403");
        assert_eq!(d(None, None), Verdict::Pass);
        assert_eq!(d(None, Some(&known(false))), Verdict::UnexpectedPass);
        assert_eq!(d(Some(&mismatch), None), Verdict::Fail);
        assert_eq!(d(Some(&refused), None), Verdict::Fail);
        assert_eq!(d(Some(&broken), None), Verdict::Error);
        // a known failure does not hide a broken trial
        assert_eq!(d(Some(&broken), Some(&known(false))), Verdict::Error);
        assert_eq!(d(Some(&broken), Some(&known(true))), Verdict::Error);
        assert_eq!(
            d(Some(&mismatch), Some(&known(false))),
            Verdict::KnownFailure
        );
        assert_eq!(d(Some(&accepted), Some(&known(true))), Verdict::Finding);
        // a listed finding that failed for another reason is not a finding
        assert_eq!(d(Some(&refused), Some(&known(true))), Verdict::Fail);
        assert_eq!(d(Some(&mismatch), Some(&known(true))), Verdict::Fail);
    }
}
