//! Shared by the integration tests: Fabric's test vectors, an in-process orderer on a
//! loopback port, and small helpers over the loadgen clients.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use orderer::Config;
use orderer_proto::common::{Block, HeaderType, Status};
use orderer_proto::raw::service::atomic_broadcast_client::AtomicBroadcastClient;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub const CHANNEL: &str = "appchannel";

/// `../shared/fabric-vectors`, or `$FABRIC_VECTORS`.
pub fn vectors() -> PathBuf {
    std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    )
}

/// The application channel's solo genesis block made by Fabric's configtxgen.
pub fn solo_genesis() -> PathBuf {
    vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block")
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
    pub async fn start(ledger: &Path, genesis: Option<PathBuf>) -> Self {
        let mut config = Config::default();
        config.general.bootstrap_file = genesis;
        config.file_ledger.location = ledger.to_path_buf();
        Self::start_with(config).await
    }

    pub async fn start_with(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(orderer::serve(config, listener, async move {
            let _ = stopped.await;
        }));
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

/// A MESSAGE envelope for `channel_id` carrying `data`.
pub fn message(channel_id: &str, data: &[u8]) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id,
        header_type: HeaderType::Message,
        signer: None,
        data: Bytes::copy_from_slice(data),
    })
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

/// Blocks `start..=stop`, waiting for them to be cut.
pub async fn fetch_blocks(
    client: &mut AtomicBroadcastClient<Channel>,
    start: u64,
    stop: u64,
) -> Vec<Bytes> {
    let mut deliver = DeliverStream::open(client).await.unwrap();
    let (blocks, status) = deliver
        .fetch(envelope::seek(
            CHANNEL,
            Seek::At(start),
            Seek::At(stop),
            false,
        ))
        .await
        .unwrap();
    assert_eq!(status, Status::Success);
    blocks
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
