//! A chain's side of config changes, shared by the solo and Kafka workers: messages
//! validated under a config that has since moved on are validated again (Fabric's
//! `ProcessNormalMsg` / `ProcessConfigMsg` when `configSeq < seq`), and a config block
//! about to be written takes effect (Fabric's `BlockWriter.WriteConfigBlock`: the new
//! bundle, or the new channel).

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{info, warn};

use super::ChannelCreator;
use crate::admission::{self, Rules};
use crate::config::ChannelConfig;
use crate::config_update::{self, Change, ConfigMessage, Orderer};
use crate::cutter::Message;
use crate::error::Error;
use crate::msp::local::LocalSigner;

/// Seconds since the Unix epoch: what identity expiry is judged by on re-validation.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

pub(crate) struct Reconfig {
    /// The chain's current config, read by Broadcast and Deliver.
    pub config: watch::Sender<Arc<ChannelConfig>>,
    /// The current config's sequence, kept by the worker so that the check of each
    /// envelope takes no lock.
    pub sequence: u64,
    pub signer: Option<Arc<LocalSigner>>,
    pub rules: Rules,
    pub channels: Option<Arc<dyn ChannelCreator>>,
}

impl Reconfig {
    /// The current config.
    pub fn current(&self) -> Arc<ChannelConfig> {
        Arc::clone(&self.config.borrow())
    }

    /// Whether a normal message validated under `config_seq` is still valid: at once
    /// when the config has not moved, else by the whole admission sequence again.
    pub fn normal_still_valid(&self, message: &Message, config_seq: u64) -> Result<(), String> {
        if config_seq >= self.sequence {
            return Ok(());
        }
        admission::revalidate(
            &self.current(),
            message.envelope.clone(),
            self.rules,
            now_unix(),
        )
        .map(|_| ())
        .map_err(|rejection| rejection.info)
    }

    /// A config message as it is when validated under the current config, else processed
    /// again from its update against the current config.
    pub fn config_still_valid(&self, message: ConfigMessage) -> Result<ConfigMessage, String> {
        if message.config_seq >= self.sequence {
            return Ok(message);
        }
        self.reprocess(&message.envelope)
    }

    /// A config message processed again from its update against the current config.
    pub fn reprocess(&self, envelope: &bytes::Bytes) -> Result<ConfigMessage, String> {
        let current = self.current();
        let orderer = Orderer {
            signer: self.signer.as_deref(),
            rules: self.rules,
            now_unix: now_unix(),
        };
        let channels = self.channels.as_ref().map_or(0, |c| c.channel_count());
        config_update::reprocess(&current, envelope, orderer, channels)
            .map_err(|rejection| rejection.info)
    }

    /// Makes a config message take effect as its block is about to be written: the
    /// channel's new config (returned), or the channel it creates.
    pub fn apply(&mut self, message: &ConfigMessage) -> Result<Option<Arc<ChannelConfig>>, Error> {
        match &message.change {
            Change::Update(config) => {
                info!(channel = %config.channel_id, sequence = config.sequence, "config updated");
                self.config.send_replace(Arc::clone(config));
                self.sequence = config.sequence;
                Ok(Some(Arc::clone(config)))
            }
            Change::NewChannel {
                channel_id,
                genesis,
            } => {
                match &self.channels {
                    Some(channels) => channels.create_channel(channel_id, genesis)?,
                    None => warn!(channel = %channel_id,
                        "a channel creation was ordered, but this chain cannot create channels"),
                }
                Ok(None)
            }
        }
    }
}
