//! The one error type at the harness crate boundary.
use std::path::PathBuf;

use crate::input::location::Located;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Bad scenario or target file: every error names file:line:col.
    #[error("{}", join_located(.0))]
    Load(Vec<Located>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("browser: {0}")]
    Browser(String),
    #[error("mock IdP control API: {0}")]
    Idp(String),
    #[error("admin driver: {0}")]
    Admin(String),
    #[error("target: {0}")]
    Target(String),
    #[error("{0}")]
    Template(String),
    #[error("{0}")]
    Step(String),
    #[error("report: {0}")]
    Report(String),
}

fn join_located(errors: &[Located]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl HarnessError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
