//! `General.Keepalive` and `General.MaxRecvMsgSize`/`MaxSendMsgSize`: how the gRPC
//! listener treats connections. `General.Keepalive.ServerMinInterval` (the fastest a
//! client may ping) is accepted but not enforced: the HTTP/2 server answers every ping.
//! `General.Limits.MaxConnections` and `.MaxConcurrentStreams` are this orderer's
//! additions: Fabric's orderer has no bound on either.

/// How the gRPC listener treats connections: Fabric's `General.Keepalive` and v2's
/// `General.MaxRecvMsgSize`/`MaxSendMsgSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrpcLimits {
    /// `General.Keepalive.ServerInterval`: idle time before the server pings a client.
    pub keepalive_interval: std::time::Duration,
    /// `General.Keepalive.ServerTimeout`: how long a ping may go unanswered before the
    /// connection is closed.
    pub keepalive_timeout: std::time::Duration,
    /// `General.MaxRecvMsgSize`: the largest message taken, bytes.
    pub max_recv_bytes: usize,
    /// `General.MaxSendMsgSize`: the largest message sent, bytes.
    pub max_send_bytes: usize,
    /// `General.Limits.MaxConnections`: client connections held at once; 0, no limit.
    pub max_connections: usize,
    /// `General.Limits.MaxConcurrentStreams`: streams (Broadcast or Deliver) one
    /// connection may have open at once (HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`; a client
    /// waits for a free one).
    pub max_concurrent_streams: u32,
}

impl Default for GrpcLimits {
    /// Fabric's defaults: ping after 2 h idle, 20 s to answer, 100 MiB messages, no limit
    /// on connections (a cap can be taken by any client able to connect, so it is the
    /// operator's choice); and at most 256 streams on one connection.
    fn default() -> Self {
        Self {
            keepalive_interval: std::time::Duration::from_secs(7200),
            keepalive_timeout: std::time::Duration::from_secs(20),
            max_recv_bytes: crate::GRPC_MESSAGE_BYTES_MAX,
            max_send_bytes: crate::GRPC_MESSAGE_BYTES_MAX,
            max_connections: 0,
            max_concurrent_streams: 256,
        }
    }
}

/// The keys of this section.
pub const KEYS: &[&str] = &[
    "General.Keepalive.ServerInterval",
    "General.Keepalive.ServerTimeout",
    "General.MaxRecvMsgSize",
    "General.MaxSendMsgSize",
    "General.Limits.MaxConnections",
    "General.Limits.MaxConcurrentStreams",
];

/// Sets one of [`KEYS`].
pub fn set(limits: &mut GrpcLimits, key: &str, value: &str) -> Result<(), String> {
    match key {
        "General.Keepalive.ServerInterval" | "General.Keepalive.ServerTimeout" => {
            let duration = super::positive_duration(value)?;
            if key.ends_with("ServerInterval") {
                limits.keepalive_interval = duration;
            } else {
                limits.keepalive_timeout = duration;
            }
        }
        "General.MaxRecvMsgSize" | "General.MaxSendMsgSize" => {
            let bytes = positive(value).map_err(|_| "not a positive byte count".to_string())?;
            if key.ends_with("MaxRecvMsgSize") {
                limits.max_recv_bytes = bytes;
            } else {
                limits.max_send_bytes = bytes;
            }
        }
        "General.Limits.MaxConnections" => {
            limits.max_connections = value
                .parse()
                .map_err(|_| "not a count (0: no limit)".to_string())?;
        }
        "General.Limits.MaxConcurrentStreams" => {
            limits.max_concurrent_streams =
                u32::try_from(positive(value)?).map_err(|_| "too large".to_string())?;
        }
        _ => return Err("unknown key".into()),
    }
    Ok(())
}

fn positive(value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|count| *count > 0)
        .ok_or_else(|| "not a positive count".to_string())
}
