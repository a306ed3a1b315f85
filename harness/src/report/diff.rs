//! Where a staging SP behaves differently from the reference SP (`sso-harness diff`): the same
//! scenarios ran on both, and each pair of trials is compared by what a product team reads in
//! its help pages: the verdict, the error text shown, whether a sign-in happened, and the HTTP
//! status of the final page. Pure: it reads the outcomes it is given and renders text.
//!
//! The two SPs live on different origins with different organisation IDs, so hosts are never
//! compared and the IDs a trial's context names (`org.id`, the IdP tenant, ...) are replaced
//! by their placeholder before texts and paths are compared.
use std::collections::HashMap;

use serde::Serialize;

use super::html::esc;
use crate::trial::failure::FailureKind;
use crate::trial::outcome::{StepRecord, TrialOutcome, Verdict};

/// The comparison of a reference run with a staging run, one row per scenario (`diff.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BehaviourDiff {
    /// The reference run's target (as its trials name it), empty when it had no trials.
    pub reference: String,
    /// The staging run's target.
    pub staging: String,
    /// Reference order first, then scenarios that ran on staging only.
    pub rows: Vec<Row>,
    pub same: usize,
    pub differ: usize,
    pub not_compared: usize,
}

/// One scenario, as both SPs handled it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub scenario_id: String,
    /// The scenario's name (what it tests, in words).
    pub scenario: String,
    /// Catalogue behaviour IDs the scenario covers (e.g. `ERR-1`).
    pub covers: Vec<String>,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Comparison {
    Same,
    Differs {
        what: Vec<Difference>,
    },
    /// Skipped, errored or missing on a side: nothing was learnt to compare.
    NotCompared {
        reason: String,
    },
}

/// One aspect in which staging behaved differently, with both values as shown to a reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub aspect: Aspect,
    pub reference: String,
    pub staging: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    Verdict,
    ErrorText,
    SignIn,
    FinalStatus,
}

impl Aspect {
    pub fn label(self) -> &'static str {
        match self {
            Aspect::Verdict => "verdict",
            Aspect::ErrorText => "error text",
            Aspect::SignIn => "sign-in",
            Aspect::FinalStatus => "HTTP status of the final page",
        }
    }
}

impl Difference {
    /// `error text: "A" -> "B"`
    pub fn line(&self) -> String {
        format!(
            "{}: {} -> {}",
            self.aspect.label(),
            self.reference,
            self.staging
        )
    }
}

