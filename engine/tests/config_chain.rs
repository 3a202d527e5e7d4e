//! Config messages validated under a config that moved on before they were ordered are
//! processed again, as Fabric's solo chain (`ProcessConfigMsg`) and Kafka chain
//! (re-validate, re-submit with the original offset) do. Deterministic: three updates are
//! all validated under sequence 1 before any is ordered. The second is still valid under
//! sequence 2 and is ordered as Fabric orders it; the third (a replay of the first) is
//! stale by then and dropped. Fabric's own envelopes and configs
//! (`../shared/fabric-vectors/config-updates/`), on solo and on Kafka.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engine::admission::Rules;
use engine::chain::{Chain, ChainOptions, Submission};
use engine::config::{ChannelConfig, ConfigBlock};
use engine::config_update::ConfigMessage;
use engine::envelope;
use engine::kafka::KafkaOptions;
use engine::msp::local::LocalSigner;
use engine::registrar::{Registrar, RegistrarOptions};
use loadgen::kafka::Broker;

const SYSTEM: &str = "test-system-channel-name";
const NEW: &str = "newchannel";

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors")
}

fn file(name: &str) -> Bytes {
    std::fs::read(vectors().join("config-updates").join(name))
        .unwrap()
        .into()
}

fn now_unix() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The config a stored CONFIG block carries.
fn config_of(block: &[u8]) -> orderer_proto::common::Config {
    ConfigBlock::decode(block).unwrap().config
}

/// The Orderer group without its consensus values, which the Kafka run sets itself.
fn comparable(mut config: orderer_proto::common::Config) -> orderer_proto::common::Config {
    if let Some(orderer) = config
        .channel_group
        .as_mut()
        .and_then(|group| group.groups.get_mut("Orderer"))
    {
        orderer.values.remove("ConsensusType");
        orderer.values.remove("KafkaBrokers");
    }
    config
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn process(chain: &Chain, update: &str) -> ConfigMessage {
    let inspected = envelope::inspect(file(update)).unwrap();
    chain
        .process_config_update(inspected, Rules::default(), now_unix())
        .unwrap()
}

fn submit(chain: &Chain, message: ConfigMessage) {
    let accepted = chain
        .submit_timeout(Submission::Config(message), Duration::from_secs(5))
        .unwrap();
    futures::executor::block_on(accepted.acknowledged()).unwrap();
}

fn updates_validated_under_one_sequence(broker: Option<&Broker>) {
    let ledger = tempfile::tempdir().unwrap();
    let solo =
        std::fs::read(vectors().join("genesis/v1.4.12/SampleSingleMSPSolo.genesis.block")).unwrap();
    let genesis = match broker {
        None => Bytes::from(solo),
        Some(_) => {
            engine::genesis::with_consensus(&solo, "kafka", &["kafka0:9092".into()]).unwrap()
        }
    };
    let kafka = KafkaOptions {
        brokers: broker.map(|broker| vec![broker.bootstrap.clone()]),
        replication_factor: 1,
        ..KafkaOptions::default()
    };
    let signer = LocalSigner::from_msp_dir(&vectors().join("msp"), "SampleOrg").unwrap();
    let options = RegistrarOptions {
        ledger_dir: ledger.path().to_path_buf(),
        chain: ChainOptions {
            signer: Some(Arc::new(signer)),
            kafka,
            ..ChainOptions::default()
        },
    };
    let registrar = Registrar::open(&options, vec![genesis]).unwrap();
    let system = registrar.chain(SYSTEM).unwrap();
    wait_until("the system channel starts", || system.is_ready());
    submit(&system, process(&system, "newchannel.create.tx"));
    wait_until("newchannel is created and starts", || {
        registrar.chain(NEW).is_some_and(|chain| chain.is_ready())
    });
    let chain = registrar.chain(NEW).unwrap();

    let anchors = process(&chain, "newchannel.anchors.tx");
    let batch_size = process(&chain, "newchannel.batchsize.tx");
    let replay = process(&chain, "newchannel.anchors.tx");
    for message in [&anchors, &batch_size, &replay] {
        assert_eq!(message.config_seq, 1, "all validated under sequence 1");
    }
    for message in [anchors, batch_size, replay] {
        submit(&chain, message);
    }
    wait_until("blocks 1 and 2 are stored", || chain.reader().height() >= 3);
    // Validated under sequence 3, after the replay was read: it is the next config block.
    submit(&chain, process(&chain, "newchannel.batchsize20.tx"));
    wait_until("block 3 is stored", || chain.reader().height() >= 4);
    for (ours, fabric) in [(1, 1), (2, 2), (3, 7)] {
        let theirs = config_of(&file(&format!("newchannel.block{fabric}.pb")));
        let ours = config_of(&chain.reader().block(ours).unwrap());
        assert_eq!(
            comparable(ours),
            comparable(theirs),
            "block {fabric}'s config"
        );
    }
    assert_eq!(chain.reader().height(), 4, "the stale replay was dropped");
    let config: Arc<ChannelConfig> = chain.config();
    assert_eq!(
        (config.sequence, config.batch_size.max_message_count),
        (4, 20)
    );
    registrar.shutdown();
}

#[test]
fn solo_processes_again_what_a_config_change_overtook() {
    updates_validated_under_one_sequence(None);
}

#[test]
fn kafka_processes_again_and_resubmits_what_a_config_change_overtook() {
    let broker = Broker::start().unwrap();
    updates_validated_under_one_sequence(Some(&broker));
}
