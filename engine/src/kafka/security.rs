//! `Kafka.TLS` and `Kafka.SASLPlain`: how a node secures its broker connections, checked
//! as Fabric checks them at start, and the librdkafka properties they become.
//!
//! Fabric's Kafka consenter (v1.4.12 `newBrokerConfig`) dials the brokers with TLS 1.2 or
//! newer, presenting `Certificate`/`PrivateKey` and trusting only `RootCAs`; it panics at
//! start when the key pair or a root does not decode. Here the same mistakes are
//! configuration errors naming the key, and librdkafka (OpenSSL) does the TLS: it checks
//! the broker's certificate chain against `RootCAs` and its name against the address
//! dialled, as Go's TLS client does for sarama.

use rdkafka::config::ClientConfig;
use x509_parser::pem::Pem;

/// `Kafka.TLS`. The PEM texts are the keys' values (or their `.File`s' contents).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaTls {
    /// `Kafka.TLS.Enabled`.
    pub enabled: bool,
    /// `Kafka.TLS.PrivateKey`: the node's key, PEM.
    pub private_key: String,
    /// `Kafka.TLS.Certificate`: the node's certificate, PEM.
    pub certificate: String,
    /// `Kafka.TLS.RootCAs`: the certificates the brokers' chains must end in, PEM.
    pub root_cas: Vec<String>,
}

impl std::fmt::Debug for KafkaTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaTls")
            .field("enabled", &self.enabled)
            .field("private_key", &"<redacted>")
            .field("certificate_bytes", &self.certificate.len())
            .field("root_cas", &self.root_cas.len())
            .finish()
    }
}

/// `Kafka.SASLPlain`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaslPlain {
    /// `Kafka.SASLPlain.Enabled`.
    pub enabled: bool,
    /// `Kafka.SASLPlain.User`.
    pub user: String,
    /// `Kafka.SASLPlain.Password`.
    pub password: String,
}

impl std::fmt::Debug for SaslPlain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslPlain")
            .field("enabled", &self.enabled)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The PEM blocks of `text`, each checked to be a `label` block (a label ending so, for
/// keys: `PRIVATE KEY`, `EC PRIVATE KEY`).
fn pem_blocks(text: &str, label: &str, key: &str) -> Result<Vec<Pem>, String> {
    let blocks: Vec<Pem> = Pem::iter_from_buffer(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|error| format!("{key} is not PEM: {error}"))?;
    if blocks.is_empty() {
        return Err(format!("{key} holds no PEM block"));
    }
    if let Some(other) = blocks.iter().find(|pem| !pem.label.ends_with(label)) {
        return Err(format!(
            "{key} holds a {:?} block where a {label:?} was expected",
            other.label
        ));
    }
    Ok(blocks)
}

impl KafkaTls {
    /// What Fabric refuses at start: a key pair that does not decode, a root that is not
    /// a certificate. Also refused here: no roots at all (Fabric's empty pool trusts no
    /// broker, so every dial would fail).
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        pem_blocks(&self.private_key, "PRIVATE KEY", "Kafka.TLS.PrivateKey")?;
        for pem in pem_blocks(&self.certificate, "CERTIFICATE", "Kafka.TLS.Certificate")? {
            pem.parse_x509()
                .map_err(|error| format!("Kafka.TLS.Certificate does not parse: {error}"))?;
        }
        if self.root_cas.is_empty() {
            return Err("Kafka.TLS.RootCAs must name the brokers' certificate authorities".into());
        }
        for root in &self.root_cas {
            for pem in pem_blocks(root, "CERTIFICATE", "Kafka.TLS.RootCAs")? {
                pem.parse_x509()
                    .map_err(|error| format!("Kafka.TLS.RootCAs does not parse: {error}"))?;
            }
        }
        Ok(())
    }
}

/// Sets the security properties of a librdkafka client.
pub(crate) fn apply(tls: &KafkaTls, sasl: &SaslPlain, config: &mut ClientConfig) {
    let protocol = match (tls.enabled, sasl.enabled) {
        (false, false) => "plaintext",
        (true, false) => "ssl",
        (false, true) => "sasl_plaintext",
        (true, true) => "sasl_ssl",
    };
    config.set("security.protocol", protocol);
    if tls.enabled {
        config.set("ssl.key.pem", &tls.private_key);
        config.set("ssl.certificate.pem", &tls.certificate);
        config.set("ssl.ca.pem", tls.root_cas.join("\n"));
        config.set("ssl.endpoint.identification.algorithm", "https");
    }
    if sasl.enabled {
        config.set("sasl.mechanisms", "PLAIN");
        config.set("sasl.username", &sasl.user);
        config.set("sasl.password", &sasl.password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_without_a_key_pair_or_roots_is_refused_by_key() {
        let mut tls = KafkaTls {
            enabled: true,
            ..KafkaTls::default()
        };
        assert!(tls.validate().unwrap_err().contains("Kafka.TLS.PrivateKey"));
        tls.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
        assert!(
            tls.validate()
                .unwrap_err()
                .contains("Kafka.TLS.Certificate")
        );
        tls.certificate = tls.private_key.clone();
        let error = tls.validate().unwrap_err();
        assert!(error.contains("\"PRIVATE KEY\" block"), "{error}");
        assert!(
            KafkaTls::default().validate().is_ok(),
            "disabled: nothing to check"
        );
    }

    #[test]
    fn security_protocol_follows_tls_and_sasl() {
        let get = |tls: bool, sasl: bool| {
            let mut config = ClientConfig::new();
            let tls = KafkaTls {
                enabled: tls,
                ..KafkaTls::default()
            };
            let sasl = SaslPlain {
                enabled: sasl,
                user: "orderer".into(),
                password: "secret".into(),
            };
            apply(&tls, &sasl, &mut config);
            (
                config.get("security.protocol").map(str::to_string),
                config.get("sasl.mechanisms").map(str::to_string),
            )
        };
        assert_eq!(get(false, false).0.as_deref(), Some("plaintext"));
        assert_eq!(get(true, false).0.as_deref(), Some("ssl"));
        assert_eq!(get(false, true).0.as_deref(), Some("sasl_plaintext"));
        assert_eq!(
            get(true, true),
            (Some("sasl_ssl".into()), Some("PLAIN".into()))
        );
        let shown = format!(
            "{:?}",
            SaslPlain {
                enabled: true,
                user: "orderer".into(),
                password: "secret".into()
            }
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
