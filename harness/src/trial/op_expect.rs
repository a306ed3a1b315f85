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
    EndSessionSent, Freshness, LogoutResult, Pkce, RequestBy, RpSent, SessionAfter, TokenPlace,
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
    if let Some(mode) = &want.response_mode {
        need(&auth, "authorization request")?;
        for (i, a) in auth.iter().enumerate() {
            let asked = a["response_mode"]
                .as_str()
                .unwrap_or("none (the default, query)");
            if asked != mode {
                return Err(failed(
                    FailureKind::Mismatch,
                    &format!("response_mode of authorization request {}", i + 1),
                    mode.clone(),
                    asked.to_string(),
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
    if let Some(want) = &want.end_session {
        end_session(&lines("end_session"), want)?;
    }
    if want.keys_from_discovery == Some(true) {
        keys_from_discovery(&lines("discovery"), &lines("jwks"))?;
    }
    if want.userinfo_after_refresh {
        refreshed_userinfo(&lines("refresh_request"), &lines("userinfo"))?;
    }
    if let Some(by) = want.request_by {
        request_by(&auth, by)?;
    }
    Ok(())
}

/// Every authorization request went by `by`, was accepted, and carried no loose parameter
/// that contradicts its reference (a request the OP refused is no request by reference).
fn request_by(auth: &[Value], by: RequestBy) -> Result<(), Failed> {
    need(auth, "authorization request")?;
    for (i, a) in auth.iter().enumerate() {
        let n = i + 1;
        let seen = a["request_by"].as_str().unwrap_or("loose query parameters");
        if seen != by.as_str() {
            return Err(failed(
                FailureKind::Mismatch,
                &format!("how authorization request {n} passed its parameters"),
                by.as_str().into(),
                format!("{seen} (HTTP {})", a["status"]),
            ));
        }
        if a["status"].as_u64() != Some(200) {
            return Err(failed(
                FailureKind::Mismatch,
                &format!("authorization request {n} ({seen})"),
                "accepted by the mock OP (HTTP 200)".into(),
                format!("HTTP {}", a["status"]),
            ));
        }
        let contradicting: Vec<&str> = a["contradicting"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !contradicting.is_empty() {
            return Err(failed(
                FailureKind::Mismatch,
                &format!("loose parameters of authorization request {n}"),
                format!("none contradicting its {seen}"),
                contradicting.join(", "),
            ));
        }
    }
    Ok(())
}

/// Every logout request at the end_session endpoint carried what `want` asks for.
fn end_session(calls: &[Value], want: &EndSessionSent) -> Result<(), Failed> {
    need(calls, "logout request (end_session)")?;
    for (i, c) in calls.iter().enumerate() {
        let n = i + 1;
        if want.id_token_hint {
            let hint = c["id_token_hint"].as_str().unwrap_or("absent");
            if hint != "issued" {
                return Err(failed(
                    FailureKind::Mismatch,
                    &format!("id_token_hint of logout request {n}"),
                    "the ID token the OP issued for this sign-in".into(),
                    match hint {
                        "absent" => "absent".into(),
                        _ => "a token the OP did not issue".into(),
                    },
                ));
            }
        }
        if want.post_logout_redirect_uri {
            match c["post_logout_redirect_uri"].as_str() {
                None => {
                    return Err(failed(
                        FailureKind::Mismatch,
                        &format!("post_logout_redirect_uri of logout request {n}"),
                        "the target's sp.post_logout_redirect_uri".into(),
                        "absent".into(),
                    ));
                }
                Some(uri) if c["registered"] != Value::Bool(true) => {
                    return Err((
                        FailureKind::Mismatch,
                        Diff::new(
                            format!("post_logout_redirect_uri of logout request {n}"),
                            "registered with the trial's client",
                            format!("{uri:?}, not registered"),
                        )
                        .with_note(
                            "the trial registers the target's sp.post_logout_redirect_uri: \
                             set it to what the RP sends",
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// The RP read the discovery document, and every JWKS fetch used the jwks_uri it advertised
/// for this trial.
fn keys_from_discovery(discovery: &[Value], jwks: &[Value]) -> Result<(), Failed> {
    need(discovery, "discovery document fetche")?;
    need(jwks, "JWKS fetche")?;
    for (i, j) in jwks.iter().enumerate() {
        match j["advertised"].as_bool() {
            Some(true) => {}
            Some(false) => {
                return Err(failed(
                    FailureKind::Mismatch,
                    &format!("JWKS fetch {}", i + 1),
                    "at the jwks_uri this trial's discovery document advertised".into(),
                    format!(
                        "at {} without this trial's tag (a cached, hard-coded or guessed URL)",
                        j["path"].as_str().unwrap_or("?")
                    ),
                ));
            }
            None => {
                return Err(failed(
                    FailureKind::Broken,
                    "keys_from_discovery",
                    "an `oidc_provider: { per_run_jwks_uri: true }` step before the sign-in".into(),
                    "the mock OP advertised no per-run jwks_uri".into(),
                ));
            }
        }
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
    fn logout_requests_need_an_issued_hint_and_a_registered_uri() {
        let both = EndSessionSent {
            id_token_hint: true,
            post_logout_redirect_uri: true,
        };
        let good = [
            json!({"id_token_hint": "issued", "post_logout_redirect_uri": "http://rp/out", "registered": true}),
        ];
        assert!(end_session(&good, &both).is_ok());
        assert_eq!(
            end_session(&[], &both).unwrap_err().0,
            FailureKind::Mismatch
        );
        for bad in [
            json!({"id_token_hint": "absent", "post_logout_redirect_uri": "http://rp/out", "registered": true}),
            json!({"id_token_hint": "not_issued", "post_logout_redirect_uri": "http://rp/out", "registered": true}),
            json!({"id_token_hint": "issued", "post_logout_redirect_uri": null, "registered": false}),
            json!({"id_token_hint": "issued", "post_logout_redirect_uri": "http://rp/x", "registered": false}),
        ] {
            assert_eq!(
                end_session(std::slice::from_ref(&bad), &both)
                    .unwrap_err()
                    .0,
                FailureKind::Mismatch,
                "{bad}"
            );
        }
        let hint_only = EndSessionSent {
            id_token_hint: true,
            post_logout_redirect_uri: false,
        };
        let no_uri = [json!({"id_token_hint": "issued", "post_logout_redirect_uri": null})];
        assert!(end_session(&no_uri, &hint_only).is_ok());
    }

    #[test]
    fn jwks_fetches_must_use_the_advertised_uri() {
        let d = [json!({"status": 200})];
        let ok = [json!({"path": "/t/x/jwks", "advertised": true})];
        assert!(keys_from_discovery(&d, &ok).is_ok());
        let guessed = [
            ok[0].clone(),
            json!({"path": "/t/x/jwks", "advertised": false}),
        ];
        assert_eq!(
            keys_from_discovery(&d, &guessed).unwrap_err().0,
            FailureKind::Mismatch
        );
        assert_eq!(
            keys_from_discovery(&[], &ok).unwrap_err().0,
            FailureKind::Mismatch
        );
        assert_eq!(
            keys_from_discovery(&d, &[]).unwrap_err().0,
            FailureKind::Mismatch
        );
        let untagged = [json!({"path": "/t/x/jwks", "advertised": null})];
        assert_eq!(
            keys_from_discovery(&d, &untagged).unwrap_err().0,
            FailureKind::Broken
        );
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
