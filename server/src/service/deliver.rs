//! Deliver: for each seek request on the stream, the blocks asked for and one status.

use engine::admission::Admitted;
use engine::chain::Chain;
use engine::deliver::{self, SeekPlan, SeekRequest};
use engine::envelope::SignedData;
use engine::rejection::Rejection;
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

/// How often a request waiting for blocks looks whether its chain failed: a timer per
/// waiting stream, so thousands of idle readers cost a few thousand wake-ups a second
/// at most; a client learns of the failure within it.
const FAILED_POLL: std::time::Duration = std::time::Duration::from_secs(1);

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
        let Some(chain) = self.service.registrar.chain(&request.channel_id) else {
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

    /// Fabric's order after the channel is known (common/deliver/deliver.go,
    /// `deliverBlocks`): the seek info decodes (BAD_REQUEST), the chain has not failed
    /// unless the request is `BEST_EFFORT` (SERVICE_UNAVAILABLE), the request is signed
    /// (BAD_REQUEST) by a reader (FORBIDDEN), then its positions (BAD_REQUEST, NOT_FOUND).
    async fn serve_request(
        &mut self,
        chain: &Chain,
        request: SeekRequest,
        responses: &Responses,
    ) -> Outcome {
        let seek = match request.seek_info() {
            Ok(seek) => seek,
            Err(rejection) => return refused(rejection),
        };
        let best_effort = deliver::best_effort(&seek);
        if !best_effort && let Some(why) = chain.errored() {
            return refused(Rejection::unavailable(why));
        }
        let signed = match request.signed {
            Ok(signed) => signed,
            Err(rejection) => return refused(rejection),
        };
        let config = chain.config();
        let admitted = match self
            .service
            .checks
            .admit_reader(&config.access, signed.clone())
            .await
        {
            Ok(admitted) => admitted,
            Err(rejection) => return refused(rejection),
        };
        match deliver::plan(&seek, chain.reader().height()) {
            Ok(plan) => {
                let sending = Sending {
                    plan,
                    best_effort,
                    reader: Reader {
                        admitted,
                        signed,
                        config_seq: config.sequence,
                    },
                };
                self.send_blocks(chain, sending, responses).await
            }
            Err(rejection) => refused(rejection),
        }
    }

    /// Fabric's session access control before each block: the reader's identity has not
    /// expired, and whenever the channel's config changed (its MSPs or Readers policy
    /// may have), the reader is judged again.
    async fn still_admitted(&self, chain: &Chain, reader: &mut Reader) -> bool {
        if self.service.checks.expired(&reader.admitted) {
            debug!(channel = %chain.channel_id(), "deliver client's identity expired");
            return false;
        }
        let config = chain.config();
        if config.sequence == reader.config_seq {
            return true;
        }
        match self
            .service
            .checks
            .admit_reader(&config.access, reader.signed.clone())
            .await
        {
            Ok(again) => {
                (reader.admitted, reader.config_seq) = (again, config.sequence);
                true
            }
            Err(rejection) => {
                warn!(channel = %chain.channel_id(), info = %rejection.info,
                    "deliver client's authorization revoked by a config update");
                false
            }
        }
    }

    async fn send_blocks(
        &mut self,
        chain: &Chain,
        sending: Sending,
        responses: &Responses,
    ) -> Outcome {
        let Sending {
            plan,
            best_effort,
            reader: mut client,
        } = sending;
        let reader = chain.reader();
        let blocks_sent = self
            .service
            .metrics
            .deliver_blocks_sent
            .with(&[chain.channel_id(), UNFILTERED]);
        let mut heights = reader.subscribe();
        let mut number = plan.start;
        loop {
            while number >= reader.height() {
                if plan.fail_if_not_ready {
                    return Outcome::Status(FabricStatus::NotFound);
                }
                if !best_effort && let Some(why) = chain.errored() {
                    debug!(channel = %chain.channel_id(), %why, "deliver ends: chain failed");
                    return Outcome::Status(FabricStatus::ServiceUnavailable);
                }
                tokio::select! {
                    changed = heights.wait_for(|height| *height > number) => {
                        if changed.is_err() {
                            return Outcome::Status(FabricStatus::ServiceUnavailable);
                        }
                    }
                    // Look again whether the chain failed meanwhile.
                    _ = tokio::time::sleep(FAILED_POLL), if !best_effort => {}
                    _ = responses.closed() => return Outcome::Closed,
                    _ = self.service.stopping.wait_for(|stopping| *stopping) => return Outcome::Closed,
                }
            }
            if !self.still_admitted(chain, &mut client).await {
                return Outcome::Status(FabricStatus::Forbidden);
            }
            let block = match reader.block(number) {
                Ok(block) if plan.headers_only => engine::block::without_data(&block),
                other => other,
            };
            let block = match block {
                Ok(block) => block,
                Err(error) => {
                    warn!(channel = %chain.channel_id(), block = number, %error,
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

/// A request being served: its plan and what its checks decided.
struct Sending {
    plan: SeekPlan,
    /// `BEST_EFFORT`: serve even from a failed chain.
    best_effort: bool,
    reader: Reader,
}

/// The client a request is served to, as its checks admitted it.
struct Reader {
    admitted: Admitted,
    /// The request's signature, judged again when the config changes.
    signed: SignedData,
    /// The config sequence the reader was admitted under.
    config_seq: u64,
}

fn refused(rejection: Rejection) -> Outcome {
    debug!(status = ?rejection.status, info = %rejection.info, "deliver request refused");
    Outcome::Status(rejection.status)
}
