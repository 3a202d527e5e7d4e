//! The chain worker of a Kafka channel: sets up the topic, posts CONNECT, then reads the
//! partition from the ledger's last offset and cuts blocks as [`Processor`] says, posting
//! a time-to-cut when the batch timer expires. Pinned to the chain's core; parks in the
//! consumer's poll when idle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use tracing::{error, info, warn};

use super::message::{self, Offsets};
use super::options::KafkaOptions;
use super::partition::PartitionReader;
use super::processor::{ConfigRead, Outcome, Processor, Refusal, Resubmit, Timer};
use super::producer::{Producer, ensure_topic};
use crate::block::{self, AssembledBlock, ChainTip};
use crate::chain::Input;
use crate::chain::reconfig::{Reconfig, now_unix};
use crate::config_update::ConfigMessage;
use crate::cutter::Batch;

/// The longest the worker waits in one poll, so it sees a stop request promptly.
const POLL_MAX: Duration = Duration::from_millis(50);
/// Pause after a consumer error before reading again.
const ERROR_PAUSE: Duration = Duration::from_millis(100);

pub(crate) struct KafkaWorker {
    pub channel_id: String,
    /// Config changes: what messages read back are validated against when Fabric
    /// validates them again, and config blocks taking effect.
    pub reconfig: Reconfig,
    pub bootstrap: String,
    pub options: KafkaOptions,
    pub processor: Processor,
    pub batch_timeout: Duration,
    pub tip: ChainTip,
    pub inputs: Receiver<Input>,
    pub blocks: Sender<AssembledBlock>,
    pub core: Option<core_affinity::CoreId>,
    pub signer: Option<Arc<crate::msp::local::LocalSigner>>,
    pub producer: Arc<Producer>,
    /// Set once CONNECT is posted and the partition is being read: Broadcast may produce.
    pub ready: Arc<AtomicBool>,
    /// Set when the worker stops for good on an error.
    pub halted: Arc<AtomicBool>,
}

impl KafkaWorker {
    pub fn run(mut self) {
        if let Some(core) = self.core
            && !core_affinity::set_for_current(core)
        {
            warn!(channel = %self.channel_id, core = core.id, "could not pin chain worker");
        }
        let Some(mut reader) = self.start() else {
            return;
        };
        self.ready.store(true, Ordering::Release);
        info!(channel = %self.channel_id, from = ?self.processor.resume_from(), "Kafka consenter started");
        self.consume(&mut reader);
        info!(channel = %self.channel_id, gaps = reader.gaps(), "Kafka consenter stopped");
    }

    /// Fabric's start phase: topic, CONNECT, partition reader, each retried with
    /// `Kafka.Retry`'s pauses. `None` when stopped or out of retries.
    fn start(&mut self) -> Option<PartitionReader> {
        let mut pauses = self.options.retry.pauses();
        let topic = self.channel_id.clone();
        loop {
            let attempt = ensure_topic(&self.options, &self.bootstrap, &topic)
                .and_then(|()| {
                    self.producer
                        .send_and_wait(&message::connect(), self.options.write_timeout)
                        .map_err(|why| format!("cannot post CONNECT: {why}"))
                })
                .and_then(|_| {
                    PartitionReader::open(
                        &self.options,
                        &self.bootstrap,
                        &topic,
                        self.processor.resume_from(),
                    )
                    .map_err(|error| format!("cannot read the partition: {error}"))
                });
            match attempt {
                Ok(reader) => return Some(reader),
                Err(why) => {
                    let Some(pause) = pauses.next() else {
                        error!(channel = %self.channel_id, %why, "Kafka consenter gave up starting; chain halted");
                        self.halted.store(true, Ordering::Release);
                        return None;
                    };
                    warn!(channel = %self.channel_id, bootstrap = %self.bootstrap, %why, ?pause,
                        "Kafka consenter not started yet; retrying");
                    match self.inputs.recv_timeout(pause) {
                        Err(RecvTimeoutError::Timeout) | Ok(Input::Submission(_)) => {}
                        Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => return None,
                    }
                }
            }
        }
    }

    fn consume(&mut self, reader: &mut PartitionReader) {
        let mut deadline: Option<Instant> = None;
        loop {
            match self.inputs.try_recv() {
                Ok(Input::Stop) | Err(TryRecvError::Disconnected) => return,
                Ok(Input::Submission(_)) | Err(TryRecvError::Empty) => {}
            }
            // Writes refused to a fenced producer go out again through a new one, even
            // when no Broadcast comes to trigger it.
            self.producer.maintain();
            let now = Instant::now();
            if deadline.is_some_and(|at| now >= at) {
                let next = self.processor.last_cut() + 1;
                if let Err(error) = self
                    .producer
                    .post(&message::time_to_cut(next), "time-to-cut")
                {
                    warn!(channel = %self.channel_id, ?error, "could not post time-to-cut");
                }
                // Post again if the block is still not cut one timeout later (the post
                // may have failed); a second time-to-cut for a cut block is stale.
                deadline = Some(now + self.batch_timeout);
            }
            let wait = deadline.map_or(POLL_MAX, |at| {
                at.saturating_duration_since(now).min(POLL_MAX)
            });
            let record = match reader.next(wait) {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(error) => {
                    warn!(channel = %self.channel_id, %error, "error reading the partition");
                    std::thread::sleep(ERROR_PAUSE);
                    continue;
                }
            };
            // The config is looked up only for the messages Fabric validates again.
            let reconfig = &self.reconfig;
            let validate = |raw: &Bytes| {
                let config = reconfig.current();
                crate::admission::revalidate(&config, raw.clone(), reconfig.rules, now_unix())
                    .map(|_| ())
                    .map_err(|rejection| rejection.info)
            };
            match self
                .processor
                .consume(record.offset, record.value, &validate)
            {
                Ok(outcome) => {
                    if !self.take(outcome, &mut deadline) {
                        return;
                    }
                }
                Err(Refusal::Skip(why)) => {
                    warn!(channel = %self.channel_id, %why, "message dropped");
                }
                Err(Refusal::Halt(why)) => {
                    error!(channel = %self.channel_id, %why, "Kafka consenter stopped; chain halted");
                    self.halted.store(true, Ordering::Release);
                    return;
                }
            }
        }
    }

