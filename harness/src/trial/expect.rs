//! Expectations: every assertion polls until it holds or the timeout passes; a failure
//! reads as a diff (expected vs actual) with the page's state.
use std::time::{Duration, Instant};

use crate::scenario::schema::{Expectation, LogoutResult, RpSent};
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::{Diff, FailureKind, StepFailure, StepResult};

impl Check {
    /// The judgement this check makes, named for the report.
    fn oracle(&self) -> &'static str {
        match self {
            Check::SignedInAs(_)
            | Check::SignedIn(_)
            | Check::NotSignedInAs(_)
            | Check::Rejected(_) => "identity on the SP's own page",
            Check::NoEgress => "canary (no_egress)",
            Check::NoRedirect(_) => "browser history (no_redirect)",
            Check::SessionKept(_) => "session probe (session_kept)",
            Check::IdpSaw(_) | Check::IdpDidNotSee(_) => "mock IdP's request log",
            Check::AnswersWithin(_) => "bounded answer",
            Check::RpSent(_) => "mock OP's requests query (rp_sent)",
            Check::LogoutResult(_) => "logout token answer and session probe",
            Check::Log(_) => "the SP's log",
            _ => "page content",
        }
    }
}

/// One assertion, rendered.
enum Check {
    Text(String),
    AbsentText(String),
    Url(String),
    Status(u16),
    SignedInAs(String),
    SignedIn(bool),
    Error(String),
    DisplayName(String),
    Element(String),
    AbsentElement(String),
    NotRendered(String),
    NotAdopted(String),
    Rejected(bool),
    Log(String),
    NotSignedInAs(String),
    NoEgress,
    NoRedirect(String),
    SessionKept(String),
    IdpSaw(String),
    IdpDidNotSee(String),
    AnswersWithin(u64),
    RpSent(RpSent),
    LogoutResult(LogoutResult),
}

fn checks(ctx: &TrialCtx<'_>, e: &Expectation) -> Result<Vec<Check>, StepFailure> {
    let r = |t: &crate::input::template::Template| ctx.render(t);
    let mut out = Vec::new();
    if let Some(t) = &e.text {
        out.push(Check::Text(r(t)?));
    }
    if let Some(t) = &e.absent_text {
        out.push(Check::AbsentText(r(t)?));
    }
    if let Some(t) = &e.url {
        out.push(Check::Url(r(t)?));
    }
    if let Some(s) = e.status {
        out.push(Check::Status(s));
    }
    if let Some(t) = &e.signed_in_as {
        out.push(Check::SignedInAs(r(t)?));
    }
    if let Some(b) = e.signed_in {
        out.push(Check::SignedIn(b));
    }
    if let Some(t) = &e.error {
        out.push(Check::Error(r(t)?));
    }
    if let Some(t) = &e.display_name {
        // A control must fit any SP: one that shows no name is not wrong for it.
        if ctx.target.signals.display_name.is_some() {
            out.push(Check::DisplayName(r(t)?));
        }
    }
    if let Some(t) = &e.element {
        out.push(Check::Element(r(t)?));
    }
    if let Some(t) = &e.absent_element {
        out.push(Check::AbsentElement(r(t)?));
    }
    if let Some(t) = &e.not_rendered {
        out.push(Check::NotRendered(r(t)?));
    }
    if let Some(t) = &e.not_adopted {
        out.push(Check::NotAdopted(r(t)?));
    }
    if let Some(b) = e.rejected {
        if b && ctx.target.rejection.is_empty() {
            return Err(StepFailure::broken(format!(
                "target {} has no `rejection` block, so a refused sign-in cannot be told from a page that has not loaded yet",
                ctx.target.name
            )));
        }
        out.push(Check::Rejected(b));
    }
    if let Some(t) = &e.log {
        out.push(Check::Log(r(t)?));
    }
    if let Some(t) = &e.not_signed_in_as {
        out.push(Check::NotSignedInAs(r(t)?));
    }
    if e.no_egress == Some(true) {
        if ctx.canary.is_none() {
            return Err(StepFailure::broken(
                "no_egress needs the harness's canary, and this run has none",
            ));
        }
        out.push(Check::NoEgress);
    }
    if let Some(t) = &e.no_redirect {
        out.push(Check::NoRedirect(r(t)?));
    }
    if let Some(t) = &e.session_kept {
        if ctx.target.session_probe.is_none() {
            return Err(StepFailure::broken(format!(
                "session_kept needs the target's session_probe, and target {} declares none",
                ctx.target.name
            )));
        }
        out.push(Check::SessionKept(r(t)?));
    }
    for k in &e.idp_saw {
        out.push(Check::IdpSaw(k.clone()));
    }
    for k in &e.idp_did_not_see {
        out.push(Check::IdpDidNotSee(k.clone()));
    }
    if let Some(ms) = e.answers_within_ms {
        out.push(Check::AnswersWithin(ms));
    }
    if let Some(s) = &e.rp_sent {
        ctx.idp()?;
        out.push(Check::RpSent(s.clone()));
    }
    if let Some(l) = &e.logout_result {
        if ctx.last_logout.is_none() {
            return Err(StepFailure::broken(
                "logout_result judges the last backchannel_logout step, and none ran before it",
            ));
        }
        if l.session.is_some() && ctx.target.session_probe.is_none() {
            return Err(StepFailure::broken(format!(
                "logout_result.session needs the target's session_probe, and target {} declares none",
                ctx.target.name
            )));
        }
        out.push(Check::LogoutResult(l.clone()));
    }
    Ok(out)
}

