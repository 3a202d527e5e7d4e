//! Clients of any Fabric orderer's `orderer.AtomicBroadcast` service.
//!
//! - [`envelope`]: envelopes as a Fabric client builds them (headers, tx id, nonce) and
//!   Deliver seek requests.
//! - [`client`]: a pipelined Broadcast stream and a Deliver stream that hand back the
//!   bytes the orderer sent.
#![forbid(unsafe_code)]

pub mod client;
pub mod envelope;

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
    /// The stream ended before the expected answer.
    #[error("the orderer closed the stream")]
    Closed,
}
