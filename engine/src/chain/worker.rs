//! The chain worker: takes envelopes in order, cuts batches, runs the batch timer and
//! assembles blocks. Pinned to one core; parks (never spins) when idle.

use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::{debug, warn};

use super::Input;
use crate::block::{self, AssembledBlock, ChainTip};
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
                Ok(Input::Message(message)) => {
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
