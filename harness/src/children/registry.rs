//! The one owner of a run's child processes and temporary directories.
//!
//! - Every child the harness starts (SP processes, chromedriver and through it every Chromium,
//!   IdP peers, containers) carries `SSO_HARNESS_RUN=<run id>` and `SSO_HARNESS_OWNER=<pid>:
//!   <start time>` in its environment ([`Run::tag`]); containers carry the same as labels.
//!   Whatever a child starts inherits them, so a process that left its parent's tree (a
//!   crash handler, a daemonised worker) is still found, in `/proc/<pid>/environ`.
//! - Every temporary directory of a run is under one run directory,
//!   `$TMPDIR/sso-harness-<run id>/` (0700), whose `owner` file names the harness process.
//! - On SIGINT, SIGTERM or SIGHUP ([`Signals`]) the CLI calls [`Run::stop`]: hooks first (the
//!   report marks itself interrupted), then every tagged process and registered tree is
//!   stopped (SIGTERM, SIGKILL after a grace period), the run's containers are removed and
//!   the run directory with them.
//! - A harness killed with SIGKILL cannot clean up: the next run's [`Run::reap_stale`] finds
//!   processes, directories and containers whose owner process is gone and removes them.
use std::collections::BTreeSet;
use std::fmt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::private;
use super::procs;

/// Environment variable naming the run a child belongs to.
pub const RUN_ENV: &str = "SSO_HARNESS_RUN";
/// Environment variable naming the harness process that owns the run (`pid:start time`).
pub const OWNER_ENV: &str = "SSO_HARNESS_OWNER";
/// Container labels with the same values.
pub const RUN_LABEL: &str = "sso-harness.run";
pub const OWNER_LABEL: &str = "sso-harness.owner";
/// Run directories are `$TMPDIR/<DIR_PREFIX><run id>`.
pub const DIR_PREFIX: &str = "sso-harness-";
/// The file in a run directory that names its owner.
pub const OWNER_FILE: &str = "owner";
/// How long stopped processes get between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// The harness process that owns a run: its PID and start time, so that a reused PID is not
/// mistaken for a live owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

impl Owner {
    fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: procs::start_time(pid).unwrap_or(0),
        }
    }

    /// `pid:start`, as in the environment and labels.
    pub fn tag(&self) -> String {
        format!("{}:{}", self.pid, self.start)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (pid, start) = s.trim().split_once(':')?;
        Some(Self {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }

    /// The same process is still running.
    pub fn alive(&self) -> bool {
        procs::running(self.pid) && procs::start_time(self.pid) == Some(self.start)
    }
}

/// The signals that stop a run, and the exit code each gives (128 + signal number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    Hangup,
}

impl StopSignal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
            Self::Hangup => 129,
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught from the moment this is made (tokio's handlers; no
/// `unsafe`). Install it before starting anything, so no signal kills the harness outright.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Needs a Tokio runtime.
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next stop signal.
    pub async fn recv(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.int.recv() => StopSignal::Interrupt,
            _ = self.term.recv() => StopSignal::Terminate,
            _ = self.hup.recv() => StopSignal::Hangup,
        }
    }
}

/// What a clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub processes: usize,
    pub dirs: usize,
    pub containers: usize,
}

impl Cleaned {
    pub fn is_empty(&self) -> bool {
        self.processes + self.dirs + self.containers == 0
    }
}

impl fmt::Display for Cleaned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        write!(
            f,
            "{}, {}",
            n(self.processes, "process", "processes"),
            n(self.dirs, "dir", "dirs")
        )?;
        if self.containers > 0 {
            write!(f, ", {}", n(self.containers, "container", "containers"))?;
        }
        Ok(())
    }
}

type Hook = Arc<dyn Fn(StopSignal) + Send + Sync>;
type Hooks = Arc<Mutex<Vec<(u64, Hook)>>>;

/// The run directory: made on first use, removed when its last scratch directory is dropped
/// (so a process that used the library and ended normally leaves nothing behind).
#[derive(Default)]
struct DirSlot {
    path: Option<PathBuf>,
    live: usize,
}

type Slot = Arc<Mutex<DirSlot>>;

/// A private temporary directory of the run (0700, inside the run directory), removed when
/// dropped; the run directory goes with the last one.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    slot: Slot,
}

