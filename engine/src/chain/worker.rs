//! The chain worker: takes envelopes in order, cuts batches, runs the batch timer and
//! assembles blocks. Pinned to one core; parks (never spins) when idle.

use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::{debug, warn};

use super::reconfig::Reconfig;
use super::{Input, Submission};
use crate::block::{self, AssembledBlock, ChainTip};
use crate::config_update::ConfigMessage;
use crate::cutter::{Batch, BlockCutter};

pub(super) struct Worker {
    pub channel_id: String,
    pub cutter: BlockCutter,
    pub batch_timeout: std::time::Duration,
    pub tip: ChainTip,
    pub inputs: Receiver<Input>,
    pub blocks: Sender<AssembledBlock>,
    pub core: Option<core_affinity::CoreId>,
    pub signer: Option<std::sync::Arc<crate::msp::local::LocalSigner>>,
    /// Envelopes put into blocks since this process started: the queue is FIFO and the
    /// cutter keeps order, so these are exactly the first ones submitted.
    pub ordered: i64,
    /// Config changes: re-validation and taking effect.
    pub reconfig: Reconfig,
}

impl Worker {
    pub fn run(mut self) {
        if let Some(core) = self.core
            && !core_affinity::set_for_current(core)
        {
            warn!(channel = %self.channel_id, core = core.id, "could not pin chain worker");
        }
        // As Fabric's solo chain: the timer starts when a batch starts and is cleared
        // only when nothing is pending any more.
        let mut deadline: Option<Instant> = None;
        loop {
            let input = match deadline {
                Some(at) => self.inputs.recv_deadline(at),
                None => self
                    .inputs
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match input {
                Ok(Input::Submission(Submission::Config(message))) => match self.config(message) {
                    Some(true) => deadline = None,
                    // Discarded: what is pending stays pending, its timer running.
                    Some(false) => {}
                    None => return,
                },
                Ok(Input::Submission(Submission::Normal {
                    message,
                    config_seq,
                })) => {
                    if let Err(why) = self.reconfig.normal_still_valid(&message, config_seq) {
                        warn!(channel = %self.channel_id, %why, "discarding bad normal message");
                        self.ordered += 1;
                        continue;
                    }
                    for batch in self.cutter.ordered(message) {
                        if !self.emit(batch) {
                            return;
                        }
                    }
                    deadline = match (deadline, self.cutter.has_pending()) {
                        (_, false) => None,
                        (None, true) => Some(Instant::now() + self.batch_timeout),
                        (Some(at), true) => Some(at),
                    };
                }
                Err(RecvTimeoutError::Timeout) => {
                    deadline = None;
                    let batch = self.cutter.cut();
                    debug!(channel = %self.channel_id, envelopes = batch.len(), "batch timeout");
                    if !self.emit(batch) {
                        return;
                    }
                }
                Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    let batch = self.cutter.cut();
                    if !batch.is_empty() {
                        self.emit(batch);
                    }
                    return;
                }
            }
        }
    }

    /// Fabric's solo chain on a config message: validated again if the config moved on,
    /// the pending batch cut first, then the config envelope alone in a block, which takes
    /// effect as it is written. `Some(true)` when it was ordered, `Some(false)` when it
    /// was discarded, `None` when the chain must stop.
    fn config(&mut self, message: ConfigMessage) -> Option<bool> {
        let message = match self.reconfig.config_still_valid(message) {
            Ok(message) => message,
            Err(why) => {
                warn!(channel = %self.channel_id, %why, "discarding bad config message");
                self.ordered += 1;
                return Some(false);
            }
        };
        let pending = self.cutter.cut();
        if !pending.is_empty() && !self.emit(pending) {
            return None;
        }
        match self.reconfig.apply(&message) {
            Ok(Some(config)) => {
                // LAST_CONFIG points at this block from now on.
                self.tip.last_config = self.tip.number + 1;
                self.cutter.set_batch_size(config.batch_size);
                self.batch_timeout = config.batch_timeout;
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(channel = %self.channel_id, %error, "cannot apply a config block; chain halted");
                return None;
            }
        }
        self.emit(vec![message.envelope]).then_some(true)
    }

    /// Assembles and hands a block to the writer; false when the chain must stop (the
    /// writer is gone, or the block cannot be signed).
    fn emit(&mut self, batch: Batch) -> bool {
        self.ordered += i64::try_from(batch.len()).unwrap_or(i64::MAX);
        match block::assemble(&mut self.tip, batch, self.signer.as_deref()) {
            Ok(mut block) => {
                block.covers = self.ordered;
                self.blocks.send(block).is_ok()
            }
            Err(error) => {
                tracing::error!(channel = %self.channel_id, %error, "cannot assemble a block; chain halted");
                false
            }
        }
    }
}
