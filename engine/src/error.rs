//! The engine's one error type.

use std::path::PathBuf;

/// Errors of the engine. I/O and corruption errors stop the chain that meets them;
/// configuration errors stop start-up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes that should hold a protobuf message do not.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// Which message.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: prost::DecodeError,
    },
    /// A record of the block store failed its checks.
    #[error("block store {path} is corrupt at block {number}: {reason}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// The block number the record claims or was expected to hold.
        number: u64,
        /// What check failed.
        reason: String,
    },
    /// A block that is not in the store was asked for.
    #[error("block {number} is not in the store (height {height})")]
    NoSuchBlock {
        /// The block asked for.
        number: u64,
        /// The store's height.
        height: u64,
    },
    /// The channel configuration cannot be used.
    #[error("channel config: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
