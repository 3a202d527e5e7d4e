//! Shared by the integration tests: Fabric's test vectors, this test binary's own org
//! (a development CA whose certificates outlive the vectors'), an in-process orderer on a
//! loopback port, and small helpers over the loadgen clients.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use engine::cutter::BatchSize;
use engine::genesis::{GenesisSpec, OrgSpec};
use loadgen::ca::{DevCa, Issued};
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use loadgen::msp::Signer;
use orderer::{Config, ServeOptions};
use orderer_proto::common::{Block, HeaderType, Status};
use orderer_proto::raw::service::atomic_broadcast_client::AtomicBroadcastClient;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub mod backend;
pub mod config_updates;
pub mod config_vectors;
pub mod fabric;
pub mod http;
pub mod process;
pub mod tls_front;

pub const CHANNEL: &str = "appchannel";

/// `../shared/fabric-vectors`, or `$FABRIC_VECTORS`.
pub fn vectors() -> PathBuf {
    std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    )
}

/// A program of Fabric's own, built at `version` (`../shared/fabric-bin`, or
/// `$FABRIC_BIN`): `fabric_bin("v2.5.6", "configtxgen")`.
pub fn fabric_bin(version: &str, program: &str) -> PathBuf {
    std::env::var_os("FABRIC_BIN")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-bin"),
            PathBuf::from,
        )
        .join(version)
        .join(program)
}

/// A genesis block made by Fabric's v2.5.6 `configtxgen` from its sample `configtx.yaml`
/// (`profile`, e.g. `SampleInsecureSolo`), for channel `channel_id`, written into `dir`.
pub fn configtxgen_block(profile: &str, channel_id: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{channel_id}.block"));
    let output = std::process::Command::new(fabric_bin("v2.5.6", "configtxgen"))
        .arg("-configPath")
        .arg(fabric_bin("v2.5.6", "sampleconfig"))
        .args([
            "-profile",
            profile,
            "-channelID",
            channel_id,
            "-outputBlock",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "configtxgen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    path
}

/// Rewrites the genesis block at `path` without its Orderer group's capabilities (a
/// channel made before Fabric v1.1, on which Broadcast does not check expiry). Test
/// bytes: re-encoding is fine here.
pub fn strip_orderer_capabilities(path: &Path) {
    use orderer_proto::common::{ConfigEnvelope, Envelope, Payload};
    let mut block = Block::decode(Bytes::from(std::fs::read(path).unwrap())).unwrap();
    let data = block.data.as_mut().unwrap();
    let mut envelope = Envelope::decode(data.data[0].clone()).unwrap();
    let mut payload = Payload::decode(envelope.payload.clone()).unwrap();
    let mut config = ConfigEnvelope::decode(payload.data.clone()).unwrap();
    let root = config
        .config
        .as_mut()
        .unwrap()
        .channel_group
        .as_mut()
        .unwrap();
    let orderer = root.groups.get_mut("Orderer").unwrap();
    assert!(orderer.values.remove("Capabilities").is_some());
    payload.data = config.encode_to_vec().into();
    envelope.payload = payload.encode_to_vec().into();
    data.data[0] = envelope.encode_to_vec().into();
    std::fs::write(path, block.encode_to_vec()).unwrap();
}

/// The application channel's solo genesis block made by Fabric's configtxgen.
pub fn solo_genesis() -> PathBuf {
    vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block")
}

/// 2026-01-01, inside the validity of the vectors' sample certificate (it expires
/// 2027-11-10): the clock of orderers that run on Fabric's genesis block.
pub const FABRIC_NOW_UNIX: i64 = 1_767_225_600;

/// The identity that signed the vectors' envelopes and blocks (MSP `SampleOrg`).
pub fn fabric_signer() -> Signer {
    Signer::from_msp_dir(&vectors().join("msp"), "SampleOrg").unwrap()
}

/// MSP ID of the tests' own org.
pub const ORG: &str = "TestOrg";

/// This test binary's org: made once, written under the target's temporary directory.
pub struct TestOrg {
    pub ca: DevCa,
    /// A client: may write and read.
    pub client: Arc<Signer>,
    /// An admin of the org.
    pub admin: Issued,
    /// The orderer's identity; its MSP directory is `msp_dir`.
    pub orderer: Issued,
    /// `genesis.block` (channel `appchannel`) and `orderer-msp/`.
    pub dir: PathBuf,
}

static TEST_ORG: LazyLock<TestOrg> = LazyLock::new(|| {
    let ca = DevCa::generate(ORG).unwrap();
    let admin = ca.issue("admin", &["admin"]).unwrap();
    let orderer = ca.issue("orderer", &["orderer"]).unwrap();
    let client = Arc::new(ca.issue("client", &["client"]).unwrap().signer().unwrap());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "org-{}-{}",
        std::process::id(),
        envelope::nonce_u64()
    ));
    orderer
        .write_msp_dir(&ca, &dir.join("orderer-msp"))
        .unwrap();
    let genesis = genesis_spec(CHANNEL, &[org_spec(&ca, &admin)]).build();
    std::fs::write(dir.join("genesis.block"), genesis).unwrap();
    TestOrg {
        ca,
        client,
        admin,
        orderer,
        dir,
    }
});

