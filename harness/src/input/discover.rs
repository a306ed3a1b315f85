//! Finding the YAML files of a tree (scenarios, targets).
use std::path::{Path, PathBuf};

use crate::input::location::{Located, Location};

/// The folder of IdP application checks (`scenarios/idp-checks/`): not SP scenarios, so never
/// found by walking a scenarios tree (only when named as the root itself).
pub const IDP_CHECKS_DIR: &str = "idp-checks";

/// Every `*.yaml`/`*.yml` under `root` (or `root` itself when it is a file), sorted.
/// Names starting with `_` or `.` are skipped (drafts, editor files).
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, Located> {
    let mut out = Vec::new();
    if root.is_file() {
        out.push(root.to_path_buf());
        return Ok(out);
    }
    walk(root, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Located> {
    let entries = std::fs::read_dir(dir).map_err(|e| Located {
        location: Location::start_of(dir),
        message: format!("cannot read directory: {e}"),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            // IdP application checks have their own format and runner (`sso-harness idp-check`).
            if name == IDP_CHECKS_DIR {
                continue;
            }
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}
