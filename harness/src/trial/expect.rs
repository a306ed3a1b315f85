//! Expectations: every assertion polls until it holds or the timeout passes; a failure
//! reads as a diff (expected vs actual) with the page's state.
use std::time::{Duration, Instant};

use crate::scenario::schema::Expectation;
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::{Diff, FailureKind, StepFailure, StepResult};

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
    Rejected(bool),
    Log(String),
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
        out.push(Check::DisplayName(r(t)?));
    }
    if let Some(t) = &e.element {
        out.push(Check::Element(r(t)?));
    }
    if let Some(t) = &e.absent_element {
        out.push(Check::AbsentElement(r(t)?));
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
    Ok(out)
}

/// Checks one expectation; the error is a readable diff.
pub async fn check(ctx: &mut TrialCtx<'_>, e: &Expectation) -> StepResult {
    let list = checks(ctx, e)?;
    let timeout = ctx.timeout(e.timeout_ms);
    let started = Instant::now();
    let deadline = started + timeout;
    let result = loop {
        ctx.collect_http().await;
        let mut failures = Vec::new();
        for c in &list {
            if let Err(f) = evaluate(ctx, c).await {
                failures.push(f);
            }
        }
        if failures.is_empty() {
            break Ok(None);
        }
        // A protected page that shows the user is a sign-in that went through: waiting
        // cannot turn it into a refusal, so a finding is reported at once.
        let accepted = failures.iter().any(|(k, _)| *k == FailureKind::Accepted);
        if accepted || Instant::now() >= deadline {
            let kind = if accepted {
                FailureKind::Accepted
            } else {
                FailureKind::Mismatch
            };
            let diffs = failures.into_iter().map(|(_, d)| d).collect();
            let context = describe_page(ctx, started.elapsed()).await;
            break Err(StepFailure::diffs(kind, diffs).with_context(context));
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
            let what = format!("signed-in identity ({})", signals.signed_in);
            match ctx.browser().element_text(&signals.signed_in).await {
                Some(t) if t.trim().eq_ignore_ascii_case(email.trim()) || contains(&t, email) => {
                    Ok(())
                }
                Some(t) => Err(mismatch(what, format!("{email:?}"), format!("{t:?}"))),
                None => {
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
            }
        }
        Check::SignedIn(want) => {
            let present = ctx.browser().has_element(&signals.signed_in).await;
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
                        format!("signed in ({})", signals.signed_in),
                        want.to_string(),
                        present.to_string(),
                    ),
                ))
            }
        }
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
            let what = format!("display name ({})", signals.display_name);
            match ctx.browser().element_text(&signals.display_name).await {
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
        Check::Rejected(want) => {
            let signed_in = ctx.browser().has_element(&signals.signed_in).await;
            if !*want {
                return if signed_in {
                    Ok(())
                } else {
                    Err((
                        FailureKind::Refused,
                        Diff::new(
                            "sign-in accepted",
                            format!("signed in ({})", signals.signed_in),
                            "not signed in",
                        ),
                    ))
                };
            }
            if signed_in {
                let who = ctx
                    .browser()
                    .element_text(&signals.signed_in)
                    .await
                    .unwrap_or_default();
                return Err((
                    FailureKind::Accepted,
                    Diff::new(
                        "sign-in refused",
                        format!("refused ({})", rejection_signals(&ctx.target.rejection)),
                        format!("ACCEPTED: signed in as {who:?}"),
                    ),
                ));
            }
            match shows_rejection(ctx).await {
                Some(_) => Ok(()),
                None => Err(mismatch_rel(
                    "sign-in refused",
                    "one of",
                    format!("{}", rejection_signals(&ctx.target.rejection)),
                    format!(
                        "none shows (last HTTP status {})",
                        ctx.http
                            .last()
                            .map(|e| e.status.to_string())
                            .unwrap_or_else(|| "unknown".into())
                    ),
                )),
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

/// Which of the target's rejection signals shows now, if any.
async fn shows_rejection(ctx: &mut TrialCtx<'_>) -> Option<String> {
    let rejection = ctx.target.rejection.clone();
    if let Some(ev) = ctx.http.last() {
        if rejection.status.contains(&ev.status) {
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
