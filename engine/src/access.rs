//! Access control of a channel: whether a signed envelope satisfies one of its policies
//! (`/Channel/Writers` for Broadcast, `/Channel/Readers` for Deliver), as Fabric's policy
//! evaluation decides it. The order of checks around it (expiry, size) is
//! [`crate::admission`]'s.
//!
//! The policy is evaluated before the creator is required to be known: a policy that
//! needs no signer (an implicit meta policy over no sub-groups, as on a channel without
//! organizations) is satisfied by any envelope, valid creator or not, as in Fabric.
//!
//! Deserialising and validating a creator (certificate parse, chain, CRLs, OUs) costs
//! more than the signature check, so validated identities are cached, keyed by the
//! creator's bytes, in a bounded map. A creator that signs often also gets its key's
//! table of multiples ([`signature::PrecomputedKey`]), which makes each later
//! verification about 2.5 times cheaper; tables are bounded per channel.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use orderer_proto::common::ConfigGroup;
use orderer_proto::msp::SerializedIdentity;
use prost::Message as _;

use crate::envelope::SignedData;
use crate::msp::cert::Cert;
use crate::msp::{Identity, IdentityError, Msp, MspManager};
use crate::policy::PolicyTree;
use crate::rejection::Rejection;
use crate::signature;

/// Validated creators kept per channel. When full the cache is emptied: bounded memory
/// under a flood of distinct creators, at worst one validation per envelope.
pub const IDENTITY_CACHE_MAX: usize = 4096;

/// Verifications by ring before a creator's key table is built: a table costs about as
/// much as 12 ring verifications and saves about 60% of each later one.
pub const KEY_TABLE_AFTER_USES: u32 = 16;

/// Key tables (88 KiB each) per channel, counted until the identity cache is emptied.
pub const KEY_TABLES_MAX: usize = 64;

/// Policy checked on Broadcast.
pub const WRITERS: &str = "/Channel/Writers";
/// Policy checked on Deliver.
pub const READERS: &str = "/Channel/Readers";

/// A channel's MSPs and policies.
#[derive(Debug)]
pub struct AccessControl {
    msps: MspManager,
    policies: PolicyTree,
    identities: Mutex<HashMap<Bytes, Creator>>,
    /// Key tables built since the identity cache was last emptied.
    key_tables: AtomicUsize,
}

/// A creator as this channel sees it (cached): when its certificate expires and whether
/// its MSP validates it, with its key's table once it has signed often.
#[derive(Debug, Clone)]
pub struct Creator {
    /// `NotAfter` of the certificate (Unix seconds) when the creator holds a parseable
    /// X.509 certificate, whatever its MSP says: Fabric's `crypto.ExpiresAt`.
    expires_at_unix: Option<i64>,
    identity: Result<Arc<Identity>, IdentityError>,
    key: Arc<KeySlot>,
}

impl Creator {
    /// When the creator's certificate expires (Unix seconds); `None` when it has none
    /// that parses (then, as in Fabric, it never expires).
    pub fn expires_at_unix(&self) -> Option<i64> {
        self.expires_at_unix
    }
}

#[derive(Debug, Default)]
struct KeySlot {
    uses: AtomicU32,
    table: OnceLock<signature::PrecomputedKey>,
}

impl AccessControl {
    /// Every org's TLS CA certificates (PEM), which mutual TLS trusts for clients.
    pub fn tls_cas_pem(&self) -> impl Iterator<Item = &Bytes> {
        self.msps.tls_cas_pem()
    }

    /// Reads every org's MSP and every policy of a channel's root config group.
    pub fn from_config(root: &ConfigGroup) -> Result<Self, String> {
        let mut msps = Vec::new();
        collect_msps(root, &mut msps, 0)?;
        Ok(Self {
            msps: MspManager::new(msps),
            policies: PolicyTree::from_config(root)?,
            identities: Mutex::new(HashMap::new()),
            key_tables: AtomicUsize::new(0),
        })
    }

    /// Whether `signed` satisfies `policy`, its creator seen as `creator` (from
    /// [`Self::creator`] on the same bytes). A refusal is FORBIDDEN, but a policy the
    /// channel does not define is BAD_REQUEST, as Fabric's `SigFilter` answers it (its
    /// "could not find policy" is not a permission error).
    pub fn authorize(
        &self,
        creator: &Creator,
        signed: &SignedData,
        policy: &str,
    ) -> Result<(), Rejection> {
        let forbidden = |why: String| Rejection::forbidden(format!("permission denied: {why}"));
        let policy_found = self
            .policies
            .get(policy)
            .ok_or_else(|| Rejection::bad_request(format!("could not find policy {policy}")))?;
        // Fabric evaluates the policy over the signatures; one that needs no signer is
        // met without looking at the creator at all.
        if policy_found.evaluate(&[]) {
            return Ok(());
        }
        let identity = creator
            .identity
            .as_ref()
            .map_err(|error| forbidden(error.to_string()))?;
        self.verify(identity, &creator.key, signed)
            .map_err(|error| forbidden(error.to_string()))?;
        if !policy_found.evaluate(&[identity]) {
            return Err(forbidden(format!(
                "{} of {} does not satisfy {policy}",
                identity.cert_subject_summary(),
                identity.msp_id
            )));
        }
        Ok(())
    }

