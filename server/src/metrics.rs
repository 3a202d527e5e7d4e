//! The orderer's metrics under Fabric's names (`broadcast_processed_count`,
//! `deliver_blocks_sent`, `ledger_blockchain_height`, ...), in Prometheus' text format.
//!
//! A small registry of its own rather than a client crate: Fabric's counters carry no
//! `_total` suffix, which OpenMetrics encoders add. Series are created on first use and
//! updated with atomics; the label sets are few (channels x header types x statuses).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Prometheus' default buckets, which Fabric's histograms use (seconds).
const BUCKETS_S: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A monotonic count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

/// Observations counted into [`BUCKETS_S`] and one bucket past the last bound; the count
/// is their sum, so a scrape always sees `le="+Inf"` equal to `_count`.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_S.len() + 1],
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS_S
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS_S.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// How a series is written out in the text format.
pub trait Encode {
    /// The `# TYPE` of the metric.
    const KIND: &'static str;
    /// Writes the series `name{labels}`.
    fn encode(&self, name: &str, labels: &str, out: &mut String);
}

/// `{labels}`, or nothing for no labels.
fn braced(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

impl Encode for Counter {
    const KIND: &'static str = "counter";
    fn encode(&self, name: &str, labels: &str, out: &mut String) {
        let _ = writeln!(out, "{name}{} {}", braced(labels), self.get());
    }
}

impl Encode for Gauge {
    const KIND: &'static str = "gauge";
    fn encode(&self, name: &str, labels: &str, out: &mut String) {
        let value = self.0.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}{} {value}", braced(labels));
    }
}

impl Encode for Histogram {
    const KIND: &'static str = "histogram";
    fn encode(&self, name: &str, labels: &str, out: &mut String) {
        let sep = if labels.is_empty() { "" } else { "," };
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .collect();
        let mut cumulative = 0;
        for (bound, count) in BUCKETS_S.iter().zip(&counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count: u64 = counts.iter().sum();
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum_s = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{} {sum_s}", braced(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braced(labels));
    }
}

/// One metric: its series by label values.
#[derive(Debug)]
pub struct Family<M> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    series: RwLock<BTreeMap<Vec<String>, Arc<M>>>,
}

impl<M: Default + Encode> Family<M> {
    fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Self {
            name,
            help,
            labels,
            series: RwLock::new(BTreeMap::new()),
        }
    }

    /// The series of `values` (one per label, in order), made on first use.
    pub fn with(&self, values: &[&str]) -> Arc<M> {
        debug_assert_eq!(values.len(), self.labels.len(), "{}", self.name);
        let key: Vec<String> = values.iter().map(|v| (*v).to_string()).collect();
        if let Some(series) = self
            .series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Arc::clone(series);
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(series.entry(key).or_default())
    }

    fn encode(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, M::KIND);
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        for (values, metric) in series.iter() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .zip(values)
                .map(|(label, value)| format!("{label}=\"{}\"", escape(value)))
                .collect();
            metric.encode(self.name, &labels.join(","), out);
        }
    }
}

/// A label value escaped for the text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every metric the orderer keeps.
#[derive(Debug)]
pub struct Metrics {
    /// `broadcast_validate_duration{channel,type,status}`.
    pub broadcast_validate_duration: Family<Histogram>,
    /// `broadcast_enqueue_duration{channel,type,status}`.
    pub broadcast_enqueue_duration: Family<Histogram>,
    /// `broadcast_processed_count{channel,type,status}`.
    pub broadcast_processed_count: Family<Counter>,
    /// `deliver_streams_opened`.
    pub deliver_streams_opened: Family<Counter>,
    /// `deliver_streams_closed`.
    pub deliver_streams_closed: Family<Counter>,
    /// `deliver_requests_received{channel,filtered}`.
    pub deliver_requests_received: Family<Counter>,
    /// `deliver_requests_completed{channel,filtered,success}`.
    pub deliver_requests_completed: Family<Counter>,
    /// `deliver_blocks_sent{channel,filtered}`.
    pub deliver_blocks_sent: Family<Counter>,
    /// `blockcutter_block_fill_duration{channel}`: first envelope of a block to its cut.
    pub blockcutter_block_fill_duration: Family<Histogram>,
    /// `ledger_blockchain_height{channel}`, read from the store when scraped.
    pub ledger_blockchain_height: Family<Gauge>,
    /// `consensus_kafka_last_offset_persisted{channel}`, from the newest block.
    pub consensus_kafka_last_offset_persisted: Family<Gauge>,
    /// `fabric_version{version}`: 1.
    pub fabric_version: Family<Gauge>,
}

