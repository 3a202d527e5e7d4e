//! Fabric's X.509 MSP: an organisation's CAs, admins, revocation lists, OU identifiers and
//! NodeOUs; turning a `SerializedIdentity` into a validated [`Identity`]; and the
//! principals (MEMBER, ADMIN, CLIENT, PEER, ORDERER, OU, IDENTITY) it satisfies.
//!
//! As in Fabric, validation checks the chain to the org's root (through its intermediate
//! CAs), revocation and OUs, but not the validity window: expiry is checked per envelope
//! against the clock (Fabric's expiration filter answers BAD_REQUEST for it).

pub mod cert;
pub mod local;

use std::collections::HashMap;
use std::sync::Arc;

use orderer_proto::common::{MspPrincipal, MspRole, OrganizationUnit};
use orderer_proto::msp::{FabricMspConfig, FabricOuIdentifier, MspConfig, SerializedIdentity};
use prost::Message;
use sha2::{Digest, Sha256};

use cert::{Cert, Crl};

/// Longest certificate chain followed from an identity to a root.
const CHAIN_DEPTH_MAX: usize = 8;
/// `MSPConfig.type` of an X.509 (Fabric) MSP.
const MSP_TYPE_FABRIC: i32 = 0;

/// Why an identity is not accepted. All of these are "permission denied" (FORBIDDEN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The creator bytes are not a `SerializedIdentity` with a PEM certificate.
    #[error("creator is not a valid serialized identity: {0}")]
    Malformed(String),
    /// No MSP of this channel has that ID.
    #[error("MSP {0} is not defined on this channel")]
    UnknownMsp(String),
    /// The certificate does not chain to the MSP's CAs, is revoked, or misses OUs.
    #[error("identity is not valid for MSP {msp}: {reason}")]
    Invalid {
        /// The MSP.
        msp: String,
        /// What failed.
        reason: String,
    },
}

/// An identity that passed its MSP's validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Its MSP.
    pub msp_id: String,
    /// Its certificate.
    pub cert: Cert,
    /// SHA-256 over the DER of the chain above the certificate: Fabric's certifiers id.
    pub chain_id: Vec<u8>,
    /// Listed as an admin, or has the admin NodeOU.
    pub is_admin: bool,
    /// NodeOU role, when NodeOUs are enabled.
    pub node_role: Option<NodeRole>,
}

/// NodeOU classifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// `ClientOUIdentifier`.
    Client,
    /// `PeerOUIdentifier`.
    Peer,
    /// `AdminOUIdentifier`.
    Admin,
    /// `OrdererOUIdentifier`.
    Orderer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OuIdentifier {
    ou: String,
    /// Certifiers identifier; `None` accepts any issuer chain of the MSP.
    certifiers: Option<Vec<u8>>,
}

/// One organisation's MSP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msp {
    /// The MSP ID.
    pub id: String,
    roots: Vec<Cert>,
    intermediates: Vec<Cert>,
    admins: Vec<Vec<u8>>,
    crls: Vec<Crl>,
    ou_identifiers: Vec<OuIdentifier>,
    node_ous: Option<Vec<(NodeRole, OuIdentifier)>>,
    /// `tls_root_certs` and `tls_intermediate_certs` (PEM): under mutual TLS the orderer
    /// trusts client certificates they issued, as Fabric's orderer does.
    tls_cas_pem: Vec<bytes::Bytes>,
}