impl Scratch {
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop(self.dir.take());
        if let Ok(mut slot) = self.slot.lock() {
            slot.live = slot.live.saturating_sub(1);
            if slot.live == 0 {
                if let Some(dir) = slot.path.take() {
                    remove_tree(&dir);
                }
            }
        }
    }
}

/// This process's run: one per process, made on first use.
pub struct Run {
    id: String,
    owner: Owner,
    tmp: PathBuf,
    dir: Slot,
    /// Roots of the process trees started through a guard.
    roots: Mutex<BTreeSet<u32>>,
    containers: AtomicBool,
    hooks: Hooks,
    next_hook: AtomicU64,
}

/// A hook registered with [`Run::on_stop`]. It stays registered when this value is dropped:
/// a signal drops the work in progress (and this with it) before the hooks run. Call
/// [`StopHook::remove`] once it is no longer wanted.
#[must_use = "remove the hook when the work it reports on is done"]
pub struct StopHook {
    id: u64,
    hooks: Hooks,
}

impl StopHook {
    pub fn remove(self) {
        if let Ok(mut hooks) = self.hooks.lock() {
            hooks.retain(|(id, _)| *id != self.id);
        }
    }
}

static RUN: OnceLock<Run> = OnceLock::new();

/// This process's run.
pub fn run() -> &'static Run {
    RUN.get_or_init(|| Run::new(std::env::temp_dir()))
}

/// `20261123T143000Z-3f9a1c`: sortable by time, and unique even for two runs started in the
/// same second (a random suffix).
pub fn new_run_id() -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_else(|_| "run".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &suffix[..6])
}

