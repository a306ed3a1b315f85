//! The sequence chart of one trial: who talked to whom, as inline SVG.
//!
//! Lanes are the browser and each host it talked to, classified by origin with the trial's
//! context (`sp.base_url`/`sp.login_url` = SP, `idp.base_url` = mock IdP, `canary.url` =
//! canary; any other origin gets a lane of its own). Each HTTP event of the browser's
//! timeline is a request arrow (method and path) and an answer arrow (status), and carries
//! the mock IdP's log entries that match it (same method, path and status); entries no
//! browser document load shows (a 303 redirect hop, the SP's back-channel token request) get
//! an arrow of their own, placed by their time. Arrows with a decoded message link to it.
//! Every text is escaped: URLs, SP pages and IdP messages are attacker-influenced.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::report::escape::esc;
use crate::trial::outcome::{TrialOutcome, Verdict};

/// Kinds the SP's server fetches from the IdP itself, never through the browser.
const BACK_CHANNEL: &[&str] = &[
    "discovery",
    "jwks",
    "token_request",
    "id_token",
    "userinfo",
    "refresh_request",
    "refreshed_id_token",
    "encrypted_id_token",
    "pushed_authorization_request",
];

const LANE_W: u32 = 210;
const LEFT: u32 = 64;
const TOP: u32 = 44;
const ROW_H: u32 = 46;
const SINGLE_H: u32 = 30;
/// Roughly how wide a label's character is: a label longer than its arrow is cut (the whole
/// text is in the arrow's tooltip).
const CHAR_W: u32 = 7;

/// A host the browser (or the SP) talked to.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    /// `scheme://host:port` of the URLs that go to it (none for the browser).
    pub origin: Option<String>,
}

/// Why an arrow is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// HTTP status >= 400, or no answer at all.
    ErrorStatus,
    /// The last exchange before the step that failed.
    BeforeFailure,
    /// A forged or faulty IdP message the SP accepted (the trial is a FINDING).
    Accepted,
}

impl Mark {
    fn class(self) -> &'static str {
        match self {
            Mark::ErrorStatus => "m-err",
            Mark::BeforeFailure => "m-fail",
            Mark::Accepted => "m-acc",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Mark::ErrorStatus => "error status",
            Mark::BeforeFailure => "last before the failing step",
            Mark::Accepted => "forged/faulty message the SP accepted",
        }
    }
}

/// One row of the chart.
#[derive(Debug, Clone)]
pub struct Row {
    /// The browser's HTTP event (index in `outcome.http`), or `None` for an IdP log entry no
    /// document load shows.
    pub http: Option<usize>,
    /// Indexes in `outcome.exchanges` of the IdP log entries this row carries.
    pub exchanges: Vec<usize>,
    pub from: usize,
    pub to: usize,
    pub at_ms: Option<u64>,
    pub request: String,
    /// The answer arrow's label (HTTP rows only).
    pub answer: Option<String>,
    /// The whole request line, for the tooltip.
    pub title: String,
    pub marks: Vec<Mark>,
}

/// The chart's model: lanes and rows in time order.
#[derive(Debug, Clone)]
pub struct Chart {
    pub lanes: Vec<Lane>,
    pub rows: Vec<Row>,
}

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let o = u.origin();
    o.is_tuple().then(|| o.ascii_serialization())
}

fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        _ => url.to_string(),
    }
}

fn bare_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn rfc3339_ms(s: &str) -> Option<i128> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() / 1_000_000)
}

fn xstr<'a>(x: &'a Value, ptr: &str) -> &'a str {
    x.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// The exchange's kind, with the forge/fault tag a reader must not miss.
pub fn exchange_label(x: &Value) -> String {
    let mut s = xstr(x, "/kind").to_string();
    if let Some(f) = x.get("forge").filter(|f| !f.is_null()) {
        match f.get("attack").and_then(Value::as_str) {
            Some(attack) => {
                let _ = write!(s, " [forged: {attack}]");
            }
            // A hand-written template, or edits without a named attack.
            None if f.get("template").and_then(Value::as_bool) == Some(true) => {
                s.push_str(" [forged: template]");
            }
            None => s.push_str(" [forged]"),
        }
    }
    let faults: Vec<&str> = x
        .get("faults")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !faults.is_empty() {
        let _ = write!(s, " [fault: {}]", faults.join(", "));
    }
    s
}

