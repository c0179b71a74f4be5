//! One error type for the shared vocabulary: every message names the file (when there is one)
//! and the problem.

use std::path::{Path, PathBuf};

/// Errors of hip-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Malformed content at a known place.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file (or `<input>`).
        path: PathBuf,
        /// 1-based line number (0 when not line-oriented).
        line: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// A value that is well-formed but not acceptable (NaN, wrong shape, unknown element, ...).
    #[error("{context}: {message}")]
    Invalid {
        /// What was being checked (a file, a molecule, an argument).
        context: String,
        /// The problem.
        message: String,
    },
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid { context: context.into(), message: message.into() }
    }

    /// An [`Error::Parse`].
    pub fn parse(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Error::Parse { path: path.to_path_buf(), line, message: message.into() }
    }

    /// An [`Error::Io`].
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    /// The same error with `context` prefixed (for `Invalid`) — e.g. a file name.
    pub fn in_context(self, context: &str) -> Self {
        match self {
            Error::Invalid { context: c, message } => Error::Invalid { context: format!("{context}: {c}"), message },
            other => other,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
