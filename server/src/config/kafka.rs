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
    if key.starts_with("Kafka.TLS.") || key.starts_with("Kafka.SASLPlain.") {
        return set_security(options, key, value);
    }
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
        _ => return Err("unknown key".into()),
    }
    Ok(())
}

/// `Kafka.TLS.*` and `Kafka.SASLPlain.*`: PEM texts inline or from `.File`s.
fn set_security(options: &mut KafkaOptions, key: &str, value: &str) -> Result<(), String> {
    match key {
        "Kafka.TLS.Enabled" => options.tls.enabled = super::boolean(value)?,
        "Kafka.TLS.PrivateKey" => options.tls.private_key = value.to_string(),
        "Kafka.TLS.PrivateKey.File" => options.tls.private_key = read(value)?,
        "Kafka.TLS.Certificate" => options.tls.certificate = value.to_string(),
        "Kafka.TLS.Certificate.File" => options.tls.certificate = read(value)?,
        // A YAML list of PEM texts arrives joined by commas.
        "Kafka.TLS.RootCAs" => options.tls.root_cas = pem_list(value),
        "Kafka.TLS.RootCAs.File" => options.tls.root_cas = vec![read(value)?],
        "Kafka.SASLPlain.Enabled" => options.sasl_plain.enabled = super::boolean(value)?,
        "Kafka.SASLPlain.User" => options.sasl_plain.user = value.to_string(),
        "Kafka.SASLPlain.Password" => options.sasl_plain.password = value.to_string(),
        _ => return Err("unknown key".into()),
    }
    Ok(())
}

/// The PEM texts of a YAML list, which arrives joined by commas.
fn pem_list(value: &str) -> Vec<String> {
    value
        .split(",-----BEGIN")
        .enumerate()
        .map(|(i, pem)| {
            if i == 0 {
                pem.to_string()
            } else {
                format!("-----BEGIN{pem}")
            }
        })
        .filter(|pem| !pem.trim().is_empty())
        .collect()
}

/// The contents of a `.File` key's file (empty for an empty value).
fn read(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Ok(String::new());
    }
    std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))
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

    #[test]
    fn kafka_tls_keys_take_pem_inline_or_from_files_and_sasl_its_fields() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key.pem");
        std::fs::write(&key_file, "KEY").unwrap();
        let mut options = KafkaOptions::default();
        let roots = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----,-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----";
        for (key, value) in [
            ("Kafka.TLS.Enabled", "true"),
            ("Kafka.TLS.PrivateKey.File", key_file.to_str().unwrap()),
            ("Kafka.TLS.Certificate", "CERT"),
            ("Kafka.TLS.RootCAs", roots),
            ("Kafka.SASLPlain.Enabled", "true"),
            ("Kafka.SASLPlain.User", "orderer"),
        ] {
            set(&mut options, key, value).unwrap();
        }
        assert!(options.tls.enabled);
        assert_eq!(options.tls.private_key, "KEY");
        assert_eq!(options.tls.certificate, "CERT");
        assert_eq!(
            options.tls.root_cas,
            vec![
                "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----".to_string(),
                "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----".to_string(),
            ]
        );
        assert!(options.sasl_plain.enabled);
        assert_eq!(options.sasl_plain.user, "orderer");
        let missing = set(
            &mut options,
            "Kafka.TLS.Certificate.File",
            "/nonexistent.pem",
        );
        assert!(missing.unwrap_err().contains("/nonexistent.pem"));
        assert!(set(&mut options, "Kafka.TLS.Enabled", "yes").is_err());
    }
}
