//! The orderer's configuration, under Fabric's `orderer.yaml` key names. Every key can be
//! set by an `ORDERER_<SECTION>_<KEY>` environment variable, as in Fabric.

mod grpc;
mod kafka;
mod keys;
mod tls;
mod yaml;

pub use grpc::GrpcLimits;
pub use tls::{Section as TlsSection, ServerTls, TlsConfig};

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use self::keys::Key;
use crate::error::Error;

/// Keys whose values are paths, resolved against the directory of the file that sets them.
const PATH_KEYS: &[&str] = &[
    "General.BootstrapFile",
    "General.GenesisFile",
    "General.LocalMSPDir",
    "FileLedger.Location",
    "Kafka.TLS.PrivateKey.File",
    "Kafka.TLS.Certificate.File",
    "Kafka.TLS.RootCAs.File",
    "General.TLS.PrivateKey",
    "General.TLS.Certificate",
    "Operations.TLS.PrivateKey",
    "Operations.TLS.Certificate",
];

/// Keys whose values are lists of paths, each resolved as a [`PATH_KEYS`] value.
const PATH_LIST_KEYS: &[&str] = &[
    "General.TLS.RootCAs",
    "General.TLS.ClientRootCAs",
    "Operations.TLS.RootCAs",
    "Operations.TLS.ClientRootCAs",
];

/// A boolean key's value: `true`, or `false`/empty, in any case.
fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

/// `General.BCCSP.Default`: this orderer signs with the file key of `General.LocalMSPDir`
/// (Fabric's `SW`). `PKCS11` would have the operator believe the key is in an HSM while a
/// file key signs, so it stops the start.
fn check_bccsp(value: &str) -> Result<(), String> {
    match value.to_ascii_uppercase().as_str() {
        "" | "SW" => Ok(()),
        "PKCS11" => Err(
            "PKCS11 (signing with an HSM) is not supported by this orderer yet: it signs with the software key in General.LocalMSPDir's keystore; set SW".into(),
        ),
        other => Err(format!("unknown BCCSP provider {other:?}: only SW is supported")),
    }
}

/// A duration key's value in Go's syntax (`20s`, `15m`), which must be positive.
fn positive_duration(value: &str) -> Result<std::time::Duration, String> {
    value
        .parse::<engine::config::GoDuration>()
        .map(|d| d.0)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{value:?} is not a positive duration such as \"20s\""))
}

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
    /// `General.TLS`.
    pub tls: TlsConfig,
    /// `General.Keepalive` and the message size limits of the gRPC listener.
    pub grpc: GrpcLimits,
    /// `General.AckMode: durable` (this orderer's addition): Broadcast answers SUCCESS
    /// once the block holding the envelope is on disk. The default, `enqueue`, answers
    /// when the chain takes it, as Fabric's orderer does.
    pub durable_acks: bool,
    /// `General.Authentication.TimeWindow`: how far a Deliver request's timestamp may be
    /// from the orderer's clock.
    pub time_window: std::time::Duration,
    /// `General.Authentication.NoExpirationChecks: true` turns off the expiry checks of
    /// signers (Broadcast's, which the ExpirationCheck capability also gates, and
    /// Deliver's), as in Fabric.
    pub admission: engine::admission::Rules,
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

/// `Operations` and `Metrics`: the operations endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operations {
    /// `Operations.ListenAddress` (`host:port`); unset, no endpoint is served.
    pub listen_address: Option<String>,
    /// `Metrics.Provider: prometheus` (else `disabled`): serve `/metrics`.
    pub prometheus: bool,
    /// `Operations.TLS`.
    pub tls: TlsConfig,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `Operations` and `Metrics.Provider`.
    pub operations: Operations,
    /// `General`.
    pub general: General,
    /// `FileLedger`.
    pub file_ledger: FileLedger,
    /// `Kafka`: how Kafka channels reach their cluster.
    pub kafka: engine::kafka::KafkaOptions,
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
                tls: TlsConfig::default(),
                grpc: GrpcLimits::default(),
                durable_acks: false,
                time_window: crate::service::TIME_WINDOW_DEFAULT,
                admission: engine::admission::Rules::default(),
            },
            file_ledger: FileLedger {
                location: PathBuf::from(FILE_LEDGER_LOCATION_DEFAULT),
            },
            kafka: engine::kafka::KafkaOptions::default(),
            operations: Operations::default(),
        }
    }
}

