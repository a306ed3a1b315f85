//! `sso-harness`: run, check and list SSO conformance scenarios.
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use harness::run::harness::{IdpChoice, plan};
use harness::run::runner::{RunRequest, execute};
use harness::scenario::load::load_dir;
use harness::target::container::Launcher;
use harness::target::descriptor::{find_target, load_targets};

/// Runs SSO conformance scenarios against a target SP in a real headless browser.
#[derive(Parser)]
#[command(name = "sso-harness", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against a target; writes reports/<UTC timestamp>/.
    Run {
        /// Target name (from --targets-dir) or path of a descriptor.
        #[arg(long)]
        target: String,
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Only trials whose name (`target::path/file`) contains this.
        #[arg(long)]
        filter: Option<String>,
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Use this WebDriver instead of starting /usr/bin/chromedriver.
        #[arg(long)]
        webdriver_url: Option<String>,
        /// Use an already running mock IdP instead of starting one in-process.
        #[arg(long)]
        idp_url: Option<String>,
        #[arg(long, default_value = "reports")]
        report: PathBuf,
        #[arg(long, default_value = "targets")]
        targets_dir: PathBuf,
        /// Start a `process:` or `container:` target with this launcher instead of its file's.
        #[arg(long, value_enum)]
        launcher: Option<Launcher>,
        /// Staging targets: ask at the terminal for manual set-up steps (toggle Enforce SSO,
        /// verify another domain...) instead of skipping their trials.
        #[arg(long)]
        interactive: bool,
        /// Run only part K of N of the trials (a CI matrix: 1/4 .. 4/4, then merge-reports).
        #[arg(long)]
        shard: Option<harness::run::shard::Shard>,
        /// An earlier run's results.json: shards are balanced by its trial durations (give
        /// every shard the same file).
        #[arg(long, requires = "shard")]
        durations: Option<PathBuf>,
    },
    /// Join the reports of several runs (the shards of one run) into one report.
    MergeReports {
        /// Run report directories (each with its results.json).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Where the merged report directory goes.
        #[arg(long, default_value = "reports")]
        report: PathBuf,
    },
    /// Measures the report writer: replays a run's results.json through a live report in a
    /// temporary directory and prints what adding a trial costs early and late in the run.
    BenchReport {
        /// A results.json of an earlier run (its trials are replayed).
        #[arg(long)]
        from: PathBuf,
        /// Replay the run this many times over (a longer run).
        #[arg(long, default_value_t = 1)]
        times: usize,
    },
    /// Where a staging SP behaves differently from the reference SP: the same scenarios on
    /// both, one row per catalogue behaviour that differs (error text, refusal, status).
    Diff {
        /// The staging target (name or path).
        #[arg(long)]
        target: String,
        /// The target that models the documented product.
        #[arg(long, default_value = "reference-sp")]
        reference: String,
        #[arg(long, default_value = "scenarios/documented")]
        scenarios: PathBuf,
        #[arg(long)]
        filter: Option<String>,
        /// Parallel trials on the reference side (the staging side runs one at a time).
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        #[arg(long)]
        webdriver_url: Option<String>,
        #[arg(long, default_value = "reports")]
        report: PathBuf,
        #[arg(long, default_value = "targets")]
        targets_dir: PathBuf,
    },
    /// A staging SP configured by hand: the pinned mock IdP tenant it trusts.
    Staging {
        #[command(subcommand)]
        what: StagingCommand,
    },
    /// Build the container launcher's images if missing, start Apache from them once, and
    /// print how long each step took.
    Images {
        /// Debian packages of the SP image, comma-separated (default: targets/mellon.yaml's).
        #[arg(long, value_delimiter = ',')]
        packages: Vec<String>,
        /// Remove the base and SP images first, to measure builds from nothing.
        #[arg(long)]
        cold: bool,
    },
    /// Validate scenario and target files; prints file:line:col errors.
    Check {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Check an IdP application (authentik, Okta, any OIDC/SAML IdP) against the product's
    /// documented requirements: one PASS/FAIL line per check with the fix, and a report.
    IdpCheck {
        /// IdP descriptor, e.g. targets/idp/my-authentik.yaml.
        #[arg(long)]
        idp: PathBuf,
        /// Where the report directory goes.
        #[arg(long, default_value = "reports")]
        report: PathBuf,
        /// The checks (scenarios/idp-checks).
        #[arg(long, default_value = "scenarios/idp-checks")]
        checks: PathBuf,
        /// Use this WebDriver instead of starting /usr/bin/chromedriver.
        #[arg(long)]
        webdriver_url: Option<String>,
    },
    /// Write a commented target file for your own SP (a dev server, a SAML/OIDC library, a
    /// gateway) from flags or answers at the terminal, then prove it with one sign-in.
    NewTarget(Box<NewTargetArgs>),
    /// List the trials (scenario x target) and why any would be skipped.
    List {
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        #[arg(long, default_value = "targets")]
        targets_dir: PathBuf,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        shard: Option<harness::run::shard::Shard>,
        #[arg(long, requires = "shard")]
        durations: Option<PathBuf>,
    },
}

