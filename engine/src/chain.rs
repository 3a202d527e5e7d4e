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
//!
//! A Kafka channel has the same writer, but Broadcast produces to the channel's topic
//! instead of the queue and the worker is [`crate::kafka`]'s, reading the partition.

pub(crate) mod reconfig;
mod worker;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{SendTimeoutError, Sender, TrySendError};
use tokio::sync::watch;
use tracing::info;

use crate::block;
use crate::config::{ChannelConfig, Consensus};
use crate::config_update::{self, ConfigMessage};
use crate::cutter::Message;
use crate::envelope::Inspected;
use crate::error::Error;
use crate::kafka::{self, KafkaOptions, Producer};
use crate::rejection::Rejection;
use crate::store::{BlockStore, StoreOptions, StoreReader};

/// Pause between tries while a Kafka producer's (or, with durable acknowledgements, the
/// chain's) queue is full.
const KAFKA_FULL_PAUSE: Duration = Duration::from_millis(2);

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
    /// How Kafka channels reach their cluster.
    pub kafka: KafkaOptions,
    /// Answer SUCCESS only once the block holding the envelope is on disk (after its
    /// fdatasync) instead of when the chain takes it, Fabric's behaviour and the default.
    pub durable_acks: bool,
    /// Told how long each block took to fill (the operations endpoint's metrics).
    pub fill_observer: Option<Arc<dyn crate::cutter::FillObserver>>,
    /// The node's admission settings, for messages validated again after a config change.
    pub admission: crate::admission::Rules,
    /// Creates the channels a system channel's config blocks create.
    pub channels: Option<Arc<dyn ChannelCreator>>,
}

/// Creates a channel when the system channel writes the block that creates it (Fabric's
/// `Registrar.newChain`): the registrar.
pub trait ChannelCreator: std::fmt::Debug + Send + Sync {
    /// Starts channel `channel_id` from its block 0 (stored first). A channel that exists
    /// is left as it is.
    fn create_channel(&self, channel_id: &str, genesis: &Bytes) -> Result<(), Error>;

    /// How many channels this orderer serves (the system channel's
    /// `ChannelRestrictions.max_count` bounds it).
    fn channel_count(&self) -> usize;
}

/// What Broadcast hands a chain.
#[derive(Debug)]
pub enum Submission {
    /// A normal envelope, validated against config sequence `config_seq`.
    Normal {
        /// The envelope.
        message: Message,
        /// The sequence of the config it was validated against.
        config_seq: u64,
    },
    /// A config change, ordered alone in a block.
    Config(ConfigMessage),
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            queue_depth_max: 10_000,
            blocks_in_flight_max: 16,
            core: None,
            store: StoreOptions::default(),
            signer: None,
            kafka: KafkaOptions::default(),
            durable_acks: false,
            fill_observer: None,
            admission: crate::admission::Rules::default(),
            channels: None,
        }
    }
}

/// Why the chain did not take an envelope.
#[derive(Debug)]
pub enum SubmitError {
    /// The queue stayed full: try later.
    Full(Submission),
    /// The chain stopped (shutdown, or a storage failure).
    Halted,
    /// The chain cannot order now (its Kafka cluster is unreachable or the consenter has
    /// not started yet); the string says why.
    Unavailable(String),
}

/// An envelope the chain took.
#[derive(Debug)]
pub enum Accepted {
    /// In the solo queue: Fabric answers SUCCESS at this point.
    Queued,
    /// In the solo queue as the `index`-th envelope since start; durable once the stored
    /// blocks cover that many (durable acknowledgements).
    QueuedDurable {
        index: i64,
        durable: watch::Receiver<i64>,
    },
    /// Written to the channel's Kafka topic once this acknowledgement arrives; with
    /// durable acknowledgements, also once a stored block persists its offset.
    Producing(kafka::Ack, Option<watch::Receiver<i64>>),
}

