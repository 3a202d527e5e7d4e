//! An organization's group: its MSP, its policies, and the values its parent allows
//! (`Endpoints` under Orderer, `AnchorPeers` under Application).

use orderer_proto::common::{ConfigGroup, ConfigValue, OrdererAddresses};
use orderer_proto::msp::{FabricMspConfig, IdemixMspConfig, MspConfig};
use orderer_proto::protos::{AnchorPeer, AnchorPeers};
use prost::Message;

use super::entry::{Entry, Meta, decode_value, group_meta, no_sub_groups, read_values};
use super::policies::{Policies, group_policies};
use crate::error::Error;

/// `MSPConfig.type` of an X.509 MSP (Fabric's `msp.FABRIC`).
pub const MSP_TYPE_FABRIC: i32 = 0;
/// `MSPConfig.type` of an identity-mixer MSP (Fabric's `msp.IDEMIX`).
pub const MSP_TYPE_IDEMIX: i32 = 1;

/// The group an org sits in, which decides the values it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    /// Under `/Channel/Orderer`: `MSP`, `Endpoints` (common/channelconfig/orderer.go).
    Orderer,
    /// Under `/Channel/Application`: `MSP`, `AnchorPeers`
    /// (common/channelconfig/applicationorg.go).
    Application,
    /// Under `/Channel/Consortiums/<consortium>`: `MSP` only
    /// (common/channelconfig/organization.go).
    Consortium,
}

impl OrgKind {
    fn allowed_values(self) -> &'static [&'static str] {
        match self {
            Self::Orderer => &["Endpoints", "MSP"],
            Self::Application => &["AnchorPeers", "MSP"],
            Self::Consortium => &["MSP"],
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Orderer => "an orderer org",
            Self::Application => "an application org",
            Self::Consortium => "a consortium org",
        }
    }
}

/// An org's `MSP` value: the `msp.MSPConfig`, with its `config` decoded by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum MspDefinition {
    /// Type `FABRIC` (0): an X.509 MSP.
    Fabric(Box<FabricMspConfig>),
    /// Type `IDEMIX` (1): an identity-mixer MSP.
    Idemix(Box<IdemixMspConfig>),
}

impl MspDefinition {
    /// Decodes an `MSPConfig`. Types other than FABRIC and IDEMIX are refused, as
    /// Fabric's `ProposeMSP` refuses them ("unsupported msp type",
    /// common/channelconfig/msp.go).
    pub fn decode(path: &str, config: &MspConfig) -> Result<Self, Error> {
        let cannot = |type_name: &str, e: prost::DecodeError| {
            Error::Config(format!("{path}: cannot decode {type_name}: {e}"))
        };
        match config.r#type {
            MSP_TYPE_FABRIC => FabricMspConfig::decode(&config.config[..])
                .map(|config| Self::Fabric(Box::new(config)))
                .map_err(|e| cannot("FabricMSPConfig", e)),
            MSP_TYPE_IDEMIX => IdemixMspConfig::decode(&config.config[..])
                .map(|config| Self::Idemix(Box::new(config)))
                .map_err(|e| cannot("IdemixMSPConfig", e)),
            other => Err(Error::Config(format!(
                "{path}: unsupported MSP type {other}"
            ))),
        }
    }

    /// `MSPConfig.type`.
    pub fn msp_type(&self) -> i32 {
        match self {
            Self::Fabric(_) => MSP_TYPE_FABRIC,
            Self::Idemix(_) => MSP_TYPE_IDEMIX,
        }
    }

    /// The MSP ID: the config's `name`.
    pub fn msp_id(&self) -> &str {
        match self {
            Self::Fabric(config) => &config.name,
            Self::Idemix(config) => &config.name,
        }
    }
}

/// An organization of the Orderer group, the Application group or a consortium.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgConfig {
    /// The group's name (by convention, not necessarily, the MSP ID).
    pub name: String,
    /// The group's version and modification policy.
    pub meta: Meta,
    /// The org's policies (usually Readers, Writers, Admins; Endorsement in v2.x).
    pub policies: Policies,
    /// `MSP`.
    pub msp: Option<Entry<MspDefinition>>,
    /// `Endpoints` (orderer orgs only): the addresses of the org's orderers.
    pub endpoints: Option<Entry<Vec<String>>>,
    /// `AnchorPeers` (application orgs only).
    pub anchor_peers: Option<Entry<Vec<AnchorPeer>>>,
}

impl OrgConfig {
    /// Reads the org group `name` at `path`. Orgs have no sub-groups and only the values
    /// of their `kind`; anything else is refused, as Fabric refuses it.
    pub fn from_group(
        path: &str,
        name: &str,
        group: &ConfigGroup,
        kind: OrgKind,
    ) -> Result<Self, Error> {
        no_sub_groups(path, group, kind.description())?;
        let mut org = Self {
            name: name.to_owned(),
            meta: group_meta(group),
            policies: group_policies(path, group)?,
            msp: None,
            endpoints: None,
            anchor_peers: None,
        };
        read_values(path, group, kind.allowed_values(), |key, at, value| {
            org.read_value(key, at, value)
        })?;
        Ok(org)
    }

    fn read_value(&mut self, key: &str, at: &str, value: &ConfigValue) -> Result<(), Error> {
        match key {
            "MSP" => {
                let entry = decode_value::<MspConfig>(at, value, "MSPConfig")?;
                self.msp = Some(entry.try_map(|config| MspDefinition::decode(at, &config))?);
            }
            "Endpoints" => {
                let entry = decode_value::<OrdererAddresses>(at, value, "OrdererAddresses")?;
                self.endpoints = Some(entry.map(|value| value.addresses));
            }
            "AnchorPeers" => {
                let entry = decode_value::<AnchorPeers>(at, value, "AnchorPeers")?;
                self.anchor_peers = Some(entry.map(|value| value.anchor_peers));
            }
            _ => {}
        }
        Ok(())
    }

    /// The MSP ID of the org's MSP, if it has one.
    pub fn msp_id(&self) -> Option<&str> {
        self.msp.as_ref().map(|msp| msp.value.msp_id())
    }
}
