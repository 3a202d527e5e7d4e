//! Broadcast: one answer per envelope, in order; a bad envelope is answered and the
//! stream stays open.

use std::sync::Arc;
use std::time::Duration;

use engine::chain::SubmitError;
use engine::envelope::{self, Rejection};
use engine::registrar::Registrar;
use orderer_proto::common::Status as FabricStatus;
use orderer_proto::orderer::BroadcastResponse;
use orderer_proto::raw::RawEnvelope;
use tokio::sync::{mpsc, watch};
use tonic::{Status, Streaming};
use tracing::debug;

/// How long an envelope may wait for room in a full chain queue before the client is
/// told SERVICE_UNAVAILABLE. While it waits, the stream reads nothing more: backpressure.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) struct Handler {
    registrar: Arc<Registrar>,
    stopping: watch::Receiver<bool>,
}

impl Handler {
    pub fn new(registrar: Arc<Registrar>, stopping: watch::Receiver<bool>) -> Self {
        Self {
            registrar,
            stopping,
        }
    }

    pub async fn run(
        mut self,
        mut inbound: Streaming<RawEnvelope>,
        responses: mpsc::Sender<Result<BroadcastResponse, Status>>,
    ) {
        loop {
            let next = tokio::select! {
                next = inbound.message() => next,
                _ = self.stopping.wait_for(|stopping| *stopping) => break,
            };
            let raw = match next {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(status) => {
                    debug!(%status, "broadcast stream ended by the transport");
                    break;
                }
            };
            let response = match self.order(raw).await {
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

    /// Validates the envelope and hands it to its chain.
    async fn order(&self, raw: RawEnvelope) -> Result<(), Rejection> {
        let inspected = envelope::inspect(raw.0)?;
        let chain = self.registrar.chain(&inspected.channel_id).ok_or_else(|| {
            Rejection::not_found(format!("channel {} does not exist", inspected.channel_id))
        })?;
        envelope::check_size(&inspected.message, &chain.config().batch_size)?;
        match chain.try_submit(inspected.message) {
            Ok(()) => Ok(()),
            Err(SubmitError::Full(message)) => {
                let chain = Arc::clone(chain);
                let waited = tokio::task::spawn_blocking(move || {
                    chain.submit_timeout(message, ENQUEUE_TIMEOUT)
                })
                .await;
                match waited {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(SubmitError::Full(_))) => Err(Rejection::unavailable(format!(
                        "channel {} is overloaded: its queue stayed full for {ENQUEUE_TIMEOUT:?}",
                        inspected.channel_id
                    ))),
                    _ => Err(halted(&inspected.channel_id)),
                }
            }
            Err(SubmitError::Halted) => Err(halted(&inspected.channel_id)),
        }
    }
}

fn halted(channel_id: &str) -> Rejection {
    Rejection::unavailable(format!("channel {channel_id} is not ordering (halted)"))
}
