//! The summary of a `configtxgen -inspectBlock` JSON dump, line for line as
//! `tree_summary` makes it from the typed tree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use engine::config::GoDuration;
use serde_json::Value;

use super::Summary;

/// A JSON number, or a decimal string (how uint64 fields are dumped); null is 0.
pub fn num(value: &Value) -> u64 {
    match value {
        Value::Null => 0,
        Value::Number(n) => n.as_u64().expect("a non-negative integer"),
        Value::String(s) => s.parse().expect("a decimal string"),
        other => panic!("not a number: {other}"),
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(text).collect())
        .unwrap_or_default()
}

fn entries(value: &Value) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = value
        .as_object()
        .map(|map| map.iter().collect())
        .unwrap_or_default();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn meta_line(element: &Value) -> String {
    format!(
        "v{} mod={}",
        num(&element["version"]),
        text(&element["mod_policy"])
    )
}

fn rule_line(rule: &Value) -> String {
    if rule.is_null() {
        return "none".into();
    }
    if let Some(index) = rule.get("signed_by") {
        return num(index).to_string();
    }
    let n_out_of = &rule["n_out_of"];
    let rules: Vec<String> = n_out_of["rules"]
        .as_array()
        .map(|rules| rules.iter().map(rule_line).collect())
        .unwrap_or_default();
    format!("OutOf({},[{}])", num(&n_out_of["n"]), rules.join(","))
}

/// A dumped `common.Policy`, as `policy_line` writes a decoded one.
pub fn policy_line(policy: &Value) -> String {
    let value = &policy["value"];
    match num(&policy["type"]) {
        3 => format!(
            "IMPLICIT_META {} {}",
            text(&value["rule"]),
            text(&value["sub_policy"])
        ),
        1 => {
            let principals: Vec<String> = value["identities"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .map(|id| {
                            assert_eq!(id["principal_classification"], "ROLE");
                            let role = &id["principal"];
                            format!("{}.{}", text(&role["msp_identifier"]), text(&role["role"]))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let version = num(&value["version"]);
            let rule = rule_line(&value["rule"]);
            format!("SIGNATURE v{version} {rule} [{}]", principals.join(","))
        }
        other => panic!("the vectors hold no policy of type {other}"),
    }
}

fn list(value: &Value) -> String {
    format!("[{}]", texts(value).join(","))
}

fn msp_line(msp: &Value) -> String {
    let config = &msp["config"];
    let ous: Vec<String> = config["organizational_unit_identifiers"]
        .as_array()
        .map(|ous| {
            ous.iter()
                .map(|ou| {
                    let id = text(&ou["organizational_unit_identifier"]);
                    format!("{id}:{}", text(&ou["certificate"]))
                })
                .collect()
        })
        .unwrap_or_default();
    let crypto = &config["crypto_config"];
    let crypto = if crypto.is_null() {
        String::new()
    } else {
        let family = text(&crypto["signature_hash_family"]);
        format!(
            "{family}/{}",
            text(&crypto["identity_identifier_hash_function"])
        )
    };
    let node_ous = config["fabric_node_ous"]
        .as_object()
        .map(|n| n.get("enable").and_then(Value::as_bool).unwrap_or(false));
    format!(
        "type={} name={} roots={} inters={} admins={} crls={} ous=[{}] crypto={crypto} \
         tls_roots={} tls_inters={} node_ous={node_ous:?} signer={}",
        num(&msp["type"]),
        text(&config["name"]),
        list(&config["root_certs"]),
        list(&config["intermediate_certs"]),
        list(&config["admins"]),
        list(&config["revocation_list"]),
        ous.join(","),
        list(&config["tls_root_certs"]),
        list(&config["tls_intermediate_certs"]),
        !config["signing_identity"].is_null(),
    )
}

fn consensus_line(value: &Value) -> String {
    let metadata = STANDARD
        .decode(text(&value["metadata"]))
        .expect("metadata is base64");
    let state = match &value["state"] {
        Value::Null => "STATE_NORMAL".to_string(),
        state => text(state),
    };
    format!(
        "{} {state} metadata={}",
        text(&value["type"]),
        metadata.len()
    )
}

fn value_line(key: &str, value: &Value) -> String {
    match key {
        "HashingAlgorithm" | "Consortium" => text(&value["name"]),
        "BlockDataHashingStructure" => num(&value["width"]).to_string(),
        "OrdererAddresses" | "Endpoints" => texts(&value["addresses"]).join(","),
        "KafkaBrokers" => texts(&value["brokers"]).join(","),
        "Capabilities" => {
            let names: Vec<&str> = entries(&value["capabilities"])
                .into_iter()
                .map(|(k, _)| k.as_str())
                .collect();
            names.join(",")
        }
        "BatchSize" => format!(
            "{} {} {}",
            num(&value["max_message_count"]),
            num(&value["absolute_max_bytes"]),
            num(&value["preferred_max_bytes"])
        ),
        "BatchTimeout" => {
            let timeout: GoDuration = text(&value["timeout"]).parse().expect("a Go duration");
            format!("{:?}", timeout.0)
        }
        "ChannelRestrictions" => num(&value["max_count"]).to_string(),
        "ConsensusType" => consensus_line(value),
        "MSP" => msp_line(value),
        "AnchorPeers" => {
            let peers: Vec<String> = value["anchor_peers"]
                .as_array()
                .map(|peers| {
                    let peer = |p: &Value| format!("{}:{}", text(&p["host"]), num(&p["port"]));
                    peers.iter().map(peer).collect()
                })
                .unwrap_or_default();
            peers.join(",")
        }
        "ACLs" => {
            let acls: Vec<String> = entries(&value["acls"])
                .into_iter()
                .map(|(resource, api)| format!("{resource}={}", text(&api["policy_ref"])))
                .collect();
            acls.join(",")
        }
        "ChannelCreationPolicy" => policy_line(value),
        other => panic!("the vectors hold no value {other}"),
    }
}

fn walk(out: &mut Summary, path: &str, group: &Value) {
    out.insert(format!("group {path}"), meta_line(group));
    for (name, policy) in entries(&group["policies"]) {
        let line = format!("{} | {}", meta_line(policy), policy_line(&policy["policy"]));
        out.insert(format!("policy {path}/{name}"), line);
    }
    for (key, value) in entries(&group["values"]) {
        let line = format!(
            "{} | {}",
            meta_line(value),
            value_line(key, &value["value"])
        );
        out.insert(format!("value {path}/{key}"), line);
    }
    for (name, child) in entries(&group["groups"]) {
        walk(out, &format!("{path}/{name}"), child);
    }
}

/// The config envelope of a dumped genesis block.
pub fn config_of(dump: &Value) -> &Value {
    &dump["data"]["data"][0]["payload"]["data"]["config"]
}

/// The channel ID in a dumped genesis block's channel header.
pub fn channel_id_of(dump: &Value) -> String {
    text(&dump["data"]["data"][0]["payload"]["header"]["channel_header"]["channel_id"])
}

/// Every group, value and policy of a dumped genesis block's `/Channel` group.
pub fn json_summary(dump: &Value) -> Summary {
    let mut out = Summary::new();
    walk(&mut out, "/Channel", &config_of(dump)["channel_group"]);
    out
}
