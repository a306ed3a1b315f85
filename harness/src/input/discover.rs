//! Finding the YAML files of a tree (scenarios, targets, IdP checks), safely: a symlink is
//! followed only when it stays inside the tree, a directory is read once (tracked by device
//! and inode, so a symlink loop cannot make copies), and every problem is an error naming the
//! path. What a found file holds is read later, bounded (`input::read`).
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::input::location::{Located, Location};
use crate::input::read::io_message;

/// The folder of IdP application checks (`scenarios/idp-checks/`): not SP scenarios, so never
/// found by walking a scenarios tree (only when named as the root itself).
pub const IDP_CHECKS_DIR: &str = "idp-checks";

/// How deep a tree may go: far beyond any real layout, short of any path limit.
const MAX_DEPTH: usize = 32;

/// What a walk found: the YAML files, sorted, and every path it would not follow.
#[derive(Debug, Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub errors: Vec<Located>,
}

fn at(path: &Path, message: impl Into<String>) -> Located {
    Located {
        location: Location::start_of(path),
        message: message.into(),
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Every `*.yaml`/`*.yml` under `root` (or `root` itself when it is not a directory), sorted.
/// Names starting with `_` or `.` are skipped (drafts, editor files), and so is `idp-checks/`.
pub fn discover(root: &Path) -> Found {
    walk_root(root, true)
}

/// The `*.yaml`/`*.yml` files directly in `dir` (target descriptors), with the same rules.
pub fn list_dir(dir: &Path) -> Found {
    walk_root(dir, false)
}

fn walk_root(root: &Path, recursive: bool) -> Found {
    let mut found = Found::default();
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            found.errors.push(at(root, io_message(&e)));
            return found;
        }
    };
    if !meta.is_dir() {
        // A file named on the command line: the reader decides whether it can be read.
        found.files.push(root.to_path_buf());
        return found;
    }
    let tree = match std::fs::canonicalize(root) {
        Ok(t) => t,
        Err(e) => {
            found.errors.push(at(root, io_message(&e)));
            return found;
        }
    };
    let mut walk = Walk {
        tree,
        recursive,
        visited: BTreeSet::new(),
        found,
    };
    walk.visited.insert((meta.dev(), meta.ino()));
    walk.dir(root, 0);
    let mut found = walk.found;
    found.files.sort();
    found
}

struct Walk {
    /// The canonical root: no symlink is followed out of it.
    tree: PathBuf,
    recursive: bool,
    /// Directories read, by (device, inode).
    visited: BTreeSet<(u64, u64)>,
    found: Found,
}

impl Walk {
    fn dir(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_DEPTH {
            self.found.errors.push(at(
                dir,
                format!("deeper than {MAX_DEPTH} directories: not read"),
            ));
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.found.errors.push(at(
                    dir,
                    format!("cannot read directory: {}", io_message(&e)),
                ));
                return;
            }
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('_') || name.starts_with('.') || name == IDP_CHECKS_DIR {
                continue;
            }
            let Ok(ft) = entry.file_type() else {
                continue;
            };
            if ft.is_symlink() {
                self.symlink(&path, depth);
            } else if ft.is_dir() {
                if self.recursive {
                    match std::fs::symlink_metadata(&path) {
                        Ok(m) if self.visited.insert((m.dev(), m.ino())) => {
                            self.dir(&path, depth + 1);
                        }
                        Ok(_) => {}
                        Err(e) => self.found.errors.push(at(&path, io_message(&e))),
                    }
                }
            } else if is_yaml(&path) {
                // FIFOs and devices too: reading them is refused with what they are.
                self.found.files.push(path);
            }
        }
    }

    fn symlink(&mut self, path: &Path, depth: usize) {
        let target = match std::fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) => {
                // A dangling link or a loop named like a file we would read is worth saying.
                if is_yaml(path) || e.raw_os_error() == Some(40) {
                    self.found.errors.push(at(
                        path,
                        format!("cannot follow symlink: {}", io_message(&e)),
                    ));
                }
                return;
            }
        };
        if !target.starts_with(&self.tree) {
            self.found.errors.push(at(
                path,
                format!(
                    "symlink to {}, outside {}: not followed",
                    target.display(),
                    self.tree.display()
                ),
            ));
            return;
        }
        let meta = match std::fs::metadata(&target) {
            Ok(m) => m,
            Err(e) => {
                self.found.errors.push(at(path, io_message(&e)));
                return;
            }
        };
        if meta.is_dir() {
            if !self.recursive {
                return;
            }
            if self.visited.insert((meta.dev(), meta.ino())) {
                self.dir(path, depth + 1);
            } else {
                self.found.errors.push(at(
                    path,
                    format!(
                        "symlink loop (or a second path to one directory): {} is already read: not followed",
                        target.display()
                    ),
                ));
            }
        } else if is_yaml(path) {
            self.found.files.push(path.to_path_buf());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &Found, root: &Path) -> Vec<String> {
        f.files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn loops_and_links_out_of_the_tree_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.yaml"), "x: 1\n").unwrap();
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("scenarios");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/one.yaml"), "x: 1\n").unwrap();
        // A loop back to an ancestor: once made 41 copies of one trial.
        std::os::unix::fs::symlink("../..", root.join("a/b/up")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("s.yaml"))
            .unwrap();
        std::os::unix::fs::symlink("self.yaml", root.join("self.yaml")).unwrap();
        // A link inside the tree to a file is fine.
        std::os::unix::fs::symlink("a/b/one.yaml", root.join("alias.yaml")).unwrap();
        let f = discover(&root);
        assert_eq!(names(&f, &root), ["a/b/one.yaml", "alias.yaml"]);
        let errors: Vec<String> = f.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("a/b/up") && e.contains("symlink loop")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("/out:") && e.contains("outside")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("s.yaml") && e.contains("outside")),
            "{errors:#?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("self.yaml") && e.contains("symlink loop")),
            "{errors:#?}"
        );
    }

    #[test]
    fn a_missing_root_is_named_as_missing() {
        let t = tempfile::tempdir().unwrap();
        let f = discover(&t.path().join("nope.yaml"));
        assert!(f.files.is_empty());
        assert_eq!(f.errors.len(), 1);
        assert!(
            f.errors[0]
                .to_string()
                .ends_with("nope.yaml:1:1: no such file or directory"),
            "{:?}",
            f.errors
        );
    }

    #[test]
    fn list_dir_does_not_descend() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("sub")).unwrap();
        std::fs::write(t.path().join("sub/x.yaml"), "").unwrap();
        std::fs::write(t.path().join("t.yaml"), "").unwrap();
        std::fs::write(t.path().join("readme.md"), "").unwrap();
        let f = list_dir(t.path());
        assert_eq!(names(&f, t.path()), ["t.yaml"]);
        assert!(f.errors.is_empty());
    }
}