impl Run {
    fn new(tmp: PathBuf) -> Self {
        Self {
            id: new_run_id(),
            owner: Owner::current(),
            tmp,
            dir: Slot::default(),
            roots: Mutex::new(BTreeSet::new()),
            containers: AtomicBool::new(false),
            hooks: Hooks::default(),
            next_hook: AtomicU64::new(0),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// The environment every child gets.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [(RUN_ENV, self.id.clone()), (OWNER_ENV, self.owner.tag())]
    }

    /// Tags a command with this run, before it is spawned.
    pub fn tag(&self, cmd: &mut std::process::Command) {
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
    }

    /// Labels for a container of this run; notes that the run has containers to remove.
    pub fn container_labels(&self) -> [(&'static str, String); 2] {
        self.containers.store(true, Ordering::SeqCst);
        [
            (RUN_LABEL, self.id.clone()),
            (OWNER_LABEL, self.owner.tag()),
        ]
    }

    pub fn register(&self, pid: u32) {
        if let Ok(mut r) = self.roots.lock() {
            r.insert(pid);
        }
    }

    pub fn unregister(&self, pid: u32) {
        if let Ok(mut r) = self.roots.lock() {
            r.remove(&pid);
        }
    }

    /// The run directory, made (0700, with its `owner` file) when missing.
    pub fn dir(&self) -> std::io::Result<PathBuf> {
        let mut slot = self
            .dir
            .lock()
            .map_err(|_| std::io::Error::other("run directory lock poisoned"))?;
        self.ensure_dir(&mut slot)
    }

    fn ensure_dir(&self, slot: &mut DirSlot) -> std::io::Result<PathBuf> {
        if let Some(d) = slot.path.as_ref() {
            return Ok(d.clone());
        }
        let dir = self.tmp.join(format!("{DIR_PREFIX}{}", self.id));
        std::fs::DirBuilder::new()
            .mode(private::DIR_MODE)
            .create(&dir)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let owner = format!(
            "pid={}\nstart={}\nowner={}\nrun={}\n",
            self.owner.pid,
            self.owner.start,
            self.owner.tag(),
            self.id
        );
        private::write_file(&dir.join(OWNER_FILE), owner.as_bytes(), None)?;
        slot.path = Some(dir.clone());
        Ok(dir)
    }

    /// A new private temporary directory inside the run directory, removed when dropped.
    pub fn scratch(&self, prefix: &str) -> std::io::Result<Scratch> {
        self.scratch_with(prefix, 6)
    }

    fn scratch_with(&self, prefix: &str, random: usize) -> std::io::Result<Scratch> {
        use std::os::unix::fs::PermissionsExt as _;
        let mut slot = self
            .dir
            .lock()
            .map_err(|_| std::io::Error::other("run directory lock poisoned"))?;
        let parent = self.ensure_dir(&mut slot)?;
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .rand_bytes(random)
            .permissions(std::fs::Permissions::from_mode(private::DIR_MODE))
            .tempdir_in(parent)?;
        slot.live += 1;
        Ok(Scratch {
            dir: Some(dir),
            slot: self.dir.clone(),
        })
    }

    /// A private directory with a short path (`<run dir>/tXXX`), for programs that put Unix
    /// sockets under `TMPDIR` (Chromium): a socket path may not exceed 107 bytes.
    pub fn short_tmp(&self) -> std::io::Result<Scratch> {
        self.scratch_with("t", 3)
    }

    /// Lets an SP's unprivileged user pass through the run directory to its own trial
    /// directory (which stays 0700 and is that user's): the run directory's group becomes the
    /// user's and its mode 0710. If another group already has that, others may pass (0711)
    /// but still not list it.
    pub fn let_through(&self, user: private::SpUser) -> std::io::Result<()> {
        let dir = self.dir()?;
        let m = std::fs::symlink_metadata(&dir)?;
        let mode = if m.gid() == user.gid || m.mode() & 0o070 == 0 {
            std::os::unix::fs::lchown(&dir, None, Some(user.gid))?;
            0o710
        } else {
            0o711
        };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
    }

    /// Runs `f` when the run is stopped by a signal, before anything is killed.
    pub fn on_stop(&self, f: impl Fn(StopSignal) + Send + Sync + 'static) -> StopHook {
        let id = self.next_hook.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut hooks) = self.hooks.lock() {
            hooks.push((id, Arc::new(f)));
        }
        StopHook {
            id,
            hooks: self.hooks.clone(),
        }
    }

    /// Every process of this run still running: the registered trees and every process whose
    /// environment carries this run's tag.
    pub fn processes(&self) -> BTreeSet<u32> {
        let me = std::process::id();
        let mut pids = tagged(|run, _| run == self.id);
        let roots: Vec<u32> = self
            .roots
            .lock()
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default();
        for root in roots {
            if procs::running(root) {
                pids.insert(root);
                pids.extend(procs::descendants(root));
            }
        }
        pids.remove(&me);
        pids
    }

    /// Stops the run: hooks (with the signal, if any), every process of the run, its
    /// containers, its directory. Safe to call more than once.
    pub fn stop(&self, signal: Option<StopSignal>) -> Cleaned {
        if let Some(sig) = signal {
            let hooks: Vec<Hook> = self
                .hooks
                .lock()
                .map(|h| h.iter().map(|(_, f)| f.clone()).collect())
                .unwrap_or_default();
            for h in hooks {
                h(sig);
            }
        }
        let mut cleaned = Cleaned {
            processes: procs::terminate(|| self.processes(), GRACE),
            ..Cleaned::default()
        };
        if self.containers.load(Ordering::SeqCst) {
            cleaned.containers = remove_containers(&format!("{RUN_LABEL}={}", self.id), |_| true);
        }
        let dir = self.dir.lock().ok().and_then(|mut d| d.path.take());
        if let Some(dir) = dir {
            if remove_tree(&dir) {
                cleaned.dirs = 1;
            }
        }
        cleaned
    }

    /// Cleans up after earlier runs that were killed before they could: processes, run
    /// directories and containers whose owner process is gone.
    pub fn reap_stale(&self) -> Cleaned {
        // Only a process that names its owner, and whose owner is gone, is an orphan.
        let dead = |owner: &str| Owner::parse(owner).is_some_and(|o| o != self.owner && !o.alive());
        let processes = procs::terminate(
            || {
                tagged(|_, owner| dead(owner))
                    .into_iter()
                    .filter(|&p| p != std::process::id())
                    .collect()
            },
            GRACE,
        );
        let containers = if docker_reachable() {
            remove_containers(OWNER_LABEL, |owner| dead(owner))
        } else {
            0
        };
        let mut dirs = 0;
        let me = private::effective_uid();
        if let Ok(rd) = std::fs::read_dir(&self.tmp) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with(DIR_PREFIX) {
                    continue;
                }
                let path = e.path();
                // Only real directories of this user: a planted symlink or another user's
                // directory is never followed or removed.
                let Ok(m) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if !m.file_type().is_dir() || Some(m.uid()) != me {
                    continue;
                }
                let Some(owner) = read_owner(&path.join(OWNER_FILE)) else {
                    continue;
                };
                if owner != self.owner && !owner.alive() && remove_tree(&path) {
                    dirs += 1;
                }
            }
        }
        Cleaned {
            processes,
            dirs,
            containers,
        }
    }
}