/// `sso-harness new-target`: every value by flag (scripts) or, at a terminal, asked for.
/// Values are templates: {sp.port}, {sp.dir}, {sp.base_url}, {idp.sso_url}, {idp.entity_id},
/// {idp.metadata_url}, {idp.certificate_pem}, {idp.discovery_url}, {idp.client_id},
/// {idp.client_secret}, ... (the written file lists them).
#[derive(clap::Args)]
struct NewTargetArgs {
    /// The target's name (trial names are NAME::scenario).
    #[arg(long)]
    name: Option<String>,
    /// saml or oidc; repeat for both.
    #[arg(long = "protocol", value_parser = harness::newtarget::protocol_arg)]
    protocols: Vec<harness::scenario::schema::Protocol>,
    /// The command line that starts the SP per trial (split like a shell does, not run by one).
    #[arg(long)]
    command: Option<String>,
    /// KEY=VALUE in the command's environment (repeatable).
    #[arg(long)]
    env: Vec<String>,
    /// An SP that is already running (configured by hand, see `staging init`).
    #[arg(long, conflicts_with_all = ["command", "env"])]
    url: Option<String>,
    /// Opening it starts a sign-in (default {sp.base_url}login).
    #[arg(long)]
    login_url: Option<String>,
    /// SAML: where the IdP posts the response.
    #[arg(long)]
    acs_url: Option<String>,
    /// SAML: the SP's entity ID (the assertions' audience).
    #[arg(long)]
    entity_id: Option<String>,
    /// SAML: the SP's metadata URL, if it publishes one.
    #[arg(long)]
    metadata_url: Option<String>,
    /// OIDC: the redirect URI the SP sends (registered with the IdP's client).
    #[arg(long)]
    redirect_uri: Option<String>,
    /// Answers below 500 once the SP is up (default {sp.base_url}).
    #[arg(long)]
    ready_url: Option<String>,
    /// A log file of the SP for the report (repeatable), e.g. {sp.dir}/sp.log.
    #[arg(long = "log")]
    logs: Vec<String>,
    /// CSS selector of the element showing the signed-in user's email.
    #[arg(long)]
    signed_in: Option<String>,
    /// Or: a pattern over the page's text whose capture is the email, e.g.
    /// 'Signed in as (?P<identity>\S+)'.
    #[arg(long)]
    signed_in_text: Option<String>,
    /// Or: a "who am I" JSON URL of the SP (with --whoami-field, the email's dotted path).
    #[arg(long)]
    whoami: Option<String>,
    #[arg(long)]
    whoami_field: Option<String>,
    /// Opening it ends the SP's session, e.g. {sp.base_url}logout (the smoke pack's
    /// sign-out; without it that trial is skipped).
    #[arg(long)]
    sign_out_url: Option<String>,
    /// Where to write the file (default targets/NAME.yaml).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
    /// Only write and check the file; no proving sign-in.
    #[arg(long)]
    no_prove: bool,
    /// The folder holding smoke/ (the proving sign-in scenarios).
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    #[arg(long, default_value = "reports")]
    report: PathBuf,
    #[arg(long)]
    webdriver_url: Option<String>,
}

