//! What a run measured: figures, percentiles, the summary table and the progress bar.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::run::SharedView;
use crate::workload::Workload;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

impl From<&Histogram<u64>> for Percentiles {
    fn from(histogram: &Histogram<u64>) -> Self {
        Self {
            count: histogram.len(),
            p50: histogram.value_at_quantile(0.5),
            p90: histogram.value_at_quantile(0.9),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: histogram.mean(),
        }
    }
}

/// The figures of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Envelopes sent.
    pub sent_tx: u64,
    /// Envelopes answered SUCCESS.
    pub acked_tx: u64,
    /// Envelopes answered with any other status.
    pub rejected_tx: u64,
    /// Envelopes sent but never answered.
    pub unacked_tx: u64,
    /// SUCCESS envelopes seen in delivered blocks (per Deliver client).
    pub delivered_tx: u64,
    /// SUCCESS envelopes some Deliver client never saw.
    pub missing_tx: u64,
    /// Envelopes a Deliver client saw more than once.
    pub duplicate_tx: u64,
    /// Blocks delivered (per Deliver client).
    pub blocks: u64,
    /// Envelopes per delivered block, all envelopes counted.
    pub tx_per_block_mean: f64,
    /// From the start of the clock to the last answer or delivery.
    pub elapsed_s: f64,
    /// SUCCESS answers per second, first send to last answer.
    pub throughput_acked_tps: f64,
    /// Delivered envelopes per second, start to last delivery (includes the wait for
    /// the last, partial block's batch timeout).
    pub throughput_delivered_tps: f64,
    /// Envelopes delivered while sending went on, per second of sending: the sustained
    /// rate, free of the end-of-run tail. The sweep plots this.
    pub throughput_steady_tps: f64,
    /// Send (or due time, in open loop) to answer.
    pub ack_latency_us: Percentiles,
    /// Send (or due time) to seen in a delivered block.
    pub commit_latency_us: Percentiles,
    /// Envelopes delivered per bucket of commit time, when the workload asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_timeline: Option<Timeline>,
}

/// Buckets of a timeline at most: an hour of 250 ms buckets. Later deliveries count in
/// the last bucket, so the record stays small however long the run.
pub const TIMELINE_BUCKETS_MAX: usize = 14_400;

/// Envelopes of the run delivered per bucket of commit time, counted by the first Deliver
/// client of each channel (summed over channels); bucket `i` covers
/// `[i * bucket_ms, (i + 1) * bucket_ms)` after the run's clock started.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// Width of a bucket.
    pub bucket_ms: u64,
    /// Envelopes delivered in each bucket (at most [`TIMELINE_BUCKETS_MAX`]).
    pub delivered_tx: Vec<u64>,
}

impl Timeline {
    /// The timeline of `bucket_ms` buckets over deliveries given as `(nanoseconds since
    /// the start, envelopes)`, in any order.
    pub fn from_deliveries(
        bucket_ms: u64,
        deliveries: impl IntoIterator<Item = (u64, u64)>,
    ) -> Self {
        let bucket_ns = bucket_ms.max(1).saturating_mul(1_000_000);
        let mut delivered_tx = Vec::new();
        for (at_ns, count) in deliveries {
            let bucket = usize::try_from(at_ns / bucket_ns)
                .unwrap_or(usize::MAX)
                .min(TIMELINE_BUCKETS_MAX - 1);
            if delivered_tx.len() <= bucket {
                delivered_tx.resize(bucket + 1, 0);
            }
            delivered_tx[bucket] += count;
        }
        Self {
            bucket_ms: bucket_ms.max(1),
            delivered_tx,
        }
    }

    /// Envelopes per second in each bucket.
    pub fn rates_tps(&self) -> impl Iterator<Item = f64> + '_ {
        let seconds = self.bucket_ms as f64 / 1000.0;
        self.delivered_tx.iter().map(move |&n| n as f64 / seconds)
    }
}

/// A run's parameters and figures.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was run.
    pub params: Workload,
    /// What it measured.
    pub figures: Figures,
}

impl Report {
    /// A report.
    pub fn new(params: Workload, figures: Figures) -> Self {
        Self { params, figures }
    }

    /// Whether every envelope was acknowledged SUCCESS and delivered exactly once.
    pub fn is_clean(&self) -> bool {
        let f = &self.figures;
        f.rejected_tx == 0
            && f.unacked_tx == 0
            && f.missing_tx == 0
            && f.duplicate_tx == 0
            && f.acked_tx == f.sent_tx
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl fmt::Display for Report {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f = &self.figures;
        writeln!(
            out,
            "sent {} | acked {} | rejected {} | unacked {} | delivered {} | missing {} | duplicates {}",
            f.sent_tx,
            f.acked_tx,
            f.rejected_tx,
            f.unacked_tx,
            f.delivered_tx,
            f.missing_tx,
            f.duplicate_tx
        )?;
        writeln!(
            out,
            "blocks {} ({:.1} tx/block), elapsed {:.2} s",
            f.blocks, f.tx_per_block_mean, f.elapsed_s
        )?;
        writeln!(
            out,
            "throughput: acked {:.0} tx/s, delivered {:.0} tx/s (while sending: {:.0} tx/s)",
            f.throughput_acked_tps, f.throughput_delivered_tps, f.throughput_steady_tps
        )?;
        writeln!(
            out,
            "{:<16}{:>10}{:>10}{:>10}{:>10}{:>10}",
            "latency (ms)", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for (name, p) in [("ack", &f.ack_latency_us), ("commit", &f.commit_latency_us)] {
            writeln!(
                out,
                "{:<16}{:>10.2}{:>10.2}{:>10.2}{:>10.2}{:>10.2}",
                name,
                ms(p.p50),
                ms(p.p90),
                ms(p.p99),
                ms(p.p999),
                ms(p.max)
            )?;
        }
        Ok(())
    }
}

/// The progress bar of a run (drawn on stderr when asked for).
#[derive(Debug)]
pub struct Progress {
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: indicatif::ProgressBar,
}

impl Progress {
    pub(crate) fn start(shared: Arc<dyn SharedView>) -> Self {
        let bar = if shared.workload().progress {
            indicatif::ProgressBar::new(shared.workload().total_tx)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} delivered {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let ticking = bar.clone();
        let ticker = shared.workload().progress.then(|| {
            tokio::spawn(async move {
                loop {
                    let (acked, delivered) = shared.progress();
                    ticking.set_position(delivered);
                    ticking.set_message(format!("| acked {acked}"));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        Self { ticker, bar }
    }

    pub(crate) fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}

/// Reads progress counters (kept in the run's shared state).
pub(crate) fn load(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_buckets_deliveries_by_commit_time_and_stays_bounded() {
        let ms = 1_000_000;
        let timeline = Timeline::from_deliveries(
            250,
            [(10 * ms, 5), (240 * ms, 5), (260 * ms, 7), (1_100 * ms, 1)],
        );
        assert_eq!(timeline.delivered_tx, vec![10, 7, 0, 0, 1]);
        assert_eq!(timeline.rates_tps().next(), Some(40.0));
        let late = Timeline::from_deliveries(1, [(u64::MAX, 3)]);
        assert_eq!(late.delivered_tx.len(), TIMELINE_BUCKETS_MAX);
        assert_eq!(late.delivered_tx.last(), Some(&3));
    }
}