pub fn org() -> &'static TestOrg {
    &TEST_ORG
}

/// The org of `ca` with `admin` as its admin.
pub fn org_spec(ca: &DevCa, admin: &Issued) -> OrgSpec {
    OrgSpec {
        msp_id: ca.msp_id().into(),
        msp_config: ca.msp_config(&[admin]),
    }
}

/// A solo channel with the vectors' batch settings (500 envelopes, 10 MiB absolute,
/// 2 MiB preferred, 2 s).
pub fn genesis_spec(channel_id: &str, orgs: &[OrgSpec]) -> GenesisSpec {
    GenesisSpec {
        channel_id: channel_id.into(),
        consensus: "solo".into(),
        kafka_brokers: Vec::new(),
        batch_size: BatchSize {
            max_message_count: 500,
            absolute_max_bytes: 10 * 1024 * 1024,
            preferred_max_bytes: 2 * 1024 * 1024,
        },
        batch_timeout: Duration::from_secs(2),
        orgs: orgs.to_vec(),
        sequence: 0,
    }
}

/// The genesis block of `appchannel` with the tests' org.
pub fn genesis() -> PathBuf {
    org().dir.join("genesis.block")
}

/// The orderer's local MSP directory (MSP ID [`ORG`]).
pub fn orderer_msp_dir() -> PathBuf {
    org().dir.join("orderer-msp")
}

/// A block file of the vectors, decoded.
pub fn fabric_block(name: &str) -> Block {
    Block::decode(&std::fs::read(vectors().join("blocks").join(name)).unwrap()[..]).unwrap()
}

/// An orderer served in this process on 127.0.0.1, port chosen by the OS.
pub struct TestOrderer {
    pub endpoint: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), orderer::Error>>,
}

impl TestOrderer {
    /// Bootstrapped from `genesis` (when the ledger is new), blocks signed by the tests'
    /// org, the system clock.
    pub async fn start(ledger: &Path, genesis: Option<PathBuf>) -> Self {
        let mut config = Config::default();
        config.general.bootstrap_file = genesis;
        config.general.local_msp_dir = Some(orderer_msp_dir());
        config.general.local_msp_id = ORG.into();
        config.file_ledger.location = ledger.to_path_buf();
        Self::start_with(config).await
    }

    /// Bootstrapped from Fabric's solo genesis block, blocks signed by the sample MSP,
    /// the clock at [`FABRIC_NOW_UNIX`].
    pub async fn start_fabric(ledger: &Path) -> Self {
        let mut config = Config::default();
        config.general.bootstrap_file = Some(solo_genesis());
        config.general.local_msp_dir = Some(vectors().join("msp"));
        config.general.local_msp_id = "SampleOrg".into();
        config.file_ledger.location = ledger.to_path_buf();
        Self::start_with_options(config, fabric_clock()).await
    }

    pub async fn start_with(config: Config) -> Self {
        Self::start_with_options(config, ServeOptions::default()).await
    }

