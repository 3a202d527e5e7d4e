//! The chain writer: appends blocks and syncs once for all blocks that are ready.
//!
//! A failed append or sync (a full disk, a failing device) does not lose or corrupt
//! anything: nothing unsynced was published, the store rolls back to its last synced
//! record, and the same blocks are written again every [`RETRY_PAUSE`] until it works.
//! Meanwhile the chain reports itself unwritable (Broadcast answers SERVICE_UNAVAILABLE)
//! and Deliver serves what is stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::Receiver;
use tracing::{error, info};

use crate::block::AssembledBlock;
use crate::store::BlockStore;

/// Blocks made durable by one sync at most, so a fast worker cannot postpone the
/// sync (and every reader) indefinitely.
const GROUP_COMMIT_BLOCKS_MAX: usize = 64;

/// Pause between tries to write blocks the store refused.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub(super) struct Writer {
    pub channel_id: String,
    pub store: BlockStore,
    pub blocks: Receiver<AssembledBlock>,
    pub halted: Arc<AtomicBool>,
    /// Set while the store refuses writes.
    pub unwritable: Arc<AtomicBool>,
    /// Set when the chain shuts down: stop retrying.
    pub stopping: Arc<AtomicBool>,
    /// The newest stored block's [`AssembledBlock::covers`], published after its sync.
    pub durable: tokio::sync::watch::Sender<i64>,
}

impl Writer {
    pub fn run(mut self) {
        while let Ok(first) = self.blocks.recv() {
            let mut group = vec![first];
            while group.len() < GROUP_COMMIT_BLOCKS_MAX {
                let Ok(block) = self.blocks.try_recv() else {
                    break;
                };
                group.push(block);
            }
            if !self.store_until_stored(&group) {
                self.halted.store(true, Ordering::Release);
                return;
            }
        }
    }

    /// Stores `group`, retrying while the store refuses; false when the chain must stop
    /// (shutting down with the store still refusing, or no way back to a clean state).
    fn store_until_stored(&mut self, group: &[AssembledBlock]) -> bool {
        loop {
            let Err(failure) = self.store_group(group) else {
                if self.unwritable.swap(false, Ordering::AcqRel) {
                    info!(channel = %self.channel_id, "the ledger takes writes again; ordering resumes");
                }
                return true;
            };
            if !self.unwritable.swap(true, Ordering::AcqRel) {
                error!(channel = %self.channel_id, error = %failure,
                    "cannot write the ledger (disk full or failing): Broadcast answers SERVICE_UNAVAILABLE and Deliver serves what is stored until a retry succeeds");
            }
            if let Err(error) = self.store.rollback() {
                error!(channel = %self.channel_id, %error, "cannot return to the last synced block; chain halted");
                return false;
            }
            if self.stopping.load(Ordering::Acquire) {
                error!(channel = %self.channel_id, blocks = group.len(),
                    "shutting down while the ledger refuses writes: blocks not stored");
                return false;
            }
            std::thread::sleep(RETRY_PAUSE);
        }
    }

    /// Appends `group`, then syncs once and publishes what it covers.
    fn store_group(&mut self, group: &[AssembledBlock]) -> Result<(), crate::Error> {
        for block in group {
            self.store.append(block.number, &block.bytes)?;
        }
        self.store.sync()?;
        if let Some(last) = group.last() {
            self.durable.send_replace(last.covers);
        }
        Ok(())
    }
}
