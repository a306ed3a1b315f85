//! Private directories and files: everything the harness writes that holds a key, a secret or
//! a configuration a privileged process loads (an SP's trial directory, the reference SP's
//! database, browser profiles, the run directory).
//!
//! Each is created with its final mode (directories 0700, files 0600), never created open and
//! narrowed afterwards, so there is no moment at which another local user can read or replace
//! it. When the harness runs as root and an SP drops privileges (Apache's `User`, `shibd -u`),
//! the SP's directory and files are handed to that user ([`SpUser`]) and stay 0700/0600: only
//! root and the SP's user can read them.
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Mode of every private directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every private file.
pub const FILE_MODE: u32 = 0o600;

/// The unprivileged user an SP's workers run as (from `/etc/passwd`: no libc call needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpUser {
    pub uid: u32,
    pub gid: u32,
}

impl SpUser {
    /// Looks `name` up in `/etc/passwd`; `None` when there is no such user.
    pub fn lookup(name: &str) -> Option<Self> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        parse_passwd(&passwd, name)
    }
}

fn parse_passwd(passwd: &str, name: &str) -> Option<SpUser> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != name {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some(SpUser { uid, gid })
    })
}

/// The effective user ID of this process: `/proc/self` belongs to it.
pub fn effective_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

pub fn running_as_root() -> bool {
    effective_uid() == Some(0)
}

/// Hands `path` (not following a symlink) to `user`, when one is given.
pub fn give_to(path: &Path, user: Option<SpUser>) -> std::io::Result<()> {
    match user {
        Some(u) => std::os::unix::fs::lchown(path, Some(u.uid), Some(u.gid)),
        None => Ok(()),
    }
}

/// Creates `dir` with mode 0700 (its parent must exist). An existing directory is accepted
/// only when it is a real directory (not a symlink) that belongs to us or to `user`.
pub fn create_dir(dir: &Path, user: Option<SpUser>) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => give_to(dir, user),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let m = std::fs::symlink_metadata(dir)?;
            let ours = effective_uid().is_some_and(|me| m.uid() == me)
                || user.is_some_and(|u| m.uid() == u.uid);
            if m.file_type().is_dir() && ours {
                Ok(())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is not a private directory of this run",
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// Creates every missing directory from `base` (which exists) down to `dir`, each 0700 and
/// handed to `user`. `dir` must be inside `base`.
pub fn create_dir_under(base: &Path, dir: &Path, user: Option<SpUser>) -> std::io::Result<()> {
    let rel = dir.strip_prefix(base).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not inside {}", dir.display(), base.display()),
        )
    })?;
    let mut at = base.to_path_buf();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(part) => {
                at.push(part);
                create_dir(&at, user)?;
            }
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{} must be a plain relative path", rel.display()),
                ));
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` as a 0600 file handed to `user`, replacing any file there
/// atomically: a sibling is created new (never an existing file or a planted symlink),
/// written, then renamed over `path`.
pub fn write_file(path: &Path, bytes: &[u8], user: Option<SpUser>) -> std::io::Result<()> {
    let tmp = sibling(path, "new");
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        give_to(&tmp, user)?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `dir/.name.<what>-<pid>-<n>`: a name no other writer uses at the same time.
fn sibling(path: &Path, what: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{what}-{}-{n}", std::process::id()))
}

/// Replaces `path` atomically with `bytes` (a sibling written, then renamed), keeping the
/// usual mode for files that are meant to be shared (reports).
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = sibling(path, "tmp");
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Makes every directory under `root` (and `root`) 0700 and every file 0600, and hands them
/// all to `user` when one is given; symlinks are neither followed nor changed. For trees
/// written inside a directory nobody else can enter, before it is handed over.
pub fn seal_tree(root: &Path, user: Option<SpUser>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::symlink_metadata(root)?;
    if m.file_type().is_symlink() {
        return Ok(());
    }
    if m.is_dir() {
        for e in std::fs::read_dir(root)? {
            seal_tree(&e?.path(), user)?;
        }
    }
    let mode = if m.is_dir() { DIR_MODE } else { FILE_MODE };
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode))?;
    give_to(root, user)
}

/// A new private temporary directory (0700) in `parent`, removed when dropped.
pub fn tempdir_in(parent: &Path, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(DIR_MODE))
        .tempdir_in(parent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn files_and_dirs_are_created_private() {
        let base = tempfile::tempdir().unwrap();
        let t = tempdir_in(base.path(), "x-").unwrap();
        assert_eq!(mode(t.path()), 0o700);
        let deep = t.path().join("a/b/c");
        create_dir_under(t.path(), &deep, None).unwrap();
        for d in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&t.path().join(d)), 0o700, "{d}");
        }
        let f = deep.join("key.pem");
        write_file(&f, b"secret", None).unwrap();
        assert_eq!(mode(&f), 0o600);
        // Rewriting keeps the mode and the content changes in one step.
        write_file(&f, b"other", None).unwrap();
        assert_eq!(mode(&f), 0o600);
        assert_eq!(std::fs::read(&f).unwrap(), b"other");
        // No temporary sibling is left behind.
        let names: Vec<_> = std::fs::read_dir(&deep).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let base = tempfile::tempdir().unwrap();
        let elsewhere = base.path().join("elsewhere");
        std::fs::write(&elsewhere, b"keep").unwrap();
        let link = base.path().join("conf");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        write_file(&link, b"new", None).unwrap();
        // The link itself was replaced by a private file; its target is untouched.
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(mode(&link), 0o600);
        // A symlink where a private directory should be is refused.
        let dlink = base.path().join("dir");
        std::os::unix::fs::symlink(base.path(), &dlink).unwrap();
        assert!(create_dir(&dlink, None).is_err());
    }

    #[test]
    fn passwd_lines_give_uid_and_gid() {
        let p = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n";
        assert_eq!(
            parse_passwd(p, "www-data"),
            Some(SpUser { uid: 33, gid: 33 })
        );
        assert_eq!(parse_passwd(p, "www"), None);
        assert_eq!(parse_passwd("bad:x:y:1\n", "bad"), None);
    }

    #[test]
    fn handing_a_file_to_another_user_keeps_it_private() {
        let user = SpUser::lookup("nobody").unwrap_or(SpUser {
            uid: 65534,
            gid: 65534,
        });
        let base = tempfile::tempdir().unwrap();
        let d = base.path().join("sp");
        if !running_as_root() {
            // Only root may hand files to another user, and says so.
            assert!(create_dir(&d, Some(user)).is_err());
            return;
        }
        create_dir(&d, Some(user)).unwrap();
        let f = d.join("apache2.conf");
        write_file(&f, b"Listen 1", Some(user)).unwrap();
        for p in [&d, &f] {
            let m = std::fs::metadata(p).unwrap();
            assert_eq!((m.uid(), m.gid()), (user.uid, user.gid));
        }
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&f), 0o600);
    }
}
