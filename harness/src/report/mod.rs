//! Reports of a run: `junit.xml`, `findings.sarif` (GitHub code scanning), `results.json`, a self-contained `index.html` and
//! `support/<trial>.md` for every failed trial, under `reports/<run id>/`, written as trials
//! finish (`LiveReport`).
pub mod bench;
pub mod diff;
pub mod escape;
pub mod html;
pub mod junit;
pub mod merge;
pub mod redact;
pub mod sarif;
pub mod summary;
pub mod support;

use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};
use crate::trial::outcome::{TrialOutcome, Verdict};
use redact::Redactor;
pub use summary::{RunSummary, now_rfc3339, slug};

/// What a run's report says about the run before any trial has finished.
#[derive(Debug, Clone)]
pub struct RunHead {
    /// The run directory's name is this, made unique under the report root if needed.
    pub run_id: String,
    pub started_at: String,
    pub targets: Vec<String>,
    pub scenarios: String,
    pub jobs: usize,
    /// Trials planned.
    pub planned: usize,
}

/// The report of a run, written as trials finish: `results.json` and a minimal `index.html`
/// are rewritten atomically (a sibling written, then renamed) after every trial and say
/// `"complete": false` until [`LiveReport::finish`] writes the full report. A run that is
/// interrupted, or killed, leaves a valid report of every trial that finished.
///
/// Each trial is scrubbed and serialised once, when it is added; a rewrite only joins those
/// pieces, so a trial costs the same at the end of a run of 600 as at its start (rewriting
/// every trial's evidence each time made the gaps between trials grow to seconds:
/// `sso-harness bench-report` measures it).
pub struct LiveReport {
    dir: PathBuf,
    head: RunHead,
    t0: std::time::Instant,
    /// Plan index of each finished trial, ascending; `outcomes` and `pieces` follow it.
    order: Vec<usize>,
    /// Finished trials in plan order, scrubbed, screenshots written.
    outcomes: Vec<TrialOutcome>,
    /// Each finished trial as it stands in the progress `results.json`, scrubbed.
    pieces: Vec<String>,
    secrets: std::collections::BTreeSet<String>,
    interrupted: Option<String>,
    complete: bool,
}

fn report_err(dir: &Path, e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Report(format!("cannot write the report in {}: {e}", dir.display()))
}

