//! Fabric's checks of a Deliver request's channel header, before its channel is looked
//! up (`deliver.Handler.validateChannelHeader`): the header must carry a timestamp within
//! `General.Authentication.TimeWindow` of the orderer's clock, and under mutual TLS its
//! `tls_cert_hash` must be the SHA-256 of the certificate the client's connection
//! presented (the binding inspector), so a signed request cannot be replayed by another
//! TLS client. A failure is BAD_REQUEST.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::deliver::SeekRequest;
use sha2::{Digest, Sha256};

/// Fabric's default `General.Authentication.TimeWindow`.
pub const TIME_WINDOW_DEFAULT: Duration = Duration::from_secs(15 * 60);

/// How Deliver requests are checked on this listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverRules {
    /// `General.Authentication.TimeWindow`.
    pub time_window: Duration,
    /// Mutual TLS (`General.TLS.ClientAuthRequired`): requests must be bound to the
    /// client's certificate.
    pub mutual_tls: bool,
}

impl Default for DeliverRules {
    fn default() -> Self {
        Self {
            time_window: TIME_WINDOW_DEFAULT,
            mutual_tls: false,
        }
    }
}

/// SHA-256 of a certificate's DER bytes, as Fabric hashes the TLS certificate.
pub fn cert_hash(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

fn unix_ns(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => -i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

impl DeliverRules {
    /// Why `request` is refused, if it is: `now` is the orderer's clock and
    /// `client_cert_hash` the hash of the certificate the connection presented.
    pub fn check(
        &self,
        request: &SeekRequest,
        now: SystemTime,
        client_cert_hash: Option<&[u8; 32]>,
    ) -> Result<(), String> {
        let Some(sent_ns) = request.timestamp_unix_ns else {
            return Err("channel header in envelope must contain timestamp".into());
        };
        let window_ns = i128::try_from(self.time_window.as_nanos()).unwrap_or(i128::MAX);
        let apart_ns = (unix_ns(now) - sent_ns).abs();
        if apart_ns > window_ns {
            return Err(format!(
                "envelope timestamp is {:.0} s apart from current server time, more than {:?}",
                apart_ns as f64 / 1e9,
                self.time_window
            ));
        }
        if !self.mutual_tls {
            return Ok(());
        }
        if request.tls_cert_hash.is_empty() {
            return Err("client didn't include its TLS cert hash".into());
        }
        let Some(actual) = client_cert_hash else {
            return Err("client didn't send a TLS certificate".into());
        };
        if request.tls_cert_hash.as_ref() != actual.as_slice() {
            return Err(
                "claimed TLS cert hash is not the hash of the client's TLS certificate".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::rejection::Rejection;

    fn request(sent: Option<SystemTime>, tls_cert_hash: &[u8]) -> SeekRequest {
        SeekRequest {
            channel_id: "c".into(),
            seek_info: bytes::Bytes::new(),
            signed: Err(Rejection::bad_request("unsigned")),
            timestamp_unix_ns: sent.map(unix_ns),
            tls_cert_hash: bytes::Bytes::copy_from_slice(tls_cert_hash),
        }
    }

    #[test]
    fn the_timestamp_must_be_within_the_window_either_way() {
        let rules = DeliverRules::default();
        let now = SystemTime::now();
        let minute = Duration::from_secs(60);
        assert!(rules.check(&request(Some(now), b""), now, None).is_ok());
        assert!(
            rules
                .check(&request(Some(now - 14 * minute), b""), now, None)
                .is_ok()
        );
        assert!(
            rules
                .check(&request(Some(now + 14 * minute), b""), now, None)
                .is_ok()
        );
        let late = rules.check(&request(Some(now - 16 * minute), b""), now, None);
        assert!(late.unwrap_err().contains("apart from current server time"));
        assert!(
            rules
                .check(&request(Some(now + 16 * minute), b""), now, None)
                .is_err()
        );
        let none = rules.check(&request(None, b""), now, None).unwrap_err();
        assert!(none.contains("must contain timestamp"), "{none}");
        assert!(
            rules
                .check(&request(Some(UNIX_EPOCH), b""), now, None)
                .is_err()
        );
    }

    #[test]
    fn under_mutual_tls_the_request_names_the_connection_certificate() {
        let rules = DeliverRules {
            mutual_tls: true,
            ..DeliverRules::default()
        };
        let now = SystemTime::now();
        let ours = cert_hash(b"our certificate");
        let theirs = cert_hash(b"another certificate");
        assert!(
            rules
                .check(&request(Some(now), &ours), now, Some(&ours))
                .is_ok()
        );
        let replayed = rules.check(&request(Some(now), &ours), now, Some(&theirs));
        assert!(replayed.unwrap_err().contains("claimed TLS cert hash"));
        let missing = rules.check(&request(Some(now), b""), now, Some(&ours));
        assert!(
            missing
                .unwrap_err()
                .contains("didn't include its TLS cert hash")
        );
        let no_cert = rules.check(&request(Some(now), &ours), now, None);
        assert!(
            no_cert
                .unwrap_err()
                .contains("didn't send a TLS certificate")
        );
        // Without mutual TLS the hash is not looked at.
        let plain = DeliverRules::default();
        assert!(plain.check(&request(Some(now), &ours), now, None).is_ok());
    }
}
