//! The two expectations read on the mock OP's side of a trial: `rp_sent` (what the RP sent
//! it: nonce, state, PKCE, client authentication, where the access token went; from its
//! requests query) and `logout_result` (how the RP answered the last back-channel logout
//! token, and whether the browser's session ended).
//!
//! A weak request (a guessable or repeated nonce, no PKCE, an access token in the query) is
//! the RP doing what it must not: *accepted*, a finding where the target lists it. A kind of
//! request the RP never sent is *mismatch*: nothing to judge is no pass.
use std::collections::BTreeSet;

use serde_json::Value;

use crate::scenario::oidc_steps::{
    Freshness, LogoutResult, Pkce, RpSent, SessionAfter, TokenPlace,
};
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::{Diff, FailureKind, StepFailure};

type Failed = (FailureKind, Diff);

fn failed(kind: FailureKind, what: &str, expected: String, actual: String) -> Failed {
    (kind, Diff::new(what, expected, actual))
}

/// Every field of `rp_sent` against the mock OP's record of this trial.
pub async fn rp_sent(ctx: &mut TrialCtx<'_>, want: &RpSent) -> Result<(), Failed> {
    let answer = {
        let (idp, tenant) = ctx.idp().map_err(broken)?;
        idp.oidc_requests(&tenant.id, None).await.map_err(|e| {
            failed(
                FailureKind::Broken,
                "the mock OP's requests query",
                "an answer".into(),
                e.to_string(),
            )
        })?
    };
    let lines = |kind: &str| answer.summary.get(kind).cloned().unwrap_or_default();
    let auth = lines("authorization_request");
    let token = lines("token_request");
    if want.nonce.is_some() || want.state.is_some() || want.pkce.is_some() {
        need(&auth, "authorization request")?;
    }
    if let Some(Freshness::Unguessable) = want.nonce {
        unguessable(&auth, "nonce")?;
    }
    if let Some(Freshness::Unguessable) = want.state {
        unguessable(&auth, "state")?;
    }
    if let Some(m) = want.pkce {
        pkce(&auth, &token, m)?;
    }
    if let Some(method) = want.client_auth {
        need(&token, "token request")?;
        for (i, t) in token.iter().enumerate() {
            let seen = t["client_auth"].as_str().unwrap_or("none");
            if seen != method.as_str() {
                return Err(failed(
                    FailureKind::Mismatch,
                    &format!("client authentication of token request {}", i + 1),
                    method.as_str().to_string(),
                    format!("{seen} (HTTP {})", t["status"]),
                ));
            }
            if t["status"].as_u64() != Some(200) {
                return Err(failed(
                    FailureKind::Mismatch,
                    &format!("token request {} ({seen})", i + 1),
                    "accepted by the mock OP (HTTP 200)".into(),
                    format!("HTTP {}", t["status"]),
                ));
            }
        }
    }
    if !want.access_token_in.is_empty() {
        let calls = lines("userinfo");
        need(&calls, "UserInfo call")?;
        let allowed: Vec<&str> = want.access_token_in.iter().map(|p| p.as_str()).collect();
        for (i, c) in calls.iter().enumerate() {
            let place = c["token_in"].as_str().unwrap_or("nowhere");
            if !allowed.contains(&place) {
                let kind = if place == TokenPlace::Query.as_str() {
                    FailureKind::Accepted
                } else {
                    FailureKind::Mismatch
                };
                return Err(failed(
                    kind,
                    &format!("access token of UserInfo call {}", i + 1),
                    format!("in the {}", allowed.join(" or the ")),
                    format!("in the {place}"),
                ));
            }
        }
    }
    if want.userinfo_after_refresh {
        refreshed_userinfo(&lines("refresh_request"), &lines("userinfo"))?;
    }
    Ok(())
}