/// Waits until `durable` reaches `at`; the chain's writer stopping first is `Halted`.
async fn stored(mut durable: watch::Receiver<i64>, at: i64) -> Result<(), SubmitError> {
    durable
        .wait_for(|covered| *covered >= at)
        .await
        .map(|_| ())
        .map_err(|_| SubmitError::Halted)
}

impl Accepted {
    /// Waits until the envelope is as safe as this chain promises: at once for solo
    /// (Fabric's behaviour), for Kafka until the broker acknowledged the write (or gave
    /// up, after `Kafka.Retry.NetworkTimeouts.WriteTimeout`); with durable
    /// acknowledgements, until the block holding it is on disk.
    pub async fn acknowledged(self) -> Result<(), SubmitError> {
        match self {
            Self::Queued => Ok(()),
            Self::QueuedDurable { index, durable } => stored(durable, index).await,
            Self::Producing(ack, durable) => match ack.await {
                Ok(Ok(offset)) => match durable {
                    Some(durable) => stored(durable, offset).await,
                    None => Ok(()),
                },
                Ok(Err(why)) => Err(SubmitError::Unavailable(format!(
                    "Kafka did not acknowledge the envelope: {why}"
                ))),
                Err(_) => Err(SubmitError::Halted),
            },
        }
    }
}

/// Durable acknowledgements: envelopes numbered in queue order, and what is stored.
#[derive(Debug)]
struct DurableAcks {
    /// Envelopes queued so far; held while queuing so numbers follow queue order.
    submitted: std::sync::Mutex<i64>,
    /// What the stored blocks cover ([`block::AssembledBlock::covers`]).
    durable: watch::Receiver<i64>,
}

/// How envelopes reach the worker.
#[derive(Debug)]
enum Ingress {
    /// Through the chain's queue.
    Solo,
    /// Through the channel's topic.
    Kafka {
        producer: Arc<Producer>,
        /// Whether the consenter has started (CONNECT posted, partition read).
        ready: Arc<AtomicBool>,
    },
}

/// What the worker receives.
#[derive(Debug)]
pub(crate) enum Input {
    Submission(Submission),
    /// Cut what is pending, store it and stop.
    Stop,
}