/// Pairs trials by `scenario_id` (the k-th trial of a scenario on one side with the k-th on the
/// other, should a run hold a scenario twice) and compares each pair.
pub fn compare(reference: &[TrialOutcome], staging: &[TrialOutcome]) -> BehaviourDiff {
    let mut by_id: HashMap<&str, Vec<&TrialOutcome>> = HashMap::new();
    for o in staging {
        by_id.entry(o.scenario_id.as_str()).or_default().push(o);
    }
    // Consumed front to back: the k-th reference trial of a scenario meets the k-th staging one.
    let mut taken: HashMap<&str, usize> = HashMap::new();
    let mut rows = Vec::new();
    for r in reference {
        let k = taken.entry(r.scenario_id.as_str()).or_insert(0);
        let s = by_id
            .get(r.scenario_id.as_str())
            .and_then(|list| list.get(*k))
            .copied();
        *k += 1;
        rows.push(row(Some(r), s));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for s in staging {
        let k = seen.entry(s.scenario_id.as_str()).or_insert(0);
        let paired = *k < taken.get(s.scenario_id.as_str()).copied().unwrap_or(0);
        *k += 1;
        if !paired {
            rows.push(row(None, Some(s)));
        }
    }
    let count = |f: fn(&Comparison) -> bool| rows.iter().filter(|r| f(&r.comparison)).count();
    BehaviourDiff {
        reference: reference
            .first()
            .map(|o| o.target.clone())
            .unwrap_or_default(),
        staging: staging
            .first()
            .map(|o| o.target.clone())
            .unwrap_or_default(),
        same: count(|c| matches!(c, Comparison::Same)),
        differ: count(|c| matches!(c, Comparison::Differs { .. })),
        not_compared: count(|c| matches!(c, Comparison::NotCompared { .. })),
        rows,
    }
}

fn row(reference: Option<&TrialOutcome>, staging: Option<&TrialOutcome>) -> Row {
    // At least one side is there (compare never calls it with neither).
    let head = reference.or(staging);
    let comparison = match (reference, staging) {
        (Some(r), Some(s)) => match (not_run("reference", r), not_run("staging", s)) {
            (None, None) => {
                let what = differences(r, s);
                if what.is_empty() {
                    Comparison::Same
                } else {
                    Comparison::Differs { what }
                }
            }
            (a, b) => Comparison::NotCompared {
                reason: a.into_iter().chain(b).collect::<Vec<_>>().join("; "),
            },
        },
        (Some(_), None) => Comparison::NotCompared {
            reason: "staging: not run (the scenario ran on the reference SP only)".into(),
        },
        (None, _) => Comparison::NotCompared {
            reason: "reference: not run (the scenario ran on staging only)".into(),
        },
    };
    Row {
        scenario_id: head.map(|o| o.scenario_id.clone()).unwrap_or_default(),
        scenario: head.map(|o| o.scenario_name.clone()).unwrap_or_default(),
        covers: head.map(|o| o.covers.clone()).unwrap_or_default(),
        comparison,
    }
}

/// Why a side taught nothing about the SP's behaviour: skipped, or an error of the harness,
/// the browser or the target's process. `side: skipped: <first line of the message>`.
fn not_run(side: &str, o: &TrialOutcome) -> Option<String> {
    let what = match o.verdict {
        Verdict::Skipped => "skipped",
        Verdict::Error => "error",
        _ => return None,
    };
    let why = o
        .message
        .as_deref()
        .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no reason given");
    Some(format!("{side}: {what}: {why}"))
}

fn differences(r: &TrialOutcome, s: &TrialOutcome) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |aspect, reference: String, staging: String| {
        if reference != staging {
            out.push(Difference {
                aspect,
                reference,
                staging,
            });
        }
    };
    differ(
        Aspect::Verdict,
        r.verdict.label().to_string(),
        s.verdict.label().to_string(),
    );
    differ(
        Aspect::ErrorText,
        shown_error(r).unwrap_or_else(|| "(none)".into()),
        shown_error(s).unwrap_or_else(|| "(none)".into()),
    );
    // Unknown on either side (no sign-in was asked about, or the step that would tell did
    // not run): the verdict already says what happened.
    if let (Some(a), Some(b)) = (signed_in(r), signed_in(s)) {
        differ(Aspect::SignIn, sign_in_label(a), sign_in_label(b));
    }
    if let (Some(a), Some(b)) = (final_page(r), final_page(s)) {
        if a.0 != b.0 {
            differ(Aspect::FinalStatus, a.1, b.1);
        }
    }
    out
}

fn sign_in_label(signed_in: bool) -> String {
    if signed_in {
        "signed in".into()
    } else {
        "not signed in".into()
    }
}

/// The error element's text, trimmed, whitespace runs as one space, the trial's IDs as their
/// placeholders, quoted.
fn shown_error(o: &TrialOutcome) -> Option<String> {
    let t = o.error_text.as_deref()?;
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return None;
    }
    Some(format!("{:?}", Ids::of(o).replace(&t)))
}