/// Processes (not this one) whose environment has a run tag accepted by `keep(run, owner)`.
fn tagged(keep: impl Fn(&str, &str) -> bool) -> BTreeSet<u32> {
    let me = std::process::id();
    procs::all_pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            let [run, owner] = procs::environ_values(pid, [RUN_ENV, OWNER_ENV]);
            match run {
                Some(run) => keep(&run, owner.as_deref().unwrap_or("")),
                None => false,
            }
        })
        .collect()
}

/// The owner named in a run directory's `owner` file (a small private file; anything else
/// is not ours to judge).
fn read_owner(path: &Path) -> Option<Owner> {
    let m = std::fs::symlink_metadata(path).ok()?;
    if !m.file_type().is_file() || m.len() > 4096 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("owner="))
        .and_then(Owner::parse)
}

/// Removes a directory tree (never following symlinks); true when it is gone.
fn remove_tree(dir: &Path) -> bool {
    // Guards dropped on other threads may be removing their own parts at the same moment.
    for _ in 0..3 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    !dir.exists()
}

/// A Docker daemon may be there to ask (no daemon: no container of ours can exist).
fn docker_reachable() -> bool {
    std::env::var_os("DOCKER_HOST").is_some() || Path::new("/var/run/docker.sock").exists()
}

/// Removes the containers that have the label filter `filter` and whose owner label value
/// `keep` accepts; returns how many. Each docker call is bounded: a hung daemon costs a few
/// seconds, never the run.
fn remove_containers(filter: &str, keep: impl Fn(&str) -> bool) -> usize {
    let format = format!("{{{{.ID}}}} {{{{.Label \"{OWNER_LABEL}\"}}}}");
    let Some(list) = docker_bounded(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={filter}"),
        "--format",
        &format,
    ]) else {
        return 0;
    };
    let ids: Vec<String> = list
        .lines()
        .filter_map(|l| {
            let (id, owner) = l.split_once(' ').unwrap_or((l, ""));
            (!id.is_empty() && keep(owner)).then(|| id.to_string())
        })
        .collect();
    if ids.is_empty() {
        return 0;
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    match docker_bounded(&args) {
        Some(out) => out.lines().filter(|l| !l.trim().is_empty()).count(),
        None => 0,
    }
}