    /// Acts on what one message did: re-submissions, config, blocks, the batch timer.
    /// False when the chain must stop.
    fn take(&mut self, outcome: Outcome, deadline: &mut Option<Instant>) -> bool {
        if let Some(resubmit) = outcome.resubmit {
            self.resubmit(&resubmit);
        }
        if let Some(read) = outcome.config {
            match self.config(&read) {
                Some(true) => *deadline = None,
                Some(false) => {}
                None => return false,
            }
        }
        for (batch, offsets) in outcome.blocks {
            if !self.emit(batch, &offsets) {
                return false;
            }
        }
        match outcome.timer {
            Some(Timer::Start) if deadline.is_none() => {
                *deadline = Some(Instant::now() + self.batch_timeout);
            }
            Some(Timer::Stop) => *deadline = None,
            _ => {}
        }
        true
    }

    /// A config message read from the partition (Fabric's `processRegular`, class
    /// CONFIG): validated under an older config, it is processed again and re-submitted;
    /// otherwise the pending batch and the config are cut, and the config takes effect as
    /// its block is written. `Some(true)` when blocks were cut, `None` when the chain must
    /// stop.
    fn config(&mut self, read: &ConfigRead) -> Option<bool> {
        let discard = |why: String| {
            warn!(channel = %self.channel_id, offset = read.offset, %why, "discarding bad config message");
            Some(false)
        };
        if read.compat {
            // Compatibility mode: validated again, committed as read.
            if let Err(why) = self.reconfig.reprocess(&read.envelope) {
                return discard(why);
            }
        } else if read.config_seq < self.processor.sequence() {
            return match self.reconfig.reprocess(&read.envelope) {
                Ok(message) => {
                    self.resubmit_config(&message, read.offset);
                    Some(false)
                }
                Err(why) => discard(why),
            };
        }
        // Every node commits it here (Fabric writes it without validating it again): one
        // this node cannot apply would make it cut other blocks than the others, so the
        // chain stops instead, as Fabric's block writer panics.
        let message = match ConfigMessage::from_envelope(
            &self.channel_id,
            read.envelope.clone(),
            read.config_seq,
        ) {
            Ok(message) => message,
            Err(why) => {
                error!(channel = %self.channel_id, offset = read.offset, %why,
                    "cannot apply a config message every node commits; chain halted");
                self.halted.store(true, Ordering::Release);
                return None;
            }
        };
        let mut blocks = self.processor.commit_config(read);
        let config_block = blocks.pop()?;
        for (batch, offsets) in blocks {
            if !self.emit(batch, &offsets) {
                return None;
            }
        }
        match self.reconfig.apply(&message) {
            Ok(Some(config)) => {
                self.tip.last_config = self.tip.number + 1;
                // The Resubmission capability may have been switched on.
                self.processor.reconfigured(
                    config.sequence,
                    config.batch_size,
                    crate::chain::resubmission(&config),
                );
                self.batch_timeout = config.batch_timeout;
            }
            Ok(None) => {}
            Err(error) => {
                error!(channel = %self.channel_id, %error, "cannot apply a config block; chain halted");
                self.halted.store(true, Ordering::Release);
                return None;
            }
        }
        self.emit(config_block.0, &config_block.1).then_some(true)
    }

    /// Produces a config message processed again under the current config, with the
    /// current sequence and the offset it was read at (Fabric's `configure` with the
    /// offset).
    fn resubmit_config(&mut self, checked: &ConfigMessage, offset: i64) {
        let payload = message::config(&checked.envelope, self.processor.sequence(), offset);
        match self.producer.post(&payload, "re-submitted config message") {
            Ok(()) => self.processor.config_resubmitted(offset),
            Err(error) => warn!(channel = %self.channel_id, offset, ?error,
                "could not re-submit a config message validated under an older config"),
        }
    }

    /// Produces a message again, validated under the current config (Fabric's `order`
    /// with the original offset). Like Fabric, a failed write is logged and the message
    /// is not ordered.
    fn resubmit(&self, resubmit: &Resubmit) {
        let payload = message::resubmitted(
            &resubmit.envelope,
            self.processor.sequence(),
            resubmit.original_offset,
        );
        if let Err(error) = self.producer.post(&payload, "re-submitted message") {
            warn!(
                channel = %self.channel_id,
                original_offset = resubmit.original_offset,
                ?error,
                "could not re-submit a message validated under an older config"
            );
        }
    }

    /// Assembles a block recording `offsets` and hands it to the writer; false when the
    /// chain must stop.
    fn emit(&mut self, batch: Batch, offsets: &Offsets) -> bool {
        match block::assemble_with(
            &mut self.tip,
            batch,
            self.signer.as_deref(),
            &offsets.encode(),
        ) {
            Ok(mut block) => {
                block.covers = offsets.persisted;
                self.blocks.send(block).is_ok()
            }
            Err(error) => {
                error!(channel = %self.channel_id, %error, "cannot assemble a block; chain halted");
                self.halted.store(true, Ordering::Release);
                false
            }
        }
    }
}
