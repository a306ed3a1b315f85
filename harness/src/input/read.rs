//! Reading one input file (scenario, target, template, IdP descriptor, IdP check), bounded:
//! only a regular file of at most 1 MiB is read, never a FIFO (which would block), a device
//! (`/dev/zero` never ends) or a directory; text must be UTF-8, and a bad byte is reported at
//! its own line and column.
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::input::location::{Located, Location};

/// The largest input file read: far above any real scenario or configuration template.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// `O_NONBLOCK` on Linux (asm-generic value; not mips, sparc, alpha or parisc): a FIFO swapped
/// in between the check and the open must not block the open. No libc needed for one number.
const O_NONBLOCK: i32 = 0o4000;

/// What a path is, when it is not a regular file: "a FIFO", "a directory"...
pub fn kind_of(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

/// Why a path cannot be read, in words a user can act on.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.raw_os_error() == Some(40) => {
            "symlink loop (too many levels of symbolic links)".into()
        }
        _ => format!("cannot read: {e}"),
    }
}

fn at(path: &Path, message: String) -> Located {
    Located {
        location: Location::start_of(path),
        message,
    }
}

fn too_large(len: u64) -> String {
    format!("larger than 1 MiB ({len} bytes): not read")
}

/// The bytes of a regular file of at most 1 MiB (following symlinks: the caller decides
/// which links it may follow).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Located> {
    let meta = std::fs::metadata(path).map_err(|e| at(path, io_message(&e)))?;
    check_regular(path, &meta)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| at(path, io_message(&e)))?;
    // Again on the open file: the path may have been replaced since it was looked at.
    let meta = file.metadata().map_err(|e| at(path, io_message(&e)))?;
    check_regular(path, &meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| at(path, io_message(&e)))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(at(path, too_large(bytes.len() as u64)));
    }
    Ok(bytes)
}

fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), Located> {
    if !meta.file_type().is_file() {
        return Err(at(
            path,
            format!("not a regular file ({})", kind_of(&meta.file_type())),
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(at(path, too_large(meta.len())));
    }
    Ok(())
}

/// A bounded regular file as UTF-8 text; invalid UTF-8 is an error at the line and column of
/// the first bad byte.
pub fn read_text(path: &Path) -> Result<String, Located> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = e.utf8_error().valid_up_to();
        let before = &bytes[..good];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        // Columns count characters, as YAML errors do; the prefix is valid UTF-8.
        let col = std::str::from_utf8(&before[line_start..])
            .map(|s| s.chars().count())
            .unwrap_or(good - line_start)
            + 1;
        Located {
            location: Location::new(path, line, col),
            message: format!(
                "not UTF-8: byte 0x{:02X} cannot start or continue a character here",
                bytes.get(good).copied().unwrap_or(0)
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_is_reported_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.yaml");
        std::fs::write(&p, b"scenario: s\nsteps:\n  - \xc3\xa9t\xff\n").unwrap();
        let e = read_text(&p).unwrap_err();
        assert_eq!((e.location.line, e.location.col), (3, 7), "{e}");
        assert!(e.message.contains("not UTF-8: byte 0xFF"), "{e}");
    }

    #[test]
    fn fifos_devices_dirs_and_big_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        // Would block forever if opened for reading: refused from its metadata.
        let e = read_text(&fifo).unwrap_err().to_string();
        assert!(e.ends_with("not a regular file (a FIFO)"), "{e}");
        let zero = dir.path().join("z.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_text(&zero).unwrap_err().to_string();
        assert!(
            e.ends_with("not a regular file (a character device)"),
            "{e}"
        );
        let e = read_text(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("not a regular file (a directory)"), "{e}");
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'#'; (MAX_INPUT_BYTES + 1) as usize]).unwrap();
        let e = read_text(&big).unwrap_err().to_string();
        assert!(e.contains("larger than 1 MiB"), "{e}");
        let e = read_text(&dir.path().join("missing.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("no such file or directory"), "{e}");
        let lp = dir.path().join("loop.yaml");
        std::os::unix::fs::symlink(&lp, &lp).unwrap();
        let e = read_text(&lp).unwrap_err().to_string();
        assert!(e.contains("symlink loop"), "{e}");
        std::fs::write(&big, b"ok: 1\n").unwrap();
        assert_eq!(read_text(&big).unwrap(), "ok: 1\n");
    }
}
