//! Broadcast: one answer per envelope, in order; a bad envelope is answered and the
//! stream stays open.
//!
//! Envelopes of one stream are checked concurrently on the verify pool (up to
//! [`CHECKS_IN_FLIGHT_MAX`] at once) but enqueued and answered in the order they arrived,
//! so a client's envelopes keep their order in the chain. Under Kafka an envelope is
//! answered when the broker acknowledged its write; up to [`ACKS_IN_FLIGHT_MAX`] writes
//! of one stream wait for that at once, so a stream is not held to one broker round
//! trip per envelope.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::chain::{Accepted, Chain, Submission, SubmitError};
use engine::envelope;
use engine::registrar::Registrar;
use engine::rejection::Rejection;
use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use orderer_proto::common::{HeaderType, Status as FabricStatus};
use orderer_proto::orderer::BroadcastResponse;
use orderer_proto::raw::RawEnvelope;
use tokio::sync::mpsc;
use tonic::{Status, Streaming};
use tracing::debug;

use super::AtomicBroadcastService;
use super::checks::Checks;
use crate::metrics::Metrics;

/// How long an envelope may wait for room in a full chain queue before the client is
/// told SERVICE_UNAVAILABLE. While it waits, the stream reads nothing more: backpressure.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// Envelopes of one stream being checked at once.
pub const CHECKS_IN_FLIGHT_MAX: usize = 128;

/// Envelopes of one stream taken by their chain but not yet answered (Kafka: waiting
/// for the broker's acknowledgement).
pub const ACKS_IN_FLIGHT_MAX: usize = 1024;

type Answer = std::pin::Pin<Box<dyn std::future::Future<Output = BroadcastResponse> + Send>>;

pub(super) struct Handler {
    /// The service state: registrar, checks, the stop signal, metrics.
    service: AtomicBroadcastService,
}

/// An envelope that passed every check, ready for its chain.
struct Checked {
    chain: Arc<Chain>,
    submission: Submission,
    labels: Labels,
}

/// What the metrics call an envelope: its channel and header type (Fabric's labels),
/// `unknown` where the envelope did not decode that far.
#[derive(Debug, Clone)]
struct Labels {
    channel: String,
    kind: &'static str,
}

impl Labels {
    const UNKNOWN: &'static str = "unknown";

    fn unknown() -> Self {
        Self {
            channel: Self::UNKNOWN.into(),
            kind: Self::UNKNOWN,
        }
    }

    /// `[channel, type, status]`.
    fn with<'a>(&'a self, status: &'a str) -> [&'a str; 3] {
        [&self.channel, self.kind, status]
    }
}

/// Fabric's status name (`SUCCESS`, `BAD_REQUEST`, ...) of an outcome.
fn status_name<T>(result: &Result<T, Rejection>) -> &'static str {
    match result {
        Ok(_) => FabricStatus::Success.as_str_name(),
        Err(rejection) => rejection.status.as_str_name(),
    }
}

impl Handler {
    pub fn new(service: AtomicBroadcastService) -> Self {
        Self { service }
    }

    pub async fn run(
        mut self,
        mut inbound: Streaming<RawEnvelope>,
        responses: mpsc::Sender<Result<BroadcastResponse, Status>>,
    ) {
        let mut in_flight = FuturesOrdered::new();
        let mut answers: FuturesOrdered<Answer> = FuturesOrdered::new();
        let mut reading = true;
        loop {
            if !reading && in_flight.is_empty() && answers.is_empty() {
                break;
            }
            let event = tokio::select! {
                // Answer what is ready, then hand checked envelopes on, then read more.
                biased;
                Some(response) = answers.next() => Event::Answer(response),
                Some(checked) = in_flight.next(), if answers.len() < ACKS_IN_FLIGHT_MAX => {
                    Event::Checked(checked)
                }
                next = inbound.message(), if reading && in_flight.len() < CHECKS_IN_FLIGHT_MAX => {
                    match next {
                        Ok(Some(raw)) => in_flight.push_back(check(
                            Arc::clone(&self.service.registrar),
                            self.service.checks.clone(),
                            Arc::clone(&self.service.metrics),
                            raw,
                        )),
                        Ok(None) => reading = false,
                        Err(status) => {
                            debug!(%status, "broadcast stream ended by the transport");
                            reading = false;
                        }
                    }
                    continue;
                }
                _ = self.service.stopping.wait_for(|stopping| *stopping) => break,
                else => break,
            };
            match event {
                Event::Answer(response) => {
                    if responses.send(Ok(response)).await.is_err() {
                        break;
                    }
                }
                Event::Checked(Ok(checked)) => {
                    let labels = checked.labels.clone();
                    let started = Instant::now();
                    let taken = enqueue(checked).await;
                    self.service
                        .metrics
                        .broadcast_enqueue_duration
                        .with(&labels.with(status_name(&taken)))
                        .observe(started.elapsed());
                    answers.push_back(answer(taken, labels, Arc::clone(&self.service.metrics)));
                }
                Event::Checked(Err((labels, rejection))) => {
                    answers.push_back(answer(
                        Err(rejection),
                        labels,
                        Arc::clone(&self.service.metrics),
                    ));
                }
            }
        }
    }
}

/// What the stream's loop does next.
enum Event {
    /// Send this answer.
    Answer(BroadcastResponse),
    /// Hand this envelope to its chain (or answer its rejection).
    Checked(Result<Checked, (Labels, Rejection)>),
}