    /// Whether the signatures `signed` satisfy `policy`, as Fabric evaluates a policy over
    /// a signature set (`common/cauthdsl/policy.go`, `cauthdsl.go`): each creator is
    /// deserialized with this channel's MSPs (one that does not deserialize is dropped),
    /// repeated identities are dropped after their first signature, and an identity
    /// counts only if its MSP validates it and its signature verifies. The refusal is
    /// worded as Fabric's ([`PolicyTree::evaluate_explained`]).
    pub fn evaluate_signed(&self, policy: &str, signed: &[SignedData]) -> Result<(), String> {
        if self.policies.get(policy).is_none() {
            return Err(format!("could not find policy {policy}"));
        }
        let mut seen = HashSet::new();
        let mut signers: Vec<Arc<Identity>> = Vec::new();
        for data in signed {
            // Fabric's DeserializeIdentity: a known MSP and a certificate that parses;
            // its deduplication key is the MSP ID and the certificate.
            let Ok(serialized) = SerializedIdentity::decode(data.creator.clone()) else {
                continue;
            };
            if self.msps.get(&serialized.mspid).is_none() {
                continue;
            }
            let Ok(cert) = Cert::from_pem(&serialized.id_bytes) else {
                continue;
            };
            if !seen.insert((serialized.mspid, cert.der)) {
                continue;
            }
            let creator = self.creator(&data.creator);
            if let Ok(identity) = &creator.identity
                && self.verify(identity, &creator.key, data).is_ok()
            {
                signers.push(Arc::clone(identity));
            }
        }
        let signers: Vec<&Identity> = signers.iter().map(|identity| &**identity).collect();
        self.policies.evaluate_explained(policy, &signers)
    }

    /// Verifies with the creator's key table when it has one, with ring otherwise; the
    /// use that reaches [`KEY_TABLE_AFTER_USES`] builds the table (other threads keep
    /// using ring meanwhile, nobody waits).
    fn verify(
        &self,
        identity: &Identity,
        key: &KeySlot,
        signed: &SignedData,
    ) -> Result<(), signature::SignatureError> {
        if let Some(table) = key.table.get() {
            return signature::verify_precomputed(table, &signed.payload, &signed.signature);
        }
        let public_key = &identity.cert.public_key;
        let result = signature::verify(public_key, &signed.payload, &signed.signature);
        if result.is_ok()
            && key.uses.fetch_add(1, Ordering::Relaxed) + 1 == KEY_TABLE_AFTER_USES
            && self.key_tables.fetch_add(1, Ordering::Relaxed) < KEY_TABLES_MAX
            && let Some(table) = signature::PrecomputedKey::from_sec1(public_key)
        {
            let _ = key.table.set(table);
        }
        result
    }

    /// The creator whose serialized identity is `bytes`, validated once per cache life.
    pub fn creator(&self, bytes: &Bytes) -> Creator {
        let mut cache = self.identities.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cached) = cache.get(bytes) {
            return cached.clone();
        }
        // Validation takes the lock's time for one creator only once per cache life.
        let deserialized = self.msps.deserialize_with_expiry(bytes);
        let creator = Creator {
            expires_at_unix: deserialized.expires_at_unix,
            identity: deserialized.identity.map(Arc::new),
            key: Arc::default(),
        };
        if cache.len() >= IDENTITY_CACHE_MAX {
            cache.clear();
            self.key_tables.store(0, Ordering::Relaxed);
        }
        cache.insert(bytes.clone(), creator.clone());
        creator
    }

    /// Key tables built since the identity cache was last emptied (for tests and
    /// metrics).
    pub fn key_tables(&self) -> usize {
        self.key_tables.load(Ordering::Relaxed).min(KEY_TABLES_MAX)
    }
}

impl Identity {
    /// A short description for `info` strings.
    fn cert_subject_summary(&self) -> String {
        format!("identity with OUs {:?}", self.cert.ous)
    }
}

/// Every `MSP` value in the tree, once per MSP ID (an org may sit in several groups).
fn collect_msps(group: &ConfigGroup, out: &mut Vec<Msp>, depth: usize) -> Result<(), String> {
    if depth > 8 {
        return Err("config groups nest too deep".into());
    }
    if let Some(value) = group.values.get("MSP") {
        let msp = Msp::from_config_value(&value.value)?;
        if !out.iter().any(|known| known.id == msp.id) {
            out.push(msp);
        }
    }
    let mut children: Vec<_> = group.groups.iter().collect();
    children.sort_by(|a, b| a.0.cmp(b.0));
    for (_, child) in children {
        collect_msps(child, out, depth + 1)?;
    }
    Ok(())
}