impl LiveReport {
    /// Makes the run's report directory under `root` (named after the run ID; `-2`, `-3`...
    /// when taken) and writes an empty report there: a directory that cannot be written is an
    /// error now, before any trial runs.
    pub fn create(root: &Path, mut head: RunHead) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| report_err(root, e))?;
        let base = head.run_id.clone();
        let mut n = 1;
        let dir = loop {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let dir = root.join(&name);
            // create_dir, not create_dir_all: two runs never share a directory.
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    head.run_id = name;
                    break dir;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(report_err(root, e)),
            }
        };
        for d in [dir.join("screenshots"), dir.join("support")] {
            std::fs::create_dir(&d).map_err(|e| report_err(&d, e))?;
        }
        let me = Self {
            dir,
            head,
            t0: std::time::Instant::now(),
            order: Vec::new(),
            outcomes: Vec::new(),
            pieces: Vec::new(),
            secrets: Default::default(),
            interrupted: None,
            complete: false,
        };
        me.write_progress()?;
        Ok(me)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index_html(&self) -> PathBuf {
        self.dir.join("index.html")
    }

    /// The run ID as written in the report (its directory's name).
    pub fn run_id(&self) -> &str {
        &self.head.run_id
    }

    /// Adds a finished trial (`index`: its place in the plan) and rewrites the report.
    pub fn add(&mut self, index: usize, mut outcome: TrialOutcome) -> Result<()> {
        let new: Vec<String> = outcome
            .secrets
            .iter()
            .filter(|s| !self.secrets.contains(*s))
            .cloned()
            .collect();
        self.secrets.extend(new.iter().cloned());
        let redactor = self.redactor();
        // A secret first seen now may already stand in an earlier trial's evidence.
        let fresh = Redactor::new(new);
        for p in &mut self.pieces {
            *p = fresh.scrub_values(p);
        }
        redactor.scrub_outcome(&mut outcome);
        let base = slug(&outcome.name);
        for (i, s) in outcome.screenshots.iter_mut().enumerate() {
            let rel = format!("screenshots/{base}-{}.png", i + 1);
            let p = self.dir.join(&rel);
            std::fs::write(&p, &s.png).map_err(|e| HarnessError::io(&p, e))?;
            s.file = Some(rel);
        }
        if outcome.verdict.is_failure()
            || matches!(outcome.verdict, Verdict::KnownFailure | Verdict::Finding)
        {
            write(
                &self.dir.join("support").join(format!("{base}.md")),
                &support::render(&outcome),
                &redactor,
            )?;
        }
        let piece = serde_json::to_string(&outcome)
            .map_err(|e| HarnessError::Report(format!("results.json: {e}")))?;
        let at = self.order.partition_point(|i| *i < index);
        self.order.insert(at, index);
        self.pieces.insert(at, redactor.scrub(&piece));
        self.outcomes.insert(at, outcome);
        self.write_progress()
    }

    /// Marks the report as cut short by `signal` (rewritten at once, with `junit.xml`).
    pub fn interrupted(&mut self, signal: &str) -> Result<()> {
        self.interrupted = Some(signal.to_string());
        self.write_progress()?;
        let summary = self.summary(self.t0.elapsed());
        write(
            &self.dir.join("junit.xml"),
            &junit::render(&summary, &self.outcomes)?,
            &self.redactor(),
        )
    }

    /// Writes the complete report; returns the summary and the trials in plan order.
    pub fn finish(&mut self, wall: std::time::Duration) -> Result<(RunSummary, Vec<TrialOutcome>)> {
        self.complete = true;
        let redactor = self.redactor();
        // A later trial's secret may have shown up in an earlier trial's evidence.
        for o in self.outcomes.iter_mut() {
            redactor.scrub_outcome(o);
        }
        let summary = self.summary(wall);
        let outcomes = &self.outcomes;
        write(
            &self.dir.join("results.json"),
            &self.results_json(&summary)?,
            &redactor,
        )?;
        write(
            &self.dir.join("junit.xml"),
            &junit::render(&summary, outcomes)?,
            &redactor,
        )?;
        write(
            &self.dir.join("findings.sarif"),
            &sarif::render(&summary, outcomes),
            &redactor,
        )?;
        write(
            &self.dir.join("index.html"),
            &html::render(&summary, outcomes),
            &redactor,
        )?;
        Ok((summary, outcomes.clone()))
    }

    fn redactor(&self) -> Redactor {
        Redactor::new(self.secrets.iter().cloned())
    }

    fn summary(&self, wall: std::time::Duration) -> RunSummary {
        RunSummary::compute(
            &self.head.run_id,
            &self.head.started_at,
            self.head.targets.clone(),
            &self.head.scenarios,
            self.head.jobs,
            wall,
            &self.outcomes,
        )
    }

    /// The complete `results.json`, pretty-printed once at the end of the run.
    fn results_json(&self, summary: &RunSummary) -> Result<String> {
        serde_json::to_string_pretty(&serde_json::json!({
            "complete": self.complete,
            "interrupted": self.interrupted,
            "planned": self.head.planned,
            "finished": self.outcomes.len(),
            "summary": summary,
            "trials": self.outcomes,
        }))
        .map_err(|e| HarnessError::Report(format!("results.json: {e}")))
    }

    /// `results.json` and the minimal `index.html` of a run in progress: the same members as
    /// the complete one, the trials joined from their pieces.
    fn write_progress(&self) -> Result<()> {
        let redactor = self.redactor();
        let summary = self.summary(self.t0.elapsed());
        let head = serde_json::json!({
            "complete": self.complete,
            "interrupted": self.interrupted,
            "planned": self.head.planned,
            "finished": self.outcomes.len(),
            "summary": summary,
        });
        let mut text = redactor.scrub(
            &serde_json::to_string(&head)
                .map_err(|e| HarnessError::Report(format!("results.json: {e}")))?,
        );
        // `{...}` becomes `{...,"trials":[...]}`; the pieces are scrubbed already.
        text.pop();
        text.push_str(",\"trials\":[");
        text.push_str(&self.pieces.join(","));
        text.push_str("]}");
        let results = self.dir.join("results.json");
        crate::children::private::replace_file(&results, text.as_bytes())
            .map_err(|e| HarnessError::io(&results, e))?;
        write(
            &self.dir.join("index.html"),
            &html::render_progress(
                &summary,
                &self.outcomes,
                self.head.planned,
                self.interrupted.as_deref(),
            ),
            &redactor,
        )
    }
}

/// Scrubbed, then written atomically: a reader never sees half a file.
fn write(path: &Path, text: &str, redactor: &Redactor) -> Result<()> {
    crate::children::private::replace_file(path, redactor.scrub(text).as_bytes())
        .map_err(|e| HarnessError::io(path, e))
}

