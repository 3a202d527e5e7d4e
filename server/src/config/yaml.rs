//! `orderer.yaml` read into `(key, value)` pairs: nested mappings become dotted keys
//! (`General.TLS.Enabled`), lists of scalars become comma-separated values, an empty
//! value is the empty string.

use yaml_rust2::{Yaml, YamlLoader};

/// Deepest nesting read: Fabric's keys are at most four deep; free-form sections a few
/// more.
const DEPTH_MAX: usize = 16;

/// The pairs of the YAML document `text`, in document order.
pub fn flatten(text: &str) -> Result<Vec<(String, String)>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let mut pairs = Vec::new();
    match documents.first() {
        None | Some(Yaml::Null) => {}
        Some(root @ Yaml::Hash(_)) => walk(root, "", &mut pairs, 0)?,
        Some(_) => return Err("the top level must be a mapping of sections".into()),
    }
    Ok(pairs)
}

fn walk(
    node: &Yaml,
    path: &str,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), String> {
    if depth > DEPTH_MAX {
        return Err(format!("{path}: nested too deep"));
    }
    match node {
        Yaml::Hash(map) => {
            for (key, value) in map {
                let key = scalar(key).ok_or_else(|| format!("{path}: a key is not a scalar"))?;
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(value, &child, out, depth + 1)?;
            }
        }
        Yaml::Array(items) => {
            let values = items
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| format!("{path}: list items must be scalars"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push((path.to_string(), values.join(",")));
        }
        other => {
            let value = scalar(other).ok_or_else(|| format!("{path}: unsupported YAML value"))?;
            out.push((path.to_string(), value));
        }
    }
    Ok(())
}

fn scalar(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_lists_and_empty_values_flatten() {
        let pairs = flatten(
            "General:\n  ListenPort: 7050\n  TLS:\n    Enabled: false\n    RootCAs:\n      - a.crt\n      - b.crt\n    ClientRootCAs:\nFileLedger:\n  Location: /x\n",
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("General.ListenPort", "7050"),
                ("General.TLS.Enabled", "false"),
                ("General.TLS.RootCAs", "a.crt,b.crt"),
                ("General.TLS.ClientRootCAs", ""),
                ("FileLedger.Location", "/x"),
            ]
        );
        assert!(flatten("- just\n- a list\n").is_err());
        assert!(flatten("General: [unclosed\n").is_err());
    }
}
