//! JUnit XML for CI, written with quick-xml (escaped text, never format!-built XML).
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::summary::RunSummary;
use crate::error::{HarnessError, Result};
use crate::trial::outcome::{TrialOutcome, Verdict};

fn xml_err(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Report(format!("junit.xml: {e}"))
}

pub fn render(summary: &RunSummary, outcomes: &[TrialOutcome]) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_err)?;
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "sso-harness"));
    suite.push_attribute(("tests", outcomes.len().to_string().as_str()));
    suite.push_attribute((
        "failures",
        (summary.failed + summary.unexpected_passes)
            .to_string()
            .as_str(),
    ));
    suite.push_attribute(("errors", summary.errors.to_string().as_str()));
    suite.push_attribute(("skipped", summary.skipped.to_string().as_str()));
    suite.push_attribute((
        "time",
        format!("{:.3}", summary.wall_ms as f64 / 1000.0).as_str(),
    ));
    suite.push_attribute(("timestamp", summary.started_at.as_str()));
    w.write_event(Event::Start(suite)).map_err(xml_err)?;
    for o in outcomes {
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", o.target.as_str()));
        case.push_attribute(("name", o.name.as_str()));
        case.push_attribute((
            "time",
            format!("{:.3}", o.duration_ms as f64 / 1000.0).as_str(),
        ));
        w.write_event(Event::Start(case)).map_err(xml_err)?;
        let message = o.message.clone().unwrap_or_default();
        let child = match o.verdict {
            Verdict::Fail | Verdict::UnexpectedPass => Some("failure"),
            // an open finding fails CI; one with an accepted risk is reported, not failed
            Verdict::Finding if o.risk_accepted.is_none() => Some("failure"),
            Verdict::Error => Some("error"),
            Verdict::Skipped => Some("skipped"),
            Verdict::Pass | Verdict::KnownFailure | Verdict::Finding => None,
        };
        if let Some(tag) = child {
            let mut el = BytesStart::new(tag);
            let first = message.lines().next().unwrap_or_default();
            el.push_attribute(("message", first));
            w.write_event(Event::Start(el)).map_err(xml_err)?;
            w.write_event(Event::Text(BytesText::new(&message)))
                .map_err(xml_err)?;
            w.write_event(Event::End(BytesEnd::new(tag)))
                .map_err(xml_err)?;
        }
        let mut log = String::new();
        for s in &o.steps {
            log.push_str(&format!(
                "{:>3} {:<6} {:<16} {:>6} ms {} {}\n",
                s.index + 1,
                s.phase,
                s.kind,
                s.duration_ms,
                if s.ok { "ok  " } else { "FAIL" },
                s.detail
            ));
        }
        w.write_event(Event::Start(BytesStart::new("system-out")))
            .map_err(xml_err)?;
        w.write_event(Event::Text(BytesText::new(&log)))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("system-out")))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("testcase")))
            .map_err(xml_err)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))
        .map_err(xml_err)?;
    String::from_utf8(w.into_inner()).map_err(xml_err)
}
