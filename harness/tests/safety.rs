//! The harness is safe under faults: a real `sso-harness run` stopped by SIGTERM or SIGINT
//! mid-run leaves no child process (found by the run's tag in /proc) and no temporary
//! directory, and a valid report of the trials that finished; a run after a SIGKILLed run
//! cleans up what that one left; a report directory that cannot be written stops the run
//! before its first trial; bad input files (FIFO, /dev/zero, symlink loop, missing, not
//! UTF-8) get clear errors at once; `--idp-url` gives the SP the mock IdP's DNS server.
//!
//! Nothing here waits a fixed time: each test waits for an event (a progress line, a process
//! appearing, an exit), with a generous limit only so that a hang fails instead of blocking.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use harness::children::procs;
use harness::children::registry::{OWNER_ENV, RUN_ENV};

/// Generous: the machine may be loaded by other builds. Only a hang reaches it.
const HANG: Duration = Duration::from_secs(300);

/// One browser-driving run at a time: two cores are shared with other builds.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A short private TMPDIR for one run (Chromium's socket paths must stay short).
fn short_tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("s")
        .tempdir_in("/tmp")
        .unwrap()
}

/// A small pack: copies of real scenarios under `<dir>/scenarios/<pack>/`.
fn pack(dir: &Path, from: &str, names: &[&str]) -> PathBuf {
    let root = dir.join("scenarios").join(from);
    std::fs::create_dir_all(&root).unwrap();
    for n in names {
        std::fs::copy(repo().join("scenarios").join(from).join(n), root.join(n)).unwrap();
    }
    root
}

