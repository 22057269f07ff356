//! What can go wrong watching.

use std::path::PathBuf;

use crate::civo::CivoError;
use crate::resolve::ResolveError;
use crate::{AllowlistError, LocalFileError, TopologyError};

/// Why a [`Watcher`](super::Watcher) could not be built, or a refresh
/// failed. The cause is the [`source()`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// An allowlist name that cannot name one: empty, repeated, or with
    /// characters other than letters, digits, `-`, `_` and `.`.
    #[error("allowlist name {name:?}: {reason}")]
    #[non_exhaustive]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An interval over a day.
    #[error("an interval of {} s is over a day", .interval.as_secs())]
    #[non_exhaustive]
    InvalidInterval {
        /// The interval given.
        interval: std::time::Duration,
    },
    /// An allowlist file could not be read (the cause names the file).
    #[error("allowlist {name}: {source}")]
    #[non_exhaustive]
    AllowlistFile {
        /// The allowlist's name.
        name: String,
        /// Its file.
        path: PathBuf,
        /// Why.
        source: LocalFileError,
    },
    /// An allowlist file is not an allowlist.
    #[error("allowlist {name} ({}): {source}", .path.display())]
    #[non_exhaustive]
    Allowlist {
        /// The allowlist's name.
        name: String,
        /// Its file.
        path: PathBuf,
        /// Why.
        source: AllowlistError,
    },
    /// The snapshot file could not be read (the cause names the file).
    #[error("snapshot: {source}")]
    #[non_exhaustive]
    SnapshotFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: LocalFileError,
    },
    /// The snapshot file is not a topology snapshot.
    #[error("snapshot {}: {source}", .path.display())]
    #[non_exhaustive]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// Why.
        source: TopologyError,
    },
    /// The Civo API failed (after its own retries).
    #[error("{0}")]
    Civo(#[source] CivoError),
    /// Observation could not be set up.
    #[error("observation: {0}")]
    Observe(#[source] ResolveError),
}

impl WatchError {
    /// Whether the user's own input is at fault (a name, a local file):
    /// fixing it, not waiting, mends it.
    #[must_use]
    pub const fn is_input(&self) -> bool {
        match self {
            Self::InvalidName { .. }
            | Self::InvalidInterval { .. }
            | Self::AllowlistFile { .. }
            | Self::Allowlist { .. }
            | Self::SnapshotFile { .. }
            | Self::Snapshot { .. }
            | Self::Observe(_) => true,
            Self::Civo(error) => error.is_config(),
        }
    }

    /// How long the Civo API asked to wait before asking again, if it did.
    #[must_use]
    pub const fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Civo(error) => error.retry_after(),
            _ => None,
        }
    }
}