/// Writes the whole report of finished trials at once (`cargo test` runs); returns the run
/// directory.
pub fn write_run(
    root: &Path,
    head: RunHead,
    outcomes: Vec<TrialOutcome>,
    wall: std::time::Duration,
) -> Result<(PathBuf, RunSummary)> {
    let mut report = LiveReport::create(root, head)?;
    for (i, o) in outcomes.into_iter().enumerate() {
        report.add(i, o)?;
    }
    let (summary, _) = report.finish(wall)?;
    Ok((report.dir, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(run_id: &str) -> RunHead {
        RunHead {
            run_id: run_id.into(),
            started_at: now_rfc3339(),
            targets: vec!["t".into()],
            scenarios: "s".into(),
            jobs: 1,
            planned: 3,
        }
    }

    fn outcome(name: &str, verdict: Verdict) -> TrialOutcome {
        TrialOutcome {
            name: name.into(),
            target: "t".into(),
            scenario_id: name.into(),
            scenario_name: name.into(),
            scenario_path: "x.yaml".into(),
            covers: Vec::new(),
            weakness: None,
            verdict,
            risk_accepted: None,
            oracle: None,
            failure_kind: None,
            message: Some("the password hunter2-secret leaked".into()),
            started_at: String::new(),
            duration_ms: 1,
            overhead_ms: 0,
            phases_ms: Default::default(),
            steps: Vec::new(),
            screenshots: Vec::new(),
            http: Vec::new(),
            exchanges: Vec::new(),
            context: Default::default(),
            final_url: None,
            error_text: None,
            target_log: Vec::new(),
            browser: "b".into(),
            os: "o".into(),
            protocol: "SAML".into(),
            idp_profile: "generic".into(),
            sign_in_path: "direct sign-in".into(),
            users: Vec::new(),
            secrets: vec!["hunter2-secret".into()],
        }
    }

    fn results(dir: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
    }

    #[test]
    fn the_report_is_valid_after_every_trial_and_complete_only_at_the_end() {
        let root = tempfile::tempdir().unwrap();
        let mut r = LiveReport::create(root.path(), head("20260101T000000Z-abcdef")).unwrap();
        let dir = r.dir().to_path_buf();
        let v = results(&dir);
        assert_eq!(v["complete"], false);
        assert_eq!(v["finished"], 0);
        r.add(1, outcome("t::b", Verdict::Fail)).unwrap();
        r.add(0, outcome("t::a", Verdict::Pass)).unwrap();
        let v = results(&dir);
        assert_eq!(v["complete"], false);
        assert_eq!(v["planned"], 3);
        let names: Vec<&str> = v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["t::a", "t::b"], "plan order");
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.contains("2 of 3 trials finished"), "{html}");
        assert!(html.contains("t::b"), "{html}");
        assert!(dir.join("support/t__b.md").exists());
        // No secret in any file, at any time.
        assert!(redact::scan(&dir, &["hunter2-secret"]).is_empty());
        r.interrupted("SIGTERM").unwrap();
        let v = results(&dir);
        assert_eq!(v["interrupted"], "SIGTERM");
        assert_eq!(v["complete"], false);
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.contains("interrupted by SIGTERM"), "{html}");
        r.add(2, outcome("t::c", Verdict::Pass)).unwrap();
        let (summary, outcomes) = r.finish(std::time::Duration::from_secs(1)).unwrap();
        assert_eq!(outcomes.len(), 3);
        assert_eq!(summary.failed, 1);
        let v = results(&dir);
        assert_eq!(v["complete"], true);
        assert_eq!(v["summary"]["run_id"], "20260101T000000Z-abcdef");
        // Only the report's files: no temporary sibling left by the atomic rewrites.
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "findings.sarif",
                "index.html",
                "junit.xml",
                "results.json",
                "screenshots",
                "support"
            ]
        );
    }

    #[test]
    fn a_secret_first_seen_later_leaves_the_earlier_trials_too() {
        let root = tempfile::tempdir().unwrap();
        let mut r = LiveReport::create(root.path(), head("20260101T000000Z-abcdef")).unwrap();
        let mut a = outcome("t::a", Verdict::Pass);
        a.message = Some("the client secret late-secret-42 showed up early".into());
        a.secrets.clear();
        r.add(0, a).unwrap();
        assert!(
            !redact::scan(r.dir(), &["late-secret-42"]).is_empty(),
            "not yet known as a secret"
        );
        let mut b = outcome("t::b", Verdict::Pass);
        b.secrets.push("late-secret-42".into());
        r.add(1, b).unwrap();
        assert!(redact::scan(r.dir(), &["late-secret-42"]).is_empty());
        let v = results(r.dir());
        assert_eq!(
            v["trials"][0]["message"],
            "the client secret [redacted] showed up early"
        );
    }

    #[test]
    fn two_runs_with_one_id_get_two_directories_each_naming_itself() {
        let root = tempfile::tempdir().unwrap();
        let a = LiveReport::create(root.path(), head("20260101T000000Z-abcdef")).unwrap();
        let b = LiveReport::create(root.path(), head("20260101T000000Z-abcdef")).unwrap();
        assert_ne!(a.dir(), b.dir());
        assert_eq!(
            results(a.dir())["summary"]["run_id"],
            "20260101T000000Z-abcdef"
        );
        assert_eq!(
            results(b.dir())["summary"]["run_id"],
            "20260101T000000Z-abcdef-2"
        );
    }

    #[test]
    fn an_unwritable_report_root_is_an_error_at_once() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let e = LiveReport::create(&file.join("reports"), head("x"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot write the report in"), "{e}");
        assert!(e.contains("a-file/reports"), "{e}");
    }
}
