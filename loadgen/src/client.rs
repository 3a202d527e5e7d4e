//! Broadcast and Deliver streams over the raw codec: what is sent and received are the
//! exact bytes on the wire. Opening a stream does not wait for the orderer's response
//! headers ([`inbound`] says why: Fabric's orderer sends them only after the first
//! request).

mod inbound;

use bytes::Bytes;
use orderer_proto::common::Status;
use orderer_proto::orderer::BroadcastResponse;
use orderer_proto::raw::service::atomic_broadcast_client::AtomicBroadcastClient;
use orderer_proto::raw::{DeliverFrame, RawEnvelope};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use self::inbound::Inbound;
use crate::Error;

/// Largest message the clients take: Fabric's default.
pub const GRPC_MESSAGE_BYTES_MAX: usize = 100 * 1024 * 1024;
/// Envelopes queued for sending on one stream before `send` waits.
const SEND_QUEUE_MAX: usize = 1024;

/// A connected AtomicBroadcast client (cheap to clone: clones share the connection).
pub type Client = AtomicBroadcastClient<Channel>;

/// TLS for a client connection (PEM): the roots the orderer's certificate must chain to,
/// and for mutual TLS the client's own certificate and key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// Roots the orderer's certificate must chain to.
    pub root_cas_pem: Vec<u8>,
    /// The client's certificate and key, for an orderer that requires one.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The name the orderer's certificate must carry, when not the endpoint's host.
    pub server_name: Option<String>,
}

impl ClientTls {
    /// SHA-256 of the client certificate's DER (the first block of its PEM), when it has
    /// one: what a Deliver request under mutual TLS carries as `tls_cert_hash`.
    pub fn cert_hash(&self) -> Result<Option<[u8; 32]>, Error> {
        use sha2::Digest as _;
        let Some((cert_pem, _)) = &self.identity else {
            return Ok(None);
        };
        let der = crate::msp::first_pem_der(cert_pem)?;
        Ok(Some(sha2::Sha256::digest(&der).into()))
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("mutual", &self.identity.is_some())
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// Connects to an orderer at `endpoint` (`http://host:port`).
pub async fn connect(endpoint: &str) -> Result<Client, Error> {
    connect_with(endpoint, None).await
}

/// Connects to an orderer at `endpoint`, over TLS when `tls` is given (then an `http://`
/// endpoint is dialled as `https://`).
pub async fn connect_with(endpoint: &str, tls: Option<&ClientTls>) -> Result<Client, Error> {
    let address = match (tls, endpoint.strip_prefix("http://")) {
        (Some(_), Some(rest)) => format!("https://{rest}"),
        _ => endpoint.to_string(),
    };
    let mut builder =
        Channel::from_shared(address).map_err(|_| Error::Endpoint(endpoint.to_string()))?;
    let failed = |source| Error::Connect {
        endpoint: endpoint.to_string(),
        source,
    };
    if let Some(tls) = tls {
        let mut config =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.root_cas_pem));
        if let Some((certificate, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(certificate, key));
        }
        if let Some(name) = &tls.server_name {
            config = config.domain_name(name.clone());
        }
        builder = builder.tls_config(config).map_err(failed)?;
    }
    let channel = builder.connect().await.map_err(failed)?;
    Ok(AtomicBroadcastClient::new(channel)
        .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX)
        .max_encoding_message_size(GRPC_MESSAGE_BYTES_MAX))
}

/// One Broadcast stream: envelopes go out in order, answers come back in order.
#[derive(Debug)]
pub struct BroadcastStream {
    outbound: mpsc::Sender<RawEnvelope>,
    inbound: Inbound<BroadcastResponse>,
}

impl BroadcastStream {
    /// Opens a Broadcast stream. It returns at once: a failure to open shows at the first
    /// `recv`, and envelopes sent before then are queued (up to 1,024).
    pub async fn open(client: &mut AtomicBroadcastClient<Channel>) -> Result<Self, Error> {
        let (outbound, receiver) = mpsc::channel(SEND_QUEUE_MAX);
        let mut client = client.clone();
        let inbound =
            Inbound::start(async move { client.broadcast(ReceiverStream::new(receiver)).await });
        Ok(Self { outbound, inbound })
    }