/// The last page load: its status, and `status (path)` to show; the host is left out (the two
/// SPs live on different origins), IDs in the path become placeholders.
fn final_page(o: &TrialOutcome) -> Option<(u16, String)> {
    let ev = o.http.last()?;
    let path = match url::Url::parse(&ev.url) {
        Ok(u) => u.path().to_string(),
        // Not a URL (a data: page the browser reported oddly): the text itself, without query.
        Err(_) => ev
            .url
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let path = Ids::of(o).replace(&path);
    let path: Vec<String> = path.split('/').map(id_segment).collect();
    let status = match ev.status {
        0 => "no answer".to_string(),
        s => s.to_string(),
    };
    Some((ev.status, format!("{status} ({})", path.join("/"))))
}

/// A path segment that looks like a generated ID (8 or more of letters, digits, `-` and `_`,
/// with at least one digit, e.g. `org-3f9a1c2b`, a UUID) reads `{id}`: paths of both SPs then
/// read alike where only their IDs differ.
fn id_segment(seg: &str) -> String {
    let id_like = seg.len() >= 8
        && seg.chars().any(|c| c.is_ascii_digit())
        && seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if id_like {
        "{id}".into()
    } else {
        seg.to_string()
    }
}

/// The values of a trial's context that differ between two SPs for reasons that are not
/// behaviour (generated IDs, origins, names chosen when the SP was set up), longest first so
/// that a URL is replaced before the ID inside it.
struct Ids(Vec<(String, &'static str)>);

impl Ids {
    const KEYS: [(&'static str, &'static str); 8] = [
        ("sp.base_url", "{sp.base_url}"),
        ("idp.base_url", "{idp.base_url}"),
        ("org.id", "{org.id}"),
        ("org.name", "{org.name}"),
        ("idp.tenant", "{idp.tenant}"),
        ("trial.id", "{trial.id}"),
        ("domain.txt_name", "{domain.txt_name}"),
        ("domain.txt_value", "{domain.txt_value}"),
    ];

    fn of(o: &TrialOutcome) -> Self {
        let mut list: Vec<(String, &'static str)> = Self::KEYS
            .iter()
            .filter_map(|(k, placeholder)| {
                let v = o.context.get(*k)?.trim().trim_end_matches('/');
                // Too short to be told from ordinary words ("sp" as an org ID).
                (v.chars().count() >= 3).then(|| (v.to_string(), *placeholder))
            })
            .collect();
        list.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        Self(list)
    }

    fn replace(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_string(), |t, (value, placeholder)| {
                t.replace(value.as_str(), placeholder)
            })
    }
}

/// Whether the trial ended signed in, when its expectations asked: the last `expect` step
/// (or session probe) that asked about a sign-in and said something about it decides.
/// `None`: no step asked, or none that asked could tell (it broke, or an unrelated check
/// decided its failure).
fn signed_in(o: &TrialOutcome) -> Option<bool> {
    let mut state = None;
    for s in &o.steps {
        let Some(expected) = asks_sign_in(s) else {
            continue;
        };
        let seen = if s.ok {
            Some(expected)
        } else {
            match s.failure.as_deref() {
                // The identity checks put the most telling kind first (see trial::expect): an
                // accepted sign-in where none was wanted, a refusal where one was wanted.
                Some(f) if f == FailureKind::Accepted.label() && !expected => Some(true),
                Some(f) if f == FailureKind::Refused.label() && expected => Some(false),
                // A mismatch leaves the identity as expected (a wrong identity is still a
                // sign-in; a refusal without the target's rejection signal still a refusal).
                Some(f) if f == FailureKind::Mismatch.label() => Some(expected),
                _ => None,
            }
        };
        if seen.is_some() {
            state = seen;
        }
    }
    state
}

/// What a step expects of the sign-in: `Some(true)` signed in, `Some(false)` refused. Reads
/// the step as recorded (`StepRecord::detail` is the expectation's Debug text: `Expectation {
/// ..., signed_in_as: Some("{user.email}"), signed_in: None, ..., rejected: Some(true), ... }`);
/// the session probe always looks for a session that must not exist.
fn asks_sign_in(s: &StepRecord) -> Option<bool> {
    if s.phase == "probe" {
        return Some(false);
    }
    if s.kind != "expect" {
        return None;
    }
    let d = s.detail.as_str();
    // The leading space keeps `not_signed_in_as` (which allows the genuine user) out.
    let has = |field: &str| d.contains(&format!(" {field}"));
    if has("signed_in: Some(false)") || has("rejected: Some(true)") {
        Some(false)
    } else if has("signed_in: Some(true)")
        || has("signed_in_as: Some(")
        || has("rejected: Some(false)")
    {
        Some(true)
    } else {
        None
    }
}

impl Row {
    /// `ERR-1, ERR-7`, or `-` when the scenario covers no catalogue ID.
    pub fn ids(&self) -> String {
        if self.covers.is_empty() {
            "-".into()
        } else {
            self.covers.join(", ")
        }
    }

    /// What differs, one line per aspect; `not compared: why`; empty when the same.
    pub fn lines(&self) -> Vec<String> {
        match &self.comparison {
            Comparison::Same => Vec::new(),
            Comparison::Differs { what } => what.iter().map(Difference::line).collect(),
            Comparison::NotCompared { reason } => vec![format!("not compared: {reason}")],
        }
    }
}

impl BehaviourDiff {
    /// `diff: 30 same, 1 differs, 11 not compared`
    pub fn counts_line(&self) -> String {
        format!(
            "diff: {} same, {} {}, {} not compared",
            self.same,
            self.differ,
            if self.differ == 1 {
                "differs"
            } else {
                "differ"
            },
            self.not_compared
        )
    }

    /// A table of the rows that differ or were not compared (the same ones are counted only),
    /// then the counts line.
    pub fn terminal(&self) -> String {
        let head = [
            "ID(s)".to_string(),
            "scenario".to_string(),
            format!(
                "what differs ({} -> {})",
                side_name(&self.reference, "reference"),
                side_name(&self.staging, "staging")
            ),
        ];
        let mut table: Vec<[String; 3]> = Vec::new();
        for r in self
            .rows
            .iter()
            .filter(|r| r.comparison != Comparison::Same)
        {
            for (i, line) in r.lines().into_iter().enumerate() {
                if i == 0 {
                    table.push([r.ids(), r.scenario_id.clone(), line]);
                } else {
                    table.push([String::new(), String::new(), line]);
                }
            }
        }
        let mut out = String::new();
        if !table.is_empty() {
            let width = |col: usize| {
                table
                    .iter()
                    .map(|l| l[col].chars().count())
                    .chain([head[col].chars().count()])
                    .max()
                    .unwrap_or(0)
            };
            let (w0, w1) = (width(0), width(1));
            for l in std::iter::once(&head).chain(table.iter()) {
                let line = format!("{:w0$}  {:w1$}  {}", l[0], l[1], l[2]);
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        out.push_str(&self.counts_line());
        out.push('\n');
        out
    }

    /// A self-contained `<section>` for a run's index.html (its classes are the page's:
    /// `pass`, `fail`, `muted`); every value escaped, error texts come from the SP.
    pub fn html(&self) -> String {
        let mut h = String::from("<section id=\"diff\">");
        h.push_str(&format!(
            "<h2>Behaviour diff: {} (reference) vs {} (staging)</h2><p>{}</p>",
            esc(side_name(&self.reference, "reference")),
            esc(side_name(&self.staging, "staging")),
            esc(&self.counts_line())
        ));
        h.push_str(
            "<table><tr><th>ID(s)</th><th>scenario</th><th>result</th><th>what differs (reference → staging)</th></tr>",
        );
        for r in &self.rows {
            let (class, result, detail) = match &r.comparison {
                Comparison::Same => ("pass", "same", String::new()),
                Comparison::Differs { what } => (
                    "fail",
                    "differs",
                    what.iter()
                        .map(|d| {
                            format!(
                                "{}: <code>{}</code> → <code>{}</code>",
                                esc(d.aspect.label()),
                                esc(&d.reference),
                                esc(&d.staging)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("<br>"),
                ),
                Comparison::NotCompared { reason } => ("muted", "not compared", esc(reason)),
            };
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}<br><code>{}</code></td><td class=\"{class}\">{result}</td><td>{detail}</td></tr>",
                esc(&r.ids()),
                esc(&r.scenario),
                esc(&r.scenario_id)
            ));
        }
        h.push_str("</table></section>");
        h
    }

    /// Markdown for a CI summary: the counts, then the rows that differ or were not compared.
    pub fn markdown(&self) -> String {
        let mut m = format!(
            "### Behaviour diff: {} (reference) vs {} (staging)\n\n{}\n",
            md(side_name(&self.reference, "reference")),
            md(side_name(&self.staging, "staging")),
            md(&self.counts_line())
        );
        let listed: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.comparison != Comparison::Same)
            .collect();
        if listed.is_empty() {
            return m;
        }
        m.push_str("\n| ID(s) | scenario | what differs (reference → staging) |\n|---|---|---|\n");
        for r in listed {
            m.push_str(&format!(
                "| {} | {} (`{}`) | {} |\n",
                md(&r.ids()),
                md(&r.scenario),
                r.scenario_id.replace('`', "'"),
                r.lines()
                    .iter()
                    .map(|l| md(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            ));
        }
        m
    }
}

fn side_name<'a>(target: &'a str, fallback: &'a str) -> &'a str {
    if target.is_empty() { fallback } else { target }
}

/// One table cell of Markdown: no line breaks, no `|`, no HTML or emphasis from the SP's text.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::HttpEvent;

    const EXPECT_REFUSED: &str = "Expectation { text: None, absent_text: None, url: None, status: None, signed_in_as: None, signed_in: Some(false), error: Some(\"Your Identity Provider signed you in as {user.email}\"), display_name: None, element: None, absent_element: None, rejected: None, log: None, not_signed_in_as: None, no_egress: None, no_redirect: None, idp_saw: [], idp_did_not_see: [], answers_within_ms: None, screenshot: true, timeout_ms: None }";
    const EXPECT_SIGNED_IN: &str = "Expectation { text: None, absent_text: None, url: None, status: None, signed_in_as: Some(\"{user.email}\"), signed_in: None, error: None, display_name: None, element: None, absent_element: None, rejected: None, log: None, not_signed_in_as: None, no_egress: None, no_redirect: None, idp_saw: [], idp_did_not_see: [], answers_within_ms: None, screenshot: false, timeout_ms: None }";

    fn step(phase: &'static str, kind: &str, detail: &str) -> StepRecord {
        StepRecord {
            index: 0,
            phase: phase.into(),
            kind: kind.into(),
            detail: detail.into(),
            at: "x.yaml:1:1".into(),
            started_ms: 0,
            duration_ms: 1,
            ok: true,
            failure: None,
            message: None,
            note: None,
        }
    }

    /// A trial of `id` on `target` whose SP serves at `origin` with organisation `org`.
    fn trial(target: &str, id: &str, origin: &str, org: &str) -> TrialOutcome {
        TrialOutcome {
            name: format!("{target}::{id}"),
            target: target.into(),
            scenario_id: id.into(),
            scenario_name: format!("the scenario {id}"),
            scenario_path: format!("scenarios/{id}.yaml"),
            covers: vec!["ERR-1".into()],
            weakness: None,
            verdict: Verdict::Pass,
            risk_accepted: None,
            oracle: None,
            failure_kind: None,
            message: None,
            started_at: String::new(),
            duration_ms: 1,
            overhead_ms: 0,
            phases_ms: Default::default(),
            steps: vec![
                step("steps", "open", "\"{sp.login_url}\""),
                step("expect", "expect", EXPECT_REFUSED),
            ],
            screenshots: Vec::new(),
            http: vec![HttpEvent {
                url: format!("{origin}/sso/saml/acs?connection={org}"),
                status: 403,
                method: Some("POST".into()),
                mime: Some("text/html".into()),
                at_ms: 10,
            }],
            exchanges: Vec::new(),
            context: [
                ("org.id".to_string(), org.to_string()),
                ("sp.base_url".to_string(), format!("{origin}/")),
                ("user.email".to_string(), "newhire@acme.test".to_string()),
            ]
            .into_iter()
            .collect(),
            final_url: Some(format!("{origin}/sso/saml/acs?connection={org}")),
            error_text: Some(
                "Your Identity Provider signed you in as newhire@acme.test, but that email has not been added to your ChatGPT workspace."
                    .into(),
            ),
            target_log: Vec::new(),
            browser: "chromium".into(),
            os: "linux".into(),
            protocol: "SAML".into(),
            idp_profile: "okta".into(),
            sign_in_path: "direct sign-in".into(),
            users: Vec::new(),
            secrets: Vec::new(),
        }
    }

    fn reference(id: &str) -> TrialOutcome {
        trial("reference-sp", id, "http://127.0.0.1:40001", "org-1a2b3c4d")
    }

    fn staging(id: &str) -> TrialOutcome {
        trial(
            "staging",
            id,
            "https://staging.example.com",
            "org-99ffee00aa",
        )
    }

    #[test]
    fn an_identical_pair_is_the_same_though_hosts_and_org_ids_differ() {
        let d = compare(&[reference("errors/a")], &[staging("errors/a")]);
        assert_eq!(d.rows.len(), 1);
        assert_eq!(d.rows[0].comparison, Comparison::Same);
        assert_eq!(d.rows[0].covers, ["ERR-1"]);
        assert_eq!(d.rows[0].scenario, "the scenario errors/a");
        assert_eq!((d.same, d.differ, d.not_compared), (1, 0, 0));
        assert_eq!(
            (d.reference.as_str(), d.staging.as_str()),
            ("reference-sp", "staging")
        );
    }

    #[test]
    fn a_changed_error_text_is_one_row_naming_the_text() {
        let mut s = staging("errors/a");
        s.error_text = Some("  You are not\n   a member of this workspace. ".into());
        let d = compare(
            &[reference("errors/a"), reference("errors/b")],
            &[s, staging("errors/b")],
        );
        assert_eq!((d.same, d.differ, d.not_compared), (1, 1, 0));
        assert_eq!(
            d.rows[0].comparison,
            Comparison::Differs {
                what: vec![Difference {
                    aspect: Aspect::ErrorText,
                    reference: "\"Your Identity Provider signed you in as newhire@acme.test, but that email has not been added to your ChatGPT workspace.\"".into(),
                    staging: "\"You are not a member of this workspace.\"".into(),
                }]
            }
        );
        assert_eq!(d.rows[1].comparison, Comparison::Same);
    }

    #[test]
    fn whitespace_and_the_trials_own_ids_in_the_error_text_are_not_differences() {
        let mut r = reference("errors/a");
        r.error_text = Some("SSO is not enabled for org-1a2b3c4d".into());
        let mut s = staging("errors/a");
        s.error_text = Some("SSO is not enabled   for\norg-99ffee00aa".into());
        assert_eq!(compare(&[r], &[s]).rows[0].comparison, Comparison::Same);
    }

    #[test]
    fn pass_against_fail_differs_in_the_verdict() {
        let mut s = staging("errors/a");
        s.verdict = Verdict::Fail;
        s.failure_kind = Some(FailureKind::Mismatch);
        let d = compare(&[reference("errors/a")], &[s]);
        assert_eq!(
            d.rows[0].comparison,
            Comparison::Differs {
                what: vec![Difference {
                    aspect: Aspect::Verdict,
                    reference: "pass".into(),
                    staging: "FAIL".into(),
                }]
            }
        );
        assert_eq!(d.counts_line(), "diff: 0 same, 1 differs, 0 not compared");
    }

    #[test]
    fn a_refusal_where_a_sign_in_is_promised_names_the_sign_in_and_the_status() {
        let mut r = reference("sign-in/sp-initiated");
        r.error_text = None;
        r.steps = vec![step("expect", "expect", EXPECT_SIGNED_IN)];
        r.http[0].url = "http://127.0.0.1:40001/home".into();
        r.http[0].status = 200;
        let mut s = staging("sign-in/sp-initiated");
        s.verdict = Verdict::Fail;
        s.failure_kind = Some(FailureKind::Refused);
        let mut failed = step("expect", "expect", EXPECT_SIGNED_IN);
        failed.ok = false;
        failed.failure = Some(FailureKind::Refused.label().into());
        s.steps = vec![failed];
        s.error_text = Some("Invalid thumbprint".into());
        let d = compare(&[r], &[s]);
        let Comparison::Differs { what } = &d.rows[0].comparison else {
            panic!("{:?}", d.rows[0]);
        };
        let lines: Vec<String> = what.iter().map(Difference::line).collect();
        assert_eq!(
            lines,
            [
                "verdict: pass -> FAIL",
                "error text: (none) -> \"Invalid thumbprint\"",
                "sign-in: signed in -> not signed in",
                "HTTP status of the final page: 200 (/home) -> 403 (/sso/saml/acs)",
            ]
        );
    }

    #[test]
    fn a_session_found_by_the_probe_is_a_sign_in() {
        let r = reference("saml-sp/replay");
        let mut s = staging("saml-sp/replay");
        s.verdict = Verdict::Finding;
        s.failure_kind = Some(FailureKind::Accepted);
        let mut probe = step("probe", "session_probe", "who is signed in now?");
        probe.ok = false;
        probe.failure = Some(FailureKind::Accepted.label().into());
        s.steps.push(probe);
        let mut r2 = r.clone();
        r2.steps
            .push(step("probe", "session_probe", "who is signed in now?"));
        let d = compare(&[r2], &[s]);
        let Comparison::Differs { what } = &d.rows[0].comparison else {
            panic!("{:?}", d.rows[0]);
        };
        assert!(what.contains(&Difference {
            aspect: Aspect::SignIn,
            reference: "not signed in".into(),
            staging: "signed in".into(),
        }));
    }

    #[test]
    fn skipped_on_one_side_is_not_compared_with_the_reason() {
        let mut s = staging("idp/okta-tile");
        s.verdict = Verdict::Skipped;
        s.message =
            Some("needs a manual step (click the tile in Okta)\nsee targets/README.md".into());
        let mut r = reference("errors/broken");
        r.verdict = Verdict::Error;
        r.message = None;
        let d = compare(
            &[reference("idp/okta-tile"), r],
            &[s, staging("errors/broken")],
        );
        assert_eq!(
            d.rows[0].comparison,
            Comparison::NotCompared {
                reason: "staging: skipped: needs a manual step (click the tile in Okta)".into()
            }
        );
        assert_eq!(
            d.rows[1].comparison,
            Comparison::NotCompared {
                reason: "reference: error: no reason given".into()
            }
        );
        assert_eq!((d.same, d.differ, d.not_compared), (0, 0, 2));
    }

    #[test]
    fn a_scenario_on_one_side_only_is_not_compared() {
        let d = compare(
            &[reference("a"), reference("only-ref")],
            &[staging("only-staging"), staging("a")],
        );
        let got: Vec<(&str, &Comparison)> = d
            .rows
            .iter()
            .map(|r| (r.scenario_id.as_str(), &r.comparison))
            .collect();
        assert_eq!(
            got,
            [
                ("a", &Comparison::Same),
                (
                    "only-ref",
                    &Comparison::NotCompared {
                        reason: "staging: not run (the scenario ran on the reference SP only)"
                            .into()
                    }
                ),
                (
                    "only-staging",
                    &Comparison::NotCompared {
                        reason: "reference: not run (the scenario ran on staging only)".into()
                    }
                ),
            ]
        );
        assert_eq!(d.counts_line(), "diff: 1 same, 0 differ, 2 not compared");
    }

    #[test]
    fn a_scenario_twice_pairs_in_order() {
        let mut s2 = staging("a");
        s2.verdict = Verdict::Fail;
        let d = compare(&[reference("a"), reference("a")], &[staging("a"), s2]);
        assert_eq!(d.rows.len(), 2);
        assert_eq!(d.rows[0].comparison, Comparison::Same);
        assert!(matches!(d.rows[1].comparison, Comparison::Differs { .. }));
    }

    #[test]
    fn renderings_show_the_differences_and_escape_the_sps_text() {
        let mut s = staging("errors/a");
        s.error_text = Some("<script>alert(1)</script> | *x*".into());
        let mut skipped = staging("errors/b");
        skipped.verdict = Verdict::Skipped;
        skipped.message = Some("needs a manual step".into());
        let d = compare(
            &[
                reference("errors/a"),
                reference("errors/b"),
                reference("errors/c"),
            ],
            &[s, skipped, staging("errors/c")],
        );
        let t = d.terminal();
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("ID(s)"), "{t}");
        assert!(
            lines[0].contains("what differs (reference-sp -> staging)"),
            "{t}"
        );
        assert!(lines[1].starts_with("ERR-1"), "{t}");
        assert!(lines[1].contains("errors/a"), "{t}");
        assert!(
            lines[1].contains("error text: \"Your Identity Provider"),
            "{t}"
        );
        assert!(
            lines[2].contains("not compared: staging: skipped: needs a manual step"),
            "{t}"
        );
        assert!(!t.contains("errors/c"), "same rows are only counted: {t}");
        assert_eq!(
            lines.last(),
            Some(&"diff: 1 same, 1 differs, 1 not compared")
        );

        let h = d.html();
        assert!(h.starts_with("<section id=\"diff\">") && h.ends_with("</section>"));
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{h}");
        assert!(h.contains("<td class=\"pass\">same</td>"), "{h}");
        assert!(h.contains("<td class=\"muted\">not compared</td>"), "{h}");

        let m = d.markdown();
        assert!(m.contains("diff: 1 same, 1 differs, 1 not compared"), "{m}");
        assert!(m.contains("&lt;script&gt;"), "{m}");
        assert!(m.contains("\\| \\*x\\*"), "{m}");
        let table_rows = m.lines().filter(|l| l.starts_with("| ERR-1")).count();
        assert_eq!(table_rows, 2, "{m}");
    }

    #[test]
    fn it_serialises_rows_with_their_result() {
        let mut s = staging("errors/a");
        s.verdict = Verdict::Fail;
        let v = serde_json::to_value(compare(&[reference("errors/a")], &[s])).unwrap();
        assert_eq!(v["differ"], 1);
        assert_eq!(v["rows"][0]["result"], "differs");
        assert_eq!(v["rows"][0]["covers"][0], "ERR-1");
        assert_eq!(v["rows"][0]["what"][0]["aspect"], "verdict");
        assert_eq!(v["rows"][0]["what"][0]["staging"], "FAIL");
    }
}
