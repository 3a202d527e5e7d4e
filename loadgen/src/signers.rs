//! The client identities of a run: envelope `i` is signed by identity `i mod N`, Deliver
//! requests by the first. Many signers make the orderer check many creators, as a channel
//! with many clients does (its identity cache and per-key tables see N keys, not one).

use std::sync::Arc;

use serde::ser::SerializeStruct as _;

use crate::Error;
use crate::ca::DevCa;
use crate::msp::Signer;

/// Most identities a run may have: each holds a key and a certificate in memory (a few
/// KiB) and takes about 0.15 ms of CPU to issue, before the clock starts.
pub const SIGNERS_MAX: usize = 100_000;

/// A run's client identities; none for unsigned envelopes. Recorded as `signed` (bool)
/// and `signers` (how many).
#[derive(Debug, Clone, Default)]
pub struct Signers(Vec<Arc<Signer>>);

impl Signers {
    /// One identity.
    pub fn one(signer: Arc<Signer>) -> Self {
        Self(vec![signer])
    }

    /// `count` client identities issued by `ca` (OU `client`), issued on every core.
    pub fn issue(ca: &DevCa, count: usize) -> Result<Self, Error> {
        if count == 0 || count > SIGNERS_MAX {
            return Err(Error::Refused(format!(
                "--signers {count}: expected 1 to {SIGNERS_MAX}"
            )));
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let indexes: Vec<usize> = (0..count).collect();
        let issue_one = |index: &usize| -> Result<Arc<Signer>, Error> {
            let issued = ca.issue(&format!("client{index}"), &["client"])?;
            Ok(Arc::new(issued.signer()?))
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = indexes
                .chunks(count.div_ceil(threads))
                .map(|chunk| scope.spawn(move || chunk.iter().map(issue_one).collect::<Vec<_>>()))
                .collect();
            let mut signers = Vec::with_capacity(count);
            for handle in handles {
                let issued = handle
                    .join()
                    .map_err(|_| Error::Task("issuing identities panicked".into()))?;
                for signer in issued {
                    signers.push(signer?);
                }
            }
            Ok(Self(signers))
        })
    }

    /// Who signs envelope `index` of the run.
    pub fn for_envelope(&self, index: u64) -> Option<&Signer> {
        let count = self.0.len() as u64;
        (count > 0).then(|| self.0[(index % count) as usize].as_ref())
    }

    /// Who signs Deliver requests.
    pub fn first(&self) -> Option<&Signer> {
        self.0.first().map(AsRef::as_ref)
    }

    /// How many identities sign.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether envelopes go unsigned.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for Signers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("Signers", 2)?;
        record.serialize_field("signed", &!self.is_empty())?;
        record.serialize_field("signers", &self.len())?;
        record.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_distinct_and_used_round_robin() {
        let ca = DevCa::generate("Org").unwrap();
        let signers = Signers::issue(&ca, 5).unwrap();
        let creators: std::collections::HashSet<_> = (0..5)
            .map(|index| signers.for_envelope(index).unwrap().creator().clone())
            .collect();
        assert_eq!(creators.len(), 5);
        let first = signers.first().unwrap().creator();
        assert_eq!(signers.for_envelope(10).unwrap().creator(), first);
        assert!(Signers::default().for_envelope(3).is_none());
        assert!(Signers::issue(&ca, 0).is_err());
        let record = serde_json::to_value(&signers).unwrap();
        assert_eq!(record, serde_json::json!({"signed": true, "signers": 5}));
    }

    /// Pre-issuing a thousand signers must stay a small part of a run's set-up.
    #[test]
    fn a_thousand_identities_are_issued_in_seconds() {
        let ca = DevCa::generate("Org").unwrap();
        let started = std::time::Instant::now();
        let signers = Signers::issue(&ca, 1000).unwrap();
        let elapsed = started.elapsed();
        eprintln!("issued 1,000 signers in {elapsed:?}");
        assert_eq!(signers.len(), 1000);
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    }
}