impl Msp {
    /// Reads an org's `MSP` config value (`MSPConfig` holding a `FabricMSPConfig`).
    pub fn from_config_value(bytes: &[u8]) -> Result<Self, String> {
        let config = MspConfig::decode(bytes).map_err(|e| format!("MSPConfig: {e}"))?;
        if config.r#type != MSP_TYPE_FABRIC {
            return Err(format!(
                "MSP type {} is not supported (only X.509)",
                config.r#type
            ));
        }
        let fabric =
            FabricMspConfig::decode(config.config).map_err(|e| format!("FabricMSPConfig: {e}"))?;
        Self::from_fabric_config(&fabric)
    }

    /// Builds the MSP from its configuration, checking the configuration as Fabric does.
    pub fn from_fabric_config(config: &FabricMspConfig) -> Result<Self, String> {
        let parse_all = |list: &[bytes::Bytes], what: &str| {
            list.iter()
                .map(|pem| Cert::from_pem(pem).map_err(|e| format!("{}: {what}: {e}", config.name)))
                .collect::<Result<Vec<_>, _>>()
        };
        let roots = parse_all(&config.root_certs, "root cert")?;
        if roots.is_empty() {
            return Err(format!(
                "{}: an MSP needs at least one root certificate",
                config.name
            ));
        }
        let intermediates = parse_all(&config.intermediate_certs, "intermediate cert")?;
        for (list, what) in [
            (&config.tls_root_certs, "TLS root cert"),
            (&config.tls_intermediate_certs, "TLS intermediate cert"),
        ] {
            for pem in list {
                cert::check_tls_ca_pem(pem).map_err(|e| format!("{}: {what}: {e}", config.name))?;
            }
        }
        let tls_cas_pem = config
            .tls_root_certs
            .iter()
            .chain(&config.tls_intermediate_certs)
            .cloned()
            .collect();
        let admins = parse_all(&config.admins, "admin cert")?
            .into_iter()
            .map(|c| c.der)
            .collect();
        let mut msp = Self {
            id: config.name.clone(),
            roots,
            intermediates,
            admins,
            crls: Vec::new(),
            ou_identifiers: Vec::new(),
            node_ous: None,
            tls_cas_pem,
        };
        for pem in &config.revocation_list {
            let crl = Crl::parse(pem).map_err(|e| format!("{}: revocation list: {e}", msp.id))?;
            if !msp.cas().any(|ca| crl.is_issued_by(ca)) {
                return Err(format!(
                    "{}: a revocation list is not signed by one of its CAs",
                    msp.id
                ));
            }
            msp.crls.push(crl);
        }
        for identifier in &config.organizational_unit_identifiers {
            let ou = msp.ou_identifier(identifier)?;
            msp.ou_identifiers.push(ou);
        }
        if let Some(node_ous) = config.fabric_node_ous.as_ref().filter(|n| n.enable) {
            let mut roles = Vec::new();
            for (role, identifier) in [
                (NodeRole::Client, &node_ous.client_ou_identifier),
                (NodeRole::Peer, &node_ous.peer_ou_identifier),
                (NodeRole::Admin, &node_ous.admin_ou_identifier),
                (NodeRole::Orderer, &node_ous.orderer_ou_identifier),
            ] {
                if let Some(identifier) = identifier {
                    roles.push((role, msp.ou_identifier(identifier)?));
                }
            }
            msp.node_ous = Some(roles);
        }
        Ok(msp)
    }

    fn cas(&self) -> impl Iterator<Item = &Cert> {
        self.roots.iter().chain(&self.intermediates)
    }

    fn ou_identifier(&self, identifier: &FabricOuIdentifier) -> Result<OuIdentifier, String> {
        let certifiers = if identifier.certificate.is_empty() {
            None
        } else {
            let ca = Cert::from_pem(&identifier.certificate)
                .map_err(|e| format!("{}: OU certificate: {e}", self.id))?;
            let chain = self
                .chain_from(&ca, true)
                .ok_or_else(|| format!("{}: OU certificate is not one of its CAs", self.id))?;
            Some(chain_hash(&chain))
        };
        Ok(OuIdentifier {
            ou: identifier.organizational_unit_identifier.clone(),
            certifiers,
        })
    }

    /// The chain from `cert` up to a root of this MSP (`cert` first). With `include_self`
    /// `cert` must itself be one of the CAs.
    fn chain_from<'a>(&'a self, cert: &'a Cert, include_self: bool) -> Option<Vec<&'a Cert>> {
        let mut chain = vec![cert];
        if include_self && !self.cas().any(|ca| ca.der == cert.der) {
            return None;
        }
        for _ in 0..CHAIN_DEPTH_MAX {
            let current = *chain.last()?;
            if self.roots.iter().any(|root| root.der == current.der) {
                return Some(chain);
            }
            let issuer = self
                .cas()
                .find(|ca| ca.der != current.der && current.is_issued_by(ca))?;
            chain.push(issuer);
        }
        None
    }

    /// Validates `cert` as an identity of this MSP.
    pub fn validate(&self, cert: Cert) -> Result<Identity, IdentityError> {
        let invalid = |reason: String| IdentityError::Invalid {
            msp: self.id.clone(),
            reason,
        };
        if cert.is_ca {
            return Err(invalid(
                "a CA certificate cannot be used as an identity".into(),
            ));
        }
        let chain = self
            .chain_from(&cert, false)
            .ok_or_else(|| invalid("the certificate does not chain to the MSP's CAs".into()))?;
        for pair in chain.windows(2) {
            if self.is_revoked(pair[0], pair[1]) {
                return Err(invalid("the certificate is revoked".into()));
            }
        }
        let chain_id = chain_hash(&chain[1..]);
        let has_ou = |wanted: &OuIdentifier| {
            cert.ous.contains(&wanted.ou)
                && wanted.certifiers.as_ref().is_none_or(|c| *c == chain_id)
        };
        if !self.ou_identifiers.is_empty() && !self.ou_identifiers.iter().any(has_ou) {
            return Err(invalid(format!(
                "none of its OUs {:?} is an OU of the MSP",
                cert.ous
            )));
        }
        let node_role = match &self.node_ous {
            None => None,
            Some(roles) => {
                let matched: Vec<NodeRole> = roles
                    .iter()
                    .filter(|(_, ou)| has_ou(ou))
                    .map(|(role, _)| *role)
                    .collect();
                match matched.as_slice() {
                    [role] => Some(*role),
                    _ => {
                        return Err(invalid(format!(
                            "it must have exactly one NodeOU role, has {matched:?}"
                        )));
                    }
                }
            }
        };
        let is_admin = node_role == Some(NodeRole::Admin) || self.admins.contains(&cert.der);
        Ok(Identity {
            msp_id: self.id.clone(),
            cert,
            chain_id,
            is_admin,
            node_role,
        })
    }

    fn is_revoked(&self, cert: &Cert, issuer: &Cert) -> bool {
        self.crls
            .iter()
            .any(|crl| crl.issuer == issuer.subject && crl.serials.contains(&cert.serial))
    }
}

