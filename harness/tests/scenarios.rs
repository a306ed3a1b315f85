//! `cargo test -p harness --test scenarios [-- FILTER]`: one libtest trial per scenario x
//! target, named `target::path/file`. Trials a target cannot run are ignored with the reason;
//! finding no scenario fails. Reports go to `reports/<run id>/` (SSO_HARNESS_REPORT), written
//! as trials finish.
//!
//! Environment: SSO_HARNESS_SCENARIOS (default `scenarios/`), SSO_HARNESS_TARGETS (comma-
//! separated names; default every `targets/*.yaml` except `*.example.yaml`),
//! SSO_HARNESS_FULL_PACKS (run the whole attack pack on every target, not only CI's slice),
//! SSO_HARNESS_PLAN (print run/skip per trial and run nothing),
//! SSO_HARNESS_WEBDRIVER_URL (use an external WebDriver), SSO_HARNESS_LAUNCHER (`process` or
//! `container`: start every process/container target with that launcher).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use harness::children::registry;
use harness::report::{LiveReport, RunHead, now_rfc3339};
use harness::run::harness::{Harness, HarnessOptions, IdpChoice, plan};
use harness::scenario::load::load_dir;
use harness::target::descriptor::load_targets;
use harness::trial::outcome::TrialOutcome;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use tokio::sync::OnceCell;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let scenarios_dir = std::env::var("SSO_HARNESS_SCENARIOS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("scenarios"));
    let (scenarios, errors) = load_dir(&scenarios_dir);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        return ExitCode::FAILURE;
    }
    let wanted: Option<Vec<String>> = std::env::var("SSO_HARNESS_TARGETS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let (targets, terrors) = load_targets(&root.join("targets"));
    if !terrors.is_empty() {
        for e in &terrors {
            eprintln!("{e}");
        }
        return ExitCode::FAILURE;
    }
    let launcher = match harness::target::container::launcher_from_env() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let targets: Vec<_> = targets
        .into_iter()
        .map(|mut t| {
            if let Some(l) = launcher {
                harness::target::container::apply_launcher(&mut t.target, l);
            }
            t
        })
        .filter(|t| match &wanted {
            Some(names) => names.contains(&t.target.name),
            None => !t.path.to_string_lossy().ends_with(".example.yaml"),
        })
        .map(Arc::new)
        .collect();
    let scenarios: Vec<_> = scenarios.into_iter().map(Arc::new).collect();
    let plans = plan(&targets, &scenarios, None);
    let full_packs = std::env::var_os("SSO_HARNESS_FULL_PACKS").is_some();
    // The self-test targets prove in CI that each anchor row they list is caught: per row,
    // the first listed finding (in plan order, over every self-test target) runs; the other
    // listed findings of that row run with SSO_HARNESS_FULL_PACKS=1.
    let mut rows_proven = std::collections::BTreeMap::<String, String>::new();
    let mut self_test_proves = std::collections::BTreeMap::<String, String>::new();
    for p in plans.iter().filter(|p| p.target.target.self_test) {
        if p.skip_reason().is_some() || p.target.target.known_failure(&p.scenario.id).is_none() {
            continue;
        }
        let rows: Vec<String> = p
            .scenario
            .scenario
            .anchors
            .iter()
            .map(|a| a.to_string())
            .collect();
        let new = rows.is_empty() || rows.iter().any(|r| !rows_proven.contains_key(r));
        if new {
            for r in rows {
                rows_proven.entry(r).or_insert_with(|| p.name());
            }
        } else {
            let by = rows_proven.get(&rows[0]).cloned().unwrap_or_default();
            self_test_proves.insert(p.name(), by);
        }
    }
    // CI runs the whole attack packs (saml-attacks, oidc-rp) on the reference SP and a
    // representative slice (the variants tagged `ci-slice`, and every trial a target lists in
    // known_failures) on every other target, only the listed trials on self-test targets, and
    // only `ci_runs` plus the listed trials on targets that name them (library pairs; a
    // variant with ci_runs leaves the findings it inherits to its base);
    // SSO_HARNESS_FULL_PACKS=1 runs everything (README: "Attack packs").
    let skip_reason = |p: &harness::run::harness::TrialPlan| -> Option<String> {
        if let Some(r) = p.skip_reason() {
            return Some(r);
        }
        let s = &p.scenario.scenario;
        let builtin = matches!(
            p.target.target.launch,
            harness::target::descriptor::Launch::Builtin(_)
        );
        let listed = p.target.target.known_failure(&p.scenario.id).is_some();
        let pack = s
            .tags
            .iter()
            .find(|t| *t == "saml-attacks" || *t == "oidc-rp");
        let in_pack = pack.is_some();
        let in_slice = s.tags.iter().any(|t| t == "ci-slice");
        // A self-test target (careless-rp-*) exists to catch what it lists; what it passes
        // is proven by SSO_HARNESS_FULL_PACKS runs, not by CI.
        if p.target.target.self_test && !full_packs && !listed {
            return Some(format!(
                "a self-test target runs only its listed findings in CI: SSO_HARNESS_FULL_PACKS=1, or `sso-harness run --target {} --scenarios scenarios/oidc-rp`",
                p.target.target.name
            ));
        }
        if let Some(by) = self_test_proves.get(&p.name()).filter(|_| !full_packs) {
            return Some(format!(
                "its anchor rows are proven caught in CI by {by}: SSO_HARNESS_FULL_PACKS=1, or `sso-harness run --target {}`",
                p.target.target.name
            ));
        }
        if let Some(runs) = p.target.target.ci_runs.as_ref().filter(|_| !full_packs) {
            let named = runs.iter().any(|r| {
                p.scenario.id == *r || (r.ends_with('/') && p.scenario.id.starts_with(r.as_str()))
            });
            // A variant that names its ci_runs (openidc-encrypted of openidc) runs what it
            // changes and what its own file lists; the findings it inherits are caught on the
            // target it extends in the same run.
            let inherited = p.target.target.inherits_known_failure(&p.scenario.id);
            if listed && inherited && !named {
                return Some(format!(
                    "a finding {} inherits, caught on {} in this run: SSO_HARNESS_FULL_PACKS=1, or `sso-harness run --target {}`",
                    p.target.target.name,
                    p.target
                        .target
                        .lineage
                        .first()
                        .map_or("its base", String::as_str),
                    p.target.target.name
                ));
            }
            return (!named && !listed).then(|| {
                format!(
                    "not in the target's ci_runs: SSO_HARNESS_FULL_PACKS=1, or `sso-harness run --target {}`",
                    p.target.target.name
                )
            });
        }
        (!full_packs && !builtin && in_pack && !in_slice && !listed).then(|| {
            format!(
                "outside CI's slice of the attack pack: SSO_HARNESS_FULL_PACKS=1, or `sso-harness run --target {} --scenarios scenarios/{}`",
                p.target.target.name,
                pack.map(String::as_str).unwrap_or("saml-attacks")
            )
        })
    };
    if plans.is_empty() {
        eprintln!(
            "no scenario found: {} scenarios in {} x {} targets",
            scenarios.len(),
            scenarios_dir.display(),
            targets.len()
        );
        return ExitCode::FAILURE;
    }

    // SSO_HARNESS_PLAN=1: print what would run and what would be skipped, one line per
    // trial, and run nothing (how CI's time is budgeted: `| cut -f2 | sort | uniq -c`).
    if std::env::var_os("SSO_HARNESS_PLAN").is_some() {
        for p in &plans {
            match skip_reason(p) {
                Some(r) => println!("{}\tskip\t{r}", p.name()),
                None => println!("{}\trun", p.name()),
            }
        }
        return ExitCode::SUCCESS;
    }

    let cleaned = registry::run().reap_stale();
    if !cleaned.is_empty() {
        eprintln!("cleaned up after an earlier run that was killed: {cleaned}");
    }
    let rt = Arc::new(tokio::runtime::Runtime::new().expect("tokio runtime"));
    let jobs = args.test_threads.unwrap_or(2).max(1);
    let harness: Arc<OnceCell<Arc<Harness>>> = Arc::new(OnceCell::new());
    let outcomes: Arc<Mutex<Vec<TrialOutcome>>> = Arc::default();
    let started = Arc::new(Mutex::new(None::<Instant>));
    let webdriver_url = std::env::var("SSO_HARNESS_WEBDRIVER_URL").ok();
    // The report is written as trials finish; an unwritable directory fails before the first.
    let report_root = std::env::var("SSO_HARNESS_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("reports"));
    let matches = |name: &str, pattern: &str| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    let to_run = plans
        .iter()
        .filter(|p| skip_reason(p).is_none())
        .map(|p| p.name())
        .filter(|n| args.filter.as_deref().is_none_or(|f| matches(n, f)))
        .filter(|n| !args.skip.iter().any(|s| matches(n, s)))
        .count();
    let report = if to_run == 0 || args.list {
        None
    } else {
        let head = RunHead {
            run_id: registry::run().id().to_string(),
            started_at: now_rfc3339(),
            targets: targets.iter().map(|t| t.target.name.clone()).collect(),
            scenarios: scenarios_dir.display().to_string(),
            jobs,
            planned: to_run,
        };
        match LiveReport::create(&report_root, head) {
            Ok(r) => Some(Arc::new(Mutex::new(r))),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    };

    let trials = plans
        .into_iter()
        .enumerate()
        .map(|(index, p)| {
            let name = p.name();
            if let Some(reason) = skip_reason(&p) {
                return Trial::ignorable_test(name, move || Ok(Completion::ignored_with(reason)));
            }
            let (rt, harness, outcomes, started, webdriver_url, report) = (
                rt.clone(),
                harness.clone(),
                outcomes.clone(),
                started.clone(),
                webdriver_url.clone(),
                report.clone(),
            );
            Trial::test(name, move || {
                started.lock().unwrap().get_or_insert_with(Instant::now);
                let outcome = rt.block_on(async {
                    let h = harness
                        .get_or_try_init(|| async {
                            Harness::start(&HarnessOptions {
                                jobs,
                                webdriver_url,
                                idp: IdpChoice::Embedded,
                            })
                            .await
                            .map(Arc::new)
                        })
                        .await
                        .map_err(|e| Failed::from(format!("harness start: {e}")))?;
                    Ok::<_, Failed>(h.run_trial(&p).await)
                })?;
                let verdict = outcome.verdict;
                let fails = outcome.fails_run();
                let message = outcome.message.clone().unwrap_or_default();
                if let Some(r) = &report {
                    if let Err(e) = r.lock().unwrap().add(index, outcome.clone()) {
                        eprintln!("report: {e}");
                    }
                }
                outcomes.lock().unwrap().push(outcome);
                if fails {
                    // A finding's message already starts with its label.
                    let label = verdict.label();
                    if message.starts_with(label) {
                        Err(Failed::from(message))
                    } else {
                        Err(Failed::from(format!("{label}: {message}")))
                    }
                } else {
                    Ok(())
                }
            })
        })
        .collect();

    let conclusion = libtest_mimic::run(&args, trials);

    if let Some(h) = harness.get() {
        rt.block_on(h.shutdown());
    }
    let finished = outcomes.lock().unwrap().len();
    if let (Some(report), true) = (&report, finished > 0) {
        let wall = started
            .lock()
            .unwrap()
            .map(|s| s.elapsed())
            .unwrap_or_default();
        let mut r = report.lock().unwrap();
        match r.finish(wall) {
            Ok((summary, _)) => {
                println!("{}", summary.line());
                println!("{}", r.index_html().display());
            }
            Err(e) => {
                eprintln!("report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else if let Some(report) = report {
        // Nothing ran (a filter matched no trial): no empty report is left behind.
        let dir = report.lock().unwrap().dir().to_path_buf();
        let _ = std::fs::remove_dir_all(dir);
    }
    // Drop the harness (kills chromedriver) before exiting, then whatever of the run is left.
    drop(harness);
    registry::run().stop(None);
    if conclusion.has_failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
