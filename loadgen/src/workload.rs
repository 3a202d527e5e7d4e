//! What a run does: channels, streams, sizes, rate.

use std::time::Duration;

use orderer_proto::common::HeaderType;
use serde::Serialize;

use crate::signers::Signers;

/// The offered load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    /// Open loop: envelopes are due at a fixed rate (tx/s, over all streams); latency
    /// counts from the time each was due, so queueing in the client is not hidden.
    Fixed(f64),
    /// Closed loop: as fast as acknowledgements allow, with `window` envelopes in flight
    /// per stream.
    Max {
        /// Envelopes sent but not yet acknowledged, per stream.
        window: usize,
    },
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// The orderer, `http://host:port`.
    pub endpoint: String,
    /// Channels to broadcast on.
    pub channels: Vec<String>,
    /// Broadcast streams per channel (Fabric's benchmark "broadcast clients").
    pub broadcast_streams_per_channel: usize,
    /// Deliver clients per channel; every one must see every envelope.
    pub deliver_clients_per_channel: usize,
    /// Size of each envelope's payload data.
    pub payload_bytes: usize,
    /// `MESSAGE` or `ENDORSER_TRANSACTION`.
    #[serde(serialize_with = "header_type_name")]
    pub header_type: HeaderType,
    /// Envelopes to send, over all channels.
    pub total_tx: u64,
    /// Stop sending after this long even if `total_tx` is not reached.
    pub duration: Option<Duration>,
    /// The offered rate.
    pub rate: Rate,
    /// Build and sign every envelope before the clock starts.
    pub presign: bool,
    /// Who signs, round robin; none sends unsigned envelopes. Recorded as `signed: bool`
    /// and `signers: N`.
    #[serde(flatten)]
    pub signers: Signers,
    /// How long to wait, after the last send, for deliveries.
    pub drain_timeout: Duration,
    /// Draw a progress bar on the terminal.
    #[serde(skip)]
    pub progress: bool,
    /// TLS to the orderer. Recorded as `tls: bool`.
    #[serde(serialize_with = "tls_on")]
    pub tls: Option<crate::client::ClientTls>,
    /// Count delivered envelopes per bucket of this width of commit time (the report's
    /// `delivered_timeline`, which records the width); none keeps no timeline.
    #[serde(skip)]
    pub timeline_bucket: Option<Duration>,
}

fn tls_on<S: serde::Serializer>(
    value: &Option<crate::client::ClientTls>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(value.is_some())
}

fn header_type_name<S: serde::Serializer>(
    value: &HeaderType,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str_name())
}

impl Workload {
    /// Number of broadcast streams over all channels.
    pub fn stream_count(&self) -> usize {
        self.channels.len() * self.broadcast_streams_per_channel
    }

    /// The channel stream `stream` sends on.
    pub fn channel_of_stream(&self, stream: usize) -> usize {
        stream / self.broadcast_streams_per_channel
    }

    /// The envelope indexes stream `stream` sends: a contiguous range.
    pub fn stream_range(&self, stream: usize) -> std::ops::Range<u64> {
        let streams = self.stream_count() as u64;
        let base = self.total_tx / streams;
        let extra = self.total_tx % streams;
        let stream = stream as u64;
        let start = stream * base + stream.min(extra);
        let length = base + u64::from(stream < extra);
        start..start + length
    }

    /// Envelopes sent per second by one stream, in open loop.
    pub fn stream_rate(&self) -> Option<f64> {
        match self.rate {
            Rate::Fixed(rate) => Some(rate / self.stream_count() as f64),
            Rate::Max { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ranges_cover_every_index_once() {
        let workload = Workload {
            endpoint: String::new(),
            channels: vec!["a".into(), "b".into()],
            broadcast_streams_per_channel: 3,
            deliver_clients_per_channel: 1,
            payload_bytes: 10,
            header_type: HeaderType::Message,
            total_tx: 100,
            duration: None,
            rate: Rate::Max { window: 1 },
            presign: false,
            signers: Signers::default(),
            drain_timeout: Duration::from_secs(1),
            progress: false,
            tls: None,
            timeline_bucket: None,
        };
        let mut next = 0;
        for stream in 0..workload.stream_count() {
            let range = workload.stream_range(stream);
            assert_eq!(range.start, next);
            next = range.end;
        }
        assert_eq!(next, 100);
        assert_eq!(workload.channel_of_stream(4), 1);
    }
}