/// Runs `docker ARGS` for at most 15 s; its standard output when it succeeded.
fn docker_bounded(args: &[&str]) -> Option<String> {
    use std::io::Read as _;
    let mut child = std::process::Command::new("docker")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                child.stdout.take()?.read_to_string(&mut out).ok()?;
                return status.success().then_some(out);
            }
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    /// Waits until `pid` runs `sleep`: a process spawned a moment ago may still be in execve,
    /// with an empty environment.
    fn wait_exec(pid: u32) {
        for _ in 0..1000 {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmd.starts_with(b"sleep") {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn run_ids_are_unique_within_a_second() {
        let ids: BTreeSet<String> = (0..50).map(|_| new_run_id()).collect();
        assert_eq!(ids.len(), 50);
        let id = ids.iter().next().unwrap();
        assert!(id.len() == "20261123T143000Z-3f9a1c".len(), "{id}");
    }

    #[test]
    fn owner_tags_round_trip_and_liveness() {
        let me = Owner::current();
        assert!(me.alive());
        assert_eq!(Owner::parse(&me.tag()), Some(me));
        let reused = Owner {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!reused.alive(), "a reused PID is not the owner");
        assert_eq!(Owner::parse("12"), None);
    }

    #[test]
    fn the_run_dir_is_private_and_names_its_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Run::new(tmp.path().to_path_buf());
        let dir = r.dir().unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(OWNER_FILE)), 0o600);
        assert_eq!(read_owner(&dir.join(OWNER_FILE)), Some(r.owner()));
        let s = r.scratch("sso-sp-x-").unwrap();
        assert_eq!(mode(s.path()), 0o700);
        assert!(s.path().starts_with(&dir));
        let t = r.short_tmp().unwrap();
        assert!(t.path().starts_with(&dir));
        assert_eq!(
            t.path().file_name().unwrap().len(),
            4,
            "short: {:?}",
            t.path()
        );
        let inner = s.path().to_path_buf();
        drop(s);
        assert!(!inner.exists());
        assert!(dir.exists(), "another scratch directory is still in use");
        drop(t);
        assert!(
            !dir.exists(),
            "the last scratch directory takes the run directory along"
        );
        // Made again on demand, and removed by stop even with scratch directories alive.
        let again = r.scratch("x-").unwrap();
        assert!(dir.exists());
        assert_eq!(r.stop(None).dirs, 1);
        assert!(!dir.exists());
        drop(again);
    }

    #[test]
    fn stop_kills_every_tagged_process_even_outside_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Run::new(tmp.path().to_path_buf());
        // A grandchild the shell leaves behind: not a child of ours once the shell exits.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 60 >/dev/null 2>&1 & echo $!"]);
        r.tag(&mut cmd);
        let out = cmd.output().unwrap();
        let orphan: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        wait_exec(orphan);
        assert!(procs::running(orphan));
        assert!(r.processes().contains(&orphan));
        let cleaned = r.stop(None);
        assert!(cleaned.processes >= 1, "{cleaned}");
        assert!(!procs::running(orphan), "the tagged orphan survived");
        assert!(r.processes().is_empty());
    }

    #[test]
    fn stale_runs_are_reaped_and_live_ones_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        // A run whose owner is gone: a dead owner in its file and in its process's tag.
        let dead = Owner {
            pid: std::process::id(),
            start: Owner::current().start + 7,
        };
        let stale = tmp
            .path()
            .join(format!("{DIR_PREFIX}20000101T000000Z-dead00"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(OWNER_FILE), format!("owner={}\n", dead.tag())).unwrap();
        std::fs::write(stale.join("sp-key.pem"), "x").unwrap();
        let mut child = Command::new("sleep")
            .arg("60")
            .env(RUN_ENV, "20000101T000000Z-dead00")
            .env(OWNER_ENV, dead.tag())
            .spawn()
            .unwrap();
        wait_exec(child.id());
        // A live run (this process) must survive the reaper.
        let live = Run::new(tmp.path().to_path_buf());
        let live_dir = live.dir().unwrap();
        let mut mine = Command::new("sleep");
        mine.arg("60");
        live.tag(&mut mine);
        let mut mine = mine.spawn().unwrap();
        wait_exec(mine.id());
        // Not a run directory: no owner file, or a symlink.
        let other = tmp.path().join(format!("{DIR_PREFIX}browser-x"));
        std::fs::create_dir(&other).unwrap();

        let reaper = Run::new(tmp.path().to_path_buf());
        let cleaned = reaper.reap_stale();
        let _ = child.wait();
        assert!(cleaned.processes >= 1, "{cleaned}");
        assert!(cleaned.dirs >= 1, "{cleaned}");
        assert!(!stale.exists());
        assert!(live_dir.exists() && other.exists());
        assert!(procs::running(mine.id()), "a live run's child was killed");
        let _ = mine.kill();
        let _ = mine.wait();
        live.stop(None);
    }

    #[test]
    fn a_signal_runs_the_hooks_still_registered() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Run::new(tmp.path().to_path_buf());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = {
            let seen = seen.clone();
            r.on_stop(move |sig| seen.lock().unwrap().push(sig.name()))
        };
        let removed = {
            let seen = seen.clone();
            r.on_stop(move |_| seen.lock().unwrap().push("removed"))
        };
        removed.remove();
        // Dropped, not removed: the work it reports on was dropped by the signal.
        drop(kept);
        r.stop(None);
        assert!(seen.lock().unwrap().is_empty(), "no signal, no hook");
        r.stop(Some(StopSignal::Terminate));
        assert_eq!(*seen.lock().unwrap(), ["SIGTERM"]);
        assert_eq!(StopSignal::Terminate.exit_code(), 143);
        assert_eq!(StopSignal::Interrupt.exit_code(), 130);
        assert_eq!(StopSignal::Hangup.exit_code(), 129);
    }

    #[test]
    fn cleaned_reads_as_a_sentence() {
        let c = Cleaned {
            processes: 3,
            dirs: 1,
            containers: 0,
        };
        assert_eq!(c.to_string(), "3 processes, 1 dir");
        assert!(!c.is_empty());
        assert!(Cleaned::default().is_empty());
    }
}
