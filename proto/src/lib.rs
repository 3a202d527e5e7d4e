//! Fabric-wire-compatible protobuf types, generated at build time from `protos/`.
//!
//! - [`common`]: envelopes, headers, statuses, blocks, channel configuration, policies.
//! - [`orderer`]: the `AtomicBroadcast` service (Broadcast, Deliver, SeekInfo), orderer
//!   configuration values and the Kafka consenter's messages.
//! - [`msp`]: serialized identities and MSP configuration.
//! - [`protos`]: Fabric's `peer/` messages carried in channel configuration (anchor peers,
//!   ACLs); Fabric names their package `protos`.
//!
//! `bytes` fields are [`bytes::Bytes`], so envelopes and blocks decode without copying
//! their large fields. This crate holds no logic and does no I/O.
#![forbid(unsafe_code)]
#![allow(missing_debug_implementations)]

/// Package `common`.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/common.rs"));
}

/// Package `orderer`.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod orderer {
    include!(concat!(env!("OUT_DIR"), "/orderer.rs"));
}

/// Package `msp`.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod msp {
    include!(concat!(env!("OUT_DIR"), "/msp.rs"));
}

/// Package `protos` (Fabric's `peer/` folder): the Application group's `ACLs` and its
/// orgs' `AnchorPeers` values.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod protos {
    include!(concat!(env!("OUT_DIR"), "/protos.rs"));
}

pub use prost::Message;

pub mod raw;
