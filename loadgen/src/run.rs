//! Runs a [`Workload`]: broadcast streams paced open or closed loop, Deliver clients that
//! match every envelope, and the figures both produce.

mod deliver;
mod send;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use orderer_proto::common::HeaderType;
use tokio::task::JoinSet;

use crate::Error;
use crate::client::{self, DeliverStream};
use crate::envelope::{self, HeaderSpec, Seek};
use crate::report::{Figures, Report, Timeline};
use crate::tag;
use crate::transaction::{self, TransactionSpec};
use crate::workload::Workload;

/// Sent-at stamp of an envelope not sent (yet).
const NOT_SENT: u64 = u64::MAX;

/// State shared by every task of a run.
#[derive(Debug)]
struct Shared {
    workload: Workload,
    run_id: u64,
    /// The run's clock starts here; stamps are nanoseconds since.
    start: Instant,
    /// Per envelope: when it was due (open loop) or sent (closed loop).
    sent_at_ns: Vec<AtomicU64>,
    /// Per channel: envelopes answered SUCCESS.
    acked_ok: Vec<AtomicU64>,
    rejected: AtomicU64,
    /// Broadcast streams still waiting for answers.
    streams_running: AtomicUsize,
    /// Delivered envelopes seen by the first Deliver client of each channel (progress).
    delivered_progress: AtomicU64,
    acked_progress: AtomicU64,
}

/// What the progress bar reads of a run.
pub(crate) trait SharedView: Send + Sync + std::fmt::Debug + 'static {
    fn workload(&self) -> &Workload;
    /// Envelopes answered and envelopes delivered so far.
    fn progress(&self) -> (u64, u64);
}

impl SharedView for Shared {
    fn workload(&self) -> &Workload {
        &self.workload
    }
    fn progress(&self) -> (u64, u64) {
        (
            crate::report::load(&self.acked_progress),
            crate::report::load(&self.delivered_progress),
        )
    }
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }
}

/// A latency histogram in microseconds, up to an hour.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"))
}

/// What a broadcast stream measured.
#[derive(Debug)]
struct SendOutcome {
    ack_latency_us: Histogram<u64>,
    sent: u64,
    acked: u64,
    last_ack_ns: u64,
    first_send_ns: u64,
    last_send_ns: u64,
}

/// What a Deliver client measured.
#[derive(Debug)]
struct DeliverOutcome {
    commit_latency_us: Histogram<u64>,
    delivered: u64,
    duplicates: u64,
    blocks: u64,
    block_tx: u64,
    last_delivery_ns: u64,
    /// (time, envelopes of ours delivered so far), one entry per block with ours.
    timeline: Vec<(u64, u64)>,
    /// Whether this is its channel's first Deliver client, the one the delivered
    /// timeline counts.
    first_of_channel: bool,
}

/// Runs `workload` to the end and reports what it measured.
pub async fn run(workload: Workload) -> Result<Report, Error> {
    run_signalling_start(workload, None).await
}