fn chain_hash(chain: &[&Cert]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for cert in chain {
        hasher.update(&cert.der);
    }
    hasher.finalize().to_vec()
}

impl Identity {
    /// Whether this identity satisfies `principal` (Fabric's `SatisfiesPrincipal`).
    pub fn satisfies(&self, principal: &MspPrincipal) -> bool {
        use orderer_proto::common::msp_principal::Classification;
        use orderer_proto::common::msp_role::MspRoleType;
        match Classification::try_from(principal.principal_classification) {
            Ok(Classification::Role) => {
                let Ok(role) = MspRole::decode(principal.principal.clone()) else {
                    return false;
                };
                if role.msp_identifier != self.msp_id {
                    return false;
                }
                match MspRoleType::try_from(role.role) {
                    Ok(MspRoleType::Member) => true,
                    Ok(MspRoleType::Admin) => self.is_admin,
                    Ok(MspRoleType::Client) => self.node_role == Some(NodeRole::Client),
                    Ok(MspRoleType::Peer) => self.node_role == Some(NodeRole::Peer),
                    Ok(MspRoleType::Orderer) => self.node_role == Some(NodeRole::Orderer),
                    Err(_) => false,
                }
            }
            Ok(Classification::OrganizationUnit) => {
                let Ok(unit) = OrganizationUnit::decode(principal.principal.clone()) else {
                    return false;
                };
                unit.msp_identifier == self.msp_id
                    && self.cert.ous.contains(&unit.organizational_unit_identifier)
                    && unit.certifiers_identifier[..] == self.chain_id[..]
            }
            Ok(Classification::Identity) => SerializedIdentity::decode(principal.principal.clone())
                .ok()
                .and_then(|id| {
                    Cert::from_pem(&id.id_bytes)
                        .ok()
                        .map(|cert| (id.mspid, cert))
                })
                .is_some_and(|(msp_id, cert)| msp_id == self.msp_id && cert.der == self.cert.der),
            _ => false,
        }
    }
}

/// A creator's identity as its channel's MSPs see it, with its certificate's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deserialized {
    /// `NotAfter` (Unix seconds) of the creator's certificate, if it parses.
    pub expires_at_unix: Option<i64>,
    /// The validated identity, or why it is not one.
    pub identity: Result<Identity, IdentityError>,
}

/// The MSPs of one channel, by ID.
#[derive(Debug, Clone, Default)]
pub struct MspManager {
    msps: HashMap<String, Arc<Msp>>,
}

impl MspManager {
    /// A manager over `msps`.
    pub fn new(msps: impl IntoIterator<Item = Msp>) -> Self {
        Self {
            msps: msps
                .into_iter()
                .map(|msp| (msp.id.clone(), Arc::new(msp)))
                .collect(),
        }
    }

    /// The MSP with `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<Msp>> {
        self.msps.get(id)
    }

    /// Every org's TLS root and intermediate certificates (PEM).
    pub fn tls_cas_pem(&self) -> impl Iterator<Item = &bytes::Bytes> {
        self.msps.values().flat_map(|msp| msp.tls_cas_pem.iter())
    }

    /// Deserializes and validates a `SerializedIdentity`.
    pub fn deserialize(&self, creator: &[u8]) -> Result<Identity, IdentityError> {
        self.deserialize_with_expiry(creator).identity
    }

    /// [`Self::deserialize`], and when the certificate expires whether or not its MSP
    /// validates it (Fabric's `crypto.ExpiresAt` reads the certificate alone). The
    /// certificate is parsed once for both.
    pub fn deserialize_with_expiry(&self, creator: &[u8]) -> Deserialized {
        let serialized = match SerializedIdentity::decode(creator) {
            Ok(serialized) => serialized,
            Err(error) => {
                return Deserialized {
                    expires_at_unix: None,
                    identity: Err(IdentityError::Malformed(error.to_string())),
                };
            }
        };
        let cert = Cert::from_pem(&serialized.id_bytes);
        let expires_at_unix = cert.as_ref().ok().map(|cert| cert.not_after);
        let identity = match self.msps.get(&serialized.mspid) {
            None => Err(IdentityError::UnknownMsp(serialized.mspid)),
            Some(msp) => cert
                .map_err(IdentityError::Malformed)
                .and_then(|cert| msp.validate(cert)),
        };
        Deserialized {
            expires_at_unix,
            identity,
        }
    }
}
