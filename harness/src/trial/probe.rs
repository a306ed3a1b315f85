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

/// What the session probe saw.
pub struct Probed {
    /// `GET url, selector`, for the report.
    pub what: String,
    pub status: u16,
    /// Who is signed in, if anyone.
    pub identity: Option<String>,
    /// Why nobody is (a redirect, no identity on the page).
    pub note: String,
}

/// Asks the SP who is signed in now, with the browser's cookies; None when the target
/// declares no `session_probe`.
pub async fn who(ctx: &mut TrialCtx<'_>) -> Result<Option<Probed>, StepFailure> {
    let Some(p) = ctx.target.session_probe.clone() else {
        return Ok(None);
    };
    let url = ctx.render(&p.url)?;
    // A target that reads the identity from a pattern over the page's text probes the
    // whole body with it, unless the probe names its own element.
    let pattern = match &p.signed_in {
        Some(_) => None,
        None => ctx.target.signals.signed_in_text.clone(),
    };
    let selector = match (&p.signed_in, &pattern) {
        (Some(s), _) => s.clone(),
        (None, Some(_)) => "body".to_string(),
        (None, None) => ctx.target.signals.signed_in.clone(),
    };
    // The fetch must come from a page of the SP's origin to carry its cookies.
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
    let answer = ctx
        .browser()
        .execute(PROBE_SCRIPT, vec![json!(url), json!(selector)])
        .await?;
    let mut a: ProbeAnswer = serde_json::from_value(answer)?;
    if let Some(p) = &pattern {
        a.identity = a.identity.as_deref().and_then(|t| p.identity(t));
    }
    let what = format!("GET {url}, {selector}");
    let note = match (&a.outcome[..], &a.identity) {
        ("redirect", _) => format!("GET {url}: redirected (no session)"),
        ("error", _) => {
            return Err(StepFailure::broken(format!(
                "session probe GET {url}: {}",
                a.error.unwrap_or_default()
            )));
        }
        (_, None) => format!(
            "GET {url}: HTTP {}, no identity in {selector} (no session)",
            a.status
        ),
        (_, Some(id)) => format!("GET {url}: HTTP {}, signed in as {id:?}", a.status),
    };
    let identity = if a.outcome == "redirect" {
        None
    } else {
        a.identity
    };
    Ok(Some(Probed {
        what,
        status: a.status,
        identity,
        note,
    }))
}

/// Probes the session; Ok(note) when it shows nothing forbidden, Err(accepted) when it does.
pub async fn probe(ctx: &mut TrialCtx<'_>, forbidden: &Forbidden) -> Result<String, StepFailure> {
    let Some(probed) = who(ctx).await? else {
        return Ok(format!(
            "target {} declares no session_probe: the session was not checked",
            ctx.target.name
        ));
    };
    let Some(seen) = probed.identity.clone() else {
        return Ok(probed.note);
    };
    let hit = match forbidden {
        Forbidden::AnySession => true,
        Forbidden::Identities(ids) => ids.iter().any(|f| seen.eq_ignore_ascii_case(f.trim())),
    };
    if hit {
        Err(StepFailure::diff(
            FailureKind::Accepted,
            Diff::new(
                format!("session probe ({})", probed.what),
                match forbidden {
                    Forbidden::AnySession => "no session".to_string(),
                    Forbidden::Identities(ids) => format!("no session as {}", ids.join(", ")),
                },
                format!("ACCEPTED: HTTP {}, signed in as {seen:?}", probed.status),
            )
            .with_note("the SP created a session although the page it showed said otherwise"),
        )
        .decided_by("session probe"))
    } else {
        Ok(format!("{} (allowed: the genuine identity)", probed.note))
    }
}