    /// Serves once every chain takes envelopes (a Kafka chain answers
    /// SERVICE_UNAVAILABLE until its consenter has started, as Fabric's does).
    pub async fn start_with_options(config: Config, options: ServeOptions) -> Self {
        let registrar = orderer::open_registrar(&config, &options.metrics)
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !registrar.is_ready() {
            assert!(
                std::time::Instant::now() < deadline,
                "the chains did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self::serve(registrar, options).await
    }

    /// Serves at once, whether or not every chain has started (a Kafka chain whose
    /// broker cannot be reached never does).
    pub async fn start_unready(config: Config) -> Self {
        let options = ServeOptions::default();
        let registrar = orderer::open_registrar(&config, &options.metrics)
            .await
            .unwrap();
        Self::serve(registrar, options).await
    }

    async fn serve(registrar: Arc<engine::registrar::Registrar>, options: ServeOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(orderer::serve_registrar(
            registrar,
            listener,
            async move {
                let _ = stopped.await;
            },
            options,
        ));
        Self {
            endpoint,
            stop: Some(stop),
            task,
        }
    }

    pub async fn client(&self) -> AtomicBroadcastClient<Channel> {
        client::connect(&self.endpoint).await.unwrap()
    }

    /// Graceful stop: pending envelopes are cut and stored.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Serve options whose clock reads [`FABRIC_NOW_UNIX`].
pub fn fabric_clock() -> ServeOptions {
    ServeOptions {
        clock: Arc::new(|| FABRIC_NOW_UNIX),
        ..ServeOptions::default()
    }
}

/// A MESSAGE envelope for `channel_id` carrying `data`, signed by the tests' client.
pub fn message(channel_id: &str, data: &[u8]) -> Bytes {
    message_by(&org().client, channel_id, data)
}

/// A MESSAGE envelope for `channel_id` carrying `data`, signed by `signer`.
pub fn message_by(signer: &Signer, channel_id: &str, data: &[u8]) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id,
        header_type: HeaderType::Message,
        signer: Some(signer),
        data: Bytes::copy_from_slice(data),
    })
    .unwrap()
}

/// A Deliver request for `start..=stop`, signed by the tests' client.
pub fn seek(channel_id: &str, start: Seek, stop: Seek, fail_if_not_ready: bool) -> Bytes {
    envelope::seek_signed(
        channel_id,
        start,
        stop,
        fail_if_not_ready,
        Some(&org().client),
    )
    .unwrap()
}

/// Sends each envelope and asserts it was answered SUCCESS.
pub async fn broadcast_all(stream: &mut BroadcastStream, envelopes: &[Bytes]) {
    for envelope in envelopes {
        stream.send(envelope.clone()).await.unwrap();
    }
    for (index, _) in envelopes.iter().enumerate() {
        let response = stream.recv().await.unwrap();
        assert_eq!(
            response.status,
            Status::Success as i32,
            "envelope {index}: {response:?}"
        );
    }
}

/// Blocks `start..=stop` of `channel`, waiting for them to be cut, read as the tests'
/// client.
pub async fn fetch_blocks(
    client: &mut AtomicBroadcastClient<Channel>,
    channel: &str,
    start: u64,
    stop: u64,
) -> Vec<Bytes> {
    fetch_blocks_as(client, &org().client, channel, start, stop).await
}

/// Blocks `start..=stop` of `channel`, waiting for them to be cut, read as `signer`.
pub async fn fetch_blocks_as(
    client: &mut AtomicBroadcastClient<Channel>,
    signer: &Signer,
    channel: &str,
    start: u64,
    stop: u64,
) -> Vec<Bytes> {
    let mut deliver = DeliverStream::open(client).await.unwrap();
    let request = envelope::seek_signed(
        channel,
        Seek::At(start),
        Seek::At(stop),
        false,
        Some(signer),
    )
    .unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!(status, Status::Success);
    blocks
}

