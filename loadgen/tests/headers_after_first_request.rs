//! loadgen against a server that behaves as grpc-go does for Fabric's orderer: its
//! Broadcast and Deliver handlers read the first request before they return their
//! response, so the response headers go out only after the client's first message. A
//! client that waits for the headers before sending hangs against it; loadgen must not.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use loadgen::signers::Signers;
use loadgen::workload::{Rate, Workload};
use orderer_proto::Message;
use orderer_proto::common::{Block, BlockData, BlockHeader, Envelope, HeaderType, Payload, Status};
use orderer_proto::orderer::seek_info::SeekBehavior;
use orderer_proto::orderer::seek_position::Type as Position;
use orderer_proto::orderer::{BroadcastResponse, SeekInfo, SeekPosition};
use orderer_proto::raw::service::atomic_broadcast_server::{
    AtomicBroadcast, AtomicBroadcastServer,
};
use orderer_proto::raw::{DeliverFrame, RawEnvelope};
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status as RpcStatus, Streaming};

/// Longer than any step takes here; a client waiting for headers waits past it.
const PATIENCE: Duration = Duration::from_secs(10);
const CHANNEL: &str = "grpcgo";

/// Fails the test when `future` outlasts [`PATIENCE`], naming `what` hung.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} hung: it waits for headers sent after a request"))
}

/// A chain of one envelope per block after an empty block 0.
struct Chain {
    blocks: Mutex<Vec<Bytes>>,
    height: watch::Sender<u64>,
}

impl Chain {
    fn new() -> Self {
        let chain = Self {
            blocks: Mutex::new(Vec::new()),
            height: watch::Sender::new(0),
        };
        chain.append(Vec::new());
        chain
    }

    fn append(&self, envelopes: Vec<Bytes>) {
        let mut blocks = self.blocks.lock().unwrap();
        let number = blocks.len() as u64;
        let block = Block {
            header: Some(BlockHeader {
                number,
                ..BlockHeader::default()
            }),
            data: Some(BlockData { data: envelopes }),
            metadata: None,
        };
        blocks.push(block.encode_to_vec().into());
        self.height.send_replace(number + 1);
    }

    async fn block(&self, number: u64) -> Bytes {
        let mut height = self.height.subscribe();
        height.wait_for(|height| *height > number).await.unwrap();
        self.blocks.lock().unwrap()[number as usize].clone()
    }

    fn newest(&self) -> u64 {
        *self.height.borrow() - 1
    }
}

#[derive(Clone)]
struct GrpcGoLike {
    chain: Arc<Chain>,
    /// Refuse every call at once (UNIMPLEMENTED), before reading anything.
    refuse: bool,
}

type Answers<T> = Pin<Box<dyn Stream<Item = Result<T, RpcStatus>> + Send>>;

#[tonic::async_trait]
impl AtomicBroadcast for GrpcGoLike {
    type BroadcastStream = Answers<BroadcastResponse>;
    type DeliverStream = Answers<DeliverFrame>;