/// [`run`], sending `started` the instant the run's clock starts (once every connection
/// is up and every envelope signed): the zero of the report's times, so that a caller can
/// act at a given time into the run.
pub async fn run_signalling_start(
    workload: Workload,
    started: Option<tokio::sync::oneshot::Sender<Instant>>,
) -> Result<Report, Error> {
    let run_id = envelope::nonce_u64();
    let envelopes = if workload.presign {
        Some(presign(&workload, run_id)?)
    } else {
        None
    };
    let mut clients = Vec::new();
    let mut deliver_streams = Vec::new();
    for (channel, channel_id) in workload.channels.iter().enumerate() {
        let mut client = client::connect_with(&workload.endpoint, workload.tls.as_ref()).await?;
        let signer = workload.signers.first();
        let height = newest_block(&mut client, channel_id, signer, workload.tls.as_ref()).await?;
        for _ in 0..workload.deliver_clients_per_channel {
            let stream = DeliverStream::open(&mut client).await?;
            let seek = Seek::At(height + 1);
            let request = envelope::seek_bound(
                channel_id,
                (seek, Seek::At(u64::MAX)),
                false,
                signer,
                workload.tls.as_ref(),
            )?;
            stream.request(request).await?;
            deliver_streams.push((channel, stream));
        }
        clients.push(client);
    }
    let channels = workload.channels.len();
    let shared = Arc::new(Shared {
        run_id,
        // The clock starts once every connection is up.
        start: Instant::now(),
        sent_at_ns: (0..workload.total_tx)
            .map(|_| AtomicU64::new(NOT_SENT))
            .collect(),
        acked_ok: (0..channels).map(|_| AtomicU64::new(0)).collect(),
        rejected: AtomicU64::new(0),
        streams_running: AtomicUsize::new(workload.stream_count()),
        delivered_progress: AtomicU64::new(0),
        acked_progress: AtomicU64::new(0),
        workload,
    });
    if let Some(started) = started {
        let _ = started.send(shared.start);
    }
    let mut delivers = JoinSet::new();
    let mut first_of_channel = vec![true; channels];
    for (channel, stream) in deliver_streams {
        let first = std::mem::replace(&mut first_of_channel[channel], false);
        delivers.spawn(deliver::run(Arc::clone(&shared), channel, stream, first));
    }
    let progress = crate::report::Progress::start(Arc::clone(&shared) as Arc<dyn SharedView>);
    let sends = send::spawn_all(&shared, &clients, envelopes);
    let send_outcomes = collect(sends).await?;
    let deliver_outcomes = collect(delivers).await?;
    progress.finish();
    Ok(report(&shared, &send_outcomes, &deliver_outcomes))
}

async fn collect<T: 'static>(mut set: JoinSet<Result<T, Error>>) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        out.push(joined.map_err(|e| Error::Task(e.to_string()))??);
    }
    Ok(out)
}

/// The number of the newest block of `channel` now, read over a Deliver stream of its own.
pub async fn newest_block(
    client: &mut client::Client,
    channel: &str,
    signer: Option<&crate::msp::Signer>,
    tls: Option<&client::ClientTls>,
) -> Result<u64, Error> {
    let mut stream = DeliverStream::open(client).await?;
    let seek = envelope::seek_bound(channel, (Seek::Newest, Seek::Newest), true, signer, tls)?;
    let (blocks, status) = stream.fetch(seek).await?;
    let block = blocks.first().ok_or(Error::Refused(format!(
        "newest block of {channel}: {status:?}"
    )))?;
    tag::block_number(block).ok_or(Error::Refused(format!(
        "newest block of {channel} does not decode"
    )))
}

