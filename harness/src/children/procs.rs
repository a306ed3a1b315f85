//! What `/proc` says about processes: parents, liveness, start times and the run tag in a
//! process's environment; and signals, sent by PID through procps `kill` (the workspace
//! forbids `unsafe`, so no libc call).
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

/// Every numeric entry of `/proc`.
pub fn all_pids() -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
/// parentheses, so the split is at the last ')'): index 0 is the state, 1 the parent.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// When the process started (clock ticks since boot): with the PID, names one process even
/// after its PID is reused.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// Alive and not a zombie waiting to be reaped.
pub fn running(pid: u32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().map(|s| s != "Z"))
        .unwrap_or(false)
}

/// Process IDs of every descendant of `root`, children before grandchildren.
pub fn descendants(root: u32) -> Vec<u32> {
    let parent_of: Vec<(u32, u32)> = all_pids()
        .into_iter()
        .filter_map(|pid| {
            let ppid = stat_fields(pid)?.get(1)?.parse::<u32>().ok()?;
            Some((pid, ppid))
        })
        .collect();
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

/// The values of `names` in a process's environment (as it was when it started), in order;
/// `None` for a name it lacks. Unreadable (another user's process, gone) gives all `None`.
pub fn environ_values<const N: usize>(pid: u32, names: [&str; N]) -> [Option<String>; N] {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    let Ok(bytes) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return out;
    };
    for entry in bytes.split(|&b| b == 0) {
        let Ok(entry) = std::str::from_utf8(entry) else {
            continue;
        };
        let Some((k, v)) = entry.split_once('=') else {
            continue;
        };
        if let Some(i) = names.iter().position(|n| *n == k) {
            out[i] = Some(v.to_string());
        }
    }
    out
}

/// Sends `signal` to each PID. Explicit positive PIDs after `--`: procps kill reads a
/// leading "-N" as an option. Never PID 1, never this process.
pub fn signal(signal: &str, pids: &BTreeSet<u32>) {
    let me = std::process::id();
    let pids: Vec<String> = pids
        .iter()
        .filter(|&&p| p > 1 && p != me)
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

/// SIGTERM to every process `find` returns, so servers shut down cleanly, then SIGKILL to
/// whatever `find` still returns after `grace` (or once all are gone); returns how many
/// processes were stopped. `find` is asked again before the hard kill: a process may fork
/// while it stops.
pub fn terminate(find: impl Fn() -> BTreeSet<u32>, grace: std::time::Duration) -> usize {
    let first = find();
    if first.is_empty() {
        return 0;
    }
    signal("TERM", &first);
    let deadline = std::time::Instant::now() + grace;
    while first.iter().any(|&p| running(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let left: BTreeSet<u32> = find().into_iter().filter(|&p| running(p)).collect();
    signal("KILL", &left);
    first.union(&left).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_with_a_start_time() {
        let me = std::process::id();
        assert!(running(me));
        assert!(start_time(me).is_some());
        assert!(!running(u32::MAX));
        assert_eq!(start_time(u32::MAX), None);
    }

    #[test]
    fn a_childs_environment_is_read_back() {
        let mut child = Command::new("sleep")
            .arg("30")
            .env("SSO_TEST_A", "one=two")
            .spawn()
            .unwrap();
        // spawn() returns once the child is in execve, a moment before the kernel has set
        // up its new stack: wait until its command line shows.
        for _ in 0..500 {
            let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
            if !cmdline.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let [a, b] = environ_values(child.id(), ["SSO_TEST_A", "SSO_TEST_MISSING"]);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(a.as_deref(), Some("one=two"));
        assert_eq!(b, None);
    }
}
