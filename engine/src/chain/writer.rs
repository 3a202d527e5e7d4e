//! The chain writer: appends blocks and syncs once for all blocks that are ready.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Receiver;
use tracing::error;

use crate::block::AssembledBlock;
use crate::store::BlockStore;

/// Blocks made durable by one sync at most, so a fast worker cannot postpone the
/// sync (and every reader) indefinitely.
const GROUP_COMMIT_BLOCKS_MAX: usize = 64;

pub(super) struct Writer {
    pub channel_id: String,
    pub store: BlockStore,
    pub blocks: Receiver<AssembledBlock>,
    pub halted: Arc<AtomicBool>,
    /// The newest stored block's [`AssembledBlock::covers`], published after its sync.
    pub durable: tokio::sync::watch::Sender<i64>,
}

impl Writer {
    pub fn run(mut self) {
        while let Ok(first) = self.blocks.recv() {
            let result = self.store_group(first);
            if let Err(error) = result {
                // Nothing after a failed append is written: the chain stops ordering
                // and Deliver keeps serving what is durable.
                error!(channel = %self.channel_id, %error, "block store failed; chain halted");
                self.halted.store(true, Ordering::Release);
                return;
            }
        }
    }

    /// Appends `first` and every block already waiting, then syncs once.
    fn store_group(&mut self, first: AssembledBlock) -> Result<(), crate::Error> {
        self.store.append(first.number, &first.bytes)?;
        let mut covers = first.covers;
        for _ in 1..GROUP_COMMIT_BLOCKS_MAX {
            let Ok(block) = self.blocks.try_recv() else {
                break;
            };
            self.store.append(block.number, &block.bytes)?;
            covers = block.covers;
        }
        self.store.sync()?;
        self.durable.send_replace(covers);
        Ok(())
    }
}