/// At least one refresh the mock OP answered, then a UserInfo call with a refreshed access
/// token. Neither is a forgery the RP accepted: what is missing is a mismatch.
fn refreshed_userinfo(refreshes: &[Value], calls: &[Value]) -> Result<(), Failed> {
    if !refreshes.iter().any(|r| r["status"].as_u64() == Some(200)) {
        let seen = refreshes
            .iter()
            .map(|r| format!("HTTP {}", r["status"]))
            .collect::<Vec<_>>();
        return Err(failed(
            FailureKind::Mismatch,
            "the RP's refresh_token grants to the mock OP",
            "at least one, answered 200".into(),
            if seen.is_empty() {
                "none".into()
            } else {
                seen.join(", ")
            },
        ));
    }
    if !calls.iter().any(|c| c["refreshed"] == true) {
        return Err(failed(
            FailureKind::Mismatch,
            "UserInfo calls with the refreshed access token",
            "at least one".into(),
            format!(
                "none ({} UserInfo call(s), all with the sign-in's access token)",
                calls.len()
            ),
        ));
    }
    Ok(())
}

fn broken(e: StepFailure) -> Failed {
    (
        FailureKind::Broken,
        Diff::new("the mock OP", "present", e.to_string()),
    )
}

fn need(lines: &[Value], what: &str) -> Result<(), Failed> {
    if lines.is_empty() {
        Err(failed(
            FailureKind::Mismatch,
            &format!("the RP's {what}s to the mock OP"),
            "at least one".into(),
            "none (nothing to judge)".into(),
        ))
    } else {
        Ok(())
    }
}

/// Present in every request, long and varied enough, and never repeated.
fn unguessable(auth: &[Value], param: &str) -> Result<(), Failed> {
    let mut seen = BTreeSet::new();
    for (i, line) in auth.iter().enumerate() {
        let what = format!("{param} of authorization request {}", i + 1);
        let Some(v) = line[param].as_str() else {
            return Err(failed(
                FailureKind::Accepted,
                &what,
                "present".into(),
                "absent".into(),
            ));
        };
        if let Err(why) = guessable(v) {
            return Err(failed(
                FailureKind::Accepted,
                &what,
                format!(
                    "unguessable (at least {} characters, {} different)",
                    Freshness::MIN_LEN,
                    Freshness::MIN_DISTINCT
                ),
                format!("{v:?}: {why}"),
            ));
        }
        if !seen.insert(v.to_string()) {
            return Err(failed(
                FailureKind::Accepted,
                &what,
                "a value not sent before in this trial".into(),
                format!("{v:?} again"),
            ));
        }
    }
    Ok(())
}

fn guessable(v: &str) -> Result<(), String> {
    let len = v.chars().count();
    let distinct = v.chars().collect::<BTreeSet<_>>().len();
    if len < Freshness::MIN_LEN {
        Err(format!("{len} characters"))
    } else if distinct < Freshness::MIN_DISTINCT {
        Err(format!("only {distinct} different characters"))
    } else {
        Ok(())
    }
}

fn pkce(auth: &[Value], token: &[Value], want: Pkce) -> Result<(), Failed> {
    for (i, line) in auth.iter().enumerate() {
        let seen = line["pkce"].as_str();
        if seen != Some(&want.to_string()) {
            return Err(failed(
                FailureKind::Accepted,
                &format!("PKCE method of authorization request {}", i + 1),
                want.to_string(),
                seen.map(str::to_string)
                    .unwrap_or_else(|| "none (no code_challenge)".into()),
            ));
        }
    }
    need(token, "token request")?;
    for (i, t) in token.iter().enumerate() {
        if t["code_verifier_sent"] != Value::Bool(true) {
            return Err(failed(
                FailureKind::Accepted,
                &format!("code_verifier of token request {}", i + 1),
                "sent".into(),
                "absent".into(),
            ));
        }
        // The mock OP checks the verifier against the challenge: 400 when it does not match.
        if t["status"].as_u64() != Some(200) {
            return Err(failed(
                FailureKind::Mismatch,
                &format!("token request {} with its code_verifier", i + 1),
                "accepted by the mock OP (HTTP 200)".into(),
                format!("HTTP {}", t["status"]),
            ));
        }
    }
    Ok(())
}