fn is_suspicious(x: &Value) -> bool {
    x.get("forge").is_some_and(|f| !f.is_null())
        || x.get("faults")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
}

/// Builds the chart's model of one trial.
pub fn build(o: &TrialOutcome) -> Chart {
    let mut lanes = vec![
        Lane {
            name: "Browser".into(),
            origin: None,
        },
        Lane {
            name: format!("SP ({})", o.target),
            origin: None,
        },
        Lane {
            name: "mock IdP".into(),
            origin: None,
        },
    ];
    // Every URL the context has for a side names one of its origins: an IdP profile may serve
    // its sign-in pages from another host name than its base URL (a second IdP host).
    let origins_of = |prefix: &str, first: &str| -> Vec<String> {
        let mut v: Vec<String> = o
            .context
            .get(first)
            .and_then(|u| origin_of(u))
            .into_iter()
            .collect();
        for (k, u) in &o.context {
            if let (true, Some(origin)) = (k.starts_with(prefix), origin_of(u)) {
                if !v.contains(&origin) {
                    v.push(origin);
                }
            }
        }
        v
    };
    let sp = origins_of("sp.", "sp.base_url");
    let idp = origins_of("idp.", "idp.base_url");
    let canary = o.context.get("canary.url").and_then(|u| origin_of(u));
    lanes[1].origin = sp.first().cloned();
    lanes[2].origin = idp.first().cloned();
    // Which lane an origin belongs to; new lanes are made as new origins show up.
    let lane_of = |origin: Option<String>, lanes: &mut Vec<Lane>| -> usize {
        let Some(origin) = origin else {
            return lane_for(lanes, "other (no origin)", None);
        };
        let host = origin.split("://").nth(1).unwrap_or(&origin).to_string();
        if sp.contains(&origin) {
            1
        } else if idp.first() == Some(&origin) {
            2
        } else if idp.contains(&origin) {
            lane_for(lanes, &format!("IdP {host}"), Some(origin))
        } else if canary.as_ref() == Some(&origin) {
            lane_for(lanes, "canary", Some(origin))
        } else {
            lane_for(lanes, &format!("other {host}"), Some(origin))
        }
    };

    let t0 = rfc3339_ms(&o.started_at);
    // The IdP's clock may have been moved by a scenario: times further off than the trial
    // lasted are not used to place anything.
    let limit = i128::from(o.duration_ms) + 60_000;
    let ex_ms: Vec<Option<u64>> = o
        .exchanges
        .iter()
        .map(|x| {
            let d = rfc3339_ms(xstr(x, "/at"))? - t0?;
            (0..=limit).contains(&d).then(|| u64::try_from(d).ok())?
        })
        .collect();

    // Match the IdP's log entries to document loads of the IdP's origin, in order.
    let mut matched: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut unmatched = Vec::new();
    let mut from = 0;
    for (j, x) in o.exchanges.iter().enumerate() {
        let method = xstr(x, "/http/method");
        let path = xstr(x, "/http/path");
        let status = x.pointer("/http/status").and_then(Value::as_u64);
        let candidates: Vec<usize> = (from..o.http.len())
            .filter(|&i| {
                let e = &o.http[i];
                origin_of(&e.url).is_some_and(|origin| idp.contains(&origin))
                    && e.method
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(method))
                    && bare_path(&e.url) == path
                    && status == Some(u64::from(e.status))
            })
            .collect();
        let best = match ex_ms[j] {
            Some(t) => candidates
                .iter()
                .copied()
                .min_by_key(|&i| o.http[i].at_ms.abs_diff(t)),
            None => candidates.first().copied(),
        };
        match best {
            Some(i) => {
                matched.entry(i).or_default().push(j);
                from = i;
            }
            None => unmatched.push(j),
        }
    }

    let mut rows: Vec<(u64, usize, Row)> = Vec::new();
    for (i, e) in o.http.iter().enumerate() {
        let to = lane_of(origin_of(&e.url), &mut lanes);
        let xs = matched.remove(&i).unwrap_or_default();
        let method = e.method.as_deref().unwrap_or("GET");
        let path = path_of(&e.url);
        let mut answer = if e.status == 0 {
            "no answer".to_string()
        } else {
            e.status.to_string()
        };
        let kinds: Vec<String> = xs
            .iter()
            .map(|&j| exchange_label(&o.exchanges[j]))
            .collect();
        if !kinds.is_empty() {
            let _ = write!(answer, " · {}", kinds.join(", "));
        }
        let title = format!("{method} {} -> {answer}", e.url);
        let mut marks = Vec::new();
        if e.status == 0 || e.status >= 400 {
            marks.push(Mark::ErrorStatus);
        }
        if o.verdict == Verdict::Finding && xs.iter().any(|&j| is_suspicious(&o.exchanges[j])) {
            marks.push(Mark::Accepted);
        }
        rows.push((
            e.at_ms,
            rows.len(),
            Row {
                http: Some(i),
                exchanges: xs,
                from: 0,
                to,
                at_ms: Some(e.at_ms),
                request: format!("{method} {path}"),
                answer: Some(answer),
                title,
                marks,
            },
        ));
    }
    // Entries without a document load: placed by time when the IdP's clock is usable, else
    // right after the row of the entry logged before them.
    let mut last_at = 0;
    let placed: BTreeMap<usize, u64> = rows
        .iter()
        .flat_map(|(at, _, r)| r.exchanges.iter().map(move |&j| (j, *at)))
        .collect();
    for j in unmatched {
        let x = &o.exchanges[j];
        let at = ex_ms[j].unwrap_or_else(|| {
            placed
                .range(..j)
                .next_back()
                .map(|(_, &at)| at)
                .unwrap_or(last_at)
        });
        last_at = at;
        let kind = xstr(x, "/kind");
        let method = xstr(x, "/http/method");
        let path = xstr(x, "/http/path");
        let status = x
            .pointer("/http/status")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let from = if BACK_CHANNEL.contains(&kind) { 1 } else { 0 };
        let mut marks = Vec::new();
        if status >= 400 {
            marks.push(Mark::ErrorStatus);
        }
        if o.verdict == Verdict::Finding && is_suspicious(x) {
            marks.push(Mark::Accepted);
        }
        rows.push((
            at,
            rows.len(),
            Row {
                http: None,
                exchanges: vec![j],
                from,
                to: 2,
                at_ms: ex_ms[j],
                request: format!("{} → {status} · {method} {path}", exchange_label(x)),
                answer: None,
                title: format!("IdP log: {} {method} {path} -> {status}", xstr(x, "/at")),
                marks,
            },
        ));
    }
    rows.sort_by_key(|(at, n, _)| (*at, *n));
    let mut rows: Vec<Row> = rows.into_iter().map(|(_, _, r)| r).collect();

    // The last browser exchange before the step that failed.
    if let Some(failed) = o.steps.iter().find(|s| !s.ok) {
        let end = failed.started_ms + failed.duration_ms;
        if let Some(r) = rows
            .iter_mut()
            .rev()
            .find(|r| r.http.is_some() && r.at_ms.is_some_and(|t| t <= end))
        {
            r.marks.push(Mark::BeforeFailure);
        }
    }
    Chart { lanes, rows }
}

