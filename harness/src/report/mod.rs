//! Reports of a run: `junit.xml`, `results.json`, a self-contained `index.html` and
//! `support/<trial>.md` for every failed trial, under `reports/<UTC timestamp>/`.
pub mod html;
pub mod junit;
pub mod redact;
pub mod summary;
pub mod support;

use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};
use crate::trial::outcome::{TrialOutcome, Verdict};
use redact::Redactor;
pub use summary::{RunSummary, now_rfc3339, run_id_now, slug};

fn write(path: &Path, text: &str, redactor: &Redactor) -> Result<()> {
    std::fs::write(path, redactor.scrub(text)).map_err(|e| HarnessError::io(path, e))
}

/// Writes every report file of a run; returns the run directory.
pub fn write_run(
    root: &Path,
    summary: &RunSummary,
    outcomes: &mut [TrialOutcome],
) -> Result<PathBuf> {
    let mut dir = root.join(&summary.run_id);
    let mut n = 2;
    while dir.exists() {
        dir = root.join(format!("{}-{n}", summary.run_id));
        n += 1;
    }
    let shots = dir.join("screenshots");
    let support_dir = dir.join("support");
    for d in [&dir, &shots, &support_dir] {
        std::fs::create_dir_all(d).map_err(|e| HarnessError::io(d, e))?;
    }
    let redactor = Redactor::new(
        outcomes
            .iter()
            .flat_map(|o| o.secrets.iter().cloned())
            .collect::<Vec<_>>(),
    );
    for o in outcomes.iter_mut() {
        redactor.scrub_outcome(o);
        let base = slug(&o.name);
        for (i, s) in o.screenshots.iter_mut().enumerate() {
            let rel = format!("screenshots/{base}-{}.png", i + 1);
            let p = dir.join(&rel);
            std::fs::write(&p, &s.png).map_err(|e| HarnessError::io(&p, e))?;
            s.file = Some(rel);
        }
    }
    let json = serde_json::to_string_pretty(
        &serde_json::json!({ "summary": summary, "trials": outcomes }),
    )
    .map_err(|e| HarnessError::Report(format!("results.json: {e}")))?;
    write(&dir.join("results.json"), &json, &redactor)?;
    write(
        &dir.join("junit.xml"),
        &junit::render(summary, outcomes)?,
        &redactor,
    )?;
    for o in outcomes.iter().filter(|o| {
        o.verdict.is_failure() || matches!(o.verdict, Verdict::KnownFailure | Verdict::Finding)
    }) {
        write(
            &support_dir.join(format!("{}.md", slug(&o.name))),
            &support::render(o),
            &redactor,
        )?;
    }
    write(
        &dir.join("index.html"),
        &html::render(summary, outcomes),
        &redactor,
    )?;
    Ok(dir)
}
