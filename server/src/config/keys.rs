//! Every key of Fabric's `orderer.yaml` (v1.4.12 and v2.2.15, from their `localconfig`
//! structs), so that a file written for Fabric's orderer loads here and a misspelt key
//! is refused by name, as Fabric's exact unmarshalling refuses it.

/// Keys this orderer reads. The others are known to Fabric and accepted, but do nothing
/// yet (see [`UNSUPPORTED_VALUES`] for the ones that may not be switched on).
pub const IMPLEMENTED: &[&str] = &[
    "General.ListenAddress",
    "General.ListenPort",
    "General.BootstrapMethod",
    "General.BootstrapFile",
    "General.GenesisMethod",
    "General.GenesisFile",
    "General.LocalMSPDir",
    "General.LocalMSPID",
    "General.AckMode",
    "General.Authentication.TimeWindow",
    "General.Authentication.NoExpirationChecks",
    "General.BCCSP.Default",
    "General.TLS.TLSHandshakeTimeShift",
    "Operations.ListenAddress",
    "Operations.TLS.Enabled",
    "Operations.TLS.Certificate",
    "Operations.TLS.PrivateKey",
    "Operations.TLS.RootCAs",
    "Operations.TLS.ClientAuthRequired",
    "Operations.TLS.ClientRootCAs",
    "General.Keepalive.ServerInterval",
    "General.Keepalive.ServerTimeout",
    "General.MaxRecvMsgSize",
    "General.MaxSendMsgSize",
    "General.Limits.MaxConnections",
    "General.Limits.MaxConcurrentStreams",
    "Metrics.Provider",
    "General.TLS.Enabled",
    "General.TLS.PrivateKey",
    "General.TLS.Certificate",
    "General.TLS.RootCAs",
    "General.TLS.ClientAuthRequired",
    "General.TLS.ClientAuthEnabled",
    "General.TLS.ClientRootCAs",
    "General.LedgerType",
    "FileLedger.Location",
    "Kafka.Brokers",
    "Kafka.Retry.ShortInterval",
    "Kafka.Retry.ShortTotal",
    "Kafka.Retry.LongInterval",
    "Kafka.Retry.LongTotal",
    "Kafka.Retry.NetworkTimeouts.DialTimeout",
    "Kafka.Retry.NetworkTimeouts.ReadTimeout",
    "Kafka.Retry.NetworkTimeouts.WriteTimeout",
    "Kafka.Retry.Metadata.RetryBackoff",
    "Kafka.Retry.Producer.RetryBackoff",
    "Kafka.Retry.Producer.RetryMax",
    "Kafka.Retry.Consumer.RetryBackoff",
    "Kafka.Topic.ReplicationFactor",
    "Kafka.Version",
    "Kafka.SASLPlain.Enabled",
    "Kafka.SASLPlain.User",
    "Kafka.SASLPlain.Password",
    "Kafka.TLS.Enabled",
    "Kafka.TLS.PrivateKey",
    "Kafka.TLS.PrivateKey.File",
    "Kafka.TLS.Certificate",
    "Kafka.TLS.Certificate.File",
    "Kafka.TLS.RootCAs",
    "Kafka.TLS.RootCAs.File",
];

/// Keys whose subtree is free-form in Fabric (`interface{}` or a plugin's options).
pub const FREE_FORM: &[&str] = &["General.BCCSP", "Consensus"];

/// Known keys that only take their inert value here: anything else would silently drop
/// a protection or a behaviour the operator asked for. `(key, accepted values)`.
pub const UNSUPPORTED_VALUES: &[(&str, &[&str])] = &[
    ("General.Profile.Enabled", &["", "false"]),
    ("ChannelParticipation.Enabled", &["", "false"]),
];