/// Every block of `channel` the orderer at `endpoint` has now, read as the tests' client
/// with `BEST_EFFORT` (so also from a chain whose consenter is down).
pub async fn chain_of(endpoint: &str, channel: &str) -> Vec<Block> {
    use orderer_proto::orderer::seek_info::SeekErrorResponse;
    use orderer_proto::orderer::seek_position::Type;
    use orderer_proto::orderer::{SeekInfo, SeekNewest, SeekOldest, SeekPosition};
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let info = SeekInfo {
        start: Some(SeekPosition {
            r#type: Some(Type::Oldest(SeekOldest {})),
        }),
        stop: Some(SeekPosition {
            r#type: Some(Type::Newest(SeekNewest {})),
        }),
        error_response: SeekErrorResponse::BestEffort as i32,
        ..SeekInfo::default()
    };
    let request = envelope::build(&EnvelopeSpec {
        channel_id: channel,
        header_type: HeaderType::DeliverSeekInfo,
        signer: Some(&org().client),
        data: info.encode_to_vec().into(),
    })
    .unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!(status, Status::Success);
    blocks.iter().map(decode_block).collect()
}

/// How many times each envelope after the genesis block appears in `blocks`, after
/// checking the hash chain.
pub fn envelope_counts(blocks: &[Block]) -> std::collections::HashMap<Bytes, usize> {
    assert_chain_valid(blocks);
    let mut counts = std::collections::HashMap::new();
    for block in blocks.iter().skip(1) {
        for envelope in &block.data.as_ref().unwrap().data {
            *counts.entry(envelope.clone()).or_default() += 1;
        }
    }
    counts
}

