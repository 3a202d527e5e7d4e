//! The channels this orderer serves: reopened from the ledger, bootstrapped from a
//! genesis block on first start, or created by a system channel's config block (Fabric's
//! `Registrar.newChain`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};

use bytes::Bytes;
use tracing::{info, warn};

use crate::chain::{Chain, ChainOptions, ChannelCreator};
use crate::config::ChannelConfig;
use crate::error::Error;
use crate::store::BlockStore;

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
    chains: RwLock<HashMap<String, Arc<Chain>>>,
    /// Where new channels go, and the options they start with.
    chains_dir: PathBuf,
    options: ChainOptions,
    /// The cores chain workers are spread over.
    cores: Vec<core_affinity::CoreId>,
    /// The system channel, fixed at open (Fabric refuses a ledger with two).
    system: std::sync::OnceLock<String>,
}

/// Prefix of the directory a channel is created in before it is renamed into place: a
/// crash leaves either no channel or a whole one (channel names cannot start with `.`).
const CREATING_PREFIX: &str = ".creating-";

/// The registrar as the chains see it: what creates the channels a system channel's
/// blocks create.
#[derive(Debug)]
struct Creator(Weak<Registrar>);

impl ChannelCreator for Creator {
    fn create_channel(&self, channel_id: &str, genesis: &Bytes) -> Result<(), Error> {
        match self.0.upgrade() {
            Some(registrar) => registrar.create(channel_id, genesis),
            None => Ok(()), // shutting down
        }
    }

    fn channel_count(&self) -> usize {
        self.0
            .upgrade()
            .map_or(0, |registrar| registrar.read().len())
    }
}

impl Registrar {
    /// Opens every chain in the ledger. Each genesis block whose channel the ledger does
    /// not hold yet bootstraps that channel; a channel that exists keeps its own blocks
    /// (as in Fabric, a bootstrap block is used only once).
    pub fn open(options: &RegistrarOptions, genesis: Vec<Bytes>) -> Result<Arc<Self>, Error> {
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
        let registrar = Arc::new_cyclic(|weak: &Weak<Self>| {
            let mut chain = options.chain.clone();
            chain.channels = Some(Arc::new(Creator(weak.clone())));
            Self {
                chains: RwLock::new(HashMap::new()),
                chains_dir: chains_dir.clone(),
                options: chain,
                cores,
                system: std::sync::OnceLock::new(),
            }
        });
        for id in ids {
            let chain = registrar.start_chain(&id, bootstraps.get(&id))?;
            registrar.write().insert(id, chain);
        }
        let systems: Vec<String> = registrar
            .chains()
            .iter()
            .filter(|chain| chain.config().is_system_channel())
            .map(|chain| chain.channel_id().to_string())
            .collect();
        match &systems[..] {
            [] => {}
            [system] => {
                let _ = registrar.system.set(system.clone());
            }
            _ => {
                registrar.shutdown();
                return Err(Error::Config(format!(
                    "the ledger holds more than one system channel: {}",
                    systems.join(", ")
                )));
            }
        }
        Ok(registrar)
    }

    /// Starts the chain stored under `id`, bootstrapped with `genesis` if empty, on the
    /// next core.
    fn start_chain(&self, id: &str, genesis: Option<&Bytes>) -> Result<Arc<Chain>, Error> {
        let mut options = self.options.clone();
        let position = self.read().len();
        options.core = self.cores.get(position % self.cores.len().max(1)).copied();
        let chain = Chain::start(&self.chains_dir.join(id), genesis, options)?;
        if chain.channel_id() != id {
            return Err(Error::Config(format!(
                "ledger directory {id} holds channel {}",
                chain.channel_id()
            )));
        }
        Ok(Arc::new(chain))
    }

    /// Creates channel `channel_id` from its block 0, as the system channel writes the
    /// block that creates it. A channel that exists already is left alone, as Fabric's
    /// registrar leaves a ledger that has blocks.
    fn create(&self, channel_id: &str, genesis: &Bytes) -> Result<(), Error> {
        check_channel_id(channel_id)?;
        // On disk but not started yet: the registrar is opening it (a Kafka system
        // channel reading its creation again after a crash).
        if self.read().contains_key(channel_id) || self.chains_dir.join(channel_id).exists() {
            warn!(channel = %channel_id, "a channel creation was ordered for a channel that exists; ignored");
            return Ok(());
        }
        let creating = self
            .chains_dir
            .join(format!("{CREATING_PREFIX}{channel_id}"));
        remove_dir(&creating)?;
        let mut store = BlockStore::open(&creating, self.options.store)?;
        store.append(0, genesis)?;
        store.sync()?;
        drop(store);
        let path = self.chains_dir.join(channel_id);
        fs::rename(&creating, &path).map_err(Error::io("move into place", &path))?;
        // The rename is durable before the system channel's block that records it.
        fs::File::open(&self.chains_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(Error::io("sync", &self.chains_dir))?;
        let chain = self.start_chain(channel_id, None)?;
        info!(channel = %channel_id, "channel created");
        self.write().insert(channel_id.to_string(), chain);
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Chain>>> {
        self.chains.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Chain>>> {
        self.chains.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The chain of `channel_id`, if this orderer serves it.
    pub fn chain(&self, channel_id: &str) -> Option<Arc<Chain>> {
        self.read().get(channel_id).cloned()
    }

    /// The system channel's chain, if this orderer has one (it creates channels).
    pub fn system_chain(&self) -> Option<Arc<Chain>> {
        self.system.get().and_then(|id| self.chain(id))
    }

    /// Every chain, in channel order.
    pub fn chains(&self) -> Vec<Arc<Chain>> {
        let mut chains: Vec<Arc<Chain>> = self.read().values().cloned().collect();
        chains.sort_by(|a, b| a.channel_id().cmp(b.channel_id()));
        chains
    }

    /// A number that grows whenever a config block changes a channel or creates one (the
    /// sum of the channels' config sequences and their count): what follows the channels'
    /// configs (the TLS roots of mutual TLS) knows when to look again.
    pub fn config_generation(&self) -> u64 {
        let chains = self.read();
        chains
            .values()
            .map(|chain| chain.config().sequence)
            .fold(chains.len() as u64, u64::wrapping_add)
    }

    /// Whether every chain takes envelopes (a Kafka chain does once its consenter has
    /// started; a solo chain always does).
    pub fn is_ready(&self) -> bool {
        self.read().values().all(|chain| chain.is_ready())
    }

    /// Stops every chain after storing what is pending: the system channel first, so
    /// that a channel it creates while stopping is stopped too.
    pub fn shutdown(&self) {
        if let Some(system) = self.system_chain() {
            system.shutdown();
        }
        for chain in self.chains() {
            chain.shutdown();
        }
    }
}

/// The channels in the ledger; a creation a crash interrupted is removed.
fn existing_channels(chains_dir: &Path) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(chains_dir).map_err(Error::io("list ledger", chains_dir))? {
        let entry = entry.map_err(Error::io("list ledger", chains_dir))?;
        if entry.path().is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            if name.starts_with(CREATING_PREFIX) {
                warn!(dir = %name, "removing a channel creation a crash interrupted");
                remove_dir(&entry.path())?;
            } else {
                ids.push(name.to_string());
            }
        }
    }
    ids.sort();
    Ok(ids)
}

fn remove_dir(dir: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("remove", dir)(error))
        }
        _ => Ok(()),
    }
}

/// Fabric's channel name rule: `[a-z][a-z0-9.-]*`, at most 249 characters. It also keeps
/// the name safe as a directory name.
pub fn check_channel_id(id: &str) -> Result<(), Error> {
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