/// A running chain.
#[derive(Debug)]
pub struct Chain {
    channel_id: String,
    /// The current configuration; the worker replaces it when it orders a config block.
    config: watch::Receiver<Arc<ChannelConfig>>,
    /// Signs the config envelopes this chain makes.
    signer: Option<Arc<crate::msp::local::LocalSigner>>,
    /// The registrar, which counts the channels a system channel may still create.
    channels: Option<Arc<dyn ChannelCreator>>,
    sender: Sender<Input>,
    ingress: Ingress,
    /// Set with [`ChainOptions::durable_acks`].
    durable: Option<DurableAcks>,
    reader: StoreReader,
    halted: Arc<AtomicBool>,
    /// Set while the ledger refuses writes (the writer retries).
    unwritable: Arc<AtomicBool>,
    /// Set when the chain shuts down.
    stopping: Arc<AtomicBool>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Chain {
    /// Opens the chain stored in `dir`; an empty store is bootstrapped with `genesis`.
    pub fn start(
        dir: &Path,
        genesis: Option<&Bytes>,
        options: ChainOptions,
    ) -> Result<Self, Error> {
        let (store, reader) = open_store(dir, genesis, options.store)?;
        let tip = block::tip_of(&reader.block(reader.height() - 1)?)?;
        let config = ChannelConfig::from_block(&reader.block(tip.last_config)?)?;
        info!(channel = %config.channel_id, height = reader.height(), consensus = ?config.consensus,
            "chain started");
        let halted = Arc::new(AtomicBool::new(false));
        let (sender, inputs) = crossbeam_channel::bounded(options.queue_depth_max);
        let (block_sender, blocks) = crossbeam_channel::bounded(options.blocks_in_flight_max);
        let mut cutter = crate::cutter::BlockCutter::new(config.batch_size);
        if let Some(observer) = &options.fill_observer {
            cutter = cutter.observed(&config.channel_id, Arc::clone(observer));
        }
        let parts = WorkerParts {
            cutter,
            tip,
            inputs,
            blocks: block_sender,
            halted: Arc::clone(&halted),
        };
        let channel_id = config.channel_id.clone();
        let (config_sender, config_receiver) = watch::channel(Arc::new(config.clone()));
        let reconfig = reconfig::Reconfig {
            config: config_sender,
            sequence: config.sequence,
            signer: options.signer.clone(),
            rules: options.admission,
            channels: options.channels.clone(),
        };
        let (worker, ingress) = spawn_worker(&config, &reader, parts, reconfig, &options)?;
        let (durable_sender, durable) = watch::channel(-1);
        let (unwritable, stopping) = (Arc::default(), Arc::default());
        let writer = writer::Writer {
            channel_id: config.channel_id.clone(),
            store,
            blocks,
            halted: Arc::clone(&halted),
            unwritable: Arc::clone(&unwritable),
            stopping: Arc::clone(&stopping),
            durable: durable_sender,
        };
        let threads = vec![
            worker,
            spawn(format!("store-{}", config.channel_id), move || writer.run())?,
        ];
        let durable = options.durable_acks.then(|| DurableAcks {
            submitted: std::sync::Mutex::new(0),
            durable,
        });
        Ok(Self {
            channel_id,
            config: config_receiver,
            signer: options.signer,
            channels: options.channels,
            sender,
            ingress,
            durable,
            reader,
            halted,
            unwritable,
            stopping,
            threads: std::sync::Mutex::new(threads),
        })
    }

    /// The channel's name.
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// The channel's current configuration.
    pub fn config(&self) -> Arc<ChannelConfig> {
        Arc::clone(&self.config.borrow())
    }

    /// Told each time the channel's configuration changes (Deliver evaluates its readers
    /// again).
    pub fn subscribe_config(&self) -> watch::Receiver<Arc<ChannelConfig>> {
        self.config.clone()
    }

    /// Fabric's `ProcessConfigUpdateMsg` on this chain: an update of this channel, or,
    /// when `update` names another channel and this is a system channel, the creation of
    /// that channel. What it returns is submitted with [`Submission::Config`].
    pub fn process_config_update(
        &self,
        update: Inspected,
        rules: crate::admission::Rules,
        now_unix: i64,
    ) -> Result<ConfigMessage, Rejection> {
        let config = self.config();
        let orderer = config_update::Orderer {
            signer: self.signer.as_deref(),
            rules,
            now_unix,
        };
        if update.channel_id == self.channel_id {
            config_update::process_update(&config, update, orderer)
        } else if config.is_system_channel() {
            let channels = self.channels.as_ref().map_or(0, |c| c.channel_count());
            config_update::process_creation(&config, update, orderer, channels)
        } else {
            Err(Rejection::not_found(format!(
                "channel {} does not exist",
                update.channel_id
            )))
        }
    }

    /// Read access to the channel's blocks.
    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }

    /// Whether the chain takes envelopes: always for solo; for Kafka once the consenter
    /// has posted CONNECT and reads the partition.
    pub fn is_ready(&self) -> bool {
        match &self.ingress {
            Ingress::Solo => true,
            Ingress::Kafka { ready, .. } => ready.load(Ordering::Acquire),
        }
    }