#[derive(Subcommand)]
enum StagingCommand {
    /// Create (or reuse) the target's pinned tenant, print what to paste into the SP, the
    /// users to invite and the domains to verify; then prove it with one real sign-in.
    Init {
        /// A target file with a `staging:` block (see targets/staging.example.yaml).
        #[arg(long)]
        target: PathBuf,
        /// The pack whose users and domains the SP needs (default: the documented pack).
        #[arg(long, default_value = "scenarios/documented")]
        scenarios: PathBuf,
        /// Do not wait for Enter before the proving sign-in (scripts; re-runs).
        #[arg(long)]
        no_wait: bool,
        /// Print the values as JSON on stdout (the human text goes to stderr).
        #[arg(long)]
        json: bool,
        #[arg(long)]
        webdriver_url: Option<String>,
    },
    /// Which set-up the target needs (SAML: the browser reaches the mock IdP; OIDC: the SP's
    /// server must reach it too) and whether its file gives it.
    Check {
        #[arg(long)]
        target: PathBuf,
    },
    /// Serve the target's mock IdP (its pinned tenants, at its fixed address) until Ctrl-C,
    /// e.g. while you configure the SP or publish TXT records.
    Idp {
        #[arg(long)]
        target: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => check(&paths),
        Command::Images { packages, cold } => images(packages, cold),
        Command::List {
            scenarios,
            targets_dir,
            target,
            shard,
            durations,
        } => match load_durations(durations.as_deref()) {
            Ok(d) => list(
                &scenarios,
                &targets_dir,
                target.as_deref(),
                shard,
                d.as_ref(),
            ),
            Err(code) => code,
        },
        Command::MergeReports { runs, report } => merge_reports(&runs, &report),
        Command::BenchReport { from, times } => match harness::report::bench::run(&from, times) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::NewTarget(a) => {
            let a = *a;
            as_run(harness::newtarget::run(harness::newtarget::Options {
                name: a.name,
                protocols: a.protocols,
                command: a.command,
                env: a.env,
                url: a.url,
                login_url: a.login_url,
                acs_url: a.acs_url,
                entity_id: a.entity_id,
                metadata_url: a.metadata_url,
                redirect_uri: a.redirect_uri,
                ready_url: a.ready_url,
                logs: a.logs,
                signed_in: a.signed_in,
                signed_in_text: a.signed_in_text,
                whoami: a.whoami,
                whoami_field: a.whoami_field,
                sign_out_url: a.sign_out_url,
                out: a.out,
                force: a.force,
                prove: !a.no_prove,
                scenarios: a.scenarios,
                report: a.report,
                webdriver_url: a.webdriver_url,
            }))
            .unwrap_or_else(|code| code)
        }
        Command::IdpCheck {
            idp,
            report,
            checks,
            webdriver_url,
        } => idp_check(idp, report, checks, webdriver_url),
        Command::Run {
            target,
            scenarios,
            filter,
            jobs,
            webdriver_url,
            idp_url,
            report,
            targets_dir,
            launcher,
            interactive,
            shard,
            durations,
        } => match load_durations(durations.as_deref()) {
            Err(code) => code,
            Ok(durations) => as_run(run(
                target,
                scenarios,
                filter,
                jobs,
                webdriver_url,
                idp_url,
                report,
                targets_dir,
                launcher,
                interactive,
                shard,
                durations,
            ))
            .unwrap_or_else(|code| code),
        },
        Command::Diff {
            target,
            reference,
            scenarios,
            filter,
            jobs,
            webdriver_url,
            report,
            targets_dir,
        } => as_run(diff(
            target,
            reference,
            scenarios,
            filter,
            jobs,
            webdriver_url,
            report,
            targets_dir,
        ))
        .unwrap_or_else(|code| code),
        Command::Staging { what } => match what {
            StagingCommand::Init {
                target,
                scenarios,
                no_wait,
                json,
                webdriver_url,
            } => as_run(harness::staging::init::run(
                &target,
                &scenarios,
                !no_wait,
                json,
                webdriver_url,
            ))
            .unwrap_or_else(|code| code),
            StagingCommand::Check { target } => harness::staging::check(&target),
            StagingCommand::Idp { target } => {
                as_run(harness::staging::serve_idp(&target)).unwrap_or_else(|code| code)
            }
        },
    }
}

