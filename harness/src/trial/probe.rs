//! The session probe: after a flow in which the SP had to refuse, ask it "who is signed in
//! now?" in the same browser. An SP may create the session and then show an error page (a
//! module that signs in, then a later access rule that answers 401): the page said "refused",
//! the session says otherwise, and the session is what an attacker uses.
use serde::Deserialize;
use serde_json::json;

use crate::scenario::schema::Expectation;
use crate::trial::ctx::TrialCtx;
use crate::trial::failure::{Diff, FailureKind, StepFailure};

/// Fetches `url` from the SP's origin with the page's cookies, without following redirects:
/// a redirect means "not signed in" (it would send the browser to a login page or the IdP,
/// and following it could start a new sign-in).
const PROBE_SCRIPT: &str = r#"
const [url, selector] = arguments;
try {
  const r = await fetch(url, { redirect: "manual", credentials: "include", cache: "no-store" });
  if (r.type === "opaqueredirect") { return { outcome: "redirect", status: 0, identity: null }; }
  const text = await r.text();
  const doc = new DOMParser().parseFromString(text, "text/html");
  let el = null;
  try { el = doc.querySelector(selector); } catch (e) { return { outcome: "error", status: r.status, identity: null, error: "invalid selector: " + e.message }; }
  const identity = el ? (el.textContent || "").trim() : null;
  return { outcome: "answered", status: r.status, identity: identity || null };
} catch (e) {
  return { outcome: "error", status: 0, identity: null, error: String(e) };
}
"#;

/// `signals.whoami`: the JSON answer of the SP's "who am I" URL, from the SP's origin with
/// the browser's cookies, never following a redirect (a redirect is no session).
const WHOAMI_SCRIPT: &str = r#"
const [url] = arguments;
try {
  const r = await fetch(url, { redirect: "manual", credentials: "include", cache: "no-store", headers: { "accept": "application/json" } });
  if (r.type === "opaqueredirect" || !r.ok) { return null; }
  return await r.json();
} catch (e) {
  return null;
}
"#;

/// The identity `field` (dotted path) of the SP's who-am-I answer at `url`; None when there
/// is no session, no such field, or an empty one.
pub async fn whoami(ctx: &mut TrialCtx<'_>, url: &str, field: &str) -> Option<String> {
    let answer = ctx
        .browser()
        .execute(WHOAMI_SCRIPT, vec![json!(url)])
        .await
        .ok()?;
    let mut v = &answer;
    for part in field.split('.') {
        v = v.get(part)?;
    }
    let id = match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}

