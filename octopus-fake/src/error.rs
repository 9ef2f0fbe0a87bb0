//! Errors of starting the fake and of reading or writing snapshots.

use std::path::PathBuf;

/// What can go wrong outside a request.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A snapshot file is not what the contract says.
    #[error("snapshot {path}: {reason}")]
    Snapshot {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}