/// Builds and signs every envelope, on all cores.
fn presign(workload: &Workload, run_id: u64) -> Result<Vec<Vec<Bytes>>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let streams: Vec<usize> = (0..workload.stream_count()).collect();
    let chunks: Vec<&[usize]> = streams
        .chunks(streams.len().div_ceil(threads).max(1))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&stream| {
                            workload
                                .stream_range(stream)
                                .map(|index| build_envelope(workload, stream, run_id, index))
                                .collect::<Result<Vec<_>, Error>>()
                        })
                        .collect::<Result<Vec<_>, Error>>()
                })
            })
            .collect();
        let mut out = Vec::new();
        for handle in handles {
            out.extend(
                handle
                    .join()
                    .map_err(|_| Error::Task("presign panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// Envelope `index` of the run, tagged by its nonce: an endorser transaction whose results
/// are `payload_bytes`, or `payload_bytes` of zeros as the payload data.
pub(crate) fn build_envelope(
    workload: &Workload,
    stream: usize,
    run_id: u64,
    index: u64,
) -> Result<Bytes, Error> {
    let channel_id = &workload.channels[workload.channel_of_stream(stream)];
    let signer = workload.signers.for_envelope(index);
    let nonce = tag::nonce(run_id, index);
    if workload.header_type == HeaderType::EndorserTransaction {
        return transaction::build(&TransactionSpec {
            channel_id,
            signer,
            nonce,
            results_bytes: workload.payload_bytes,
        });
    }
    let header = HeaderSpec {
        channel_id,
        header_type: workload.header_type,
        creator: signer.map_or(&[], |signer| signer.creator()),
        nonce,
        tls_cert_hash: &[],
        extension: Bytes::new(),
    };
    envelope::seal(
        header.encode(),
        vec![0; workload.payload_bytes].into(),
        signer,
    )
}

fn report(shared: &Shared, sends: &[SendOutcome], delivers: &[DeliverOutcome]) -> Report {
    let mut ack = histogram();
    let mut commit = histogram();
    for outcome in sends {
        let _ = ack.add(&outcome.ack_latency_us);
    }
    for outcome in delivers {
        let _ = commit.add(&outcome.commit_latency_us);
    }
    let clients = shared.workload.deliver_clients_per_channel.max(1) as u64;
    let acked: u64 = sends.iter().map(|s| s.acked).sum();
    let sent: u64 = sends.iter().map(|s| s.sent).sum();
    let acked_ok: u64 = shared
        .acked_ok
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .sum();
    let delivered_all: u64 = delivers.iter().map(|d| d.delivered).sum();
    let first_send_ns = sends.iter().map(|s| s.first_send_ns).min().unwrap_or(0);
    let last_ack_ns = sends.iter().map(|s| s.last_ack_ns).max().unwrap_or(0);
    let last_delivery_ns = delivers
        .iter()
        .map(|d| d.last_delivery_ns)
        .max()
        .unwrap_or(0);
    let last_send_ns = sends.iter().map(|s| s.last_send_ns).max().unwrap_or(0);
    let delivered_while_sending: u64 = delivers
        .iter()
        .map(|d| {
            let upto = d.timeline.partition_point(|(at, _)| *at <= last_send_ns);
            upto.checked_sub(1).map_or(0, |i| d.timeline[i].1)
        })
        .sum::<u64>()
        / clients;
    let blocks: u64 = delivers.iter().map(|d| d.blocks).sum::<u64>() / clients;
    let block_tx: u64 = delivers.iter().map(|d| d.block_tx).sum::<u64>() / clients;
    let seconds = |ns: u64| ns as f64 / 1e9;
    Report::new(
        shared.workload.clone(),
        Figures {
            sent_tx: sent,
            acked_tx: acked_ok,
            rejected_tx: shared.rejected.load(Ordering::Relaxed),
            unacked_tx: sent.saturating_sub(acked),
            delivered_tx: delivered_all / clients,
            missing_tx: (acked_ok * clients).saturating_sub(delivered_all),
            duplicate_tx: delivers.iter().map(|d| d.duplicates).sum(),
            blocks,
            tx_per_block_mean: if blocks == 0 {
                0.0
            } else {
                block_tx as f64 / blocks as f64
            },
            elapsed_s: seconds(last_delivery_ns.max(last_ack_ns)),
            throughput_acked_tps: acked_ok as f64
                / seconds(last_ack_ns.saturating_sub(first_send_ns)).max(1e-9),
            throughput_delivered_tps: (delivered_all / clients) as f64
                / seconds(last_delivery_ns).max(1e-9),
            throughput_steady_tps: delivered_while_sending as f64
                / seconds(last_send_ns.saturating_sub(first_send_ns)).max(1e-9),
            ack_latency_us: (&ack).into(),
            commit_latency_us: (&commit).into(),
            delivered_timeline: shared
                .workload
                .timeline_bucket
                .map(|bucket| delivered_timeline(bucket, delivers)),
        },
    )
}

/// Envelopes delivered per `bucket` of commit time, as the first Deliver client of each
/// channel saw them.
fn delivered_timeline(bucket: Duration, delivers: &[DeliverOutcome]) -> Timeline {
    let deliveries = delivers
        .iter()
        .filter(|outcome| outcome.first_of_channel)
        .flat_map(|outcome| {
            let before = std::iter::once(0).chain(outcome.timeline.iter().map(|(_, n)| *n));
            outcome
                .timeline
                .iter()
                .zip(before)
                .map(|((at_ns, delivered), earlier)| (*at_ns, delivered - earlier))
        });
    let bucket_ms = u64::try_from(bucket.as_millis()).unwrap_or(u64::MAX);
    Timeline::from_deliveries(bucket_ms, deliveries)
}

/// How often idle tasks look at the clock and the shared counters.
const TICK: Duration = Duration::from_millis(100);
