//! Expectations: every assertion polls until it holds or the timeout passes; a failure
//! reads as a diff (expected vs actual) with the page's state.
use std::time::{Duration, Instant};

use crate::scenario::schema::Expectation;
use crate::steps::StepResult;
use crate::trial::TrialCtx;

/// How a `rejected: true` failure reads when the target signed the user in.
const ACCEPTED: &str = "ACCEPTED:";

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

fn checks(ctx: &TrialCtx<'_>, e: &Expectation) -> Result<Vec<Check>, String> {
    let r = |t: &crate::template::Template| ctx.render(t);
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
            return Err(format!(
                "target {} has no `rejection` block, so a refused sign-in cannot be told from a page that has not loaded yet",
                ctx.target.name
            ));
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
            if let Err(diff) = evaluate(ctx, c).await {
                failures.push(diff);
            }
        }
        if failures.is_empty() {
            break Ok(None);
        }
        // A protected page that shows the user is a sign-in that went through: waiting
        // cannot turn it into a refusal, so a finding is reported at once.
        let settled = list.iter().any(|c| matches!(c, Check::Rejected(true)))
            && failures.iter().any(|f| f.contains(ACCEPTED));
        if settled || Instant::now() >= deadline {
            break Err(describe_failure(ctx, &failures, started.elapsed()).await);
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

async fn evaluate(ctx: &mut TrialCtx<'_>, c: &Check) -> Result<(), String> {
    let signals = ctx.target.signals.clone();
    match c {
        Check::Text(want) => {
            let page = ctx.browser().page_text().await.unwrap_or_default();
            if contains(&page, want) {
                Ok(())
            } else {
                let closest = closest_line(&page, want)
                    .map(|l| format!("\n    closest line on the page: {l:?}"))
                    .unwrap_or_default();
                Err(format!(
                    "text on the page\n  - expected to contain: {want:?}\n  + not found{closest}"
                ))
            }
        }
        Check::AbsentText(unwanted) => {
            let page = ctx.browser().page_text().await.unwrap_or_default();
            if contains(&page, unwanted) {
                Err(format!(
                    "text on the page\n  - expected NOT to contain: {unwanted:?}\n  + found"
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
                Err(format!(
                    "URL\n  - expected to contain: {want:?}\n  + actual: {url:?}"
                ))
            }
        }
        Check::Status(want) => match ctx.http.last() {
            Some(ev) if ev.status == *want => Ok(()),
            Some(ev) => Err(format!(
                "HTTP status of the last page\n  - expected: {want}\n  + actual: {} ({})",
                ev.status, ev.url
            )),
            None => Err(format!(
                "HTTP status\n  - expected: {want}\n  + no page load was recorded (the browser's performance log is empty or unavailable)"
            )),
        },
        Check::SignedInAs(email) => match ctx.browser().element_text(&signals.signed_in).await {
            Some(t) if t.trim().eq_ignore_ascii_case(email.trim()) || contains(&t, email) => Ok(()),
            Some(t) => Err(format!(
                "signed-in identity ({})\n  - expected: {email:?}\n  + actual: {t:?}",
                signals.signed_in
            )),
            None => {
                let err = ctx.browser().element_text(&signals.error).await;
                Err(format!(
                    "signed-in identity ({})\n  - expected: {email:?}\n  + not signed in{}",
                    signals.signed_in,
                    err.map(|e| format!(": the page shows error {e:?}"))
                        .unwrap_or_default()
                ))
            }
        },
        Check::SignedIn(want) => {
            let present = ctx.browser().has_element(&signals.signed_in).await;
            if present == *want {
                Ok(())
            } else {
                Err(format!(
                    "signed in ({})\n  - expected: {want}\n  + actual: {present}",
                    signals.signed_in
                ))
            }
        }
        Check::Error(want) => match ctx.browser().element_text(&signals.error).await {
            Some(t) if contains(&t, want) => Ok(()),
            Some(t) => Err(format!(
                "error message ({})\n  - expected to contain: {want:?}\n  + actual: {t:?}",
                signals.error
            )),
            None => Err(format!(
                "error message ({})\n  - expected to contain: {want:?}\n  + no error element on the page",
                signals.error
            )),
        },
        Check::DisplayName(want) => match ctx.browser().element_text(&signals.display_name).await {
            Some(t) if contains(&t, want) => Ok(()),
            Some(t) => Err(format!(
                "display name ({})\n  - expected to contain: {want:?}\n  + actual: {t:?}",
                signals.display_name
            )),
            None => Err(format!(
                "display name ({})\n  - expected: {want:?}\n  + no such element on the page",
                signals.display_name
            )),
        },
        Check::Element(sel) => {
            if ctx.browser().has_element(sel).await {
                Ok(())
            } else {
                Err(format!(
                    "element\n  - expected: {sel:?} on the page\n  + absent"
                ))
            }
        }
        Check::AbsentElement(sel) => {
            if ctx.browser().has_element(sel).await {
                Err(format!(
                    "element\n  - expected: no {sel:?} on the page\n  + present"
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
                    Err(format!(
                        "sign-in accepted\n  - expected: signed in ({})\n  + not signed in",
                        signals.signed_in
                    ))
                };
            }
            if signed_in {
                let who = ctx
                    .browser()
                    .element_text(&signals.signed_in)
                    .await
                    .unwrap_or_default();
                return Err(format!(
                    "sign-in refused\n  - expected: refused ({})\n  + {ACCEPTED} signed in as {who:?}",
                    rejection_signals(&ctx.target.rejection)
                ));
            }
            match shows_rejection(ctx).await {
                Some(_) => Ok(()),
                None => Err(format!(
                    "sign-in refused\n  - expected one of: {}\n  + none shows (last HTTP status {})",
                    rejection_signals(&ctx.target.rejection),
                    ctx.http
                        .last()
                        .map(|e| e.status.to_string())
                        .unwrap_or_else(|| "unknown".into())
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
                    .map(|l| format!("\n    | {}", l.chars().take(240).collect::<String>()))
                    .collect();
                Err(format!(
                    "target log\n  - expected a line containing: {want:?}\n  + not found in {} line(s); the last ones:{}",
                    lines.len(),
                    last.concat()
                ))
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

fn rejection_signals(r: &crate::target::Rejection) -> String {
    let mut out: Vec<String> = r.status.iter().map(|s| format!("HTTP {s}")).collect();
    out.extend(r.text.iter().map(|t| format!("text {t:?}")));
    out.extend(r.element.iter().map(|e| format!("element {e}")));
    out.join(", ")
}

async fn describe_failure(ctx: &mut TrialCtx<'_>, failures: &[String], waited: Duration) -> String {
    let url = ctx.browser().current_url().await.unwrap_or_default();
    let status = ctx
        .http
        .last()
        .map(|e| format!(" (last HTTP status {})", e.status))
        .unwrap_or_default();
    let page = ctx.browser().page_text().await.unwrap_or_default();
    let mut out = format!("expectation not met after {} ms:\n", waited.as_millis());
    for f in failures {
        out.push_str(&format!("  {}\n", f.replace('\n', "\n  ")));
    }
    out.push_str(&format!("page: {url}{status}\n"));
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
