//! The server's one error type.

/// Errors that stop the orderer from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration key has an invalid value; the message names the key.
    #[error("configuration: {0}")]
    Config(String),
    /// The engine could not open or bootstrap the ledger.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// A file or socket operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A benchmark's load generator failed.
    #[error("loadgen: {0}")]
    Loadgen(#[from] loadgen::Error),
    /// The gRPC transport failed.
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}