/// The RP's answer to the last logout token, and the browser's session now.
pub async fn logout_result(ctx: &mut TrialCtx<'_>, want: &LogoutResult) -> Result<(), Failed> {
    let Some(answer) = ctx.last_logout.clone() else {
        return Err(failed(
            FailureKind::Broken,
            "logout_result",
            "a backchannel_logout step before it".into(),
            "none ran in this trial".into(),
        ));
    };
    if let Some(status) = want.status {
        match answer.status {
            Some(s) if s == status => {}
            Some(s) => {
                // OIDF's oracle: 200 acknowledges the token, 400 refuses it.
                let kind = if (200..300).contains(&s) && !(200..300).contains(&status) {
                    FailureKind::Accepted
                } else if (200..300).contains(&status) {
                    FailureKind::Refused
                } else {
                    FailureKind::Mismatch
                };
                let mut d = Diff::new(
                    "the RP's HTTP status for the logout token",
                    status.to_string(),
                    s.to_string(),
                );
                if !answer.body.trim().is_empty() {
                    let body: String = answer.body.chars().take(300).collect();
                    d = d.with_note(format!("its answer: {body}"));
                }
                return Err((kind, d));
            }
            None => {
                return Err(failed(
                    FailureKind::Mismatch,
                    "the RP's HTTP status for the logout token",
                    status.to_string(),
                    format!(
                        "no answer ({})",
                        answer.error.as_deref().unwrap_or("no error given")
                    ),
                ));
            }
        }
    }
    if let Some(after) = want.session {
        let probed = crate::trial::probe::who(ctx).await.map_err(|e| {
            failed(
                FailureKind::Broken,
                "session probe",
                "an answer".into(),
                e.to_string(),
            )
        })?;
        let Some(probed) = probed else {
            return Err(failed(
                FailureKind::Broken,
                "session after the logout token",
                format!("{after:?}").to_lowercase(),
                format!(
                    "unknown: target {} declares no session_probe",
                    ctx.target.name
                ),
            ));
        };
        let what = format!("session after the logout token ({})", probed.what);
        match (after, &probed.identity) {
            (SessionAfter::Kept, None) => {
                return Err((
                    FailureKind::Accepted,
                    Diff::new(what, "kept (the token must change nothing)", "ENDED").with_note(
                        format!(
                            "{}: the RP ended the session on a logout token it must refuse",
                            probed.note
                        ),
                    ),
                ));
            }
            (SessionAfter::Ended, Some(id)) => {
                return Err(failed(
                    FailureKind::Refused,
                    &what,
                    "ended".into(),
                    format!("still signed in as {id:?}"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nonces_must_be_long_varied_and_fresh() {
        let ok = [
            json!({"nonce": "q3Zx9-Lk2PwR7tYb0aVc"}),
            json!({"nonce": "Hh4s8_Jd1MnB6vCx3ZpQ"}),
        ];
        assert!(unguessable(&ok, "nonce").is_ok());
        let short = [json!({"nonce": "n-0S6_WzA2Mj"})];
        assert_eq!(
            unguessable(&short, "nonce").unwrap_err().0,
            FailureKind::Accepted
        );
        let flat = [json!({"nonce": "aaaaaaaabbbbbbbbcccc"})];
        assert!(unguessable(&flat, "nonce").is_err());
        let repeated = [ok[0].clone(), ok[0].clone()];
        let e = unguessable(&repeated, "nonce").unwrap_err();
        assert!(e.1.to_string().contains("again"), "{}", e.1);
        let absent = [json!({"nonce": null})];
        assert!(unguessable(&absent, "nonce").is_err());
    }

    #[test]
    fn pkce_needs_the_method_and_an_accepted_verifier() {
        let auth = [json!({"pkce": "S256"})];
        let token = [json!({"code_verifier_sent": true, "status": 200})];
        assert!(pkce(&auth, &token, Pkce::S256).is_ok());
        let plain = [json!({"pkce": "plain"})];
        assert_eq!(
            pkce(&plain, &token, Pkce::S256).unwrap_err().0,
            FailureKind::Accepted
        );
        let none = [json!({"pkce": null})];
        assert!(pkce(&none, &token, Pkce::S256).is_err());
        let no_verifier = [json!({"code_verifier_sent": false, "status": 200})];
        assert_eq!(
            pkce(&auth, &no_verifier, Pkce::S256).unwrap_err().0,
            FailureKind::Accepted
        );
        let refused = [json!({"code_verifier_sent": true, "status": 400})];
        assert_eq!(
            pkce(&auth, &refused, Pkce::S256).unwrap_err().0,
            FailureKind::Mismatch
        );
        assert_eq!(
            pkce(&auth, &[], Pkce::S256).unwrap_err().0,
            FailureKind::Mismatch
        );
    }
}
