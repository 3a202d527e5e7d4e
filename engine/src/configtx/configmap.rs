//! A config tree flattened into path-keyed elements and rebuilt from them: Fabric
//! v1.4.12's `common/configtx/configmap.go` (`mapConfig`, `recurseConfig`, `addToMap`,
//! `configMapToConfig`, `recurseConfigMap`) and the element accessors of `compare.go`.
//!
//! A key reads as Fabric prints it: `[Group]  /Channel/Application`,
//! `[Value]  /Channel/Orderer/BatchSize`, `[Policy] /Channel/Admins`. The map is ordered by
//! key, so everything that walks it (the read set, the delta set) goes in key order where
//! Go's map iteration is random.

use std::collections::BTreeMap;

use orderer_proto::common::{ConfigGroup, ConfigPolicy, ConfigValue};

/// The name of the root group in every path (Fabric's `channelconfig.RootGroupKey`).
pub(crate) const ROOT: &str = "Channel";

const GROUP_PREFIX: &str = "[Group]  ";
const VALUE_PREFIX: &str = "[Value]  ";
const POLICY_PREFIX: &str = "[Policy] ";
const SEPARATOR: &str = "/";

/// When the proposed config holds this key, elements with an empty `mod_policy` get
/// [`UPGRADED_MOD_POLICY`] (Fabric's `hackyFixOrdererCapabilities`).
const ORDERER_CAPABILITIES: &str = "[Value]  /Channel/Orderer/Capabilities";
/// Fabric's `hackyFixNewModPolicy`.
const UPGRADED_MOD_POLICY: &str = "Admins";

/// Longest config ID accepted (Fabric's `maxLength`).
pub(crate) const ID_LENGTH_MAX: usize = 249;

/// A config group without its children: what `configMapToConfig` takes from a group
/// element (the children come from their own elements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupShape {
    /// `ConfigGroup.version`.
    pub(crate) version: u64,
    /// `ConfigGroup.mod_policy`.
    pub(crate) mod_policy: String,
    /// Names of the child groups.
    pub(crate) groups: Vec<String>,
    /// Names of the values.
    pub(crate) values: Vec<String>,
    /// Names of the policies.
    pub(crate) policies: Vec<String>,
}

/// The element itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Element {
    /// A group (children by name only).
    Group(GroupShape),
    /// A value.
    Value(ConfigValue),
    /// A policy.
    Policy(ConfigPolicy),
}

/// One element of a config tree with where it sits: Fabric's `comparable`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparable {
    /// The element.
    pub(crate) element: Element,
    /// Its name in its parent (`Channel` for the root group).
    pub(crate) key: String,
    /// The names of the groups above it, root first (empty for the root group; for a
    /// value or policy, the path of the group holding it).
    pub(crate) path: Vec<String>,
}

impl Comparable {
    /// The element's version.
    pub(crate) fn version(&self) -> u64 {
        match &self.element {
            Element::Group(group) => group.version,
            Element::Value(value) => value.version,
            Element::Policy(policy) => policy.version,
        }
    }

    /// The element's `mod_policy`.
    pub(crate) fn mod_policy(&self) -> &str {
        match &self.element {
            Element::Group(group) => &group.mod_policy,
            Element::Value(value) => &value.mod_policy,
            Element::Policy(policy) => &policy.mod_policy,
        }
    }

    /// Whether the element is a group.
    pub(crate) fn is_group(&self) -> bool {
        matches!(self.element, Element::Group(_))
    }
}

/// A flattened config tree, by key.
pub(crate) type ConfigMap = BTreeMap<String, Comparable>;