/// Every other key of Fabric's orderer configuration.
pub const KNOWN: &[&str] = &[
    "General.Keepalive.ServerMinInterval",
    "General.ConnectionTimeout",
    "General.Cluster.ListenAddress",
    "General.Cluster.ListenPort",
    "General.Cluster.ServerCertificate",
    "General.Cluster.ServerPrivateKey",
    "General.Cluster.ClientCertificate",
    "General.Cluster.ClientPrivateKey",
    "General.Cluster.RootCAs",
    "General.Cluster.DialTimeout",
    "General.Cluster.RPCTimeout",
    "General.Cluster.ReplicationBufferSize",
    "General.Cluster.ReplicationPullTimeout",
    "General.Cluster.ReplicationRetryTimeout",
    "General.Cluster.ReplicationBackgroundRefreshInterval",
    "General.Cluster.ReplicationMaxRetries",
    "General.Cluster.SendBufferSize",
    "General.Cluster.CertExpirationWarningThreshold",
    "General.Cluster.TLSHandshakeTimeShift",
    "General.GenesisProfile",
    "General.LogLevel",
    "General.LogFormat",
    "General.Profile.Enabled",
    "General.Profile.Address",
    "FileLedger.Prefix",
    "RAMLedger.HistorySize",
    "Kafka.Retry.Metadata.RetryMax",
    "Kafka.Verbose",
    "Kafka.TLS.ClientAuthRequired",
    "Kafka.TLS.ClientRootCAs",
    "Debug.BroadcastTraceDir",
    "Debug.DeliverTraceDir",
    "Metrics.Statsd.Network",
    "Metrics.Statsd.Address",
    "Metrics.Statsd.WriteInterval",
    "Metrics.Statsd.Prefix",
    "ChannelParticipation.Enabled",
    "ChannelParticipation.RemoveStorage",
    "ChannelParticipation.MaxRequestBodySize",
];

/// What a key name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A key this orderer reads, spelt as Fabric spells it.
    Implemented(&'static str),
    /// A key Fabric knows that does nothing here yet.
    Known(&'static str),
    /// Inside a free-form subtree.
    FreeForm,
}

/// Finds `name` (any case, `.`-separated) among Fabric's keys.
pub fn lookup(name: &str) -> Option<Key> {
    let same = |known: &&&str| known.eq_ignore_ascii_case(name);
    if let Some(key) = IMPLEMENTED.iter().find(same) {
        return Some(Key::Implemented(key));
    }
    if let Some(key) = KNOWN.iter().find(same) {
        return Some(Key::Known(key));
    }
    FREE_FORM
        .iter()
        .any(|root| {
            name.len() > root.len()
                && name[..root.len()].eq_ignore_ascii_case(root)
                && name.as_bytes()[root.len()] == b'.'
        })
        .then_some(Key::FreeForm)
}

/// The key an `ORDERER_<SECTION>_<KEY>` variable sets, as Fabric maps them: the key's
/// dots become underscores, all upper case.
pub fn from_env(variable: &str) -> Option<Key> {
    let name = variable.strip_prefix("ORDERER_")?;
    let env_name = |key: &&&str| key.replace('.', "_").eq_ignore_ascii_case(name);
    IMPLEMENTED
        .iter()
        .find(env_name)
        .map(|key| Key::Implemented(key))
        .or_else(|| KNOWN.iter().find(env_name).map(|key| Key::Known(key)))
}

/// Refuses a value of a known key that this orderer cannot honour.
pub fn check_supported(key: &str, value: &str) -> Result<(), String> {
    match UNSUPPORTED_VALUES.iter().find(|(name, _)| *name == key) {
        Some((_, accepted)) if !accepted.iter().any(|ok| ok.eq_ignore_ascii_case(value)) => {
            Err(format!("{value:?} is not supported by this orderer yet"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_any_case_and_from_the_environment() {
        assert_eq!(
            lookup("general.listenport"),
            Some(Key::Implemented("General.ListenPort"))
        );
        assert_eq!(
            lookup("General.Keepalive.ServerMinInterval"),
            Some(Key::Known("General.Keepalive.ServerMinInterval"))
        );
        assert_eq!(lookup("General.BCCSP.SW.Hash"), Some(Key::FreeForm));
        assert_eq!(lookup("General.BCCSPX"), None);
        assert_eq!(lookup("General.ListenPrt"), None);
        assert_eq!(
            from_env("ORDERER_GENERAL_TLS_ENABLED"),
            Some(Key::Implemented("General.TLS.Enabled"))
        );
        assert_eq!(
            from_env("ORDERER_FILELEDGER_LOCATION"),
            Some(Key::Implemented("FileLedger.Location"))
        );
        assert_eq!(from_env("ORDERER_GENERAL_LISTENPROT"), None);
    }

    #[test]
    fn switching_on_what_is_not_implemented_is_refused() {
        assert!(check_supported("General.Profile.Enabled", "false").is_ok());
        assert!(check_supported("General.Profile.Enabled", "true").is_err());
        assert!(check_supported("ChannelParticipation.Enabled", "true").is_err());
        assert!(check_supported("General.Keepalive.ServerTimeout", "20s").is_ok());
    }
}
