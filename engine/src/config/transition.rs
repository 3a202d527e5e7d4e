//! What a new config must keep of the one it replaces, and what it may switch on, as
//! Fabric's `ChainSupport.ProposeConfigUpdate` checks before it accepts an update:
//! `Bundle.ValidateNew` (common/channelconfig/bundle.go) and `checkResources`
//! (orderer/common/multichannel/chainsupport.go), which refuses capabilities this
//! orderer does not have.

use std::collections::BTreeMap;

use super::{Capabilities, ChannelTree, Entry, MspDefinition, OrgConfig};

/// The Orderer and Channel capabilities this orderer implements (Fabric v2.5's lists: a
/// config that requires another stops at the update, not at the block).
const CHANNEL_CAPABILITIES: &[&str] = &["V1_1", "V1_3", "V1_4_2", "V1_4_3", "V2_0"];
const ORDERER_CAPABILITIES: &[&str] = &["V1_1", "V1_4_2", "V2_0"];

/// Fabric's `ValidateNew`: the consensus type stays (this orderer does not migrate), and
/// an org present in both keeps its MSP ID; a section the current config has stays, and
/// a channel without consortiums does not gain them (it would become a system channel).
pub fn validate_new(current: &ChannelTree, next: &ChannelTree) -> Result<(), String> {
    if let Some(orderer) = &current.orderer {
        let next_orderer = next
            .orderer
            .as_ref()
            .ok_or("current config has orderer section, but new config does not")?;
        let kind = |o: &super::OrdererConfig| {
            o.consensus_type
                .as_ref()
                .map(|entry| entry.value.kind.clone())
                .unwrap_or_default()
        };
        if kind(orderer) != kind(next_orderer) {
            return Err(format!(
                "attempted to change consensus type from {} to {}",
                kind(orderer),
                kind(next_orderer)
            ));
        }
        same_msp_ids("orderer", &orderer.orgs, &next_orderer.orgs)?;
    }
    if let Some(application) = &current.application {
        let next_application = next
            .application
            .as_ref()
            .ok_or("current config has application section, but new config does not")?;
        same_msp_ids("application", &application.orgs, &next_application.orgs)?;
    }
    if current.consortiums.is_none() && next.consortiums.is_some() {
        return Err("current config has no consortiums section, but new config does".into());
    }
    if let Some(consortiums) = &current.consortiums {
        let next_consortiums = next
            .consortiums
            .as_ref()
            .ok_or("current config has consortiums section, but new config does not")?;
        for (name, consortium) in &consortiums.consortiums {
            if let Some(next_consortium) = next_consortiums.consortiums.get(name) {
                same_msp_ids(
                    &format!("consortium {name}"),
                    &consortium.orgs,
                    &next_consortium.orgs,
                )?;
            }
        }
    }
    Ok(())
}

fn msp_id(org: &OrgConfig) -> &str {
    match org.msp.as_ref().map(|entry| &entry.value) {
        Some(MspDefinition::Fabric(config)) => &config.name,
        Some(MspDefinition::Idemix(config)) => &config.name,
        None => "",
    }
}

fn same_msp_ids(
    section: &str,
    current: &BTreeMap<String, OrgConfig>,
    next: &BTreeMap<String, OrgConfig>,
) -> Result<(), String> {
    for (name, org) in current {
        if let Some(next_org) = next.get(name)
            && msp_id(org) != msp_id(next_org)
        {
            return Err(format!(
                "{section} org {name} attempted to change MSP ID from {} to {}",
                msp_id(org),
                msp_id(next_org)
            ));
        }
    }
    Ok(())
}

/// A capability level: its name in Fabric's two messages, what the config switches on
/// there, what this orderer has.
type Level<'a> = (
    &'static str,
    &'static str,
    Option<&'a Entry<Capabilities>>,
    &'static [&'static str],
);

/// A capability this orderer lacks: Fabric's `Supported()` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// `orderer` or `channel`.
    pub level: &'static str,
    /// "Orderer capability V9_9 is required but not supported".
    pub message: String,
}

/// Fabric's `checkResources`: every Orderer, then Channel capability the config switches
/// on is one this orderer has (Application capabilities are the peers' business).
pub fn check_capabilities(tree: &ChannelTree) -> Result<(), Unsupported> {
    let levels: [Level<'_>; 2] = [
        (
            "orderer",
            "Orderer",
            tree.orderer.as_ref().and_then(|o| o.capabilities.as_ref()),
            ORDERER_CAPABILITIES,
        ),
        (
            "channel",
            "Channel",
            tree.capabilities.as_ref(),
            CHANNEL_CAPABILITIES,
        ),
    ];
    for (level, kind, capabilities, known) in levels {
        let mut names: Vec<&String> = capabilities.iter().flat_map(|entry| &entry.value).collect();
        names.sort();
        if let Some(name) = names
            .into_iter()
            .find(|name| !known.contains(&name.as_str()))
        {
            return Err(Unsupported {
                level,
                message: format!("{kind} capability {name} is required but not supported"),
            });
        }
    }
    Ok(())
}