/// Checks one expectation; the error is a readable diff.
pub async fn check(ctx: &mut TrialCtx<'_>, e: &Expectation) -> StepResult {
    let list = checks(ctx, e)?;
    let timeout = ctx.timeout(e.timeout_ms);
    let started = Instant::now();
    let deadline = started + timeout;
    let needs_idp = list
        .iter()
        .any(|c| matches!(c, Check::IdpSaw(_) | Check::IdpDidNotSee(_)));
    let result = loop {
        // No verdict while a navigation is under way: the page shown is about to be replaced
        // by the SP's answer.
        let left = deadline.saturating_duration_since(Instant::now());
        ctx.settle(left).await;
        if needs_idp {
            ctx.refresh_exchanges().await;
        }
        let mut failures = Vec::new();
        let mut oracles = Vec::new();
        for c in &list {
            if let Err(f) = evaluate(ctx, c).await {
                oracles.push((f.0, c.oracle()));
                failures.push(f);
            }
        }
        if failures.is_empty() {
            let skipped = e.display_name.is_some() && ctx.target.signals.display_name.is_none();
            break Ok(skipped.then(|| {
                format!(
                    "display_name not checked: target {} declares no signals.display_name",
                    ctx.target.name
                )
            }));
        }
        // A protected page that shows the user is a sign-in that went through: waiting
        // cannot turn it into a refusal, so a finding is reported at once.
        let accepted = failures.iter().any(|(k, _)| *k == FailureKind::Accepted);
        if accepted || Instant::now() >= deadline {
            // The most telling kind wins: an accepted forgery, else a refusal, else a mismatch.
            let kind = if failures.iter().any(|(k, _)| *k == FailureKind::Broken) {
                FailureKind::Broken
            } else if accepted {
                FailureKind::Accepted
            } else if failures.iter().any(|(k, _)| *k == FailureKind::Refused) {
                FailureKind::Refused
            } else {
                FailureKind::Mismatch
            };
            let oracle = oracles
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, o)| *o)
                .unwrap_or("page content");
            let diffs = failures.into_iter().map(|(_, d)| d).collect();
            let context = describe_page(ctx, started.elapsed()).await;
            break Err(StepFailure::diffs(kind, diffs)
                .decided_by(oracle)
                .with_context(context));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    if e.screenshot || result.is_err() {
        let name = format!(
            "expect (step {})",
            ctx.step_index.map(|i| i + 1).unwrap_or_default()
        );
        ctx.capture(&name).await?;
    }
    result
}