fn response(result: Result<(), Rejection>) -> BroadcastResponse {
    match result {
        Ok(()) => BroadcastResponse {
            status: FabricStatus::Success as i32,
            info: String::new(),
        },
        Err(rejection) => BroadcastResponse {
            status: rejection.status as i32,
            info: rejection.info,
        },
    }
}

/// The answer to an envelope its chain took (or refused): SUCCESS once the chain's
/// consensus has it (solo: queued; Kafka: acknowledged by the broker).
fn answer(
    taken: Result<(Accepted, Arc<Chain>), Rejection>,
    labels: Labels,
    metrics: Arc<Metrics>,
) -> Answer {
    Box::pin(async move {
        let result = match taken {
            Ok((accepted, chain)) => accepted
                .acknowledged()
                .await
                .map_err(|error| refused(chain.channel_id(), error)),
            Err(rejection) => Err(rejection),
        };
        metrics
            .broadcast_processed_count
            .with(&labels.with(status_name(&result)))
            .inc();
        response(result)
    })
}

/// Fabric's filters in Fabric's order: decode (BAD_REQUEST), channel (NOT_FOUND), size
/// (BAD_REQUEST), then expiry (BAD_REQUEST), signature and Writers (FORBIDDEN). Timed as
/// `broadcast_validate_duration`.
async fn check(
    registrar: Arc<Registrar>,
    checks: Checks,
    metrics: Arc<Metrics>,
    raw: RawEnvelope,
) -> Result<Checked, (Labels, Rejection)> {
    let started = Instant::now();
    let inspected = match envelope::inspect(raw.0) {
        Ok(inspected) => inspected,
        Err(rejection) => {
            let labels = Labels::unknown();
            metrics
                .broadcast_validate_duration
                .with(&labels.with(rejection.status.as_str_name()))
                .observe(started.elapsed());
            return Err((labels, rejection));
        }
    };
    // A channel this orderer does not serve is labelled `unknown`: clients must not be
    // able to make new series (memory) by naming channels.
    let chain = registrar.chain(&inspected.channel_id);
    let labels = Labels {
        channel: match chain {
            Some(_) => inspected.channel_id.clone(),
            None => Labels::UNKNOWN.into(),
        },
        kind: HeaderType::try_from(inspected.header_type)
            .map_or(Labels::UNKNOWN, |kind| kind.as_str_name()),
    };
    let result = admit(&registrar, chain, &checks, inspected).await;
    metrics
        .broadcast_validate_duration
        .with(&labels.with(status_name(&result)))
        .observe(started.elapsed());
    match result {
        Ok((chain, submission)) => Ok(Checked {
            chain,
            submission,
            labels,
        }),
        Err(rejection) => Err((labels, rejection)),
    }
}

/// The checks after decoding: channel (NOT_FOUND), then [`engine::admission`]'s size,
/// expiry, signature and Writers. A CONFIG_UPDATE goes to its channel's processor, or,
/// for a channel that does not exist, to the system channel's, which creates channels
/// (Fabric's `BroadcastChannelSupport`).
async fn admit(
    registrar: &Registrar,
    chain: Option<Arc<Chain>>,
    checks: &Checks,
    inspected: envelope::Inspected,
) -> Result<(Arc<Chain>, Submission), Rejection> {
    let config_update = inspected.header_type == HeaderType::ConfigUpdate as i32;
    let chain = match chain {
        Some(chain) => chain,
        None if config_update => registrar.system_chain().ok_or_else(|| {
            Rejection::not_found(format!(
                "channel {} does not exist, and this orderer has no system channel to create it",
                inspected.channel_id
            ))
        })?,
        None => {
            return Err(Rejection::not_found(format!(
                "channel {} does not exist",
                inspected.channel_id
            )));
        }
    };
    let submission = if config_update {
        checks.admit_config_update(&chain, inspected).await?
    } else {
        checks.admit(&chain, inspected).await?
    };
    Ok((chain, submission))
}

/// Hands the envelope to its chain, waiting up to [`ENQUEUE_TIMEOUT`] for room.
async fn enqueue(checked: Checked) -> Result<(Accepted, Arc<Chain>), Rejection> {
    let Checked {
        chain, submission, ..
    } = checked;
    let accepted = match chain.try_submit(submission) {
        Err(SubmitError::Full(submission)) => {
            let waiting = Arc::clone(&chain);
            tokio::task::spawn_blocking(move || waiting.submit_timeout(submission, ENQUEUE_TIMEOUT))
                .await
                .unwrap_or(Err(SubmitError::Halted))
        }
        other => other,
    };
    match accepted {
        Ok(accepted) => Ok((accepted, chain)),
        Err(error) => Err(refused(chain.channel_id(), error)),
    }
}

fn refused(channel_id: &str, error: SubmitError) -> Rejection {
    match error {
        SubmitError::Full(_) => Rejection::unavailable(format!(
            "channel {channel_id} is overloaded: its queue stayed full for {ENQUEUE_TIMEOUT:?}"
        )),
        SubmitError::Halted => {
            Rejection::unavailable(format!("channel {channel_id} is not ordering (halted)"))
        }
        SubmitError::Unavailable(why) => {
            Rejection::unavailable(format!("channel {channel_id} cannot order now: {why}"))
        }
    }
}
