//! Fabric-wire-compatible protobuf types, generated at build time from `protos/`.
//!
//! - [`common`]: envelopes, headers, statuses, blocks, channel configuration, policies.
//! - [`orderer`]: the `AtomicBroadcast` service (Broadcast, Deliver, SeekInfo), orderer
//!   configuration values and the Kafka consenter's messages.
//! - [`msp`]: serialized identities and MSP configuration.
//! - [`protos`]: Fabric's `peer/` messages: those carried in channel configuration
//!   (anchor peers, ACLs) and an endorser transaction's (transaction, chaincode action
//!   payload, proposal response payload, endorsements); Fabric names their package `protos`.
//! - [`rwset`], [`kvrwset`]: read-write sets, a chaincode action's results.
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
/// orgs' `AnchorPeers` values, and the messages inside an endorser transaction.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod protos {
    include!(concat!(env!("OUT_DIR"), "/protos.rs"));
}

/// Package `rwset` (Fabric's `ledger/rwset/`): a transaction's read-write set.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod rwset {
    include!(concat!(env!("OUT_DIR"), "/rwset.rs"));
}

/// Package `kvrwset` (Fabric's `ledger/rwset/kvrwset/`): a namespace's key-value reads
/// and writes.
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod kvrwset {
    include!(concat!(env!("OUT_DIR"), "/kvrwset.rs"));
}

pub use prost::Message;

pub mod raw;