    async fn broadcast(
        &self,
        request: Request<Streaming<RawEnvelope>>,
    ) -> Result<Response<Self::BroadcastStream>, RpcStatus> {
        if self.refuse {
            return Err(RpcStatus::unimplemented("refused"));
        }
        let mut inbound = request.into_inner();
        // As grpc-go's handler: the first request is read before anything is answered.
        let mut next = inbound.message().await?;
        let (answers, receiver) = mpsc::channel(16);
        let chain = Arc::clone(&self.chain);
        tokio::spawn(async move {
            while let Some(RawEnvelope(envelope)) = next {
                chain.append(vec![envelope]);
                let success = BroadcastResponse {
                    status: Status::Success as i32,
                    info: String::new(),
                };
                if answers.send(Ok(success)).await.is_err() {
                    return;
                }
                next = inbound.message().await.ok().flatten();
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn deliver(
        &self,
        request: Request<Streaming<RawEnvelope>>,
    ) -> Result<Response<Self::DeliverStream>, RpcStatus> {
        if self.refuse {
            return Err(RpcStatus::unimplemented("refused"));
        }
        let mut inbound = request.into_inner();
        let first = inbound.message().await?;
        let (frames, receiver) = mpsc::channel(16);
        let chain = Arc::clone(&self.chain);
        tokio::spawn(async move {
            let mut next = first;
            while let Some(RawEnvelope(request)) = next {
                if serve_seek(&chain, &request, &frames).await.is_err() {
                    return;
                }
                next = inbound.message().await.ok().flatten();
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

type Frames = mpsc::Sender<Result<DeliverFrame, RpcStatus>>;

/// Sends the blocks a seek request asks for, then its status.
async fn serve_seek(chain: &Chain, request: &[u8], frames: &Frames) -> Result<(), ()> {
    let payload = Payload::decode(Envelope::decode(request).unwrap().payload).unwrap();
    let seek = SeekInfo::decode(payload.data).unwrap();
    let newest = chain.newest();
    let number = |position: Option<SeekPosition>| match position.and_then(|p| p.r#type) {
        Some(Position::Specified(specified)) => specified.number,
        Some(Position::Oldest(_)) => 0,
        _ => newest,
    };
    let (start, stop) = (number(seek.start), number(seek.stop));
    let fail_if_not_ready = seek.behavior == SeekBehavior::FailIfNotReady as i32;
    if fail_if_not_ready && start > newest {
        let status = DeliverFrame::Status(Status::NotFound);
        return frames.send(Ok(status)).await.map_err(drop);
    }
    for number in start..=stop {
        let block = chain.block(number).await;
        frames
            .send(Ok(DeliverFrame::Block(block)))
            .await
            .map_err(drop)?;
    }
    let status = DeliverFrame::Status(Status::Success);
    frames.send(Ok(status)).await.map_err(drop)
}

/// Serves a [`GrpcGoLike`] orderer on a loopback port; its endpoint.
async fn serve() -> String {
    serve_refusing(false).await
}

/// Serves a [`GrpcGoLike`] orderer that refuses every call when `refuse`; its endpoint.
async fn serve_refusing(refuse: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let service = GrpcGoLike {
        chain: Arc::new(Chain::new()),
        refuse,
    };
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(AtomicBroadcastServer::new(service))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    endpoint
}

fn message(data: &[u8]) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id: CHANNEL,
        header_type: HeaderType::Message,
        signer: None,
        data: Bytes::copy_from_slice(data),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_openers_send_before_the_server_answers() {
    let endpoint = serve().await;
    let mut client = client::connect(&endpoint).await.unwrap();

    let mut broadcast = within("BroadcastStream::open", BroadcastStream::open(&mut client))
        .await
        .unwrap();
    let answer = within("Broadcast", broadcast.submit(message(b"one")))
        .await
        .unwrap();
    assert_eq!(answer.status, Status::Success as i32);

    let stream = within("BroadcastStream::open", BroadcastStream::open(&mut client))
        .await
        .unwrap();
    let (sender, mut answers) = stream.split();
    sender.send(message(b"two")).await.unwrap();
    drop(sender);
    let answer = within("split Broadcast", answers.recv()).await.unwrap();
    assert_eq!(answer.unwrap().status, Status::Success as i32);
    assert!(
        answers.recv().await.unwrap().is_none(),
        "ends after a half-close"
    );

    let mut deliver = within("DeliverStream::open", DeliverStream::open(&mut client))
        .await
        .unwrap();
    let seek = envelope::seek(CHANNEL, Seek::Oldest, Seek::Newest, true);
    let (blocks, status) = within("Deliver", deliver.fetch(seek)).await.unwrap();
    assert_eq!((blocks.len(), status), (3, Status::Success));

    let newest = within(
        "newest_block",
        loadgen::run::newest_block(&mut client, CHANNEL, None, None),
    )
    .await
    .unwrap();
    assert_eq!(newest, 2, "block 0 and one block per envelope");
}

/// A call refused before the first request is reported with the server's status, even
/// when the request is queued after the call ended (no "closed stream" in its place).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_call_reports_the_servers_status() {
    let endpoint = serve_refusing(true).await;
    let mut client = client::connect(&endpoint).await.unwrap();
    let mut broadcast = BroadcastStream::open(&mut client).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // both calls have ended
    let seek = envelope::seek(CHANNEL, Seek::Oldest, Seek::Newest, true);
    let refusals = [
        within("Broadcast", broadcast.submit(message(b"one")))
            .await
            .map(drop),
        within("Deliver", deliver.fetch(seek)).await.map(drop),
    ];
    for refusal in refusals {
        match refusal {
            Err(loadgen::Error::Rpc(status)) => {
                assert_eq!(status.code(), tonic::Code::Unimplemented);
            }
            other => panic!("expected the server's status, got {other:?}"),
        }
    }
}

/// A short run of `header_type` envelopes: every one answered and found in the blocks.
async fn run_completes(header_type: HeaderType) {
    let endpoint = serve().await;
    let workload = Workload {
        endpoint,
        channels: vec![CHANNEL.into()],
        broadcast_streams_per_channel: 2,
        deliver_clients_per_channel: 2,
        payload_bytes: 256,
        header_type,
        total_tx: 300,
        duration: None,
        rate: Rate::Max { window: 16 },
        presign: false,
        signers: Signers::default(),
        drain_timeout: Duration::from_secs(5),
        progress: false,
        tls: None,
        timeline_bucket: None,
    };
    let report = within("loadgen::run::run", loadgen::run::run(workload))
        .await
        .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.figures.acked_tx, 300);
    assert_eq!(report.figures.delivered_tx, 300);
    assert_eq!(report.figures.blocks, 300, "one envelope per block");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_messages_completes_against_a_server_that_answers_after_the_first_request() {
    run_completes(HeaderType::Message).await;
}

/// Endorser transactions are tagged where messages are (the nonce): Deliver finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_endorser_transactions_completes_against_the_same_server() {
    run_completes(HeaderType::EndorserTransaction).await;
}
