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
    /// A snapshot directory (a seed, or one being written) is not what the contract
    /// says, or cannot be read or written.
    #[error(transparent)]
    Snapshot(#[from] octopus_snapshot::SnapshotError),
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