/// Runs `work` as this process's run (children/registry):
/// - first cleans up after earlier runs that were killed (their processes, temp dirs and
///   containers) and says so;
/// - on SIGINT, SIGTERM or SIGHUP stops every child process (Apache, shibd, chromedriver,
///   every Chromium, peers, containers), removes the run's temp dirs (the report stays, marked
///   incomplete) and exits 130, 143 or 129;
/// - at the end stops whatever of the run is still running and removes its temp dirs.
///
/// `Err` carries the exit code when the runtime could not start.
fn as_run<T>(work: impl std::future::Future<Output = T>) -> Result<T, ExitCode> {
    use harness::children::registry::{Signals, run as this_run};
    let rt = tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("sso-harness: cannot start the async runtime: {e}");
        ExitCode::from(2)
    })?;
    let outcome = rt.block_on(async {
        // Caught from here on: no signal can end the harness before its children.
        let mut signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sso-harness: cannot handle signals: {e}");
                return Err(None);
            }
        };
        let cleaned = tokio::task::spawn_blocking(|| this_run().reap_stale())
            .await
            .unwrap_or_default();
        if !cleaned.is_empty() {
            eprintln!("sso-harness: cleaned up after an earlier run that was killed: {cleaned}");
        }
        tokio::select! {
            v = work => Ok(v),
            sig = signals.recv() => Err(Some(sig)),
        }
    });
    match outcome {
        Ok(v) => {
            // Guards stop their children as the runtime drops its tasks; the sweep then finds
            // what left the trees (Chromium's crash handlers) and removes the run directory.
            drop(rt);
            this_run().stop(None);
            Ok(v)
        }
        Err(None) => Err(ExitCode::from(2)),
        Err(Some(sig)) => {
            eprintln!(
                "sso-harness: {}: stopping every child process and removing the run's temporary files",
                sig.name()
            );
            let cleaned = this_run().stop(Some(sig));
            eprintln!(
                "sso-harness: interrupted by {}; stopped {cleaned}",
                sig.name()
            );
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            // Exit now: everything the run started is gone, and the tasks still unwinding
            // (trials, their guards) have nothing left to do.
            std::process::exit(i32::from(sig.exit_code()));
        }
    }
}

/// IdP descriptors (`targets/idp/`) and the IdP checks (`scenarios/idp-checks/`) have their
/// own formats: `check` validates each folder with its own parser.
fn check_idp_files(p: &std::path::Path, files: &mut usize, errors: &mut usize) -> bool {
    use harness::idpcheck::descriptor::{Protocol, load_descriptor};
    let name = |q: &std::path::Path| {
        q.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .unwrap_or_default()
    };
    if name(p) == "idp-checks" && p.is_dir() {
        for protocol in [Protocol::Oidc, Protocol::Saml] {
            match harness::idpcheck::catalogue::load_checks(p, protocol) {
                Ok(list) => *files += list.len(),
                Err(errs) => {
                    for e in &errs {
                        println!("{e}");
                    }
                    *errors += errs.len();
                }
            }
        }
        return true;
    }
    let in_idp = name(p) == "idp" || p.parent().is_some_and(|d| name(d) == "idp");
    if !in_idp {
        return false;
    }
    let found = harness::input::discover::list_dir(p);
    for e in &found.errors {
        println!("{e}");
    }
    *errors += found.errors.len();
    let list = found.files;
    for f in list {
        *files += 1;
        if let Err(e) = load_descriptor(&f) {
            println!("{e}");
            *errors += 1;
        }
    }
    true
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let mut errors = 0;
    let mut files = 0;
    for p in paths {
        if check_idp_files(p, &mut files, &mut errors) {
            continue;
        }
        // The scenarios root and the targets folder hold these formats in sub-folders.
        for sub in ["idp-checks", "idp"] {
            let q = p.join(sub);
            if q.is_dir() {
                check_idp_files(&q, &mut files, &mut errors);
            }
        }
        // A single file with a top-level `launch:` is a target wherever it lives.
        let looks_like_target = p.is_file()
            && std::fs::read_to_string(p)
                .is_ok_and(|t| t.lines().any(|l| l.starts_with("launch:")));
        let is_targets = looks_like_target
            || p.file_name().is_some_and(|n| n == "targets")
            || p.parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "targets");
        if is_targets && p.is_dir() {
            let (ok, errs) = load_targets(p);
            files += ok.len() + errs.len();
            for e in &errs {
                println!("{e}");
            }
            errors += errs.len();
        } else if is_targets {
            files += 1;
            if let Err(e) = harness::target::descriptor::load_target(p) {
                println!("{e}");
                errors += 1;
            }
        } else {
            let (ok, errs) = load_dir(p);
            files += ok.len() + errs.len();
            for e in &errs {
                println!("{e}");
            }
            errors += errs.len();
        }
    }
    if errors > 0 {
        eprintln!("{errors} of {files} files have errors");
        ExitCode::from(1)
    } else if files == 0 {
        eprintln!("no scenario or target files found");
        ExitCode::from(1)
    } else {
        eprintln!("{files} files ok");
        ExitCode::SUCCESS
    }
}

