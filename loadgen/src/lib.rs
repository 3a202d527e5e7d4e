//! Clients of any Fabric orderer's `orderer.AtomicBroadcast` service.
//!
//! - [`envelope`]: envelopes as a Fabric client builds them (headers, tx id, nonce) and
//!   Deliver seek requests.
//! - [`transaction`]: endorser transactions a peer can read, down to a sized read-write set.
//! - [`client`]: a pipelined Broadcast stream and a Deliver stream that hand back the
//!   bytes the orderer sent.
//! - [`msp`]: a signing identity from a Fabric MSP directory (ECDSA P-256, low-S).
//! - [`ca`]: a development CA that issues identities and writes MSP directories.
//! - [`signers`]: a run's client identities, used round robin.
//! - [`kafka`]: the Kafka broker of a Kafka run (the named cluster or a local one).
//! - [`workload`], [`run`]: a run's parameters and the run itself: broadcast streams paced
//!   open or closed loop, Deliver clients matching every envelope by its [`tag`].
//! - [`report`], [`record`]: percentiles, the summary table, the JSON record in `results/`.
#![forbid(unsafe_code)]

pub mod args;
pub mod ca;
pub mod client;
pub mod envelope;
pub mod kafka;
pub mod msp;
pub mod plot;
pub mod record;
pub mod report;
pub mod run;
pub mod signers;
pub mod tag;
pub mod transaction;
pub mod workload;

/// Errors of the clients.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting failed.
    #[error("connect to {endpoint}: {source}")]
    Connect {
        /// The orderer's address.
        endpoint: String,
        /// The transport's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The endpoint is not a valid URI.
    #[error("invalid endpoint {0:?}: expected http://host:port")]
    Endpoint(String),
    /// The orderer ended the call with a gRPC error.
    #[error("gRPC status: {0}")]
    Rpc(#[from] tonic::Status),
    /// The MSP directory or key cannot be used.
    #[error("msp: {0}")]
    Msp(String),
    /// The orderer refused a request the run depends on.
    #[error("refused: {0}")]
    Refused(String),
    /// A task of the run failed.
    #[error("task: {0}")]
    Task(String),
    /// Writing the record failed.
    #[error("record {path}: {source}")]
    Record {
        /// The results file.
        path: std::path::PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The stream ended before the expected answer.
    #[error("the orderer closed the stream")]
    Closed,
}
