//! Deliver clients: read every block from the height at start and match each envelope
//! of this run, once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use orderer_proto::raw::DeliverFrame;

use super::{DeliverOutcome, Shared, TICK, histogram};
use crate::Error;
use crate::client::DeliverStream;
use crate::tag;

/// Reads blocks until every envelope acknowledged on `channel` has been seen, or the
/// drain timeout after the last answer passes.
pub(super) async fn run(
    shared: Arc<Shared>,
    channel: usize,
    mut stream: DeliverStream,
    counts_progress: bool,
) -> Result<DeliverOutcome, Error> {
    let workload = &shared.workload;
    let streams = workload.broadcast_streams_per_channel;
    let first = workload.stream_range(channel * streams).start;
    let end = workload.stream_range((channel + 1) * streams - 1).end;
    let mut seen = vec![false; (end - first) as usize];
    let mut outcome = DeliverOutcome {
        commit_latency_us: histogram(),
        delivered: 0,
        duplicates: 0,
        blocks: 0,
        block_tx: 0,
        last_delivery_ns: 0,
        timeline: Vec::new(),
        first_of_channel: counts_progress,
    };
    let mut drain_deadline: Option<Instant> = None;
    loop {
        let senders_done = shared.streams_running.load(Ordering::Acquire) == 0;
        if senders_done && outcome.delivered >= shared.acked_ok[channel].load(Ordering::Acquire) {
            break;
        }
        if senders_done {
            let deadline =
                *drain_deadline.get_or_insert_with(|| Instant::now() + workload.drain_timeout);
            if Instant::now() >= deadline {
                break;
            }
        }
        let frame = match tokio::time::timeout(TICK, stream.next()).await {
            Err(_) => continue,
            Ok(frame) => frame?,
        };
        let block = match frame {
            DeliverFrame::Block(block) => block,
            DeliverFrame::Status(status) => {
                return Err(Error::Refused(format!("deliver ended with {status:?}")));
            }
        };
        let now_ns = shared.now_ns();
        let (count, ours) = absorb(&shared, &block, first, &mut seen, &mut outcome, now_ns)?;
        outcome.blocks += 1;
        outcome.block_tx += count as u64;
        if ours > 0 {
            outcome.delivered += ours;
            outcome.last_delivery_ns = now_ns;
            outcome.timeline.push((now_ns, outcome.delivered));
            if counts_progress {
                shared.delivered_progress.fetch_add(ours, Ordering::Relaxed);
            }
        }
    }
    Ok(outcome)
}

/// Matches the envelopes of one block; returns (envelopes in the block, ours seen first).
fn absorb(
    shared: &Shared,
    block: &bytes::Bytes,
    first: u64,
    seen: &mut [bool],
    outcome: &mut DeliverOutcome,
    now_ns: u64,
) -> Result<(usize, u64), Error> {
    let mut ours = 0u64;
    let count = tag::for_each_envelope(block, |envelope| {
        let Some(index) = tag::index_of(envelope, shared.run_id) else {
            return;
        };
        let Some(slot) = index
            .checked_sub(first)
            .and_then(|i| seen.get_mut(i as usize))
        else {
            return;
        };
        if std::mem::replace(slot, true) {
            outcome.duplicates += 1;
            return;
        }
        ours += 1;
        let sent_ns = shared.sent_at_ns[index as usize].load(Ordering::Relaxed);
        let _ = outcome
            .commit_latency_us
            .record(now_ns.saturating_sub(sent_ns) / 1000);
    })
    .ok_or_else(|| Error::Refused("a delivered block does not decode".into()))?;
    Ok((count, ours))
}