    /// Whether the chain has stopped ordering.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Why the chain counts as failed for Deliver, if it does (Fabric's `chain.Errored()`):
    /// halted, or a Kafka consenter that has not started (Fabric's Kafka chain starts with
    /// its error channel closed, until it is connected). A ledger that refuses writes is
    /// not a failure: Deliver serves what is stored.
    pub fn errored(&self) -> Option<&'static str> {
        if self.is_halted() {
            Some("the chain has halted")
        } else if !self.is_ready() {
            Some("the chain's consenter has not started")
        } else {
            None
        }
    }

    /// Whether the ledger refuses writes now (full disk, failing device): ordering waits
    /// and resumes by itself once a retry succeeds.
    pub fn is_unwritable(&self) -> bool {
        self.unwritable.load(Ordering::Acquire)
    }

    /// Hands an envelope to the chain without waiting: to the queue (solo) or to the
    /// producer (Kafka).
    pub fn try_submit(&self, submission: Submission) -> Result<Accepted, SubmitError> {
        if self.is_halted() {
            return Err(SubmitError::Halted);
        }
        if self.is_unwritable() {
            return Err(SubmitError::Unavailable(
                "its ledger cannot be written (disk full or failing); ordering resumes once it can"
                    .into(),
            ));
        }
        match &self.ingress {
            Ingress::Solo => {
                let mut submitted = self
                    .durable
                    .as_ref()
                    .map(|durable| durable.submitted.lock().unwrap_or_else(|e| e.into_inner()));
                self.sender
                    .try_send(Input::Submission(submission))
                    .map_err(|error| match error {
                        TrySendError::Full(Input::Submission(submission)) => {
                            SubmitError::Full(submission)
                        }
                        _ => SubmitError::Halted,
                    })?;
                Ok(match (submitted.as_mut(), &self.durable) {
                    (Some(count), Some(durable)) => {
                        **count += 1;
                        Accepted::QueuedDurable {
                            index: **count,
                            durable: durable.durable.clone(),
                        }
                    }
                    _ => Accepted::Queued,
                })
            }
            Ingress::Kafka { producer, ready } => {
                if !ready.load(Ordering::Acquire) {
                    return Err(SubmitError::Unavailable(format!(
                        "the Kafka consenter of channel {} has not started yet",
                        self.channel_id
                    )));
                }
                let payload = match &submission {
                    Submission::Normal {
                        message,
                        config_seq,
                    } => kafka::message::normal(&message.envelope, *config_seq),
                    Submission::Config(config) => {
                        kafka::message::config(&config.envelope, config.config_seq, 0)
                    }
                };
                match producer.send(&payload) {
                    Ok(ack) => Ok(Accepted::Producing(
                        ack,
                        self.durable.as_ref().map(|durable| durable.durable.clone()),
                    )),
                    Err(kafka::producer::SendError::Full) => Err(SubmitError::Full(submission)),
                    Err(kafka::producer::SendError::Failed(why)) => {
                        Err(SubmitError::Unavailable(why))
                    }
                }
            }
        }
    }

    /// Hands an envelope to the chain, waiting up to `timeout` for room. Blocks the
    /// calling thread.
    pub fn submit_timeout(
        &self,
        submission: Submission,
        timeout: Duration,
    ) -> Result<Accepted, SubmitError> {
        if self.is_halted() {
            return Err(SubmitError::Halted);
        }
        // Durable acknowledgements number envelopes under a lock: never block holding it.
        if let (Ingress::Solo, None) = (&self.ingress, &self.durable) {
            return self
                .sender
                .send_timeout(Input::Submission(submission), timeout)
                .map(|()| Accepted::Queued)
                .map_err(|error| match error {
                    SendTimeoutError::Timeout(Input::Submission(submission)) => {
                        SubmitError::Full(submission)
                    }
                    _ => SubmitError::Halted,
                });
        }
        let deadline = std::time::Instant::now() + timeout;
        let mut submission = submission;
        loop {
            match self.try_submit(submission) {
                Err(SubmitError::Full(back)) if std::time::Instant::now() < deadline => {
                    submission = back;
                    std::thread::sleep(KAFKA_FULL_PAUSE);
                }
                other => return other,
            }
        }
    }

    /// Stops taking envelopes, stores what is cut and waits for the threads. A solo chain
    /// cuts what is pending first; a Kafka chain leaves it in the partition, where every
    /// node (this one after a restart too) cuts it alike.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        let _ = self.sender.send(Input::Stop);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
        self.halted.store(true, Ordering::Release);
    }
}

