//! The `Kafka` section: Fabric's `Kafka.*` keys as the engine's [`KafkaOptions`], most of
//! them as the librdkafka property that does the same job as the sarama setting Fabric
//! passes them to.

use engine::config::GoDuration;
use engine::kafka::KafkaOptions;

/// `(Fabric key, librdkafka property)` for the durations that map one to one
/// (milliseconds).
const DURATION_PROPERTIES: &[(&str, &str)] = &[
    (
        "Kafka.Retry.NetworkTimeouts.DialTimeout",
        "socket.connection.setup.timeout.ms",
    ),
    (
        "Kafka.Retry.NetworkTimeouts.ReadTimeout",
        "socket.timeout.ms",
    ),
    (
        "Kafka.Retry.Metadata.RetryBackoff",
        "topic.metadata.refresh.fast.interval.ms",
    ),
    ("Kafka.Retry.Producer.RetryBackoff", "retry.backoff.ms"),
    (
        "Kafka.Retry.Consumer.RetryBackoff",
        "fetch.error.backoff.ms",
    ),
];

/// Sets `key`, a `Kafka.*` key of `keys::IMPLEMENTED`, to `value`.
pub fn set(options: &mut KafkaOptions, key: &str, value: &str) -> Result<(), String> {
    let duration = || {
        value
            .parse::<GoDuration>()
            .map(|d| d.0)
            .map_err(|_| format!("{value:?} is not a duration such as \"10s\""))
    };
    if let Some((_, property)) = DURATION_PROPERTIES.iter().find(|(name, _)| *name == key) {
        let millis = duration()?.as_millis().max(1);
        return property_set(options, property, millis.to_string());
    }
    match key {
        "Kafka.Brokers" => {
            let brokers: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_string)
                .collect();
            options.brokers = (!brokers.is_empty()).then_some(brokers);
        }
        "Kafka.Retry.ShortInterval" => options.retry.short_interval = duration()?,
        "Kafka.Retry.ShortTotal" => options.retry.short_total = duration()?,
        "Kafka.Retry.LongInterval" => options.retry.long_interval = duration()?,
        "Kafka.Retry.LongTotal" => options.retry.long_total = duration()?,
        "Kafka.Retry.NetworkTimeouts.WriteTimeout" => {
            let timeout = duration()?;
            if timeout.is_zero() {
                return Err("must be above 0".into());
            }
            options.write_timeout = timeout;
        }
        "Kafka.Retry.Producer.RetryMax" => {
            let max: u32 = value.parse().map_err(|_| "not a count".to_string())?;
            property_set(options, "message.send.max.retries", max.to_string())?;
        }
        "Kafka.Topic.ReplicationFactor" => {
            options.replication_factor = value
                .parse()
                .ok()
                .filter(|factor: &i32| *factor > 0)
                .ok_or_else(|| "not a positive count".to_string())?;
        }
        "Kafka.Version" => {
            // Fabric names the protocol version to speak; librdkafka asks the broker and
            // uses this only when the broker cannot tell.
            if !value.is_empty() {
                property_set(options, "broker.version.fallback", value.to_string())?;
            }
        }
        "Kafka.SASLPlain.Enabled" => match value.to_ascii_lowercase().as_str() {
            "true" => {
                property_set(options, "security.protocol", "sasl_plaintext".into())?;
                property_set(options, "sasl.mechanisms", "PLAIN".into())?;
            }
            "false" | "" => {}
            _ => return Err("must be true or false".into()),
        },
        "Kafka.SASLPlain.User" => property_set(options, "sasl.username", value.to_string())?,
        "Kafka.SASLPlain.Password" => property_set(options, "sasl.password", value.to_string())?,
        _ => return Err("unknown key".into()),
    }
    Ok(())
}

fn property_set(options: &mut KafkaOptions, property: &str, value: String) -> Result<(), String> {
    options.properties.retain(|(name, _)| name != property);
    options.properties.push((property.to_string(), value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fabric_kafka_keys_become_options_and_librdkafka_properties() {
        let mut options = KafkaOptions::default();
        for (key, value) in [
            ("Kafka.Brokers", "127.0.0.1:9092, 127.0.0.1:9093"),
            ("Kafka.Retry.ShortInterval", "1s"),
            ("Kafka.Retry.NetworkTimeouts.WriteTimeout", "3s"),
            ("Kafka.Retry.NetworkTimeouts.DialTimeout", "10s"),
            ("Kafka.Retry.Producer.RetryMax", "3"),
            ("Kafka.Topic.ReplicationFactor", "1"),
            ("Kafka.Version", "1.0.0"),
        ] {
            set(&mut options, key, value).unwrap();
        }
        assert_eq!(
            options.brokers,
            Some(vec!["127.0.0.1:9092".into(), "127.0.0.1:9093".into()])
        );
        assert_eq!(options.retry.short_interval, Duration::from_secs(1));
        assert_eq!(options.write_timeout, Duration::from_secs(3));
        assert_eq!(options.replication_factor, 1);
        let property = |name: &str| {
            options
                .properties
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(
            property("socket.connection.setup.timeout.ms"),
            Some("10000")
        );
        assert_eq!(property("message.send.max.retries"), Some("3"));
        assert_eq!(property("broker.version.fallback"), Some("1.0.0"));
        assert!(set(&mut options, "Kafka.Topic.ReplicationFactor", "0").is_err());
        assert!(set(&mut options, "Kafka.Retry.LongTotal", "12 hours").is_err());
    }
}
