//! Fabric-wire-compatible protobuf types, generated at build time from `protos/`.
//!
//! - [`common`]: envelopes, headers, statuses, blocks, channel configuration, policies.
//! - [`orderer`]: the `AtomicBroadcast` service (Broadcast, Deliver, SeekInfo), orderer
//!   configuration values and the Kafka consenter's messages.
//! - [`msp`]: serialized identities and MSP configuration.
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

pub use prost::Message;

pub mod raw;