/// `--durations FILE`, read once for every shard; exit 2 when it cannot be read.
fn load_durations(
    path: Option<&std::path::Path>,
) -> Result<Option<std::collections::BTreeMap<String, u64>>, ExitCode> {
    match path {
        None => Ok(None),
        Some(p) => harness::run::shard::durations_from(p)
            .map(Some)
            .map_err(|e| {
                eprintln!("sso-harness: --durations {e}");
                ExitCode::from(2)
            }),
    }
}

/// `sso-harness merge-reports DIR...`: one report of several runs' trials.
fn merge_reports(runs: &[PathBuf], report: &std::path::Path) -> ExitCode {
    match harness::report::merge::merge(runs, report) {
        Ok((dir, summary)) => {
            println!("{}", summary.line());
            println!("{}", dir.join("index.html").display());
            if summary.has_failures() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("sso-harness merge-reports: {e}");
            ExitCode::from(2)
        }
    }
}

fn list(
    scenarios: &std::path::Path,
    targets_dir: &std::path::Path,
    target: Option<&str>,
    shard: Option<harness::run::shard::Shard>,
    durations: Option<&std::collections::BTreeMap<String, u64>>,
) -> ExitCode {
    let (found, errs) = load_dir(scenarios);
    for e in &errs {
        eprintln!("{e}");
    }
    // A name or a path, as `run --target` takes it.
    let (targets, terrs) = match target {
        Some(n) => match find_target(n, targets_dir) {
            Ok(t) => (vec![t], Vec::new()),
            Err(e) => (Vec::new(), vec![e]),
        },
        None => load_targets(targets_dir),
    };
    for e in &terrs {
        eprintln!("{e}");
    }
    let targets: Vec<_> = targets.into_iter().map(Arc::new).collect();
    let scenarios: Vec<_> = found.into_iter().map(Arc::new).collect();
    let mut plans = plan(&targets, &scenarios, None);
    if let Some(shard) = shard {
        plans = harness::run::shard::select(plans, |p| p.name(), shard, durations);
    }
    for p in plans {
        match p.skip_reason() {
            Some(r) => println!("{}  (skipped: {r})", p.name()),
            None => println!("{}", p.name()),
        }
    }
    if errs.is_empty() && terrs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    target: String,
    scenarios: PathBuf,
    filter: Option<String>,
    jobs: usize,
    webdriver_url: Option<String>,
    idp_url: Option<String>,
    report: PathBuf,
    targets_dir: PathBuf,
    launcher: Option<Launcher>,
    interactive: bool,
    shard: Option<harness::run::shard::Shard>,
    durations: Option<std::collections::BTreeMap<String, u64>>,
) -> ExitCode {
    let mut target = match find_target(&target, &targets_dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(l) = launcher {
        if !harness::target::container::apply_launcher(&mut target.target, l) {
            eprintln!(
                "sso-harness: --launcher applies to process and container targets; {} is neither",
                target.target.name
            );
            return ExitCode::from(2);
        }
    }
    let (found, errs) = load_dir(&scenarios);
    if !errs.is_empty() {
        for e in &errs {
            eprintln!("{e}");
        }
        return ExitCode::from(2);
    }
    let req = RunRequest {
        targets: vec![Arc::new(target)],
        scenarios: found.into_iter().map(Arc::new).collect(),
        scenarios_label: scenarios.display().to_string(),
        filter,
        jobs,
        webdriver_url,
        idp: match idp_url {
            Some(url) => IdpChoice::External { url, dns: None },
            None => IdpChoice::Embedded,
        },
        report_root: report,
        progress: true,
        interactive,
        shard,
        durations,
    };
    match execute(req).await {
        Ok(result) => {
            // Findings first: they are what a security tool is for.
            let mut shown: Vec<_> = result
                .outcomes
                .iter()
                .filter(|o| o.fails_run() || o.verdict == harness::trial::outcome::Verdict::Finding)
                .collect();
            shown.sort_by_key(|o| o.verdict != harness::trial::outcome::Verdict::Finding);
            for o in shown {
                eprintln!(
                    "\n--- {} {}\n{}",
                    o.verdict.label(),
                    o.name,
                    o.message.clone().unwrap_or_default()
                );
            }
            println!("{}", result.summary.line());
            println!("{}", result.index_html().display());
            let ran = result.summary.trials - result.summary.skipped;
            if ran == 0 {
                // A report without a single judged trial must not look like a green run.
                eprintln!(
                    "sso-harness: nothing ran: all {} trials were skipped (reasons above and in the report)",
                    result.summary.trials
                );
                return ExitCode::from(3);
            }
            if result.summary.has_failures() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("sso-harness: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn diff(
    target: String,
    reference: String,
    scenarios: PathBuf,
    filter: Option<String>,
    jobs: usize,
    webdriver_url: Option<String>,
    report: PathBuf,
    targets_dir: PathBuf,
) -> ExitCode {
    let load = |n: &str| find_target(n, &targets_dir).map_err(|e| e.to_string());
    let (staging, reference) = match (load(&target), load(&reference)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (found, errs) = load_dir(&scenarios);
    if !errs.is_empty() {
        for e in &errs {
            eprintln!("{e}");
        }
        return ExitCode::from(2);
    }
    let r = harness::staging::diff::run(harness::staging::diff::DiffRequest {
        reference,
        staging,
        scenarios: found.into_iter().map(Arc::new).collect(),
        scenarios_label: scenarios.display().to_string(),
        filter,
        jobs,
        webdriver_url,
        report_root: report,
        progress: true,
    })
    .await;
    match &r {
        Ok(d) => {
            println!("{}", d.diff.terminal());
            println!("{}", d.files.join("diff.html").display());
        }
        Err(e) => eprintln!("sso-harness diff: {e}"),
    }
    harness::staging::diff::exit_code(&r)
}

fn idp_check(
    idp: PathBuf,
    report: PathBuf,
    checks: PathBuf,
    webdriver_url: Option<String>,
) -> ExitCode {
    use harness::idpcheck::{IdpCheckOptions, report::write_report, run_idp_check};
    let opts = IdpCheckOptions {
        descriptor: idp,
        root: PathBuf::from("."),
        checks_dir: checks,
        webdriver_url,
    };
    let run = match as_run(run_idp_check(&opts)) {
        Err(code) => return code,
        Ok(Err(e)) => {
            eprintln!("sso-harness idp-check: {e}");
            return ExitCode::from(2);
        }
        Ok(Ok(run)) => run,
    };
    println!("IdP application check: {} ({})", run.idp, run.descriptor);
    for r in &run.results {
        println!("{}", r.line());
    }
    println!(
        "{} passed, {} failed, {} not checked of {} checks in {:.1} s",
        run.passed(),
        run.failed(),
        run.results.len() - run.passed() - run.failed(),
        run.results.len(),
        run.wall_ms as f64 / 1000.0
    );
    match write_report(&report, &run) {
        Ok(p) => println!("{}", p.display()),
        Err(e) => {
            eprintln!("report: {e}");
            return ExitCode::from(2);
        }
    }
    if run.failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn images(packages: Vec<String>, cold: bool) -> ExitCode {
    let packages = if packages.is_empty() {
        vec!["apache2".into(), "libapache2-mod-auth-mellon".into()]
    } else {
        packages
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sso-harness: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let figures = match rt.block_on(harness::target::container::measure(&packages, cold)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sso-harness images: {e}");
            return ExitCode::from(1);
        }
    };
    let secs = |d: std::time::Duration| format!("{:.1} s", d.as_secs_f64());
    let built = |d: Option<std::time::Duration>| match d {
        Some(d) => format!("built in {} (cold)", secs(d)),
        None => "present, not rebuilt (--cold measures a build)".into(),
    };
    println!(
        "base image   {:<40} {}",
        harness::target::container::BASE_IMAGE,
        built(figures.base_build)
    );
    println!(
        "SP image     {:<40} {} [{}]",
        figures.image,
        built(figures.image_build),
        figures.packages.join(" ")
    );
    println!(
        "SP image     {:<40} cached lookup {} ms",
        figures.image,
        figures.cached_lookup.as_millis()
    );
    println!(
        "container    start to ready {} ms (apache2, host network), stop and remove {} ms",
        figures.start_to_ready.as_millis(),
        figures.remove.as_millis()
    );
    ExitCode::SUCCESS
}