/// The store in `dir`, bootstrapped with `genesis` when empty, and a reader of it.
fn open_store(
    dir: &Path,
    genesis: Option<&Bytes>,
    options: StoreOptions,
) -> Result<(BlockStore, StoreReader), Error> {
    let mut store = BlockStore::open(dir, options)?;
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
    Ok((store, reader))
}

/// Starts the worker `config`'s consensus needs: solo's, or the Kafka consenter's.
fn spawn_worker(
    config: &ChannelConfig,
    reader: &StoreReader,
    parts: WorkerParts,
    reconfig: reconfig::Reconfig,
    options: &ChainOptions,
) -> Result<(JoinHandle<()>, Ingress), Error> {
    let name = format!("chain-{}", config.channel_id);
    match &config.consensus {
        Consensus::Solo => {
            let worker = worker::Worker {
                channel_id: config.channel_id.clone(),
                cutter: parts.cutter,
                batch_timeout: config.batch_timeout,
                tip: parts.tip,
                inputs: parts.inputs,
                blocks: parts.blocks,
                core: options.core,
                signer: options.signer.clone(),
                ordered: 0,
                reconfig,
            };
            Ok((spawn(name, move || worker.run())?, Ingress::Solo))
        }
        Consensus::Kafka { brokers } => {
            let (worker, ingress) =
                kafka_worker(config, brokers, reader, parts, reconfig, options)?;
            Ok((spawn(name, move || worker.run())?, ingress))
        }
    }
}

/// What a chain's worker takes from the chain that starts it.
struct WorkerParts {
    cutter: crate::cutter::BlockCutter,
    tip: block::ChainTip,
    inputs: crossbeam_channel::Receiver<Input>,
    blocks: Sender<block::AssembledBlock>,
    halted: Arc<AtomicBool>,
}

/// The worker of a Kafka channel and the ingress Broadcast produces through. The
/// consenter resumes from the offsets the newest block records.
fn kafka_worker(
    config: &ChannelConfig,
    brokers: &[String],
    reader: &StoreReader,
    parts: WorkerParts,
    reconfig: reconfig::Reconfig,
    options: &ChainOptions,
) -> Result<(kafka::worker::KafkaWorker, Ingress), Error> {
    let newest = reader.block(reader.height() - 1)?;
    let offsets = kafka::message::Offsets::of_block(&newest)?;
    let bootstrap = options.kafka.bootstrap(brokers);
    if bootstrap.is_empty() {
        return Err(Error::Config(format!(
            "channel {} uses Kafka but names no brokers (KafkaBrokers, or Kafka.Brokers)",
            config.channel_id
        )));
    }
    let producer = Producer::new(&options.kafka, &bootstrap, &config.channel_id)
        .map(Arc::new)
        .map_err(|error| Error::Config(format!("Kafka producer: {error}")))?;
    let ready = Arc::new(AtomicBool::new(false));
    let worker = kafka::worker::KafkaWorker {
        channel_id: config.channel_id.clone(),
        reconfig,
        bootstrap,
        options: options.kafka.clone(),
        processor: kafka::processor::Processor::new(
            parts.cutter,
            parts.tip.number,
            offsets,
            config.sequence,
            resubmission(config),
        ),
        batch_timeout: config.batch_timeout,
        tip: parts.tip,
        inputs: parts.inputs,
        blocks: parts.blocks,
        core: options.core,
        signer: options.signer.clone(),
        producer: Arc::clone(&producer),
        ready: Arc::clone(&ready),
        halted: parts.halted,
    };
    let ingress = Ingress::Kafka { producer, ready };
    Ok((worker, ingress))
}

/// Fabric's Orderer capability `Resubmission()`: `V1_1` or `V1_4_2` (v2.x: `V2_0`), the
/// same set as ExpirationCheck.
pub(crate) fn resubmission(config: &ChannelConfig) -> bool {
    config.expiration_check()
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