/// Fabric's `validateConfigID`: 1 to 249 characters of `[a-zA-Z0-9.-]`, neither `.` nor
/// `..`.
pub(crate) fn validate_config_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("config ID illegal, cannot be empty".into());
    }
    if id.len() > ID_LENGTH_MAX {
        return Err(format!(
            "config ID illegal, cannot be longer than {ID_LENGTH_MAX}"
        ));
    }
    if id == "." || id == ".." {
        return Err(format!("name '{id}' for config ID is not allowed"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(format!("config ID '{id}' contains illegal characters"));
    }
    Ok(())
}

/// Deepest group nesting mapped (Fabric's deepest is 4: `/Channel/Consortiums/X/Org`).
const DEPTH_MAX: usize = 16;

/// Bytes of keys and paths one map may hold. Every element's key repeats its whole
/// path, so a small update of deep groups with long names would otherwise map to
/// gigabytes; real configs map to well under a megabyte.
pub(crate) const MAP_BYTES_MAX: usize = 16 << 20;

/// Fabric's `mapConfig`: every element of `group` (none when absent), the group itself
/// keyed `/{root}`. Refuses groups nested deeper than [`DEPTH_MAX`] and maps beyond
/// [`MAP_BYTES_MAX`], which Fabric does not bound.
pub(crate) fn map_config(group: Option<&ConfigGroup>, root: &str) -> Result<ConfigMap, String> {
    let mut map = ConfigMap::new();
    if let Some(group) = group {
        let mut budget = MAP_BYTES_MAX;
        recurse_config(&mut map, &[], root, group, &mut budget)?;
    }
    Ok(map)
}

/// Fabric's `recurseConfig`: the group at `path`/`key`, then its children.
fn recurse_config(
    map: &mut ConfigMap,
    path: &[String],
    key: &str,
    group: &ConfigGroup,
    budget: &mut usize,
) -> Result<(), String> {
    if path.len() >= DEPTH_MAX {
        return Err(format!("config groups nest deeper than {DEPTH_MAX} levels"));
    }
    let names = |keys: Vec<&String>| {
        let mut names: Vec<String> = keys.into_iter().cloned().collect();
        names.sort();
        names
    };
    let shape = GroupShape {
        version: group.version,
        mod_policy: group.mod_policy.clone(),
        groups: names(group.groups.keys().collect()),
        values: names(group.values.keys().collect()),
        policies: names(group.policies.keys().collect()),
    };
    add_to_map(map, Element::Group(shape), key, path, budget)?;
    let mut inner = path.to_vec();
    inner.push(key.to_owned());
    let mut children: Vec<_> = group.groups.iter().collect();
    children.sort_by(|a, b| a.0.cmp(b.0));
    for (name, child) in children {
        recurse_config(map, &inner, name, child, budget)?;
    }
    let mut values: Vec<_> = group.values.iter().collect();
    values.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in values {
        add_to_map(map, Element::Value(value.clone()), name, &inner, budget)?;
    }
    let mut policies: Vec<_> = group.policies.iter().collect();
    policies.sort_by(|a, b| a.0.cmp(b.0));
    for (name, policy) in policies {
        add_to_map(map, Element::Policy(policy.clone()), name, &inner, budget)?;
    }
    Ok(())
}

/// Fabric's `addToMap`. Its refusal of a bad name prints only the key's prefix, as
/// Fabric's does.
fn add_to_map(
    map: &mut ConfigMap,
    element: Element,
    key: &str,
    path: &[String],
    budget: &mut usize,
) -> Result<(), String> {
    // The full key and the element's copy of its path.
    let cost = 2 * (path.iter().map(|p| p.len() + 1).sum::<usize>() + key.len()) + 16;
    *budget = budget.checked_sub(cost).ok_or_else(|| {
        format!("config is too large: its elements' paths exceed {MAP_BYTES_MAX} bytes")
    })?;
    let prefix = match element {
        Element::Group(_) => GROUP_PREFIX,
        Element::Value(_) => VALUE_PREFIX,
        Element::Policy(_) => POLICY_PREFIX,
    };
    if validate_config_id(key).is_err() {
        return Err(format!("Illegal characters in key: {prefix}"));
    }
    let full = key_of(prefix, path, key);
    map.insert(
        full,
        Comparable {
            element,
            key: key.to_owned(),
            path: path.to_vec(),
        },
    );
    Ok(())
}

fn key_of(prefix: &str, path: &[String], key: &str) -> String {
    let mut full = String::from(prefix);
    for element in path {
        full.push_str(SEPARATOR);
        full.push_str(element);
    }
    full.push_str(SEPARATOR);
    full.push_str(key);
    full
}

/// The map key of the policy at absolute path `path` (`/Channel/Orderer/Admins`).
pub(crate) fn policy_key(path: &str) -> String {
    format!("{POLICY_PREFIX}{path}")
}

/// Fabric's `configMapToConfig`: the tree rooted at `/{root}`, each group with the
/// children its own element names, each child from its own element. Elements no group
/// names are dropped (that is how an update deletes). When the map holds the orderer's
/// `Capabilities` value, empty `mod_policy`s become `Admins`, as in Fabric.
pub(crate) fn config_map_to_config(map: &ConfigMap, root: &str) -> Result<ConfigGroup, String> {
    let upgrade = map.contains_key(ORDERER_CAPABILITIES);
    recurse_config_map(map, &format!("{SEPARATOR}{root}"), upgrade)
}

/// Fabric's `recurseConfigMap`.
fn recurse_config_map(map: &ConfigMap, path: &str, upgrade: bool) -> Result<ConfigGroup, String> {
    let group_key = format!("{GROUP_PREFIX}{path}");
    let element = map
        .get(&group_key)
        .ok_or_else(|| format!("Missing group at path: {group_key}"))?;
    let Element::Group(shape) = &element.element else {
        return Err(format!("ConfigGroup not found at group path: {group_key}"));
    };
    let mut group = ConfigGroup {
        version: shape.version,
        mod_policy: shape.mod_policy.clone(),
        ..ConfigGroup::default()
    };
    for name in &shape.groups {
        let child = recurse_config_map(map, &format!("{path}{SEPARATOR}{name}"), upgrade)?;
        group.groups.insert(name.clone(), child);
    }
    for name in &shape.values {
        let value_key = format!("{VALUE_PREFIX}{path}{SEPARATOR}{name}");
        let value = map
            .get(&value_key)
            .ok_or_else(|| format!("Missing value at path: {value_key}"))?;
        let Element::Value(value) = &value.element else {
            return Err(format!("ConfigValue not found at value path: {value_key}"));
        };
        group.values.insert(name.clone(), value.clone());
    }
    for name in &shape.policies {
        let policy_key = format!("{POLICY_PREFIX}{path}{SEPARATOR}{name}");
        let policy = map
            .get(&policy_key)
            .ok_or_else(|| format!("Missing policy at path: {policy_key}"))?;
        let Element::Policy(policy) = &policy.element else {
            return Err(format!(
                "ConfigPolicy not found at policy path: {policy_key}"
            ));
        };
        group.policies.insert(name.clone(), policy.clone());
    }
    if upgrade {
        upgrade_mod_policies(&mut group);
    }
    Ok(group)
}

/// The group's own, its values' and its policies' empty `mod_policy`s become `Admins`
/// (child groups had theirs upgraded when they were built).
fn upgrade_mod_policies(group: &mut ConfigGroup) {
    let upgrade = |mod_policy: &mut String| {
        if mod_policy.is_empty() {
            UPGRADED_MOD_POLICY.clone_into(mod_policy);
        }
    };
    upgrade(&mut group.mod_policy);
    for value in group.values.values_mut() {
        upgrade(&mut value.mod_policy);
    }
    for policy in group.policies.values_mut() {
        upgrade(&mut policy.mod_policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConfigGroup {
        let mut orderer = ConfigGroup {
            version: 2,
            mod_policy: "Admins".into(),
            ..ConfigGroup::default()
        };
        orderer.values.insert(
            "BatchSize".into(),
            ConfigValue {
                version: 1,
                value: bytes::Bytes::from_static(b"\x08\x0a"),
                mod_policy: "Admins".into(),
            },
        );
        orderer.policies.insert(
            "Admins".into(),
            ConfigPolicy {
                version: 0,
                policy: None,
                mod_policy: String::new(),
            },
        );
        let mut root = ConfigGroup::default();
        root.groups.insert("Orderer".into(), orderer);
        root
    }

    #[test]
    fn keys_read_as_fabric_prints_them_and_the_tree_rebuilds() {
        let root = sample();
        let map = map_config(Some(&root), ROOT).unwrap();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "[Group]  /Channel",
                "[Group]  /Channel/Orderer",
                "[Policy] /Channel/Orderer/Admins",
                "[Value]  /Channel/Orderer/BatchSize",
            ]
        );
        let batch_size = &map["[Value]  /Channel/Orderer/BatchSize"];
        assert_eq!(batch_size.path, ["Channel", "Orderer"]);
        assert_eq!(batch_size.key, "BatchSize");
        assert_eq!(map["[Group]  /Channel"].path, Vec::<String>::new());
        assert_eq!(config_map_to_config(&map, ROOT).unwrap(), root);
    }

    #[test]
    fn orderer_capabilities_upgrade_empty_mod_policies() {
        let mut root = sample();
        let orderer = root.groups.get_mut("Orderer").unwrap();
        orderer
            .values
            .insert("Capabilities".into(), ConfigValue::default());
        let map = map_config(Some(&root), ROOT).unwrap();
        let rebuilt = config_map_to_config(&map, ROOT).unwrap();
        assert_eq!(rebuilt.mod_policy, "Admins");
        let orderer = &rebuilt.groups["Orderer"];
        assert_eq!(orderer.values["Capabilities"].mod_policy, "Admins");
        assert_eq!(orderer.policies["Admins"].mod_policy, "Admins");
    }

    #[test]
    fn bad_names_are_refused_with_the_prefix_only() {
        let mut root = sample();
        root.values.insert("a/b".into(), ConfigValue::default());
        assert_eq!(
            map_config(Some(&root), ROOT).unwrap_err(),
            "Illegal characters in key: [Value]  "
        );
        assert!(validate_config_id(&"a".repeat(249)).is_ok());
        assert_eq!(
            validate_config_id(&"a".repeat(250)).unwrap_err(),
            "config ID illegal, cannot be longer than 249"
        );
        assert_eq!(
            validate_config_id("..").unwrap_err(),
            "name '..' for config ID is not allowed"
        );
        assert_eq!(
            validate_config_id("").unwrap_err(),
            "config ID illegal, cannot be empty"
        );
    }
}