fn contains(haystack: &str, needle: &str) -> bool {
    normalise(haystack).contains(&normalise(needle))
}

/// Whitespace runs count as one space, so line breaks in a page do not break a match.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

type Failed = (FailureKind, Diff);

fn mismatch(
    what: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Failed {
    (FailureKind::Mismatch, Diff::new(what, expected, actual))
}

/// `expected <relation>: value`, e.g. `expected to contain: "Welcome"`.
fn mismatch_rel(
    what: impl Into<String>,
    relation: &'static str,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Failed {
    (
        FailureKind::Mismatch,
        Diff::new(what, expected, actual).related(relation),
    )
}

async fn evaluate(ctx: &mut TrialCtx<'_>, c: &Check) -> Result<(), Failed> {
    let signals = ctx.target.signals.clone();
    match c {
        Check::Text(want) => {
            let page = ctx.browser().page_text().await.unwrap_or_default();
            if contains(&page, want) {
                Ok(())
            } else {
                let mut f = mismatch_rel(
                    "text on the page",
                    "to contain",
                    format!("{want:?}"),
                    "not found",
                );
                if let Some(l) = closest_line(&page, want) {
                    f.1 = f.1.with_note(format!("closest line on the page: {l:?}"));
                }
                Err(f)
            }
        }
        Check::AbsentText(unwanted) => {
            let page = ctx.browser().page_text().await.unwrap_or_default();
            if contains(&page, unwanted) {
                Err(mismatch_rel(
                    "text on the page",
                    "NOT to contain",
                    format!("{unwanted:?}"),
                    "found",
                ))
            } else {
                Ok(())
            }
        }
        Check::Url(want) => {
            let url = ctx.browser().current_url().await.unwrap_or_default();
            if url.contains(want.as_str()) {
                Ok(())
            } else {
                Err(mismatch_rel(
                    "URL",
                    "to contain",
                    format!("{want:?}"),
                    format!("{url:?}"),
                ))
            }
        }
        Check::Status(want) => match ctx.http.last() {
            Some(ev) if ev.status == *want => Ok(()),
            Some(ev) => Err(mismatch(
                "HTTP status of the last page",
                want.to_string(),
                format!("{} ({})", ev.status, ev.url),
            )),
            None => Err(mismatch(
                "HTTP status",
                want.to_string(),
                "no page load was recorded (the browser's performance log is empty or unavailable)",
            )),
        },
        Check::SignedInAs(email) => {
            let what = format!("signed-in identity ({})", signals.identity_source());
            match identity(ctx).await {
                Seen::Identity(t) if same_identity(&t, email) => Ok(()),
                Seen::Identity(t) => Err(mismatch(what, format!("{email:?}"), format!("{t:?}"))),
                Seen::NoIdentity => {
                    let err = ctx.browser().element_text(&signals.error).await;
                    Err((
                        FailureKind::Refused,
                        Diff::new(
                            what,
                            format!("{email:?}"),
                            format!(
                                "not signed in{}",
                                err.map(|e| format!(": the page shows error {e:?}"))
                                    .unwrap_or_default()
                            ),
                        ),
                    ))
                }
                Seen::ElsewherePage(origin) => Err((
                    FailureKind::Refused,
                    Diff::new(
                        what,
                        format!("{email:?} on the SP's page"),
                        format!("the browser is on {origin}, not on the SP"),
                    ),
                )),
            }
        }
        Check::SignedIn(want) => {
            // Only the SP's own page, with a non-empty identity, is evidence of a session.
            let present = matches!(identity(ctx).await, Seen::Identity(_));
            if present == *want {
                Ok(())
            } else {
                let kind = if present {
                    FailureKind::Accepted
                } else {
                    FailureKind::Refused
                };
                Err((
                    kind,
                    Diff::new(
                        format!("signed in ({})", signals.identity_source()),
                        want.to_string(),
                        present.to_string(),
                    ),
                ))
            }
        }
        Check::NotSignedInAs(forged) => match identity(ctx).await {
            Seen::Identity(t) if same_identity(&t, forged) => Err((
                FailureKind::Accepted,
                Diff::new(
                    format!("signed-in identity ({})", signals.identity_source()),
                    format!("anyone but {forged:?} (a refusal or the genuine user)"),
                    format!("ACCEPTED: signed in as {t:?}"),
                ),
            )),
            _ => Ok(()),
        },
        Check::NoEgress => {
            let hits = ctx.canary_hits();
            if hits.is_empty() {
                Ok(())
            } else {
                let list: Vec<String> = hits
                    .iter()
                    .map(|h| {
                        format!(
                            "{} {} at {}{}",
                            h.method,
                            h.target,
                            h.at,
                            h.user_agent
                                .as_ref()
                                .map(|u| format!(" (User-Agent {u})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                Err((
                    FailureKind::Accepted,
                    Diff::new(
                        "requests to the canary",
                        "none",
                        format!("{} request(s)", hits.len()),
                    )
                    .with_note(list.join("\n")),
                ))
            }
        }
        Check::NoRedirect(host) => {
            let visited: Vec<String> = ctx
                .http
                .iter()
                .filter(|e| host_matches(&e.url, host))
                .map(|e| {
                    let status = match e.status {
                        0 => "no answer".to_string(),
                        s => s.to_string(),
                    };
                    format!(
                        "{} {} ({status})",
                        e.method.as_deref().unwrap_or("GET"),
                        e.url
                    )
                })
                .collect();
            if visited.is_empty() {
                Ok(())
            } else {
                Err((
                    FailureKind::Accepted,
                    Diff::new(
                        format!("pages loaded from {host}"),
                        "none",
                        format!("{} page(s)", visited.len()),
                    )
                    .with_note(visited.join("\n")),
                ))
            }
        }
        Check::SessionKept(email) => {
            let what = "session probe (is the session still there?)";
            match crate::trial::probe::look(ctx).await {
                Ok(seen) => match seen.identity {
                    Some(id) if same_identity(&id, email) => Ok(()),
                    Some(id) => Err(mismatch(
                        what,
                        format!("a session as {email:?}"),
                        format!("{} answered a session as {id:?}", seen.request),
                    )),
                    None => Err((
                        FailureKind::Accepted,
                        Diff::new(
                            what,
                            format!("a session as {email:?} (the message had to be refused)"),
                            format!("ACCEPTED: no session any more ({})", seen.answer),
                        ),
                    )),
                },
                Err(e) => Err(mismatch(
                    what,
                    format!("a session as {email:?}"),
                    e.to_string(),
                )),
            }
        }
        Check::IdpSaw(kind) => {
            let n = ctx.exchanges_of(kind).len();
            if n > 0 {
                Ok(())
            } else {
                Err(mismatch(
                    format!("the mock IdP's {kind} exchanges in this trial"),
                    "at least one",
                    format!("none (it recorded: {})", ctx.exchange_kinds().join(", ")),
                ))
            }
        }
        Check::IdpDidNotSee(kind) => {
            let seen = ctx.exchanges_of(kind);
            if seen.is_empty() {
                Ok(())
            } else {
                let lines: Vec<String> = seen
                    .iter()
                    .map(|x| {
                        format!(
                            "{} {} {} -> {}",
                            x["at"].as_str().unwrap_or_default(),
                            x["http"]["method"].as_str().unwrap_or_default(),
                            x["http"]["path"].as_str().unwrap_or_default(),
                            x["http"]["status"]
                        )
                    })
                    .collect();
                Err((
                    FailureKind::Accepted,
                    Diff::new(
                        format!("the mock IdP's {kind} exchanges in this trial"),
                        "none (the SP must not go on with what it should have refused)",
                        format!("{} exchange(s)", seen.len()),
                    )
                    .with_note(lines.join("\n")),
                ))
            }
        }
        Check::AnswersWithin(limit) => ctx.answered_within(*limit).await,
        Check::RpSent(want) => crate::trial::op_expect::rp_sent(ctx, want).await,
        Check::LogoutResult(want) => crate::trial::op_expect::logout_result(ctx, want).await,
        Check::Error(want) => {
            let what = format!("error message ({})", signals.error);
            match ctx.browser().element_text(&signals.error).await {
                Some(t) if contains(&t, want) => Ok(()),
                Some(t) => Err(mismatch_rel(
                    what,
                    "to contain",
                    format!("{want:?}"),
                    format!("{t:?}"),
                )),
                None => Err(mismatch_rel(
                    what,
                    "to contain",
                    format!("{want:?}"),
                    "no error element on the page",
                )),
            }
        }
        Check::DisplayName(want) => {
            let Some(sel) = signals.display_name.clone() else {
                return Ok(());
            };
            let what = format!("display name ({sel})");
            match ctx.browser().element_text(&sel).await {
                Some(t) if contains(&t, want) => Ok(()),
                Some(t) => Err(mismatch_rel(
                    what,
                    "to contain",
                    format!("{want:?}"),
                    format!("{t:?}"),
                )),
                None => Err(mismatch(
                    what,
                    format!("{want:?}"),
                    "no such element on the page",
                )),
            }
        }
        Check::Element(sel) => {
            if ctx.browser().has_element(sel).await {
                Ok(())
            } else {
                Err(mismatch(
                    "element",
                    format!("{sel:?} on the page"),
                    "absent",
                ))
            }
        }
        Check::AbsentElement(sel) => {
            if ctx.browser().has_element(sel).await {
                Err(mismatch(
                    "element",
                    format!("no {sel:?} on the page"),
                    "present",
                ))
            } else {
                Ok(())
            }
        }
        Check::NotRendered(sel) => {
            if ctx.browser().has_element(sel).await {
                Err((
                    FailureKind::Accepted,
                    Diff::new(
                        "markup the IdP sent",
                        format!("shown as text, no {sel:?} element on the page"),
                        format!("ACCEPTED: the page renders it as an element {sel:?}"),
                    ),
                ))
            } else {
                Ok(())
            }
        }
        Check::NotAdopted(forged) => {
            let page = ctx.browser().page_text().await.unwrap_or_default();
            if contains(&page, forged) {
                Err((
                    FailureKind::Accepted,
                    Diff::new(
                        "a value only the forged message carries",
                        format!("{forged:?} nowhere on the page"),
                        format!("ACCEPTED: the page shows {forged:?}"),
                    ),
                ))
            } else {
                Ok(())
            }
        }
        Check::Rejected(want) => {
            let seen = identity(ctx).await;
            if !*want {
                return if matches!(seen, Seen::Identity(_)) {
                    Ok(())
                } else {
                    Err((
                        FailureKind::Refused,
                        Diff::new(
                            "sign-in accepted",
                            format!("signed in ({})", signals.identity_source()),
                            "not signed in",
                        ),
                    ))
                };
            }
            match seen {
                Seen::Identity(who) => Err((
                    FailureKind::Accepted,
                    Diff::new(
                        "sign-in refused",
                        format!("refused ({})", rejection_signals(&ctx.target.rejection)),
                        format!("ACCEPTED: signed in as {who:?}"),
                    ),
                )),
                // A refusal counts only when the SP's own page shows it: the mock IdP's error
                // pages answer 400/403/500 too.
                Seen::ElsewherePage(origin) => Err(mismatch_rel(
                    "sign-in refused",
                    "one of",
                    format!(
                        "{} on the SP's page",
                        rejection_signals(&ctx.target.rejection)
                    ),
                    format!("the browser is on {origin}: the SP never answered"),
                )),
                Seen::NoIdentity => match shows_rejection(ctx).await {
                    Some(_) => Ok(()),
                    None => Err(mismatch_rel(
                        "sign-in refused",
                        "one of",
                        rejection_signals(&ctx.target.rejection),
                        format!(
                            "none shows (last HTTP status {})",
                            ctx.http
                                .last()
                                .map(|e| e.status.to_string())
                                .unwrap_or_else(|| "unknown".into())
                        ),
                    )),
                },
            }
        }
        Check::Log(want) => {
            let lines = ctx.target_log_lines();
            if lines.iter().any(|l| contains(l, want)) {
                Ok(())
            } else {
                let last: Vec<String> = lines
                    .iter()
                    .rev()
                    .take(8)
                    .rev()
                    .map(|l| format!("| {}", l.chars().take(240).collect::<String>()))
                    .collect();
                let mut f = mismatch_rel(
                    "target log",
                    "a line containing",
                    format!("{want:?}"),
                    format!("not found in {} line(s)", lines.len()),
                );
                if !last.is_empty() {
                    f.1 =
                        f.1.with_note(format!("the last ones:\n{}", last.join("\n")));
                }
                Err(f)
            }
        }
    }
}

/// What the page shown says about who is signed in.
enum Seen {
    /// The SP's page shows this (non-empty) identity.
    Identity(String),
    /// The SP's page shows no identity.
    NoIdentity,
    /// The page is not the SP's (the mock IdP's, another host's): no evidence either way.
    ElsewherePage(String),
}

async fn identity(ctx: &mut TrialCtx<'_>) -> Seen {
    if !ctx.on_sp_page().await {
        let origin = ctx
            .page_origin()
            .await
            .unwrap_or_else(|| "a non-http page".into());
        return Seen::ElsewherePage(origin);
    }
    let signals = ctx.target.signals.clone();
    if let Some(w) = &signals.whoami {
        let Ok(url) = ctx.render(&w.url) else {
            return Seen::NoIdentity;
        };
        return match crate::trial::probe::whoami(ctx, &url, &w.field).await {
            Some(id) => Seen::Identity(id),
            None => Seen::NoIdentity,
        };
    }
    if let Some(p) = &signals.signed_in_text {
        let text = ctx.browser().page_text().await.unwrap_or_default();
        return match p.identity(&text) {
            Some(id) => Seen::Identity(id),
            None => Seen::NoIdentity,
        };
    }
    let sel = signals.signed_in;
    match ctx.browser().element_text(&sel).await {
        // An empty marker is not a sign-in: an identity is never empty.
        Some(t) if !t.trim().is_empty() => Seen::Identity(t.trim().to_string()),
        _ => Seen::NoIdentity,
    }
}

/// The page's identity text names `email`: exactly (case-insensitively), or as a whole token
/// of it ("Signed in as alice@acme.test"). A longer identity that merely starts with it
/// (`alice@acme.test.evil.test`) is another identity: that difference is what a
/// comment-injection attack is about.
fn same_identity(shown: &str, email: &str) -> bool {
    let shown = shown.trim().to_lowercase();
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return false;
    }
    let part_of_identity = |c: char| c.is_alphanumeric() || "._%+-@".contains(c);
    shown.match_indices(&email).any(|(i, m)| {
        let before = shown[..i].chars().next_back();
        let after = shown[i + m.len()..].chars().next();
        // a sentence may end with a full stop right after the address
        let after_ok = match after {
            None => true,
            Some('.') => shown[i + m.len() + 1..]
                .chars()
                .next()
                .is_none_or(|c| !part_of_identity(c)),
            Some(c) => !part_of_identity(c),
        };
        before.is_none_or(|c| !part_of_identity(c)) && after_ok
    })
}

fn host_matches(url: &str, host: &str) -> bool {
    if host.contains("://") {
        return url.starts_with(host);
    }
    url::Url::parse(url).is_ok_and(|u| {
        let h = u.host_str().unwrap_or_default();
        let hp = format!("{h}:{}", u.port_or_known_default().unwrap_or(0));
        h.eq_ignore_ascii_case(host) || hp.eq_ignore_ascii_case(host)
    })
}

/// Which of the target's rejection signals shows now, if any.
async fn shows_rejection(ctx: &mut TrialCtx<'_>) -> Option<String> {
    let rejection = ctx.target.rejection.clone();
    if let Some(ev) = ctx.http.last() {
        let from_sp = url::Url::parse(&ev.url)
            .map(|u| ctx.sp_origins.contains(&u.origin().ascii_serialization()))
            .unwrap_or(false);
        if from_sp && rejection.status.contains(&ev.status) {
            return Some(format!("HTTP {}", ev.status));
        }
    }
    if !rejection.text.is_empty() {
        let page = ctx.browser().page_text().await.unwrap_or_default();
        if let Some(t) = rejection.text.iter().find(|t| contains(&page, t)) {
            return Some(format!("text {t:?}"));
        }
    }
    if let Some(sel) = &rejection.element {
        if ctx.browser().has_element(sel).await {
            return Some(format!("element {sel}"));
        }
    }
    None
}

fn rejection_signals(r: &crate::target::descriptor::Rejection) -> String {
    let mut out: Vec<String> = r.status.iter().map(|s| format!("HTTP {s}")).collect();
    out.extend(r.text.iter().map(|t| format!("text {t:?}")));
    out.extend(r.element.iter().map(|e| format!("element {e}")));
    out.join(", ")
}

/// The page as the failure left it: URL, last status, the first lines of text.
async fn describe_page(ctx: &mut TrialCtx<'_>, waited: Duration) -> String {
    let url = ctx.browser().current_url().await.unwrap_or_default();
    let status = ctx
        .http
        .last()
        .map(|e| format!(" (last HTTP status {})", e.status))
        .unwrap_or_default();
    let page = ctx.browser().page_text().await.unwrap_or_default();
    let mut out = format!("(after {} ms) page: {url}{status}\n", waited.as_millis());
    let lines: Vec<&str> = page
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    out.push_str("page text:\n");
    for l in lines.iter().take(15) {
        out.push_str(&format!("  | {l}\n"));
    }
    if lines.len() > 15 {
        out.push_str(&format!("  | ... ({} more lines)\n", lines.len() - 15));
    }
    out
}

/// The page line most like the expected text, to show near-misses.
fn closest_line(page: &str, want: &str) -> Option<String> {
    page.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            (
                strsim::normalized_levenshtein(&l.to_lowercase(), &want.to_lowercase()),
                l,
            )
        })
        .filter(|(score, _)| *score > 0.4)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, l)| l.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_match_as_whole_tokens() {
        assert!(same_identity("alice@acme.test", "Alice@Acme.test"));
        assert!(same_identity(
            "Signed in as alice@acme.test",
            "alice@acme.test"
        ));
        assert!(same_identity(
            "Signed in as alice@acme.test.",
            "alice@acme.test"
        ));
        assert!(!same_identity(
            "alice@acme.test.evil.test",
            "alice@acme.test"
        ));
        assert!(!same_identity("malice@acme.test", "alice@acme.test"));
        assert!(!same_identity("", "alice@acme.test"));
        assert!(!same_identity("alice@acme.test", ""));
    }

    #[test]
    fn hosts_match_with_or_without_port() {
        assert!(host_matches("http://evil.test:8080/x", "evil.test"));
        assert!(host_matches("http://evil.test:8080/x", "evil.test:8080"));
        assert!(host_matches("https://evil.test/x", "evil.test:443"));
        assert!(!host_matches("http://good.test/x", "evil.test"));
    }
}
