//! Deliver: for each seek request on the stream, the blocks asked for and one status.

use engine::access::{Admitted, READERS};
use engine::chain::Chain;
use engine::deliver::{SeekPlan, SeekRequest};
use engine::envelope::Rejection;
use orderer_proto::common::Status as FabricStatus;
use orderer_proto::raw::{DeliverFrame, RawEnvelope};
use tokio::sync::mpsc;
use tonic::{Status, Streaming};
use tracing::{debug, warn};

use super::AtomicBroadcastService;

type Responses = mpsc::Sender<Result<DeliverFrame, Status>>;

pub(super) struct Handler {
    /// The service state: registrar, checks, the stop signal, metrics.
    service: AtomicBroadcastService,
    /// SHA-256 of the TLS certificate the client's connection presented, if any.
    client_cert_hash: Option<[u8; 32]>,
    /// The client's address, for the log.
    peer: Option<std::net::SocketAddr>,
}

/// Fabric's `filtered` label: this orderer's Deliver sends whole blocks.
const UNFILTERED: &str = "false";

/// How a seek request ended.
enum Outcome {
    /// Answer with this status and read the next request.
    Status(FabricStatus),
    /// The client left or the orderer is stopping: end the stream.
    Closed,
}

impl Handler {
    pub fn new(
        service: AtomicBroadcastService,
        client_cert_hash: Option<[u8; 32]>,
        peer: Option<std::net::SocketAddr>,
    ) -> Self {
        Self {
            service,
            client_cert_hash,
            peer,
        }
    }

    pub async fn run(mut self, inbound: Streaming<RawEnvelope>, responses: Responses) {
        self.service.metrics.deliver_streams_opened.with(&[]).inc();
        self.serve_stream(inbound, responses).await;
        self.service.metrics.deliver_streams_closed.with(&[]).inc();
    }

    async fn serve_stream(&mut self, mut inbound: Streaming<RawEnvelope>, responses: Responses) {
        loop {
            let next = tokio::select! {
                next = inbound.message() => next,
                _ = self.service.stopping.wait_for(|stopping| *stopping) => break,
            };
            let Ok(Some(raw)) = next else {
                break;
            };
            let status = match self.serve(&raw.0, &responses).await {
                Outcome::Status(status) => status,
                Outcome::Closed => break,
            };
            if responses
                .send(Ok(DeliverFrame::Status(status)))
                .await
                .is_err()
            {
                break;
            }
        }
    }

    async fn serve(&mut self, raw: &[u8], responses: &Responses) -> Outcome {
        let request = match SeekRequest::decode(raw) {
            Ok(request) => request,
            Err(rejection) => return refused(rejection),
        };
        // Fabric checks the channel header before it looks the channel up, and counts only
        // requests for a channel it serves (so client-chosen names make no series).
        if let Err(why) = self.service.deliver_rules.check(
            &request,
            std::time::SystemTime::now(),
            self.client_cert_hash.as_ref(),
        ) {
            let peer = self.peer.map(|peer| peer.to_string()).unwrap_or_default();
            warn!(%peer, %why, "rejecting deliver request: channel header");
            return refused(Rejection::bad_request(why));
        }
        let Some(chain) = self.service.registrar.chain(&request.channel_id).cloned() else {
            return refused(Rejection::not_found(format!(
                "channel {} does not exist",
                request.channel_id
            )));
        };
        let channel = request.channel_id.clone();
        self.service
            .metrics
            .deliver_requests_received
            .with(&[&channel, UNFILTERED])
            .inc();
        let outcome = self.serve_request(&chain, request, responses).await;
        if let Outcome::Status(status) = &outcome {
            let success = if *status == FabricStatus::Success {
                "true"
            } else {
                "false"
            };
            self.service
                .metrics
                .deliver_requests_completed
                .with(&[&channel, UNFILTERED, success])
                .inc();
        }
        outcome
    }

    async fn serve_request(
        &mut self,
        chain: &Chain,
        request: SeekRequest,
        responses: &Responses,
    ) -> Outcome {
        let signed = match request.signed.clone() {
            Ok(signed) => signed,
            Err(rejection) => return refused(rejection),
        };
        let admitted = match self
            .service
            .checks
            .admit(&chain.config().access, signed, READERS)
            .await
        {
            Ok(admitted) => admitted,
            // Fabric's Deliver answers an expired identity FORBIDDEN, where Broadcast's
            // expiration filter answers BAD_REQUEST.
            Err(rejection) if rejection.status == FabricStatus::BadRequest => {
                return refused(Rejection {
                    status: FabricStatus::Forbidden,
                    ..rejection
                });
            }
            Err(rejection) => return refused(rejection),
        };
        match request.plan(chain.reader().height()) {
            Ok(plan) => self.send_blocks(chain, plan, admitted, responses).await,
            Err(rejection) => refused(rejection),
        }
    }

    async fn send_blocks(
        &mut self,
        chain: &Chain,
        plan: SeekPlan,
        admitted: Admitted,
        responses: &Responses,
    ) -> Outcome {
        let reader = chain.reader();
        let blocks_sent = self
            .service
            .metrics
            .deliver_blocks_sent
            .with(&[&chain.config().channel_id, UNFILTERED]);
        let mut heights = reader.subscribe();
        let mut number = plan.start;
        loop {
            if number >= reader.height() {
                if plan.fail_if_not_ready {
                    return Outcome::Status(FabricStatus::NotFound);
                }
                tokio::select! {
                    changed = heights.wait_for(|height| *height > number) => {
                        if changed.is_err() {
                            return Outcome::Status(FabricStatus::ServiceUnavailable);
                        }
                    }
                    _ = responses.closed() => return Outcome::Closed,
                    _ = self.service.stopping.wait_for(|stopping| *stopping) => return Outcome::Closed,
                }
            }
            if self.service.checks.expired(&admitted) {
                debug!(channel = %chain.config().channel_id, "deliver client's identity expired");
                return Outcome::Status(FabricStatus::Forbidden);
            }
            let block = match reader.block(number) {
                Ok(block) if plan.headers_only => engine::block::without_data(&block),
                other => other,
            };
            let block = match block {
                Ok(block) => block,
                Err(error) => {
                    warn!(channel = %chain.config().channel_id, block = number, %error,
                        "cannot read block for deliver");
                    return Outcome::Status(FabricStatus::InternalServerError);
                }
            };
            if responses
                .send(Ok(DeliverFrame::Block(block)))
                .await
                .is_err()
            {
                return Outcome::Closed;
            }
            blocks_sent.inc();
            if number == plan.stop {
                return Outcome::Status(FabricStatus::Success);
            }
            number += 1;
        }
    }
}

fn refused(rejection: Rejection) -> Outcome {
    debug!(status = ?rejection.status, info = %rejection.info, "deliver request refused");
    Outcome::Status(rejection.status)
}