    /// Queues one envelope (any bytes) for sending.
    pub async fn send(&self, envelope: Bytes) -> Result<(), Error> {
        self.outbound
            .send(RawEnvelope(envelope))
            .await
            .map_err(|_| Error::Closed)
    }

    /// The next answer.
    pub async fn recv(&mut self) -> Result<BroadcastResponse, Error> {
        self.inbound.message().await?.ok_or(Error::Closed)
    }

    /// Splits the stream: dropping the sender half-closes the stream, after which the
    /// orderer answers what it got and ends the answers.
    pub fn split(self) -> (BroadcastSender, BroadcastAnswers) {
        (
            BroadcastSender {
                outbound: self.outbound,
            },
            BroadcastAnswers {
                inbound: self.inbound,
            },
        )
    }

    /// Sends one envelope and waits for its answer.
    pub async fn submit(&mut self, envelope: Bytes) -> Result<BroadcastResponse, Error> {
        if let Err(closed) = self.send(envelope).await {
            // The call ended before it took the envelope: its answer side says why (the
            // connection refused or closed, a gRPC status).
            return Err(self.recv().await.err().unwrap_or(closed));
        }
        self.recv().await
    }
}

/// One Deliver stream, on which several seek requests may follow each other.
#[derive(Debug)]
pub struct DeliverStream {
    outbound: mpsc::Sender<RawEnvelope>,
    inbound: Inbound<DeliverFrame>,
}

impl DeliverStream {
    /// Opens a Deliver stream. It returns at once: a failure to open shows at the first
    /// `next`.
    pub async fn open(client: &mut AtomicBroadcastClient<Channel>) -> Result<Self, Error> {
        let (outbound, receiver) = mpsc::channel(SEND_QUEUE_MAX);
        let mut client = client.clone();
        let inbound =
            Inbound::start(async move { client.deliver(ReceiverStream::new(receiver)).await });
        Ok(Self { outbound, inbound })
    }

    /// Sends a seek request (any bytes).
    pub async fn request(&self, seek: Bytes) -> Result<(), Error> {
        self.outbound
            .send(RawEnvelope(seek))
            .await
            .map_err(|_| Error::Closed)
    }

    /// The next frame: a block's bytes as the orderer sent them, or a status.
    pub async fn next(&mut self) -> Result<DeliverFrame, Error> {
        self.inbound.message().await?.ok_or(Error::Closed)
    }

    /// Sends `seek` and collects blocks up to the closing status.
    pub async fn fetch(&mut self, seek: Bytes) -> Result<(Vec<Bytes>, Status), Error> {
        if let Err(closed) = self.request(seek).await {
            // As in `BroadcastStream::submit`: the call's own failure, when there is one.
            return Err(self.next().await.err().unwrap_or(closed));
        }
        let mut blocks = Vec::new();
        loop {
            match self.next().await? {
                DeliverFrame::Block(block) => blocks.push(block),
                DeliverFrame::Status(status) => return Ok((blocks, status)),
            }
        }
    }
}

/// The sending half of a [`BroadcastStream`].
#[derive(Debug)]
pub struct BroadcastSender {
    outbound: mpsc::Sender<RawEnvelope>,
}

impl BroadcastSender {
    /// Queues one envelope for sending.
    pub async fn send(&self, envelope: Bytes) -> Result<(), Error> {
        self.outbound
            .send(RawEnvelope(envelope))
            .await
            .map_err(|_| Error::Closed)
    }
}

/// The answering half of a [`BroadcastStream`].
#[derive(Debug)]
pub struct BroadcastAnswers {
    inbound: Inbound<BroadcastResponse>,
}

impl BroadcastAnswers {
    /// The next answer; `None` once the orderer has answered everything sent.
    pub async fn recv(&mut self) -> Result<Option<BroadcastResponse>, Error> {
        self.inbound.message().await
    }
}
