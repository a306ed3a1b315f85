//! Where in which file something went wrong: `file:line:col: message`.
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based
    pub line: usize,
    /// 1-based
    pub col: usize,
}

impl Location {
    pub fn new(file: &Path, line: usize, col: usize) -> Self {
        Self {
            file: file.to_path_buf(),
            line: line.max(1),
            col: col.max(1),
        }
    }

    pub fn start_of(file: &Path) -> Self {
        Self::new(file, 1, 1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// A message pinned to a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
