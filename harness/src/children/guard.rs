//! Child processes owned by guards: killed on drop, with every descendant, each by its
//! own process ID (never a process group or a name).
use std::process::{Child, Command, Stdio};

/// Process IDs of every descendant of `root`, children before grandchildren.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == p && pid != root && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

/// How long a process tree gets to stop on SIGTERM (Apache finishes its requests, shibd
/// closes its socket) before the rest is killed.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends `signal` to each PID. Explicit positive PIDs after `--`: procps kill reads a
/// leading "-N" as an option.
fn signal(signal: &str, pids: &[u32]) {
    let pids: Vec<String> = pids
        .iter()
        .filter(|&&p| p > 1)
        .map(u32::to_string)
        .collect();
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .arg("--")
        .args(&pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Alive and not a zombie waiting to be reaped.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Stops `child` and everything it started: SIGTERM to all, so servers shut down cleanly
/// (no stale pid files, sockets or shared memory), then SIGKILL to whatever is left after
/// a short grace period.
pub fn kill_tree(child: &mut Child) {
    let root = child.id();
    let mut tree = descendants(root);
    tree.push(root);
    signal("TERM", &tree);
    let deadline = std::time::Instant::now() + GRACE;
    let mut root_done = false;
    loop {
        if !root_done {
            root_done = matches!(child.try_wait(), Ok(Some(_)));
        }
        let others_done = tree.iter().filter(|&&p| p != root).all(|&p| !running(p));
        if (root_done && others_done) || std::time::Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Children may have forked while stopping: collect again before the hard kill.
    for p in descendants(root) {
        if !tree.contains(&p) {
            tree.push(p);
        }
    }
    let left: Vec<u32> = tree
        .into_iter()
        .filter(|&p| p != root && running(p))
        .collect();
    signal("KILL", &left);
    if !root_done {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A child process killed (with its descendants) when dropped.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_tree(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        running(pid)
    }

    #[test]
    fn a_child_that_handles_sigterm_stops_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("stopped");
        let script = format!(
            "trap 'echo clean > {}; exit 0' TERM; while true; do sleep 0.05; done",
            marker.display()
        );
        let guard = ChildGuard(Command::new("sh").args(["-c", &script]).spawn().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(guard);
        assert_eq!(
            std::fs::read_to_string(&marker).unwrap_or_default().trim(),
            "clean",
            "the child was not given SIGTERM before being killed"
        );
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed() {
        let child = Command::new("sh")
            .args(["-c", "trap '' TERM; sleep 30 & wait"])
            .spawn()
            .unwrap();
        let guard = ChildGuard(child);
        let root = guard.id();
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(guard);
        assert!(!alive(root));
    }

    #[test]
    fn dropping_the_guard_kills_the_child_and_its_children() {
        let child = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .unwrap();
        let guard = ChildGuard(child);
        let root = guard.id();
        let mut kids = Vec::new();
        for _ in 0..50 {
            kids = descendants(root);
            if kids.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            kids.len() >= 2,
            "the shell did not start its sleeps: {kids:?}"
        );
        drop(guard);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!alive(root));
        for k in kids {
            assert!(!alive(k), "descendant {k} survived");
        }
    }
}
