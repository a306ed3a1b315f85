//! Child processes owned by guards: killed on drop, with every descendant, each by its
//! own process ID (never a process group or a name). Every guarded child is registered with
//! the run (`registry`), which stops what is left of it when the run is interrupted.
use std::collections::BTreeSet;
use std::process::Child;

use super::procs::{descendants, running, signal};
use super::registry;

/// How long a process tree gets to stop on SIGTERM (Apache finishes its requests, shibd
/// closes its socket) before the rest is killed.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Stops `child` and everything it started: SIGTERM to all, so servers shut down cleanly
/// (no stale pid files, sockets or shared memory), then SIGKILL to whatever is left after
/// a short grace period.
pub fn kill_tree(child: &mut Child) {
    let root = child.id();
    let mut tree: BTreeSet<u32> = descendants(root).into_iter().collect();
    tree.insert(root);
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
    tree.extend(descendants(root));
    let left: BTreeSet<u32> = tree
        .into_iter()
        .filter(|&p| p != root && running(p))
        .collect();
    signal("KILL", &left);
    if !root_done {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A child process killed (with its descendants) when dropped. Start it with
/// [`registry::Run::tag`] applied to its command, so that it can be found even when the
/// harness itself is killed.
pub struct ChildGuard(Child);

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        registry::run().register(child.id());
        Self(child)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// The exit status once the root process has exited.
    pub fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.0.try_wait()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_tree(&mut self.0);
        registry::run().unregister(self.0.id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

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
        let guard = ChildGuard::new(Command::new("sh").args(["-c", &script]).spawn().unwrap());
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
        let guard = ChildGuard::new(child);
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
        let guard = ChildGuard::new(child);
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
