//! Broadcast: one answer per envelope, in order; a bad envelope is answered and the
//! stream stays open.
//!
//! Envelopes of one stream are checked concurrently on the verify pool (up to
//! [`CHECKS_IN_FLIGHT_MAX`] at once) but enqueued and answered in the order they arrived,
//! so a client's envelopes keep their order in the chain.

use std::sync::Arc;
use std::time::Duration;

use engine::access::WRITERS;
use engine::chain::{Chain, SubmitError};
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
        let mut reading = true;
        loop {
            if !reading && in_flight.is_empty() {
                break;
            }
            let checked = tokio::select! {
                // Answer what is ready before reading more.
                biased;
                Some(checked) = in_flight.next() => checked,
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
            let response = match checked {
                Ok(checked) => enqueue(checked).await,
                Err(rejection) => Err(rejection),
            };
            let response = match response {
                Ok(()) => BroadcastResponse {
                    status: FabricStatus::Success as i32,
                    info: String::new(),
                },
                Err(rejection) => BroadcastResponse {
                    status: rejection.status as i32,
                    info: rejection.info,
                },
            };
            if responses.send(Ok(response)).await.is_err() {
                break;
            }
        }
    }
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
async fn enqueue(checked: Checked) -> Result<(), Rejection> {
    let Checked { chain, message } = checked;
    match chain.try_submit(message) {
        Ok(()) => Ok(()),
        Err(SubmitError::Full(message)) => {
            let waiting = Arc::clone(&chain);
            let waited = tokio::task::spawn_blocking(move || {
                waiting.submit_timeout(message, ENQUEUE_TIMEOUT)
            })
            .await;
            match waited {
                Ok(Ok(())) => Ok(()),
                Ok(Err(SubmitError::Full(_))) => Err(Rejection::unavailable(format!(
                    "channel {} is overloaded: its queue stayed full for {ENQUEUE_TIMEOUT:?}",
                    chain.config().channel_id
                ))),
                _ => Err(halted(&chain.config().channel_id)),
            }
        }
        Err(SubmitError::Halted) => Err(halted(&chain.config().channel_id)),
    }
}

fn halted(channel_id: &str) -> Rejection {
    Rejection::unavailable(format!("channel {channel_id} is not ordering (halted)"))
}
