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
use std::time::Duration;

use engine::access::WRITERS;
use engine::chain::{Accepted, Chain, SubmitError};
use engine::cutter::Message;
use engine::envelope::{self, Rejection};
use engine::registrar::Registrar;
use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use orderer_proto::common::Status as FabricStatus;
use orderer_proto::orderer::BroadcastResponse;
use orderer_proto::raw::RawEnvelope;
use tokio::sync::{mpsc, watch};
use tonic::{Status, Streaming};
use tracing::debug;

use super::checks::Checks;

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
    registrar: Arc<Registrar>,
    checks: Checks,
    stopping: watch::Receiver<bool>,
}

/// An envelope that passed every check, ready for its chain.
struct Checked {
    chain: Arc<Chain>,
    message: Message,
}

impl Handler {
    pub fn new(registrar: Arc<Registrar>, checks: Checks, stopping: watch::Receiver<bool>) -> Self {
        Self {
            registrar,
            checks,
            stopping,
        }
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
                            Arc::clone(&self.registrar),
                            self.checks.clone(),
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
                _ = self.stopping.wait_for(|stopping| *stopping) => break,
                else => break,
            };
            match event {
                Event::Answer(response) => {
                    if responses.send(Ok(response)).await.is_err() {
                        break;
                    }
                }
                Event::Checked(Ok(checked)) => answers.push_back(answer(enqueue(checked).await)),
                Event::Checked(Err(rejection)) => {
                    answers.push_back(Box::pin(std::future::ready(response(Err(rejection)))));
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
    Checked(Result<Checked, Rejection>),
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
fn answer(taken: Result<(Accepted, Arc<Chain>), Rejection>) -> Answer {
    Box::pin(async move {
        let result = match taken {
            Ok((accepted, chain)) => accepted
                .acknowledged()
                .await
                .map_err(|error| refused(&chain.config().channel_id, error)),
            Err(rejection) => Err(rejection),
        };
        response(result)
    })
}

/// Fabric's filters in Fabric's order: decode (BAD_REQUEST), channel (NOT_FOUND), size
/// (BAD_REQUEST), then expiry (BAD_REQUEST), signature and Writers (FORBIDDEN).
async fn check(
    registrar: Arc<Registrar>,
    checks: Checks,
    raw: RawEnvelope,
) -> Result<Checked, Rejection> {
    let inspected = envelope::inspect(raw.0)?;
    let chain = registrar.chain(&inspected.channel_id).ok_or_else(|| {
        Rejection::not_found(format!("channel {} does not exist", inspected.channel_id))
    })?;
    envelope::check_size(&inspected.message, &chain.config().batch_size)?;
    checks
        .admit(&chain.config().access, inspected.signed, WRITERS)
        .await?;
    Ok(Checked {
        chain: Arc::clone(chain),
        message: inspected.message,
    })
}

/// Hands the envelope to its chain, waiting up to [`ENQUEUE_TIMEOUT`] for room.
async fn enqueue(checked: Checked) -> Result<(Accepted, Arc<Chain>), Rejection> {
    let Checked { chain, message } = checked;
    let accepted = match chain.try_submit(message) {
        Err(SubmitError::Full(message)) => {
            let waiting = Arc::clone(&chain);
            tokio::task::spawn_blocking(move || waiting.submit_timeout(message, ENQUEUE_TIMEOUT))
                .await
                .unwrap_or(Err(SubmitError::Halted))
        }
        other => other,
    };
    match accepted {
        Ok(accepted) => Ok((accepted, chain)),
        Err(error) => Err(refused(&chain.config().channel_id, error)),
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
