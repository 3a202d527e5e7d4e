//! The consensus a generic test body runs on: solo, or Kafka on a real broker (the local
//! tansu the project's scripts start, or the cluster `KAFKA_BROKERS` names). A body takes
//! a `&Backend` and asks it for its channel, its orderer and its orderer process, so the
//! same promise is checked on both; [`generic!`] runs a body once per backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::genesis::GenesisSpec;
use loadgen::envelope;
use loadgen::kafka::Broker;
use orderer::{Config, ServeOptions};

use super::process::{Process, spawn_orderer_with};
use super::{ORG, TestOrderer, genesis_spec, orderer_msp_dir, org, org_spec};

/// How a test's channels order.
pub enum Backend {
    Solo,
    Kafka(Broker),
}

impl Backend {
    pub fn solo() -> Self {
        Self::Solo
    }

    /// A fresh local broker, or the cluster `KAFKA_BROKERS` names.
    pub fn kafka() -> Self {
        Self::Kafka(Broker::start().unwrap())
    }

    /// A channel of the tests' org with the vectors' batch settings (500 envelopes,
    /// 2 s), named `tag` plus a nonce: its own topic under Kafka, where the broker may be
    /// a cluster other tests share. Returns the name and the genesis block's path.
    pub fn channel(&self, tag: &str) -> (String, PathBuf) {
        self.channel_with(tag, |_| {})
    }

    /// [`Backend::channel`] with the genesis spec changed by `edit` first.
    pub fn channel_with(
        &self,
        tag: &str,
        edit: impl FnOnce(&mut GenesisSpec),
    ) -> (String, PathBuf) {
        let name = format!("{tag}-{}", envelope::nonce_u64() % 1_000_000_000);
        let mut spec = genesis_spec(&name, &[org_spec(&org().ca, &org().admin)]);
        edit(&mut spec);
        let path = self.genesis(spec, &org().dir);
        (name, path)
    }

    /// `spec` made for this backend's consensus, written as a genesis block into `dir`.
    /// A Kafka block names the sample's broker hosts, as one made for a production
    /// network would; the orderer is pointed at the test broker with `Kafka.Brokers`.
    pub fn genesis(&self, mut spec: GenesisSpec, dir: &Path) -> PathBuf {
        let kind = match self {
            Self::Solo => "solo",
            Self::Kafka(_) => {
                spec.kafka_brokers = vec!["kafka0:9092".into(), "kafka1:9092".into()];
                "kafka"
            }
        };
        spec.consensus = kind.into();
        let path = dir.join(format!("{}.{kind}.block", spec.channel_id));
        std::fs::write(&path, spec.build()).unwrap();
        path
    }

    /// `config` pointed at this backend's broker (Kafka settings short enough for tests).
    pub fn configure(&self, config: &mut Config) {
        if let Self::Kafka(broker) = self {
            config.kafka.brokers = Some(vec![broker.bootstrap.clone()]);
            config.kafka.replication_factor = 1;
            config.kafka.retry.short_interval = Duration::from_millis(500);
            config.kafka.write_timeout = Duration::from_secs(3);
        }
    }

    /// The same settings as `ORDERER_*` variables, for an `orderer` process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Solo => Vec::new(),
            Self::Kafka(broker) => vec![
                ("ORDERER_KAFKA_BROKERS", broker.bootstrap.clone()),
                ("ORDERER_KAFKA_TOPIC_REPLICATIONFACTOR", "1".into()),
                ("ORDERER_KAFKA_RETRY_SHORTINTERVAL", "500ms".into()),
                (
                    "ORDERER_KAFKA_RETRY_NETWORKTIMEOUTS_WRITETIMEOUT",
                    "3s".into(),
                ),
            ],
        }
    }

    /// An in-process orderer on `ledger`, bootstrapped from `genesis_block`, blocks
    /// signed by the tests' org; it serves once its chains take envelopes.
    pub async fn start(&self, ledger: &Path, genesis_block: &Path) -> TestOrderer {
        self.start_with(ledger, genesis_block, ServeOptions::default())
            .await
    }

    /// [`Backend::start`] with `options` (a clock, say).
    pub async fn start_with(
        &self,
        ledger: &Path,
        genesis_block: &Path,
        options: ServeOptions,
    ) -> TestOrderer {
        let mut config = Config::default();
        config.general.bootstrap_file = Some(genesis_block.to_path_buf());
        config.general.local_msp_dir = Some(orderer_msp_dir());
        config.general.local_msp_id = ORG.into();
        config.file_ledger.location = ledger.to_path_buf();
        self.configure(&mut config);
        TestOrderer::start_with_options(config, options).await
    }

    /// An `orderer start` process, once its chains take envelopes.
    pub fn spawn(&self, ledger: &Path, genesis_block: &Path) -> Process {
        let process = spawn_orderer_with(ledger, genesis_block, &self.env());
        if let Self::Kafka(_) = self {
            process.wait_for_log("Kafka consenter started");
        }
        process
    }
}

/// Runs each generic body once per backend: `solo::<body>` and `kafka::<body>`.
#[allow(unused_macros)] // test binaries without generic bodies share this module
macro_rules! generic {
    ($($body:ident),* $(,)?) => {
        mod solo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(&super::support::backend::Backend::solo()).await;
                }
            )*
        }
        mod kafka {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(&super::support::backend::Backend::kafka()).await;
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use generic;