/// Where Fabric's orderer looks for `orderer.yaml` when `FABRIC_CFG_PATH` is not set.
pub const CONFIG_DIR_DEFAULT: &str = "/etc/hyperledger/fabric";
/// The configuration file's name.
pub const CONFIG_FILE_NAME: &str = "orderer.yaml";

/// The configuration file to read: `$FABRIC_CFG_PATH/orderer.yaml` (which must exist
/// when the variable is set), else the default directory's if it exists, else none.
pub fn config_file(fabric_cfg_path: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    match fabric_cfg_path {
        Some(dir) => {
            let file = dir.join(CONFIG_FILE_NAME);
            if file.is_file() {
                Ok(Some(file))
            } else {
                Err(Error::Config(format!(
                    "FABRIC_CFG_PATH is {} but it holds no {CONFIG_FILE_NAME}",
                    dir.display()
                )))
            }
        }
        None => {
            let file = Path::new(CONFIG_DIR_DEFAULT).join(CONFIG_FILE_NAME);
            Ok(file.is_file().then_some(file))
        }
    }
}

impl Config {
    /// Fabric's order: defaults, then `file` (an `orderer.yaml`), then `ORDERER_*`
    /// variables from `vars`. Returns the configuration and the known Fabric keys that were
    /// given a value but do nothing here yet, for the caller to log.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<&'static str>), Error> {
        let mut config = Self::default();
        let mut ignored = Vec::new();
        if let Some(file) = file {
            ignored.extend(config.apply_yaml(file)?);
        }
        ignored.extend(config.apply_env(vars)?);
        config.kafka.tls.validate().map_err(Error::Config)?;
        config.general.tls.load(TlsSection::General)?;
        config.operations.tls.load(TlsSection::Operations)?;
        ignored.sort_unstable();
        ignored.dedup();
        Ok((config, ignored))
    }

    /// Applies an `orderer.yaml`. Relative paths in it are relative to its directory, as
    /// in Fabric. An unknown key or an invalid value is an error naming the key.
    pub fn apply_yaml(&mut self, file: &Path) -> Result<Vec<&'static str>, Error> {
        let origin = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
            action: format!("read {origin}"),
            source,
        })?;
        let pairs =
            yaml::flatten(&text).map_err(|why| Error::Config(format!("{origin}: {why}")))?;
        let base = file.parent().unwrap_or(Path::new("."));
        let mut ignored = Vec::new();
        for (name, value) in pairs {
            let key = keys::lookup(&name).ok_or_else(|| {
                Error::Config(format!(
                    "{origin}: unknown key {name} (not a Fabric orderer key)"
                ))
            })?;
            let value = match key {
                Key::Implemented(key) if PATH_KEYS.contains(&key) && !value.is_empty() => {
                    base.join(&value).display().to_string()
                }
                Key::Implemented(key) if PATH_LIST_KEYS.contains(&key) => tls::path_list(&value)
                    .iter()
                    .map(|path| base.join(path).display().to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                _ => value,
            };
            ignored.extend(self.apply(key, &value, &format!("{origin}: {name}"))?);
        }
        Ok(ignored)
    }

    /// Applies `ORDERER_<SECTION>_<KEY>` variables from `vars` over `self`. An unknown
    /// `ORDERER_*` variable or an invalid value is an error naming it.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<&'static str>, Error> {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with("ORDERER_"))
            .collect();
        let mut resolved = Vec::new();
        for (name, value) in &vars {
            let key = keys::from_env(name).ok_or_else(|| {
                Error::Config(format!(
                    "unknown variable {name}: no Fabric orderer key has that name"
                ))
            })?;
            resolved.push((key, name, value));
        }
        // GenesisFile before BootstrapFile, so the newer name wins when both are set.
        resolved.sort_by_key(|(key, _, _)| *key != Key::Implemented("General.GenesisFile"));
        let mut ignored = Vec::new();
        for (key, name, value) in resolved {
            ignored.extend(self.apply(key, value, &format!("{name}={value:?}"))?);
        }
        Ok(ignored)
    }

    fn apply(
        &mut self,
        key: Key,
        value: &str,
        origin: &str,
    ) -> Result<Option<&'static str>, Error> {
        let named = |key: &str, why: String| Error::Config(format!("{key} ({origin}): {why}"));
        match key {
            Key::Implemented(key) => {
                self.set(key, value).map_err(|why| named(key, why))?;
                Ok(None)
            }
            Key::Known(key) => {
                keys::check_supported(key, value).map_err(|why| named(key, why))?;
                Ok((!value.is_empty()).then_some(key))
            }
            Key::FreeForm => Ok(None),
        }
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
            "General.BootstrapMethod" | "General.GenesisMethod" => {
                self.general.bootstrap_method = match value {
                    "file" => BootstrapMethod::File,
                    "none" => BootstrapMethod::None,
                    "provisional" => {
                        return Err(
                            "\"provisional\" (a genesis block made from configtx.yaml) is not supported: make the block with configtxgen and use \"file\"".into(),
                        );
                    }
                    _ => return Err("must be \"file\" or \"none\"".into()),
                };
            }
            "General.LedgerType" => {
                if !matches!(value, "" | "file") {
                    return Err("only the file ledger exists here".into());
                }
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
            key if key.starts_with("Kafka.") => kafka::set(&mut self.kafka, key, value)?,
            key if grpc::KEYS.contains(&key) => grpc::set(&mut self.general.grpc, key, value)?,
            "General.Authentication.TimeWindow" => {
                self.general.time_window = positive_duration(value)?;
            }
            "General.Authentication.NoExpirationChecks" => {
                self.general.admission.expiration_checks = !boolean(value)?;
            }
            "General.BCCSP.Default" => check_bccsp(value)?,
            "General.AckMode" => {
                self.general.durable_acks = match value.to_ascii_lowercase().as_str() {
                    "durable" => true,
                    "enqueue" | "" => false,
                    _ => return Err("must be enqueue (Fabric's) or durable".into()),
                };
            }
            key if key.starts_with("Operations.") || key.starts_with("Metrics.") => {
                self.operations.set(key, value)?;
            }
            key if key.starts_with("General.TLS.") => tls::set(&mut self.general.tls, key, value)?,
            _ => return Err("unknown key".into()),
        }
        Ok(())
    }
}

