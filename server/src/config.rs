//! The orderer's configuration, under Fabric's `orderer.yaml` key names. Every key can be
//! set by an `ORDERER_<SECTION>_<KEY>` environment variable, as in Fabric.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::error::Error;

/// Fabric's default ledger location.
const FILE_LEDGER_LOCATION_DEFAULT: &str = "/var/hyperledger/production/orderer";
/// Fabric's default listen address and port.
const LISTEN_ADDRESS_DEFAULT: &str = "127.0.0.1";
const LISTEN_PORT_DEFAULT: u16 = 7050;
/// Fabric's sample default local MSP ID.
const LOCAL_MSP_ID_DEFAULT: &str = "SampleOrg";

/// `General` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// `General.ListenAddress`.
    pub listen_address: IpAddr,
    /// `General.ListenPort`; 0 picks a free port (logged at start).
    pub listen_port: u16,
    /// `General.BootstrapMethod`: `file` or `none`.
    pub bootstrap_method: BootstrapMethod,
    /// `General.BootstrapFile` (older name: `General.GenesisFile`).
    pub bootstrap_file: Option<PathBuf>,
    /// `General.LocalMSPDir`: the orderer's own MSP, which signs every block. Unset, blocks
    /// are cut unsigned.
    pub local_msp_dir: Option<PathBuf>,
    /// `General.LocalMSPID`.
    pub local_msp_id: String,
}

/// How the first channel is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapMethod {
    /// From the genesis block in `General.BootstrapFile`, unless the ledger has it already.
    File,
    /// From the ledger only.
    None,
}

/// `FileLedger` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLedger {
    /// `FileLedger.Location`: the ledger directory.
    pub location: PathBuf,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `General`.
    pub general: General,
    /// `FileLedger`.
    pub file_ledger: FileLedger,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            general: General {
                listen_address: LISTEN_ADDRESS_DEFAULT
                    .parse()
                    .expect("valid default address"),
                listen_port: LISTEN_PORT_DEFAULT,
                bootstrap_method: BootstrapMethod::File,
                bootstrap_file: None,
                local_msp_dir: None,
                local_msp_id: LOCAL_MSP_ID_DEFAULT.into(),
            },
            file_ledger: FileLedger {
                location: PathBuf::from(FILE_LEDGER_LOCATION_DEFAULT),
            },
        }
    }
}

/// The environment variables this orderer reads, with the key each one sets.
const ENV_KEYS: &[(&str, &str)] = &[
    ("ORDERER_GENERAL_LISTENADDRESS", "General.ListenAddress"),
    ("ORDERER_GENERAL_LISTENPORT", "General.ListenPort"),
    ("ORDERER_GENERAL_BOOTSTRAPMETHOD", "General.BootstrapMethod"),
    ("ORDERER_GENERAL_BOOTSTRAPFILE", "General.BootstrapFile"),
    ("ORDERER_GENERAL_GENESISFILE", "General.GenesisFile"),
    ("ORDERER_GENERAL_LOCALMSPDIR", "General.LocalMSPDir"),
    ("ORDERER_GENERAL_LOCALMSPID", "General.LocalMSPID"),
    ("ORDERER_FILELEDGER_LOCATION", "FileLedger.Location"),
];

impl Config {
    /// Applies `ORDERER_*` variables from `vars` over `self`. An invalid value is an
    /// error naming the key; an `ORDERER_*` variable this orderer does not know is
    /// returned so the caller can warn about it.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<String>, Error> {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with("ORDERER_"))
            .collect();
        let unknown = vars
            .keys()
            .filter(|name| !ENV_KEYS.iter().any(|(known, _)| known == name))
            .cloned()
            .collect();
        // GenesisFile first, so BootstrapFile wins when both are set.
        for (name, key) in ENV_KEYS.iter().rev() {
            if let Some(value) = vars.get(*name) {
                self.set(key, value)
                    .map_err(|why| Error::Config(format!("{key} ({name}={value:?}): {why}")))?;
            }
        }
        Ok(unknown)
    }

    /// Sets one key by its Fabric name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "General.ListenAddress" => {
                self.general.listen_address =
                    value.parse().map_err(|_| "not an IP address".to_string())?;
            }
            "General.ListenPort" => {
                self.general.listen_port = value
                    .parse()
                    .map_err(|_| "not a port number (0-65535)".to_string())?;
            }
            "General.BootstrapMethod" => {
                self.general.bootstrap_method = match value {
                    "file" => BootstrapMethod::File,
                    "none" => BootstrapMethod::None,
                    _ => return Err("must be \"file\" or \"none\"".into()),
                };
            }
            "General.BootstrapFile" | "General.GenesisFile" => {
                self.general.bootstrap_file = (!value.is_empty()).then(|| PathBuf::from(value));
            }
            "General.LocalMSPDir" => {
                self.general.local_msp_dir = (!value.is_empty()).then(|| PathBuf::from(value));
            }
            "General.LocalMSPID" => {
                if value.is_empty() {
                    return Err("must not be empty".into());
                }
                self.general.local_msp_id = value.to_string();
            }
            "FileLedger.Location" => {
                if value.is_empty() {
                    return Err("must not be empty".into());
                }
                self.file_ledger.location = PathBuf::from(value);
            }
            _ => return Err("unknown key".into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn fabric_environment_names_override_defaults() {
        let mut config = Config::default();
        let unknown = config
            .apply_env(env(&[
                ("ORDERER_GENERAL_LISTENPORT", "7060"),
                ("ORDERER_GENERAL_GENESISFILE", "/old.block"),
                ("ORDERER_FILELEDGER_LOCATION", "/tmp/ledger"),
                ("ORDERER_GENERAL_TLS_ENABLED", "false"),
                ("PATH", "/bin"),
            ]))
            .unwrap();
        assert_eq!(config.general.listen_port, 7060);
        assert_eq!(
            config.general.bootstrap_file,
            Some(PathBuf::from("/old.block"))
        );
        assert_eq!(config.file_ledger.location, PathBuf::from("/tmp/ledger"));
        assert_eq!(unknown, vec!["ORDERER_GENERAL_TLS_ENABLED".to_string()]);
    }

    #[test]
    fn bootstrap_file_wins_over_the_older_genesis_file() {
        let mut config = Config::default();
        config
            .apply_env(env(&[
                ("ORDERER_GENERAL_GENESISFILE", "/old.block"),
                ("ORDERER_GENERAL_BOOTSTRAPFILE", "/new.block"),
            ]))
            .unwrap();
        assert_eq!(
            config.general.bootstrap_file,
            Some(PathBuf::from("/new.block"))
        );
    }

    #[test]
    fn invalid_values_name_their_key() {
        let error = Config::default()
            .apply_env(env(&[("ORDERER_GENERAL_LISTENPORT", "seventy")]))
            .unwrap_err();
        assert!(error.to_string().contains("General.ListenPort"), "{error}");
    }
}