/// The labels of the broadcast metrics.
const TX_LABELS: &[&str] = &["channel", "type", "status"];

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            broadcast_validate_duration: Family::new(
                "broadcast_validate_duration",
                "The time to validate a transaction in seconds.",
                TX_LABELS,
            ),
            broadcast_enqueue_duration: Family::new(
                "broadcast_enqueue_duration",
                "The time to enqueue a transaction in seconds.",
                TX_LABELS,
            ),
            broadcast_processed_count: Family::new(
                "broadcast_processed_count",
                "The number of transactions processed.",
                TX_LABELS,
            ),
            deliver_streams_opened: Family::new(
                "deliver_streams_opened",
                "The number of GRPC streams that have been opened for the deliver service.",
                &[],
            ),
            deliver_streams_closed: Family::new(
                "deliver_streams_closed",
                "The number of GRPC streams that have been closed for the deliver service.",
                &[],
            ),
            deliver_requests_received: Family::new(
                "deliver_requests_received",
                "The number of deliver requests that have been received.",
                &["channel", "filtered"],
            ),
            deliver_requests_completed: Family::new(
                "deliver_requests_completed",
                "The number of deliver requests that have been completed.",
                &["channel", "filtered", "success"],
            ),
            deliver_blocks_sent: Family::new(
                "deliver_blocks_sent",
                "The number of blocks sent by the deliver service.",
                &["channel", "filtered"],
            ),
            blockcutter_block_fill_duration: Family::new(
                "blockcutter_block_fill_duration",
                "The time from first transaction enqueing to the block being cut in seconds.",
                &["channel"],
            ),
            ledger_blockchain_height: Family::new(
                "ledger_blockchain_height",
                "Height of the chain in blocks.",
                &["channel"],
            ),
            consensus_kafka_last_offset_persisted: Family::new(
                "consensus_kafka_last_offset_persisted",
                "The offset specified in the block metadata of the most recently committed block.",
                &["channel"],
            ),
            fabric_version: Family::new(
                "fabric_version",
                "The active version of Fabric.",
                &["version"],
            ),
        };
        metrics
            .fabric_version
            .with(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        metrics.deliver_streams_opened.with(&[]);
        metrics.deliver_streams_closed.with(&[]);
        metrics
    }
}

impl Metrics {
    /// Every metric, in Prometheus' text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.broadcast_validate_duration.encode(&mut out);
        self.broadcast_enqueue_duration.encode(&mut out);
        self.broadcast_processed_count.encode(&mut out);
        self.deliver_streams_opened.encode(&mut out);
        self.deliver_streams_closed.encode(&mut out);
        self.deliver_requests_received.encode(&mut out);
        self.deliver_requests_completed.encode(&mut out);
        self.deliver_blocks_sent.encode(&mut out);
        self.blockcutter_block_fill_duration.encode(&mut out);
        self.ledger_blockchain_height.encode(&mut out);
        self.consensus_kafka_last_offset_persisted.encode(&mut out);
        self.fabric_version.encode(&mut out);
        out
    }
}

/// Block fill durations of the chains this orderer serves (one series per chain).
impl engine::cutter::FillObserver for Metrics {
    fn block_filled(&self, channel_id: &str, fill: Duration) {
        self.blockcutter_block_fill_duration
            .with(&[channel_id])
            .observe(fill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_written_in_the_text_format_under_fabric_names() {
        let metrics = Metrics::default();
        let success = ["appchannel", "MESSAGE", "SUCCESS"];
        metrics.broadcast_processed_count.with(&success).inc();
        metrics.broadcast_processed_count.with(&success).inc();
        metrics
            .broadcast_validate_duration
            .with(&success)
            .observe(Duration::from_millis(7));
        metrics
            .deliver_requests_received
            .with(&["a\"b", "false"])
            .inc();
        let text = metrics.encode();
        assert!(text.contains("# TYPE broadcast_processed_count counter\n"));
        assert!(text.contains(
            "broadcast_processed_count{channel=\"appchannel\",type=\"MESSAGE\",status=\"SUCCESS\"} 2\n"
        ));
        assert!(text.contains(
            "broadcast_validate_duration_bucket{channel=\"appchannel\",type=\"MESSAGE\",status=\"SUCCESS\",le=\"0.005\"} 0\n"
        ));
        assert!(text.contains(
            "broadcast_validate_duration_bucket{channel=\"appchannel\",type=\"MESSAGE\",status=\"SUCCESS\",le=\"0.01\"} 1\n"
        ));
        assert!(
            text.contains("deliver_requests_received{channel=\"a\\\"b\",filtered=\"false\"} 1\n")
        );
        assert!(text.contains("\ndeliver_streams_opened 0\n"));
        assert!(text.contains("fabric_version{version=\""));
    }
}
