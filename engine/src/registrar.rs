//! The channels this orderer serves: reopened from the ledger, or bootstrapped from a
//! genesis block on first start.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use tracing::info;

use crate::chain::{Chain, ChainOptions};
use crate::config::ChannelConfig;
use crate::error::Error;

/// Subdirectory of the ledger that holds one directory per channel.
const CHAINS_DIR: &str = "chains";
/// Fabric's limit on channel names.
const CHANNEL_ID_LEN_MAX: usize = 249;

/// Options of the registrar.
#[derive(Debug, Clone)]
pub struct RegistrarOptions {
    /// `FileLedger.Location`.
    pub ledger_dir: PathBuf,
    /// Options shared by every chain; each chain's worker gets its own core.
    pub chain: ChainOptions,
}

/// All chains of this orderer.
#[derive(Debug)]
pub struct Registrar {
    chains: HashMap<String, Arc<Chain>>,
}

impl Registrar {
    /// Opens every chain in the ledger. Each genesis block whose channel the ledger does
    /// not hold yet bootstraps that channel; a channel that exists keeps its own blocks
    /// (as in Fabric, a bootstrap block is used only once).
    pub fn open(options: &RegistrarOptions, genesis: Vec<Bytes>) -> Result<Self, Error> {
        let chains_dir = options.ledger_dir.join(CHAINS_DIR);
        fs::create_dir_all(&chains_dir).map_err(Error::io("create ledger", &chains_dir))?;
        // Read the core list once, before any worker pins itself.
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let mut ids = existing_channels(&chains_dir)?;
        let mut bootstraps = HashMap::new();
        for block in genesis {
            let id = ChannelConfig::from_block(&block)?.channel_id;
            check_channel_id(&id)?;
            if !ids.contains(&id) {
                info!(channel = %id, "bootstrapping channel from the genesis block");
                ids.push(id.clone());
            }
            bootstraps.insert(id, block);
        }
        let mut chains = HashMap::new();
        for (position, id) in ids.into_iter().enumerate() {
            let mut chain_options = options.chain.clone();
            chain_options.core = cores.get(position % cores.len().max(1)).copied();
            let chain = Chain::start(&chains_dir.join(&id), bootstraps.get(&id), chain_options)?;
            if chain.config().channel_id != id {
                return Err(Error::Config(format!(
                    "ledger directory {id} holds channel {}",
                    chain.config().channel_id
                )));
            }
            chains.insert(id, Arc::new(chain));
        }
        Ok(Self { chains })
    }

    /// The chain of `channel_id`, if this orderer serves it.
    pub fn chain(&self, channel_id: &str) -> Option<&Arc<Chain>> {
        self.chains.get(channel_id)
    }

    /// Every chain.
    pub fn chains(&self) -> impl Iterator<Item = &Arc<Chain>> {
        self.chains.values()
    }

    /// Whether every chain takes envelopes (a Kafka chain does once its consenter has
    /// started; a solo chain always does).
    pub fn is_ready(&self) -> bool {
        self.chains.values().all(|chain| chain.is_ready())
    }

    /// Stops every chain after storing what is pending.
    pub fn shutdown(&self) {
        for chain in self.chains.values() {
            chain.shutdown();
        }
    }
}

fn existing_channels(chains_dir: &Path) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(chains_dir).map_err(Error::io("list ledger", chains_dir))? {
        let entry = entry.map_err(Error::io("list ledger", chains_dir))?;
        if entry.path().is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            ids.push(name.to_string());
        }
    }
    ids.sort();
    Ok(ids)
}

/// Fabric's channel name rule: `[a-z][a-z0-9.-]*`, at most 249 characters. It also keeps
/// the name safe as a directory name.
fn check_channel_id(id: &str) -> Result<(), Error> {
    let mut chars = id.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && id.len() <= CHANNEL_ID_LEN_MAX;
    if valid {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "channel name {id:?} is not valid: it must match [a-z][a-z0-9.-]* and have at most {CHANNEL_ID_LEN_MAX} characters"
        )))
    }
}
