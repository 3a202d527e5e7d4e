//! The node's Kafka settings (Fabric's `Kafka.*` keys, read by the server) and the
//! librdkafka properties they become.

use std::time::Duration;

use rdkafka::config::ClientConfig;

use super::security::{KafkaTls, SaslPlain};

/// Fabric's `Kafka.Retry` intervals: how long start-up steps (topic, CONNECT) are
/// retried, first often, then seldom, before the chain gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// `Kafka.Retry.ShortInterval`.
    pub short_interval: Duration,
    /// `Kafka.Retry.ShortTotal`.
    pub short_total: Duration,
    /// `Kafka.Retry.LongInterval`.
    pub long_interval: Duration,
    /// `Kafka.Retry.LongTotal`.
    pub long_total: Duration,
}

impl Default for Retry {
    /// Fabric's sample `orderer.yaml` values.
    fn default() -> Self {
        Self {
            short_interval: Duration::from_secs(5),
            short_total: Duration::from_secs(10 * 60),
            long_interval: Duration::from_secs(5 * 60),
            long_total: Duration::from_secs(12 * 60 * 60),
        }
    }
}

impl Retry {
    /// The pauses between attempts: `short_interval` until `short_total`, then
    /// `long_interval` until `short_total + long_total`.
    pub fn pauses(&self) -> impl Iterator<Item = Duration> + use<> {
        let short = count(self.short_total, self.short_interval);
        let long = count(self.long_total, self.long_interval);
        std::iter::repeat_n(self.short_interval, short)
            .chain(std::iter::repeat_n(self.long_interval, long))
    }
}

fn count(total: Duration, interval: Duration) -> usize {
    if interval.is_zero() {
        return 0;
    }
    usize::try_from(total.as_millis() / interval.as_millis().max(1)).unwrap_or(usize::MAX)
}

/// What a node needs to reach the Kafka cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaOptions {
    /// `Kafka.Brokers` (this orderer's addition, `ORDERER_KAFKA_BROKERS`): when set, these
    /// bootstrap addresses replace the channel config's `KafkaBrokers`, so a genesis block
    /// written for other hosts runs against local brokers.
    pub brokers: Option<Vec<String>>,
    /// `Kafka.Retry` intervals for start-up steps.
    pub retry: Retry,
    /// `Kafka.Retry.NetworkTimeouts.WriteTimeout`: the longest a produced envelope waits
    /// for the broker's acknowledgement (librdkafka `message.timeout.ms`) before
    /// Broadcast answers SERVICE_UNAVAILABLE.
    pub write_timeout: Duration,
    /// `Kafka.Topic.ReplicationFactor` of the topics this node creates.
    pub replication_factor: i32,
    /// Envelopes produced but not yet acknowledged, per channel (librdkafka
    /// `queue.buffering.max.messages`): a full queue pushes back on Broadcast.
    pub queue_messages_max: usize,
    /// `Kafka.TLS`.
    pub tls: KafkaTls,
    /// `Kafka.SASLPlain`.
    pub sasl_plain: SaslPlain,
    /// Further librdkafka properties, from the other `Kafka.*` keys (timeouts, retries,
    /// version).
    pub properties: Vec<(String, String)>,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        Self {
            brokers: None,
            retry: Retry::default(),
            write_timeout: Duration::from_secs(10),
            replication_factor: 3,
            queue_messages_max: 10_000,
            tls: KafkaTls::default(),
            sasl_plain: SaslPlain::default(),
            properties: Vec::new(),
        }
    }
}

impl KafkaOptions {
    /// The bootstrap list for a channel whose config names `configured`.
    pub fn bootstrap(&self, configured: &[String]) -> String {
        self.brokers.as_deref().unwrap_or(configured).join(",")
    }

    /// A librdkafka client's properties: the bootstrap list, security, the role's
    /// `defaults`, then [`KafkaOptions::properties`], which win over the defaults.
    pub(crate) fn client(&self, bootstrap: &str, defaults: &[(&str, String)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        super::security::apply(&self.tls, &self.sasl_plain, &mut config);
        for (key, value) in defaults {
            config.set(*key, value);
        }
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_are_short_then_long() {
        let retry = Retry {
            short_interval: Duration::from_secs(1),
            short_total: Duration::from_secs(3),
            long_interval: Duration::from_secs(10),
            long_total: Duration::from_secs(20),
        };
        let pauses: Vec<u64> = retry.pauses().map(|d| d.as_secs()).collect();
        assert_eq!(pauses, [1, 1, 1, 10, 10]);
    }

    #[test]
    fn node_brokers_replace_the_channel_config_ones() {
        let configured = vec!["kafka0:9092".to_string(), "kafka1:9092".to_string()];
        let mut options = KafkaOptions::default();
        assert_eq!(options.bootstrap(&configured), "kafka0:9092,kafka1:9092");
        options.brokers = Some(vec!["127.0.0.1:9092".into()]);
        assert_eq!(options.bootstrap(&configured), "127.0.0.1:9092");
    }
}
