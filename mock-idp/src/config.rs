//! `--config idp.yaml`: a list of tenants (TenantSpec), with errors naming file:line:col
//! and the path of the bad field.

use crate::error::{Error, Result};
use crate::tenant::TenantSpec;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    tenants: Vec<TenantSpec>,
}

pub fn load(path: &Path) -> Result<Vec<TenantSpec>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    parse(&text, &path.display().to_string())
}

/// Parses config text; `name` is used in error messages.
pub fn parse(text: &str, name: &str) -> Result<Vec<TenantSpec>> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e
            .inner()
            .location()
            .map(|l| format!("{name}:{}:{}", l.line(), l.column()))
            .unwrap_or_else(|| name.to_string());
        let path = e.path().to_string();
        Error::Config(format!("{at}: {path}: {}", e.inner()))
    })?;
    Ok(file.tenants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tenants() {
        let t = parse(
            "tenants:\n  - id: acme\n    profile: okta\n    users:\n      - email: a@acme.test\n",
            "idp.yaml",
        )
        .unwrap();
        assert_eq!(t[0].id.as_deref(), Some("acme"));
        assert_eq!(t[0].users[0].email, "a@acme.test");
    }

    #[test]
    fn unknown_key_names_file_line_col_and_path() {
        let e = parse(
            "tenants:\n  - id: acme\n    users:\n      - email: a@acme.test\n        emial: x\n",
            "idp.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("idp.yaml:5:"), "{e}");
        assert!(e.contains("tenants[0].users[0]"), "{e}");
        assert!(e.contains("emial"), "{e}");
    }
}