struct Run {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn start(tmp: &Path, args: &[&str]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sso-harness"))
            .args(args)
            .current_dir(repo())
            .env("TMPDIR", tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both streams, line by line, into one channel (closed when both end).
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx2.send(l);
            }
        });
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Run {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads stderr until a line contains `what`.
    fn wait_for(&mut self, what: &str) {
        loop {
            match self.lines.recv_timeout(HANG) {
                Ok(l) => {
                    let hit = l.contains(what);
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(e) => panic!(
                    "no line with {what:?} ({e}); stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the exit; returns the code and everything it printed.
    fn finish(mut self) -> (Option<i32>, String) {
        while let Ok(l) = self.lines.recv_timeout(HANG) {
            self.seen.push(l);
        }
        let status = self.child.wait().unwrap();
        (status.code(), self.seen.join("\n"))
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, "--", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Processes whose environment says they belong to the harness process `owner`.
fn tagged_by(owner: u32) -> Vec<(u32, String)> {
    let prefix = format!("{owner}:");
    procs::all_pids()
        .into_iter()
        .filter_map(|pid| {
            let [run, own] = procs::environ_values(pid, [RUN_ENV, OWNER_ENV]);
            run?;
            own.filter(|o| o.starts_with(&prefix))?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            Some((pid, comm.trim().to_string()))
        })
        .collect()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn results(reports: &Path) -> serde_json::Value {
    let dirs = entries(reports);
    assert_eq!(dirs.len(), 1, "one report directory: {dirs:?}");
    let text = std::fs::read_to_string(reports.join(&dirs[0]).join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Trial names of the progress lines (`[  1/3] pass   target::id (123 ms)`).
fn progress_names(stderr: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with('[') && l.contains('/') && l.contains("] "))
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("::"))
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

fn report_names(v: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = v["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Stops a run by `sig` once `ready` has happened, then checks what it left.
fn stop_mid_run(sig: &str, code: i32, target: &str, from: &str, names: &[&str], wait_apache: bool) {
    let _g = heavy();
    let work = tempfile::tempdir().unwrap();
    let scenarios = pack(work.path(), from, names);
    let reports = work.path().join("reports");
    let tmp = short_tmp();
    let mut run = Run::start(
        tmp.path(),
        &[
            "run",
            "--target",
            target,
            "--scenarios",
            scenarios.to_str().unwrap(),
            "--report",
            reports.to_str().unwrap(),
            "--jobs",
            "1",
        ],
    );
    let pid = run.pid();
    run.wait_for("[  1/");
    if wait_apache {
        // The next trial's SP: a root Apache whose workers run as www-data.
        let mut found = false;
        for _ in 0..30_000 {
            if tagged_by(pid).iter().any(|(_, c)| c == "apache2") {
                found = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(found, "no Apache of the run appeared");
    }
    let before = tagged_by(pid);
    assert!(
        before.iter().any(|(_, c)| c.starts_with("chromedriver")),
        "chromedriver carries the run's tag: {before:?}"
    );
    assert!(
        !entries(tmp.path()).is_empty(),
        "the run has a run directory"
    );
    signal(pid, sig);
    let sig = format!("SIG{sig}");
    let (exit, stderr) = run.finish();
    assert_eq!(exit, Some(code), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {sig}")),
        "{stderr}"
    );
    let left = tagged_by(pid);
    assert!(left.is_empty(), "processes left behind: {left:?}\n{stderr}");
    assert!(
        entries(tmp.path()).is_empty(),
        "temporary files left: {:?}",
        entries(tmp.path())
    );
    // The report opens and lists exactly the trials that finished, and says it is incomplete.
    let v = results(&reports);
    assert_eq!(v["complete"], false);
    assert_eq!(v["interrupted"], sig.as_str());
    assert_eq!(v["planned"], names.len());
    let finished = report_names(&v);
    assert!(!finished.is_empty());
    assert_eq!(
        finished,
        progress_names(&stderr),
        "report vs progress lines:\n{stderr}"
    );
    let dir = reports.join(&entries(&reports)[0]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains(&format!("interrupted by {sig}")), "{html}");
    for n in &finished {
        assert!(html.contains(n.as_str()), "{n} not in index.html");
    }
}

#[test]
fn sigterm_mid_run_leaves_no_child_no_temp_dir_and_a_report() {
    stop_mid_run(
        "TERM",
        143,
        "reference-sp",
        "product",
        &[
            "sp-initiated-saml.yaml",
            "saml-wrong-issuer.yaml",
            "oidc-login.yaml",
        ],
        false,
    );
}

/// With a real SP: the Apache master runs as root from the trial's private directory.
#[test]
fn sigint_mid_run_stops_a_root_apache_too() {
    stop_mid_run(
        "INT",
        130,
        "mellon",
        "saml-sp",
        &[
            "sp-initiated-login.yaml",
            "wrong-audience.yaml",
            "wrong-issuer.yaml",
        ],
        true,
    );
}

#[test]
fn a_run_after_a_sigkilled_run_cleans_up_what_it_left() {
    let _g = heavy();
    let work = tempfile::tempdir().unwrap();
    let scenarios = pack(
        work.path(),
        "product",
        &[
            "sp-initiated-saml.yaml",
            "saml-wrong-issuer.yaml",
            "oidc-login.yaml",
        ],
    );
    let reports = work.path().join("reports");
    let tmp = short_tmp();
    let args = [
        "run",
        "--target",
        "reference-sp",
        "--scenarios",
        scenarios.to_str().unwrap(),
        "--report",
        reports.to_str().unwrap(),
        "--jobs",
        "1",
    ];
    let mut killed = Run::start(tmp.path(), &args);
    let pid = killed.pid();
    killed.wait_for("[  1/");
    signal(pid, "KILL");
    let (exit, first) = killed.finish();
    assert_eq!(exit, None, "killed by a signal");
    let orphans = tagged_by(pid);
    assert!(
        !orphans.is_empty(),
        "SIGKILL leaves the browser running (that is what the next run cleans)"
    );
    assert_eq!(entries(tmp.path()).len(), 1, "its run directory stays");
    // The killed run's report is valid and has its finished trial.
    let v = results(&reports);
    assert_eq!(v["complete"], false);
    assert_eq!(report_names(&v), progress_names(&first));

    let next = Run::start(tmp.path(), &args);
    let (exit, stderr) = next.finish();
    assert_eq!(exit, Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("cleaned up after an earlier run that was killed: "))
        .unwrap_or_else(|| panic!("no clean-up line:\n{stderr}"));
    let n: usize = line
        .rsplit_once("killed: ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(n >= 1, "{line} (left: {orphans:?})");
    assert!(line.contains(", 1 dir"), "{line}");
    assert!(tagged_by(pid).is_empty(), "{:?}", tagged_by(pid));
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[test]
fn an_unwritable_report_dir_stops_the_run_before_its_first_trial() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let reports = file.join("reports");
    let tmp = short_tmp();
    let run = Run::start(
        tmp.path(),
        &[
            "run",
            "--target",
            "reference-sp",
            "--scenarios",
            "scenarios/product",
            "--report",
            reports.to_str().unwrap(),
        ],
    );
    let pid = run.pid();
    let (exit, stderr) = run.finish();
    assert_eq!(exit, Some(2), "{stderr}");
    assert!(stderr.contains("cannot write the report in"), "{stderr}");
    assert!(stderr.contains("a-file/reports"), "{stderr}");
    assert!(!stderr.contains("[  1/"), "no trial may run: {stderr}");
    assert!(tagged_by(pid).is_empty());
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

fn check(paths: &[&Path]) -> (Option<i32>, String) {
    let tmp = short_tmp();
    let mut args = vec!["check"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    Run::start(tmp.path(), &args).finish()
}

const GOOD: &str = "scenario: s\nrequires: [saml]\nidp:\n  users: [{email: a@acme.test}]\nsteps:\n  - open: \"{sp.login_url}\"\n  - expect: {signed_in_as: '{user.email}'}\n";

#[test]
fn bad_input_files_get_clear_errors_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scenarios");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::write(root.join("a/good.yaml"), GOOD).unwrap();

    let fifo = dir.path().join("fifo.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, out) = check(&[&fifo]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("fifo.yaml:1:1: not a regular file (a FIFO)"),
        "{out}"
    );

    let zero = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let (code, out) = check(&[&zero]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("zero.yaml:1:1: not a regular file (a character device)"),
        "{out}"
    );

    let missing = dir.path().join("missing.yaml");
    let (code, out) = check(&[&missing]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("missing.yaml:1:1: no such file or directory"),
        "{out}"
    );
    assert!(!out.contains("cannot read directory"), "{out}");

    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(
        &latin1,
        b"scenario: s\nidp:\n  users: [{email: j\xe9r@acme.test}]\n",
    )
    .unwrap();
    let (code, out) = check(&[&latin1]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("latin1.yaml:3:20: not UTF-8: byte 0xE9"),
        "{out}"
    );

    // A loop back to the root: one scenario, read once, and the loop named.
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    let (code, out) = check(&[&root]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("a/loop:1:1: symlink loop"), "{out}");
    assert!(out.contains("1 of 2 files have errors"), "{out}");
    let tmp = short_tmp();
    let (code, out) = Run::start(
        tmp.path(),
        &[
            "list",
            "--scenarios",
            root.to_str().unwrap(),
            "--target",
            "reference-sp",
        ],
    )
    .finish();
    assert_eq!(code, Some(1), "{out}");
    // One trial, not one per trip round the loop, and the loop named once.
    assert_eq!(out.matches("symlink loop").count(), 1, "{out}");
    assert_eq!(out.matches("reference-sp::").count(), 1, "{out}");
}

/// `--idp-url` against a mock IdP that runs on its own (here in this test process, not in
/// the harness): the domain-verification trials pass only if the SP got its DNS server.
#[test]
fn idp_url_runs_give_the_sp_the_mock_idps_dns() {
    let _g = heavy();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let idp = rt
        .block_on(mock_idp::server::serve(
            mock_idp::server::ServeOptions::default(),
        ))
        .unwrap();
    let url = idp.base_url().to_string();
    let work = tempfile::tempdir().unwrap();
    let reports = work.path().join("reports");
    let tmp = short_tmp();
    let run = Run::start(
        tmp.path(),
        &[
            "run",
            "--target",
            "reference-sp",
            "--scenarios",
            "scenarios/documented",
            "--filter",
            "domain-verification",
            "--idp-url",
            &url,
            "--report",
            reports.to_str().unwrap(),
        ],
    );
    let (code, stderr) = run.finish();
    drop(idp);
    assert_eq!(code, Some(0), "{stderr}");
    let v = results(&reports);
    assert_eq!(v["complete"], true);
    let s = &v["summary"];
    assert!(s["trials"].as_u64().unwrap() >= 7, "{s}");
    assert_eq!(s["passed"], s["trials"], "{s}");
}