#[derive(Debug, Deserialize)]
struct ProbeAnswer {
    outcome: String,
    status: u16,
    identity: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// What the final expectations forbid: any session, or a session as these identities.
pub enum Forbidden {
    AnySession,
    Identities(Vec<String>),
}

/// Whether a trial's final expectations make it a negative flow, and what they forbid.
pub fn forbidden(finals: &[Expectation], ctx: &TrialCtx<'_>) -> Option<Forbidden> {
    let any = finals
        .iter()
        .any(|e| e.rejected == Some(true) || e.signed_in == Some(false));
    if any {
        return Some(Forbidden::AnySession);
    }
    let ids: Vec<String> = finals
        .iter()
        .filter_map(|e| e.not_signed_in_as.as_ref())
        .filter_map(|t| ctx.render(t).ok())
        .collect();
    (!ids.is_empty()).then_some(Forbidden::Identities(ids))
}

/// What the session probe found: the request it made, how it was answered, and the
/// identity of the session (None: no session).
pub struct Looked {
    pub request: String,
    pub selector: String,
    pub status: u16,
    pub answer: String,
    pub identity: Option<String>,
}

/// How this trial can ask the SP who is signed in: the target's `session_probe`, or, after a
/// sign-out, the page that showed the user (or its who-am-I URL), asked the same way.
enum Via {
    Page {
        url: String,
        own_selector: Option<String>,
    },
    Whoami(crate::target::descriptor::Whoami),
}

fn via(ctx: &TrialCtx<'_>) -> Result<Option<Via>, StepFailure> {
    Ok(match (&ctx.target.session_probe, &ctx.signed_out_from) {
        (Some(p), _) => Some(Via::Page {
            url: ctx.render(&p.url)?,
            own_selector: p.signed_in.clone(),
        }),
        (None, Some(page)) => Some(match ctx.target.signals.whoami.clone() {
            Some(w) => Via::Whoami(w),
            None => Via::Page {
                url: page.clone(),
                own_selector: None,
            },
        }),
        (None, None) => None,
    })
}

/// Asks the SP "who is signed in now?" in this browser.
pub async fn look(ctx: &mut TrialCtx<'_>) -> Result<Looked, StepFailure> {
    let (url, own_selector) = match via(ctx)? {
        Some(Via::Page { url, own_selector }) => (url, own_selector),
        Some(Via::Whoami(w)) => {
            let url = ctx.render(&w.url)?;
            to_sp_page(ctx).await?;
            let identity = whoami(ctx, &url, &w.field).await;
            let request = format!("GET {url}");
            return Ok(Looked {
                answer: match &identity {
                    None => format!("{request}: no identity in .{} (no session)", w.field),
                    Some(id) => format!("{request}: signed in as {id:?}"),
                },
                request,
                selector: format!(".{}", w.field),
                status: 200,
                identity,
            });
        }
        None => {
            return Err(StepFailure::broken(format!(
                "target {} declares no session_probe",
                ctx.target.name
            )));
        }
    };
    // A target that reads the identity from a pattern over the page's text probes the
    // whole body with it, unless the probe names its own element.
    let pattern = match &own_selector {
        Some(_) => None,
        None => ctx.target.signals.signed_in_text.clone(),
    };
    let selector = match (&own_selector, &pattern) {
        (Some(s), _) => s.clone(),
        (None, Some(_)) => "body".to_string(),
        (None, None) => ctx.target.signals.signed_in.clone(),
    };
    to_sp_page(ctx).await?;
    let answer = ctx
        .browser()
        .execute(PROBE_SCRIPT, vec![json!(url), json!(selector)])
        .await?;
    let mut a: ProbeAnswer = serde_json::from_value(answer)?;
    if let Some(p) = &pattern {
        a.identity = a.identity.as_deref().and_then(|t| p.identity(t));
    }
    let request = format!("GET {url}");
    match (&a.outcome[..], a.identity) {
        ("redirect", _) => Ok(Looked {
            answer: format!("{request}: redirected (no session)"),
            request,
            selector,
            status: a.status,
            identity: None,
        }),
        ("error", _) => Err(StepFailure::broken(format!(
            "session probe {request}: {}",
            a.error.unwrap_or_default()
        ))),
        (_, identity) => Ok(Looked {
            answer: match &identity {
                None => format!(
                    "{request}: HTTP {}, no identity in {selector} (no session)",
                    a.status
                ),
                Some(id) => format!("{request}: HTTP {}, signed in as {id:?}", a.status),
            },
            request,
            selector,
            status: a.status,
            identity,
        }),
    }
}

/// Probes the session; Ok(note) when it shows nothing forbidden, Err(accepted) when it does.
pub async fn probe(ctx: &mut TrialCtx<'_>, forbidden: &Forbidden) -> Result<String, StepFailure> {
    if via(ctx)?.is_none() {
        return Ok(format!(
            "target {} declares no session_probe: the session was not checked",
            ctx.target.name
        ));
    }
    let looked = look(ctx).await?;
    let Some(seen) = looked.identity.clone() else {
        return Ok(looked.answer);
    };
    judge(
        forbidden,
        &seen,
        &format!("{}, {}", looked.request, looked.selector),
        &format!("HTTP {}", looked.status),
        note(ctx),
    )
}

/// The fetch must come from a page of the SP's origin to carry its cookies.
async fn to_sp_page(ctx: &mut TrialCtx<'_>) -> Result<(), StepFailure> {
    ctx.settle(ctx.default_timeout).await;
    if !ctx.on_sp_page().await {
        let base = ctx
            .vars
            .get("sp.base_url")
            .map(str::to_string)
            .map_err(StepFailure::broken)?;
        ctx.browser().goto(&base).await?;
        ctx.settle(ctx.default_timeout).await;
    }
    Ok(())
}

/// What a session found by the probe means in this trial.
fn note(ctx: &TrialCtx<'_>) -> &'static str {
    if ctx.signed_out_from.is_some() {
        "the session outlived the sign-out, although the page it showed said no one is signed in"
    } else {
        "the SP created a session although the page it showed said otherwise"
    }
}

/// Whether the identity the probe saw is one the trial forbids.
fn judge(
    forbidden: &Forbidden,
    seen: &str,
    source: &str,
    answer: &str,
    note: &str,
) -> Result<String, StepFailure> {
    let hit = match forbidden {
        Forbidden::AnySession => true,
        Forbidden::Identities(ids) => ids.iter().any(|f| seen.eq_ignore_ascii_case(f.trim())),
    };
    if hit {
        Err(StepFailure::diff(
            FailureKind::Accepted,
            Diff::new(
                format!("session probe ({source})"),
                match forbidden {
                    Forbidden::AnySession => "no session".to_string(),
                    Forbidden::Identities(ids) => format!("no session as {}", ids.join(", ")),
                },
                format!("ACCEPTED: {answer}, signed in as {seen:?}"),
            )
            .with_note(note),
        )
        .decided_by("session probe"))
    } else {
        Ok(format!(
            "{source}: {answer}, signed in as {seen:?} (allowed: the genuine identity)"
        ))
    }
}

/// What the session probe saw, for expectations that judge it themselves (`logout_result`).
pub struct Probed {
    /// `GET url, selector`, for the report.
    pub what: String,
    pub status: u16,
    /// Who is signed in, if anyone.
    pub identity: Option<String>,
    /// What the probe found, in words (a redirect, no identity on the page, who).
    pub note: String,
}

/// Asks the SP who is signed in now, with the browser's cookies; None when this trial has no
/// way to ask (no `session_probe`, and no sign-out page to ask again).
pub async fn who(ctx: &mut TrialCtx<'_>) -> Result<Option<Probed>, StepFailure> {
    if via(ctx)?.is_none() {
        return Ok(None);
    }
    let l = look(ctx).await?;
    Ok(Some(Probed {
        what: format!("{}, {}", l.request, l.selector),
        status: l.status,
        identity: l.identity,
        note: l.answer,
    }))
}
