//! Set-up errors are not findings. When the mock IdP's own log shows that the SP never
//! talked to the trial's tenant, or talked to it in the other protocol, a failed trial says
//! nothing about the SP's behaviour: it is an ERROR that names the set-up problem, never a
//! FAIL or a FINDING (an SP cannot have accepted a forged response nobody sent it).
use serde_json::Value;

use crate::scenario::schema::{Protocol, Scenario, Step};
use crate::trial::failure::{FailureKind, StepFailure};

/// Exchange kinds in which the tenant hands the SP an identity.
const ISSUED: &[&str] = &[
    "saml_response",
    "id_token",
    "token_response",
    "authorization_response",
];

fn protocol_of(x: &Value) -> Option<Protocol> {
    match x["protocol"].as_str()? {
        "saml" => Some(Protocol::Saml),
        "oidc" => Some(Protocol::Oidc),
        _ => None,
    }
}

fn uses_idp(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::IdpLogin(_) | Step::Tile(_) | Step::StartLogin(_) => true,
        Step::Repeat(r) => uses_idp(&r.steps),
        _ => false,
    })
}

/// The set-up problem behind `failure`, if the tenant's log shows one.
///
/// `staging`: the SP was configured by hand, so "it never contacted the tenant" most likely
/// means it is configured with other values; on targets the harness configures itself, an
/// SP that refuses before contacting the IdP can be what the scenario tests.
pub fn explain(
    s: &Scenario,
    failure: &StepFailure,
    exchanges: &[Value],
    tenant: &str,
    staging: bool,
) -> Option<String> {
    // No tenant (a run without the mock IdP), or a scenario that never goes through the
    // IdP (a page-level check): the IdP's log has nothing to say.
    if failure.kind == FailureKind::Broken || tenant.is_empty() || !uses_idp(&s.steps) {
        return None;
    }
    let want = s.idp.protocol;
    let of = |p: Protocol| exchanges.iter().filter(move |x| protocol_of(x) == Some(p));
    let other = match want {
        Protocol::Saml => Protocol::Oidc,
        Protocol::Oidc => Protocol::Saml,
    };
    if of(want).next().is_none() && of(other).next().is_some() {
        return Some(format!(
            "set-up: the SP signed in through tenant {tenant} with {other}, and this scenario is {want}: the organisation is configured for the other protocol"
        ));
    }
    let issued = of(want).any(|x| x["kind"].as_str().is_some_and(|k| ISSUED.contains(&k)));
    if failure.kind == FailureKind::Accepted && !issued {
        return Some(format!(
            "set-up: the SP signed someone in, but tenant {tenant} issued no {want} response in this trial: the SP trusts another IdP or tenant (compare its configuration with what `sso-harness staging init` prints)"
        ));
    }
    if staging && exchanges.is_empty() {
        return Some(format!(
            "set-up: the SP never contacted the mock IdP tenant {tenant} in this trial: check that its SSO URL / discovery URL and certificate are the ones `sso-harness staging init` printed, and that it can reach the mock IdP"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(protocol: &str) -> Scenario {
        serde_yaml_ng::from_str(&format!(
            "scenario: x\nidp: {{protocol: {protocol}}}\nsteps:\n  - open: /\n  - idp_login: a@b.test\n"
        ))
        .unwrap()
    }

    fn failure(kind: FailureKind) -> StepFailure {
        let mut f = StepFailure::broken("x");
        f.kind = kind;
        f
    }

    #[test]
    fn an_accepted_forgery_nobody_sent_is_a_set_up_error() {
        let s = scenario("saml");
        let only_request = [json!({"protocol": "saml", "kind": "authn_request"})];
        let why = explain(
            &s,
            &failure(FailureKind::Accepted),
            &only_request,
            "t1",
            false,
        );
        assert!(why.unwrap().contains("issued no SAML response"));
        let answered = [
            json!({"protocol": "saml", "kind": "authn_request"}),
            json!({"protocol": "saml", "kind": "saml_response"}),
        ];
        // The tenant did send the forged response: the finding stands.
        assert_eq!(
            explain(&s, &failure(FailureKind::Accepted), &answered, "t1", false),
            None
        );
    }

    #[test]
    fn the_other_protocol_or_silence_on_staging_is_a_set_up_error() {
        let s = scenario("saml");
        let oidc = [json!({"protocol": "oidc", "kind": "authorization_request"})];
        let why = explain(&s, &failure(FailureKind::Mismatch), &oidc, "t1", false).unwrap();
        assert!(why.contains("with OIDC"), "{why}");
        let why = explain(&s, &failure(FailureKind::Refused), &[], "t1", true).unwrap();
        assert!(why.contains("never contacted"), "{why}");
        // Off staging, an SP that refuses before contacting the IdP is judged as it is.
        assert_eq!(
            explain(&s, &failure(FailureKind::Refused), &[], "t1", false),
            None
        );
        // A harness failure stays what it is.
        assert_eq!(
            explain(&s, &failure(FailureKind::Broken), &[], "t1", true),
            None
        );
    }
}
