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

/// Kills `child` and everything it started.
pub fn kill_tree(child: &mut Child) {
    let pids: Vec<String> = descendants(child.id())
        .into_iter()
        .filter(|&p| p > 1)
        .map(|p| p.to_string())
        .collect();
    let _ = child.kill();
    if !pids.is_empty() {
        // Explicit positive PIDs after `--`: procps kill reads a leading "-N" as an option.
        let _ = Command::new("kill")
            .arg("-s")
            .arg("KILL")
            .arg("--")
            .args(&pids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
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
        // a killed child not yet reaped by its new parent shows as a zombie ("Z")
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .is_some_and(|zombie| !zombie)
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