fn lane_for(lanes: &mut Vec<Lane>, name: &str, origin: Option<String>) -> usize {
    if let Some(i) = lanes
        .iter()
        .position(|l| l.origin == origin && l.name == name)
    {
        return i;
    }
    lanes.push(Lane {
        name: name.to_string(),
        origin,
    });
    lanes.len() - 1
}

fn lane_x(i: usize) -> u32 {
    LEFT + LANE_W / 2 + u32::try_from(i).unwrap_or(0) * LANE_W
}

/// The id of the `<details>` that shows exchange `j` of trial `trial`.
pub fn exchange_id(trial: usize, j: usize) -> String {
    format!("x{trial}-{j}")
}

/// The chart as an inline `<svg>` (empty when the trial had no HTTP and no IdP exchange).
pub fn svg(trial: usize, o: &TrialOutcome) -> String {
    let c = build(o);
    if c.rows.is_empty() {
        return String::new();
    }
    let width = LEFT + u32::try_from(c.lanes.len()).unwrap_or(3) * LANE_W;
    let height = TOP
        + c.rows
            .iter()
            .map(|r| if r.answer.is_some() { ROW_H } else { SINGLE_H })
            .sum::<u32>()
        + 12;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"seq\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"sequence chart\" data-rows=\"{}\">",
        c.rows.len()
    );
    for (i, l) in c.lanes.iter().enumerate() {
        let x = lane_x(i);
        let _ = write!(
            s,
            "<g class=\"lane\"><title>{}</title><rect x=\"{}\" y=\"4\" width=\"{}\" height=\"24\" rx=\"4\"/>\
             <text x=\"{x}\" y=\"20\" text-anchor=\"middle\">{}</text>\
             <line x1=\"{x}\" y1=\"28\" x2=\"{x}\" y2=\"{height}\"/></g>",
            esc(l.origin.as_deref().unwrap_or(&l.name)),
            x - LANE_W / 2 + 8,
            LANE_W - 16,
            esc(&cut(&l.name, 30))
        );
    }
    let mut y = TOP;
    for r in &c.rows {
        let h = if r.answer.is_some() { ROW_H } else { SINGLE_H };
        let class: String = std::iter::once("arrow")
            .chain(r.marks.iter().map(|m| m.class()))
            .collect::<Vec<_>>()
            .join(" ");
        let mut attrs = match r.http {
            Some(i) => format!(" data-http=\"{i}\""),
            None => format!(
                " data-idp=\"{}\"",
                r.exchanges.first().copied().unwrap_or(0)
            ),
        };
        if !r.exchanges.is_empty() {
            let _ = write!(
                attrs,
                " data-exchanges=\"{}\"",
                r.exchanges
                    .iter()
                    .map(|j| j.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let mut title = r.title.clone();
        for m in &r.marks {
            let _ = write!(title, " ({})", m.text());
        }
        // An arrow with a decoded message is a link to it (the page's script also opens it).
        let link = r.exchanges.last().map(|&j| exchange_id(trial, j));
        if let Some(id) = &link {
            let _ = write!(s, "<a href=\"#{}\">", esc(id));
        }
        let _ = write!(
            s,
            "<g class=\"{class}\"{attrs}><title>{}</title>",
            esc(&title)
        );
        if !r.marks.is_empty() {
            let _ = write!(
                s,
                "<rect class=\"hl\" x=\"2\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\"/>",
                y,
                width - 4,
                h - 4
            );
        }
        if let Some(t) = r.at_ms {
            let _ = write!(
                s,
                "<text class=\"t\" x=\"6\" y=\"{}\">+{t} ms</text>",
                y + 16
            );
        }
        arrow(
            &mut s,
            lane_x(r.from),
            lane_x(r.to),
            y + 18,
            &r.request,
            false,
        );
        if let Some(a) = &r.answer {
            arrow(&mut s, lane_x(r.to), lane_x(r.from), y + 38, a, true);
        }
        s.push_str("</g>");
        if link.is_some() {
            s.push_str("</a>");
        }
        y += h;
    }
    s.push_str("</svg>");
    s
}

/// A horizontal arrow at `y` from `x1` to `x2`, its label above it.
fn arrow(s: &mut String, x1: u32, x2: u32, y: u32, label: &str, answer: bool) {
    let dir: i64 = if x2 >= x1 { 1 } else { -1 };
    let tip = i64::from(x2) - dir * 2;
    let back = tip - dir * 8;
    let mid = (x1 + x2) / 2;
    let _ = write!(
        s,
        "<line class=\"{}\" x1=\"{x1}\" y1=\"{y}\" x2=\"{tip}\" y2=\"{y}\"/>\
         <polygon points=\"{tip},{y} {back},{} {back},{}\"/>\
         <text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        if answer { "ans" } else { "req" },
        y - 4,
        y + 4,
        y - 4,
        esc(&cut(label, (x1.abs_diff(x2) / CHAR_W).max(16) as usize))
    );
}

/// Indents XML for reading. The mock IdP logs an attack's response verbatim (one line, as
/// sent); the report indents it so the forged part can be marked line by line, and shows the
/// verbatim text beside it. Comments, CDATA and DTDs are kept (they are what attacks use);
/// input that does not parse comes back as it came.
pub fn pretty_xml(xml: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return xml.to_string();
                }
            }
            Err(_) => return xml.to_string(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| xml.to_string())
}

