//! The ordering engine: everything between a validated envelope and a stored block.
//! It knows nothing of gRPC.
//!
//! - [`cutter`]: Fabric's block cutter rules.
//! - [`block`], [`hash`]: block assembly, data hash and header hash chain.
//! - [`store`]: the append-only block store (segments, CRC records, torn-tail recovery,
//!   group commit, read-only maps for Deliver).
//! - [`config`]: the channel configuration read from config blocks, typed group by
//!   group ([`config::ChannelTree`]) as Fabric's `channelconfig` reads it; [`genesis`] makes
//!   genesis blocks in code (the benchmark's embedded default).
//! - [`envelope`]: decoding a Broadcast envelope; [`admission`]: Fabric's admission
//!   sequence (size, expiry by capability, signature and policy) shared by Broadcast,
//!   Deliver and Kafka's re-validation; [`rejection`]: the Fabric status and reason of
//!   a refusal.
//! - [`config_update`]: what Broadcast makes of a CONFIG_UPDATE (a CONFIG envelope, or a
//!   new channel wrapped in an ORDERER_TRANSACTION), as Fabric's message processors do.
//! - [`configtx`]: Fabric's config update validator and new-channel template, pure functions.
//! - [`chain`]: one channel's chain: the worker thread (cutter and batch timer, pinned to a
//!   core) and the writer thread (append, group commit, publish height).
//! - [`kafka`]: Fabric's Kafka consenter: produce to the channel's one-partition topic,
//!   cut blocks from it in offset order on the chain's worker.
//! - [`registrar`]: the channels of this orderer, bootstrapped from a genesis block or
//!   reopened from the ledger.
//! - [`deliver`]: turning a Deliver request into a range of blocks.
//! - [`msp`]: Fabric's X.509 MSP: identity validation (chain, revocation, OUs, NodeOUs)
//!   and the principals an identity satisfies; [`policy`]: signature and implicit meta
//!   policies over the config tree; [`signature`]: ECDSA P-256 verification, low-S, by
//!   ring or by a creator's precomputed key table;
//!   [`access`]: policy checks on signed envelopes, with an identity cache.
#![deny(unsafe_code)]

pub mod access;
pub mod admission;
pub mod block;
pub mod chain;
pub mod config;
pub mod config_update;
pub mod configtx;
pub mod cutter;
pub mod deliver;
pub mod envelope;
pub mod error;
pub mod genesis;
pub mod hash;
pub mod kafka;
pub mod msp;
pub mod policy;
pub mod registrar;
pub mod rejection;
pub mod signature;
pub mod store;

pub use error::Error;
