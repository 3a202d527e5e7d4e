//! What the blocks of a run show once it is over: where the config block is, how many
//! envelopes the blocks before and after it hold, and the MaxMessageCount the config
//! block carries. Read back over Deliver, one block at a time, after the clock stopped.

use bytes::Bytes;
use engine::config::ChannelConfig;
use loadgen::client::{Client, DeliverStream};
use loadgen::envelope::{self, Seek};
use orderer_proto::raw::DeliverFrame;
use serde::Serialize;

use super::update::Reader;
use crate::error::Error;

/// Envelopes per block on either side of the config block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlockSizes {
    /// The config block's number (none if no config block was cut).
    pub config_block: Option<u64>,
    /// Config blocks seen in the run (1 when the update was ordered once).
    pub config_blocks: u64,
    /// `BatchSize.MaxMessageCount` of the config the config block carries.
    pub config_block_max_message_count: Option<u32>,
    /// Blocks of the run before the config block (all of them when there is none).
    pub blocks_before: u64,
    /// Most envelopes in a block before the config block.
    pub tx_per_block_max_before: u64,
    /// Blocks after the config block.
    pub blocks_after: u64,
    /// Most envelopes in a block after the config block.
    pub tx_per_block_max_after: u64,
    /// Blocks after the config block holding exactly the new MaxMessageCount: cut for
    /// their count, so the new BatchSize is in force.
    pub blocks_after_at_new_max: u64,
}

impl BlockSizes {
    /// Counts one block of `count` envelopes; `config` is the MaxMessageCount it carries
    /// when it is a config block.
    fn add(&mut self, count: u64, config: Option<u32>, number: u64, new_max: u32) {
        if let Some(max_message_count) = config {
            self.config_blocks += 1;
            if self.config_block.is_none() {
                self.config_block = Some(number);
                self.config_block_max_message_count = Some(max_message_count);
            }
        } else if self.config_block.is_none() {
            self.blocks_before += 1;
            self.tx_per_block_max_before = self.tx_per_block_max_before.max(count);
        } else {
            self.blocks_after += 1;
            self.tx_per_block_max_after = self.tx_per_block_max_after.max(count);
            self.blocks_after_at_new_max += u64::from(count == u64::from(new_max));
        }
    }
}

/// The MaxMessageCount a block of one envelope carries, if that envelope is a CONFIG.
fn config_of(block: &Bytes) -> Option<u32> {
    ChannelConfig::from_block(block)
        .ok()
        .map(|config| config.batch_size.max_message_count)
}

/// Reads blocks `first..=last` of the reader's channel and sizes them around the config
/// block, counting a block as cut at `new_max` when it holds exactly that many.
pub(super) async fn sizes(
    client: &mut Client,
    reader: Reader<'_>,
    (first, last): (u64, u64),
    new_max: u32,
) -> Result<BlockSizes, Error> {
    let mut sizes = BlockSizes::default();
    if first > last {
        return Ok(sizes);
    }
    let mut stream = DeliverStream::open(client).await?;
    let seek = envelope::seek_bound(
        reader.channel_id,
        (Seek::At(first), Seek::At(last)),
        true,
        Some(reader.signer),
        reader.tls,
    )?;
    stream.request(seek).await?;
    loop {
        let block = match stream.next().await? {
            DeliverFrame::Block(block) => block,
            DeliverFrame::Status(_) => return Ok(sizes),
        };
        let undecodable = || Error::Config("a delivered block does not decode".into());
        let number = loadgen::tag::block_number(&block).ok_or_else(undecodable)?;
        let count = loadgen::tag::for_each_envelope(&block, |_| {}).ok_or_else(undecodable)?;
        let config = if count == 1 { config_of(&block) } else { None };
        sizes.add(count as u64, config, number, new_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_sized_on_either_side_of_the_config_block() {
        let mut sizes = BlockSizes::default();
        for (number, count, config) in [
            (1, 500, None),
            (2, 320, None),
            (3, 1, Some(100)),
            (4, 100, None),
            (5, 100, None),
            (6, 37, None),
        ] {
            sizes.add(count, config, number, 100);
        }
        assert_eq!(
            sizes,
            BlockSizes {
                config_block: Some(3),
                config_blocks: 1,
                config_block_max_message_count: Some(100),
                blocks_before: 2,
                tx_per_block_max_before: 500,
                blocks_after: 3,
                tx_per_block_max_after: 100,
                blocks_after_at_new_max: 2,
            }
        );
    }
}
