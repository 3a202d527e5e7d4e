//! Broadcast streams: one sender and one answer reader per stream.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use orderer_proto::common::Status;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{SendOutcome, Shared, build_envelope, histogram};
use crate::Error;
use crate::client::{BroadcastAnswers, BroadcastStream, Client};
use crate::workload::Rate;

/// Starts every broadcast stream; each task ends when all its answers are in.
pub(super) fn spawn_all(
    shared: &Arc<Shared>,
    clients: &[Client],
    envelopes: Option<Vec<Vec<Bytes>>>,
) -> JoinSet<Result<SendOutcome, Error>> {
    let mut set = JoinSet::new();
    let mut envelopes = envelopes.map(|streams| streams.into_iter());
    for stream in 0..shared.workload.stream_count() {
        let presigned = envelopes.as_mut().and_then(Iterator::next);
        let mut client = clients[shared.workload.channel_of_stream(stream)].clone();
        let shared = Arc::clone(shared);
        set.spawn(async move {
            let broadcast = BroadcastStream::open(&mut client).await?;
            run_stream(shared, stream, broadcast, presigned).await
        });
    }
    set
}

async fn run_stream(
    shared: Arc<Shared>,
    stream: usize,
    broadcast: BroadcastStream,
    presigned: Option<Vec<Bytes>>,
) -> Result<SendOutcome, Error> {
    let window = match shared.workload.rate {
        Rate::Max { window } => Some(Arc::new(Semaphore::new(window.max(1)))),
        Rate::Fixed(_) => None,
    };
    let (sender, answers) = broadcast.split();
    let reader = tokio::spawn({
        let (shared, window) = (Arc::clone(&shared), window.clone());
        async move {
            let outcome = read_answers(shared, stream, answers, window.as_deref()).await;
            // No answer will return a permit now: the sender must not wait for one.
            if let Some(window) = window {
                window.close();
            }
            outcome
        }
    });
    let range = shared.workload.stream_range(stream);
    let stream_rate = shared.workload.stream_rate();
    let deadline_ns = shared
        .workload
        .duration
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut sent = 0u64;
    let mut first_send_ns = u64::MAX;
    let mut last_send_ns = 0;
    for (position, index) in range.clone().enumerate() {
        let stamp_ns = match (stream_rate, &window) {
            (Some(rate), _) => {
                let due_ns = (position as f64 / rate * 1e9) as u64;
                let now_ns = shared.now_ns();
                if due_ns > now_ns {
                    tokio::time::sleep(Duration::from_nanos(due_ns - now_ns)).await;
                }
                due_ns
            }
            (None, Some(window)) => {
                let Ok(permit) = window.acquire().await else {
                    break; // the answers ended
                };
                permit.forget();
                shared.now_ns()
            }
            (None, None) => shared.now_ns(),
        };
        if deadline_ns.is_some_and(|deadline| stamp_ns >= deadline) {
            break;
        }
        let envelope = match &presigned {
            Some(envelopes) => envelopes[position].clone(),
            None => build_envelope(&shared.workload, stream, shared.run_id, index)?,
        };
        first_send_ns = first_send_ns.min(stamp_ns);
        last_send_ns = stamp_ns;
        shared.sent_at_ns[index as usize].store(stamp_ns, Ordering::Relaxed);
        if sender.send(envelope).await.is_err() {
            break;
        }
        sent += 1;
    }
    drop(sender);
    let mut outcome = reader.await.map_err(|e| Error::Task(e.to_string()))??;
    outcome.sent = sent;
    outcome.first_send_ns = first_send_ns.min(outcome.last_ack_ns);
    outcome.last_send_ns = last_send_ns;
    shared.streams_running.fetch_sub(1, Ordering::AcqRel);
    Ok(outcome)
}

/// Reads answers in order: the k-th answer is for the stream's k-th envelope.
async fn read_answers(
    shared: Arc<Shared>,
    stream: usize,
    mut answers: BroadcastAnswers,
    window: Option<&Semaphore>,
) -> Result<SendOutcome, Error> {
    let range = shared.workload.stream_range(stream);
    let channel = shared.workload.channel_of_stream(stream);
    let mut outcome = SendOutcome {
        ack_latency_us: histogram(),
        sent: 0,
        acked: 0,
        last_ack_ns: 0,
        first_send_ns: 0,
        last_send_ns: 0,
    };
    for index in range {
        let answer = match answers.recv().await {
            Ok(Some(answer)) => answer,
            // A stream that never answered was refused (or never opened): the run fails,
            // naming why. One that ends later leaves the rest unanswered.
            Err(error) if outcome.acked == 0 => return Err(error),
            Ok(None) | Err(_) => break,
        };
        let now_ns = shared.now_ns();
        let sent_ns = shared.sent_at_ns[index as usize].load(Ordering::Relaxed);
        let _ = outcome
            .ack_latency_us
            .record(now_ns.saturating_sub(sent_ns) / 1000);
        outcome.acked += 1;
        outcome.last_ack_ns = now_ns;
        if answer.status == Status::Success as i32 {
            shared.acked_ok[channel].fetch_add(1, Ordering::Relaxed);
        } else {
            shared.rejected.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "envelope {index} rejected: {} {}",
                answer.status, answer.info
            );
        }
        shared.acked_progress.fetch_add(1, Ordering::Relaxed);
        if let Some(window) = window {
            window.add_permits(1);
        }
    }
    Ok(outcome)
}