/// Lines of the decoded message to highlight: where a forged response says the forged
/// identity or points at the canary, the elements the mock IdP made up (their IDs start
/// `_evil`), and the constructs attacks use (comments, CDATA, DOCTYPE/ENTITY, XSLT). A
/// reading aid: the forge record says what was done, not where.
pub fn forged_lines(decoded: &str, x: &Value, context: &BTreeMap<String, String>) -> Vec<bool> {
    let forge = match x.get("forge") {
        Some(f) if !f.is_null() => f,
        _ => return decoded.lines().map(|_| false).collect(),
    };
    let mut needles: Vec<String> = Vec::new();
    if let Some(id) = forge.get("forged_identity").and_then(Value::as_str) {
        if !id.is_empty() {
            needles.push(id.to_string());
        }
    }
    for k in ["canary.url", "canary.host"] {
        if let Some(v) = context.get(k).filter(|v| !v.is_empty()) {
            needles.push(v.clone());
        }
    }
    needles.extend(
        [
            "<!--",
            "<![CDATA[",
            "<!DOCTYPE",
            "<!ENTITY",
            "xsl:",
            "XPath",
            "ID=\"_evil",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    decoded
        .lines()
        .map(|l| needles.iter().any(|n| l.contains(n.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::HttpEvent;
    use serde_json::json;

    fn outcome(http: Vec<(&str, &str, u16, u64)>, exchanges: Vec<Value>) -> TrialOutcome {
        TrialOutcome {
            name: "t::x".into(),
            target: "t".into(),
            scenario_id: "x".into(),
            scenario_name: "x".into(),
            scenario_path: "x.yaml".into(),
            covers: Vec::new(),
            weakness: None,
            verdict: Verdict::Pass,
            risk_accepted: None,
            oracle: None,
            failure_kind: None,
            message: None,
            started_at: "2026-12-02T10:00:00.000Z".into(),
            duration_ms: 1000,
            overhead_ms: 0,
            phases_ms: Default::default(),
            steps: Vec::new(),
            screenshots: Vec::new(),
            http: http
                .into_iter()
                .map(|(m, url, status, at_ms)| HttpEvent {
                    url: url.into(),
                    status,
                    method: Some(m.into()),
                    mime: None,
                    at_ms,
                })
                .collect(),
            exchanges,
            context: [
                ("sp.base_url", "http://sp.test/"),
                ("idp.base_url", "http://idp.test/"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            final_url: None,
            error_text: None,
            target_log: Vec::new(),
            browser: String::new(),
            os: String::new(),
            protocol: "SAML".into(),
            idp_profile: "generic".into(),
            sign_in_path: String::new(),
            users: Vec::new(),
            secrets: Vec::new(),
        }
    }

    fn x(at: &str, kind: &str, method: &str, path: &str, status: u16) -> Value {
        json!({"at": at, "kind": kind, "http": {"method": method, "path": path, "status": status},
               "decoded": "", "faults": []})
    }

    #[test]
    fn entries_match_their_document_load_by_time_and_the_rest_get_rows_in_time() {
        let o = outcome(
            vec![
                ("POST", "http://idp.test/login", 200, 100),
                ("POST", "http://idp.test/login", 200, 600),
                ("GET", "http://sp.test/home", 200, 700),
            ],
            vec![
                x(
                    "2026-12-02T10:00:00.050Z",
                    "authn_request",
                    "GET",
                    "/sso",
                    303,
                ),
                // A failed login page, then the one that signed in and answered.
                x("2026-12-02T10:00:00.100Z", "login", "POST", "/login", 200),
                x("2026-12-02T10:00:00.598Z", "login", "POST", "/login", 200),
                x(
                    "2026-12-02T10:00:00.599Z",
                    "saml_response",
                    "POST",
                    "/login",
                    200,
                ),
            ],
        );
        let c = build(&o);
        let rows: Vec<(Option<usize>, Vec<usize>)> = c
            .rows
            .iter()
            .map(|r| (r.http, r.exchanges.clone()))
            .collect();
        assert_eq!(
            rows,
            [
                (None, vec![0]),
                (Some(0), vec![1]),
                (Some(1), vec![2, 3]),
                (Some(2), vec![])
            ]
        );
        assert_eq!(c.lanes.len(), 3);
    }

    #[test]
    fn a_moved_idp_clock_falls_back_to_log_order() {
        // The tenant's clock is a year ahead: times place nothing.
        let o = outcome(
            vec![
                ("GET", "http://sp.test/login", 200, 10),
                ("POST", "http://idp.test/login", 200, 100),
                ("GET", "http://sp.test/home", 200, 700),
            ],
            vec![
                x("2027-12-02T10:00:00.100Z", "login", "POST", "/login", 200),
                x(
                    "2027-12-02T10:00:00.101Z",
                    "saml_response",
                    "POST",
                    "/login",
                    200,
                ),
                x(
                    "2027-12-02T10:00:00.300Z",
                    "token_request",
                    "POST",
                    "/token",
                    200,
                ),
            ],
        );
        let c = build(&o);
        let rows: Vec<(Option<usize>, Vec<usize>, usize)> = c
            .rows
            .iter()
            .map(|r| (r.http, r.exchanges.clone(), r.from))
            .collect();
        assert_eq!(
            rows,
            [
                (Some(0), vec![], 0),
                (Some(1), vec![0, 1], 0),
                // Right after the entry logged before it; the SP's own call to the IdP.
                (None, vec![2], 1),
                (Some(2), vec![], 0),
            ]
        );
    }

    #[test]
    fn an_unknown_origin_gets_a_lane_and_the_svg_escapes_it() {
        let o = outcome(
            vec![("GET", "http://evil.test/<b>?q=\"x\"", 0, 5)],
            Vec::new(),
        );
        let s = svg(0, &o);
        assert!(s.contains(">other evil.test</text>"), "{s}");
        assert!(!s.contains("<b>"), "{s}");
        assert!(s.contains("no answer"), "{s}");
        assert!(s.contains("class=\"arrow m-err\" data-http=\"0\""), "{s}");
    }

    #[test]
    fn a_one_line_forged_response_is_indented_and_its_forged_lines_marked() {
        let raw = "<r><a ID=\"_a1\"><n>alice@acme.test</n></a><a ID=\"_evil2\"><n>mallory@acme.test</n><!-- c --></a></r>";
        let pretty = pretty_xml(raw);
        let forge = json!({"forge": {"attack": "xsw3", "forged_identity": "mallory@acme.test"}});
        let marked: Vec<&str> = pretty
            .lines()
            .zip(forged_lines(&pretty, &forge, &BTreeMap::new()))
            .filter(|(_, m)| *m)
            .map(|(l, _)| l)
            .collect();
        assert_eq!(
            marked,
            [
                "  <a ID=\"_evil2\">",
                "    <n>mallory@acme.test</n>",
                "    <!-- c -->"
            ],
            "{pretty}"
        );
        // Nothing is marked in a genuine message.
        let genuine = forged_lines(&pretty, &json!({}), &BTreeMap::new());
        assert!(genuine.iter().all(|m| !m));
    }
}