/// The chain at `endpoint` and the envelopes after its genesis block, in chain order,
/// once there are at least `count` (within 60 s).
pub async fn ordered(endpoint: &str, channel: &str, count: usize) -> (Vec<Block>, Vec<Bytes>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let blocks = chain_of(endpoint, channel).await;
        let envelopes: Vec<Bytes> = blocks
            .iter()
            .skip(1)
            .flat_map(|b| b.data.clone().unwrap_or_default().data)
            .collect();
        if envelopes.len() >= count {
            return (blocks, envelopes);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {count} ordered",
            envelopes.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn decode_block(bytes: &Bytes) -> Block {
    Block::decode(bytes.clone()).unwrap()
}

/// Header hash of a block, by Fabric's rule.
pub fn header_hash(block: &Block) -> [u8; 32] {
    let header = block.header.clone().unwrap_or_default();
    engine::hash::header_hash(header.number, &header.previous_hash, &header.data_hash)
}

/// Checks numbers, previous hashes and data hashes along `blocks`.
pub fn assert_chain_valid(blocks: &[Block]) {
    for (index, block) in blocks.iter().enumerate() {
        let header = block.header.clone().unwrap_or_default();
        assert_eq!(
            header.number, index as u64,
            "block numbers are consecutive from 0"
        );
        let data = block.data.clone().unwrap_or_default().data;
        assert_eq!(
            &engine::hash::data_hash(&data)[..],
            &header.data_hash[..],
            "data hash of {index}"
        );
        if index > 0 {
            assert_eq!(
                &header_hash(&blocks[index - 1])[..],
                &header.previous_hash[..],
                "previous hash of {index}"
            );
        }
    }
}

/// A loadgen run on `channel`: 2 Broadcast streams, 2 Deliver clients, 512-byte
/// payloads signed by the tests' client.
pub fn workload(
    endpoint: String,
    channel: &str,
    rate: loadgen::workload::Rate,
    total_tx: u64,
) -> loadgen::workload::Workload {
    loadgen::workload::Workload {
        endpoint,
        channels: vec![channel.to_string()],
        broadcast_streams_per_channel: 2,
        deliver_clients_per_channel: 2,
        payload_bytes: 512,
        header_type: HeaderType::Message,
        total_tx,
        duration: None,
        rate,
        presign: false,
        signers: loadgen::signers::Signers::one(Arc::clone(&org().client)),
        drain_timeout: Duration::from_secs(10),
        progress: false,
        tls: None,
        timeline_bucket: None,
    }
}

/// 50 distinct envelopes for `channel`, tagged `tag` and `round`.
fn tagged_batch(channel: &str, tag: u32, round: u32) -> Vec<Bytes> {
    (0..50u32)
        .map(|i| {
            message(
                channel,
                &[tag.to_le_bytes(), round.to_le_bytes(), i.to_le_bytes()].concat(),
            )
        })
        .collect()
}

/// Broadcasts distinct envelopes (tagged `tag`), 50 in flight, until the stream ends;
/// returns the ones answered SUCCESS.
pub async fn load_until_closed(endpoint: String, channel: String, tag: u32) -> Vec<Bytes> {
    let mut acked = Vec::new();
    let Ok(mut client) = client::connect(&endpoint).await else {
        return acked;
    };
    let Ok(mut stream) = BroadcastStream::open(&mut client).await else {
        return acked;
    };
    for round in 0u32.. {
        let batch = tagged_batch(&channel, tag, round);
        for envelope in &batch {
            if stream.send(envelope.clone()).await.is_err() {
                return acked;
            }
        }
        for envelope in batch {
            match stream.recv().await {
                Ok(response) if response.status == Status::Success as i32 => acked.push(envelope),
                Ok(_) => {}
                Err(_) => return acked,
            }
        }
    }
    acked
}

/// The tests' org's channel `appchannel` cut at `max_message_count` envelopes or
/// `batch_timeout`, its genesis block written into `dir`; returns the block's path.
pub fn small_batch_genesis(dir: &Path, max_message_count: u32, batch_timeout: Duration) -> PathBuf {
    let mut spec = genesis_spec(CHANNEL, &[org_spec(&org().ca, &org().admin)]);
    spec.batch_size.max_message_count = max_message_count;
    spec.batch_timeout = batch_timeout;
    let path = dir.join("genesis.block");
    std::fs::write(&path, spec.build()).unwrap();
    path
}

/// Prints a fault test's figures as one `fault-record {json}` line on stderr:
/// `scripts/faults.sh` runs the fault tests with `--nocapture` and appends these lines,
/// with the git revision and the hardware, to `results/faults.ndjson`.
pub fn report_fault(fault: &str, params: serde_json::Value, figures: serde_json::Value) {
    let record = serde_json::json!({ "fault": fault, "params": params, "figures": figures });
    eprintln!("fault-record {record}");
}

/// Writes `text` to `dir/name`; returns the path as a string (for an environment value).
pub fn write_text(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The status of one envelope broadcast over a fresh connection (over TLS with `tls`), or
/// the error that kept it from being answered.
pub async fn order_one(
    endpoint: &str,
    tls: Option<&loadgen::client::ClientTls>,
    data: &[u8],
) -> Result<i32, String> {
    let mut client = client::connect_with(endpoint, tls)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = BroadcastStream::open(&mut client)
        .await
        .map_err(|e| e.to_string())?;
    let response = stream
        .submit(message(CHANNEL, data))
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status)
}

/// What one loader saw: the envelopes answered SUCCESS, and how many were answered
/// SERVICE_UNAVAILABLE.
#[derive(Default)]
pub struct Loaded {
    pub acked: Vec<Bytes>,
    pub unavailable: usize,
}

/// Broadcasts distinct envelopes (tagged `tag`) to `channel`, 50 in flight, until `stop`
/// is set; every answer must be SUCCESS or SERVICE_UNAVAILABLE.
pub async fn load_until(
    endpoint: String,
    channel: String,
    tag: u32,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Loaded {
    let mut loaded = Loaded::default();
    let mut client = client::connect(&endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    for round in 0u32.. {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let batch = tagged_batch(&channel, tag, round);
        for envelope in &batch {
            stream.send(envelope.clone()).await.unwrap();
        }
        for envelope in batch {
            let answer = stream.recv().await.unwrap();
            if answer.status == Status::Success as i32 {
                loaded.acked.push(envelope);
            } else {
                assert_eq!(
                    answer.status,
                    Status::ServiceUnavailable as i32,
                    "{}",
                    answer.info
                );
                loaded.unavailable += 1;
            }
        }
        if loaded.unavailable > 0 {
            // Refused while the disk is full: do not spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    loaded
}