impl Operations {
    /// Sets an `Operations.*` or `Metrics.*` key.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "Operations.ListenAddress" => {
                self.listen_address = (!value.is_empty()).then(|| value.to_string());
            }
            "Metrics.Provider" => {
                self.prometheus = match value.to_ascii_lowercase().as_str() {
                    "prometheus" => true,
                    "disabled" | "" => false,
                    "statsd" => return Err("statsd is not supported: use prometheus".into()),
                    _ => return Err("must be prometheus or disabled".into()),
                };
            }
            key if key.starts_with("Operations.TLS.") => tls::set(&mut self.tls, key, value)?,
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

    fn yaml_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn authentication_tls_shift_and_bccsp_keys_read_as_fabric_reads_them() {
        let mut config = Config::default();
        assert!(config.general.admission.expiration_checks);
        config
            .apply_env(env(&[
                ("ORDERER_GENERAL_AUTHENTICATION_NOEXPIRATIONCHECKS", "true"),
                ("ORDERER_GENERAL_TLS_TLSHANDSHAKETIMESHIFT", "90s"),
                ("ORDERER_GENERAL_BCCSP_DEFAULT", "SW"),
            ]))
            .unwrap();
        assert!(!config.general.admission.expiration_checks);
        assert_eq!(
            config.general.tls.handshake_time_shift,
            std::time::Duration::from_secs(90)
        );
        // Fabric applies only a positive shift.
        config
            .set("General.TLS.TLSHandshakeTimeShift", "-5m")
            .unwrap();
        assert_eq!(
            config.general.tls.handshake_time_shift,
            std::time::Duration::ZERO
        );
        assert!(
            config
                .set("General.TLS.TLSHandshakeTimeShift", "soon")
                .is_err()
        );
        let refused = config.set("General.BCCSP.Default", "PKCS11").unwrap_err();
        assert!(refused.contains("PKCS11"), "{refused}");
    }

    #[test]
    fn fabric_environment_names_override_defaults() {
        let mut config = Config::default();
        let ignored = config
            .apply_env(env(&[
                ("ORDERER_GENERAL_LISTENPORT", "7060"),
                ("ORDERER_GENERAL_GENESISFILE", "/old.block"),
                ("ORDERER_FILELEDGER_LOCATION", "/tmp/ledger"),
                ("ORDERER_GENERAL_PROFILE_ADDRESS", "0.0.0.0:6060"),
                ("PATH", "/bin"),
            ]))
            .unwrap();
        assert_eq!(config.general.listen_port, 7060);
        assert_eq!(
            config.general.bootstrap_file,
            Some(PathBuf::from("/old.block"))
        );
        assert_eq!(config.file_ledger.location, PathBuf::from("/tmp/ledger"));
        assert_eq!(ignored, vec!["General.Profile.Address"]);
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
    fn invalid_values_and_unknown_variables_name_their_key() {
        let error = Config::default()
            .apply_env(env(&[("ORDERER_GENERAL_LISTENPORT", "seventy")]))
            .unwrap_err();
        assert!(error.to_string().contains("General.ListenPort"), "{error}");
        let error = Config::default()
            .apply_env(env(&[("ORDERER_GENERAL_LISTENPROT", "7050")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("ORDERER_GENERAL_LISTENPROT"),
            "{error}"
        );
        let error = Config::default()
            .apply_env(env(&[("ORDERER_GENERAL_PROFILE_ENABLED", "true")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("General.Profile.Enabled"),
            "{error}"
        );
    }

    #[test]
    fn the_sample_orderer_yaml_loads_with_paths_relative_to_it() {
        let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sampleconfig/orderer.yaml");
        let (config, ignored) = Config::load(Some(&sample), Vec::new()).unwrap();
        let dir = sample.parent().unwrap();
        assert_eq!(config.general.listen_port, 7050);
        assert_eq!(config.general.local_msp_dir, Some(dir.join("msp")));
        assert_eq!(config.general.local_msp_id, "SampleOrg");
        assert_eq!(
            config.general.bootstrap_file,
            Some(dir.join("genesis.block"))
        );
        assert!(
            ignored.contains(&"General.Keepalive.ServerMinInterval"),
            "{ignored:?}"
        );
        assert_eq!(
            config.general.grpc.keepalive_timeout,
            std::time::Duration::from_secs(20)
        );
    }

    #[test]
    fn environment_overrides_the_file_and_file_keys_any_case() {
        let (_dir, path) =
            yaml_file("general:\n  listenport: 7051\nFileLedger:\n  Location: /var/a\n");
        let (config, _) = Config::load(
            Some(&path),
            env(&[("ORDERER_FILELEDGER_LOCATION", "/var/b")]),
        )
        .unwrap();
        assert_eq!(config.general.listen_port, 7051);
        assert_eq!(config.file_ledger.location, PathBuf::from("/var/b"));
    }

    #[test]
    fn unknown_keys_and_unsupported_values_in_the_file_are_refused_by_name() {
        for (text, named) in [
            ("General:\n  ListenPrt: 7050\n", "General.ListenPrt"),
            ("Genral:\n  ListenPort: 7050\n", "Genral.ListenPort"),
            ("General:\n  ListenPort: 70500\n", "General.ListenPort"),
            (
                "General:\n  Profile:\n    Enabled: true\n",
                "General.Profile.Enabled",
            ),
            (
                "General:\n  TLS:\n    Enabled: true\n",
                "General.TLS.Certificate",
            ),
            (
                "General:\n  GenesisMethod: provisional\n",
                "General.GenesisMethod",
            ),
        ] {
            let (_dir, path) = yaml_file(text);
            let error = Config::load(Some(&path), Vec::new())
                .unwrap_err()
                .to_string();
            assert!(error.contains(named), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_fabric_cfg_path_without_orderer_yaml_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(config_file(Some(dir.path())).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE_NAME), "").unwrap();
        assert_eq!(
            config_file(Some(dir.path())).unwrap(),
            Some(dir.path().join(CONFIG_FILE_NAME))
        );
    }
}
