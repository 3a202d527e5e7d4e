//! The `orderer.AtomicBroadcast` gRPC service, over the raw codec of
//! [`orderer_proto::raw`]: envelopes arrive as bytes, blocks leave as stored bytes.

mod binding;
mod broadcast;
mod checks;
mod deliver;

pub use binding::{DeliverRules, TIME_WINDOW_DEFAULT};
pub use checks::{Checks, Clock, system_clock};

use std::pin::Pin;
use std::sync::Arc;

use engine::registrar::Registrar;

use crate::metrics::Metrics;
use orderer_proto::orderer::BroadcastResponse;
use orderer_proto::raw::service::atomic_broadcast_server::AtomicBroadcast;
use orderer_proto::raw::{DeliverFrame, RawEnvelope};
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Responses queued per stream before the stream's handler waits for the client to
/// read: bounds the memory a slow client can pin.
const RESPONSES_IN_FLIGHT_MAX: usize = 64;

/// The service state shared by every stream.
#[derive(Debug, Clone)]
pub struct AtomicBroadcastService {
    pub(crate) registrar: Arc<Registrar>,
    pub(crate) checks: Checks,
    /// Turns true when the orderer shuts down: open streams end.
    pub(crate) stopping: watch::Receiver<bool>,
    /// What the operations endpoint's `/metrics` shows.
    pub(crate) metrics: Arc<Metrics>,
    /// How Deliver requests' channel headers are checked.
    pub(crate) deliver_rules: DeliverRules,
}

impl AtomicBroadcastService {
    /// A service over `registrar`'s channels, counting into `metrics`.
    pub fn new(
        registrar: Arc<Registrar>,
        checks: Checks,
        stopping: watch::Receiver<bool>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            registrar,
            checks,
            stopping,
            metrics,
            deliver_rules: DeliverRules::default(),
        }
    }

    /// This service, checking Deliver requests by `rules`.
    #[must_use]
    pub fn with_deliver_rules(mut self, rules: DeliverRules) -> Self {
        self.deliver_rules = rules;
        self
    }
}

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl AtomicBroadcast for AtomicBroadcastService {
    type BroadcastStream = ResponseStream<BroadcastResponse>;
    type DeliverStream = ResponseStream<DeliverFrame>;

    async fn broadcast(
        &self,
        request: Request<Streaming<RawEnvelope>>,
    ) -> Result<Response<Self::BroadcastStream>, Status> {
        let (responses, receiver) = mpsc::channel(RESPONSES_IN_FLIGHT_MAX);
        let handler = broadcast::Handler::new(self.clone());
        tokio::spawn(handler.run(request.into_inner(), responses));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn deliver(
        &self,
        request: Request<Streaming<RawEnvelope>>,
    ) -> Result<Response<Self::DeliverStream>, Status> {
        let (responses, receiver) = mpsc::channel(RESPONSES_IN_FLIGHT_MAX);
        // The certificate the client's TLS connection presented (mutual TLS).
        let client_cert_hash = request
            .peer_certs()
            .and_then(|certs| certs.first().map(|cert| binding::cert_hash(cert)));
        let handler = deliver::Handler::new(self.clone(), client_cert_hash, request.remote_addr());
        tokio::spawn(handler.run(request.into_inner(), responses));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}
