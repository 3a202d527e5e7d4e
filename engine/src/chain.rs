//! One channel's chain: a bounded queue into a worker thread that cuts blocks, and a
//! writer thread that stores them with group commit.
//!
//! ```text
//! Broadcast --submit--> [queue: queue_depth_max] --> worker (cutter, batch timer,
//!   assemble + hash; pinned to a core) --> [blocks_in_flight_max] --> writer (append,
//!   one fdatasync for all blocks ready, publish height) --> Deliver
//! ```
//! The writer syncs while the worker cuts the next blocks, so blocks that become ready
//! during one `fdatasync` share the next one.

mod worker;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{SendTimeoutError, Sender, TrySendError};
use tracing::info;

use crate::block;
use crate::config::ChannelConfig;
use crate::cutter::Message;
use crate::error::Error;
use crate::store::{BlockStore, StoreOptions, StoreReader};

/// Tuning of a chain. Every bound protects memory under overload.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// Envelopes accepted but not yet taken by the worker. A full queue pushes back on
    /// Broadcast streams (and answers SERVICE_UNAVAILABLE after `enqueue_timeout`).
    pub queue_depth_max: usize,
    /// Blocks cut but not yet stored.
    pub blocks_in_flight_max: usize,
    /// The core the worker is pinned to, if any.
    pub core: Option<core_affinity::CoreId>,
    /// The block store's options.
    pub store: StoreOptions,
    /// The local MSP identity that signs blocks; `None` leaves them unsigned.
    pub signer: Option<Arc<crate::msp::local::LocalSigner>>,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            queue_depth_max: 10_000,
            blocks_in_flight_max: 16,
            core: None,
            store: StoreOptions::default(),
            signer: None,
        }
    }
}

/// Why the chain did not take an envelope.
#[derive(Debug)]
pub enum SubmitError {
    /// The queue stayed full: try later.
    Full(Message),
    /// The chain stopped (shutdown, or a storage failure).
    Halted,
}

/// What the worker receives.
#[derive(Debug)]
enum Input {
    Message(Message),
    /// Cut what is pending, store it and stop.
    Stop,
}

/// A running chain.
#[derive(Debug)]
pub struct Chain {
    config: ChannelConfig,
    sender: Sender<Input>,
    reader: StoreReader,
    halted: Arc<AtomicBool>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Chain {
    /// Opens the chain stored in `dir`; an empty store is bootstrapped with `genesis`.
    pub fn start(
        dir: &Path,
        genesis: Option<&Bytes>,
        options: ChainOptions,
    ) -> Result<Self, Error> {
        let mut store = BlockStore::open(dir, options.store)?;
        let reader = store.reader();
        if reader.height() == 0 {
            let genesis = genesis.ok_or_else(|| {
                Error::Config(format!(
                    "{} holds no blocks and no genesis block was given",
                    dir.display()
                ))
            })?;
            store.append(0, genesis)?;
            store.sync()?;
        }
        let tip = block::tip_of(&reader.block(reader.height() - 1)?)?;
        let config = ChannelConfig::from_block(&reader.block(tip.last_config)?)?;
        info!(channel = %config.channel_id, height = reader.height(), consensus = ?config.consensus,
            "chain started");
        let halted = Arc::new(AtomicBool::new(false));
        let (sender, inputs) = crossbeam_channel::bounded(options.queue_depth_max);
        let (block_sender, blocks) = crossbeam_channel::bounded(options.blocks_in_flight_max);
        let worker = worker::Worker {
            channel_id: config.channel_id.clone(),
            cutter: crate::cutter::BlockCutter::new(config.batch_size),
            batch_timeout: config.batch_timeout,
            tip,
            inputs,
            blocks: block_sender,
            core: options.core,
            signer: options.signer.clone(),
        };
        let writer = writer::Writer {
            channel_id: config.channel_id.clone(),
            store,
            blocks,
            halted: Arc::clone(&halted),
        };
        let threads = vec![
            spawn(format!("chain-{}", config.channel_id), move || worker.run())?,
            spawn(format!("store-{}", config.channel_id), move || writer.run())?,
        ];
        Ok(Self {
            config,
            sender,
            reader,
            halted,
            threads: std::sync::Mutex::new(threads),
        })
    }

    /// The channel's configuration.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Read access to the channel's blocks.
    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }

    /// Whether the chain has stopped ordering.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Queues an envelope without waiting.
    pub fn try_submit(&self, message: Message) -> Result<(), SubmitError> {
        if self.is_halted() {
            return Err(SubmitError::Halted);
        }
        self.sender
            .try_send(Input::Message(message))
            .map_err(|error| match error {
                TrySendError::Full(Input::Message(message)) => SubmitError::Full(message),
                _ => SubmitError::Halted,
            })
    }

    /// Queues an envelope, waiting up to `timeout` for room. Blocks the calling thread.
    pub fn submit_timeout(&self, message: Message, timeout: Duration) -> Result<(), SubmitError> {
        if self.is_halted() {
            return Err(SubmitError::Halted);
        }
        self.sender
            .send_timeout(Input::Message(message), timeout)
            .map_err(|error| match error {
                SendTimeoutError::Timeout(Input::Message(message)) => SubmitError::Full(message),
                _ => SubmitError::Halted,
            })
    }

    /// Stops taking envelopes, cuts and stores what is pending, and waits for the threads.
    pub fn shutdown(&self) {
        let _ = self.sender.send(Input::Stop);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
        self.halted.store(true, Ordering::Release);
    }
}

fn spawn(name: String, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name(name.chars().take(15).collect())
        .spawn(body)
        .map_err(|source| Error::Io {
            action: "spawn thread",
            path: name.into(),
            source,
        })
}
