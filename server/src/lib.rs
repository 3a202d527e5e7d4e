//! The `orderer` server: Fabric's AtomicBroadcast over gRPC on top of the engine.
//!
//! - [`config`]: configuration under Fabric's key names, `ORDERER_*` overrides.
//! - [`service`]: the Broadcast and Deliver handlers.
//! - [`benchmark`]: `orderer benchmark`, an in-process orderer driven by loadgen.
//! - [`run`] / [`serve`]: open the ledger, bootstrap from the genesis block, serve until
//!   shut down, then store what is pending.
#![forbid(unsafe_code)]

pub mod benchmark;
pub mod config;
pub mod connections;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod operations;
pub mod service;
pub mod tls;
pub mod verify;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use engine::msp::local::LocalSigner;
use engine::registrar::{Registrar, RegistrarOptions};
use orderer_proto::raw::service::atomic_broadcast_server::AtomicBroadcastServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

pub use config::Config;
pub use error::Error;

use crate::service::{Checks, Clock};
use crate::verify::VerifyPool;

/// Largest gRPC message taken or sent: Fabric's default `MaxRecvMsgSize`/`MaxSendMsgSize`.
pub const GRPC_MESSAGE_BYTES_MAX: usize = 100 * 1024 * 1024;

/// How a server checks envelopes: settings that are not the operator's (the operator's
/// are in [`Config`]) but the benchmark's and the tests'.
#[derive(Clone)]
pub struct ServeOptions {
    /// Verify signatures and policies; false only to measure what that costs.
    pub verify: bool,
    /// What identity expiry is judged by.
    pub clock: Clock,
    /// Threads of the verify pool; 0 means one per core.
    pub verify_threads: usize,
    /// TLS on the listener (from `General.TLS` when served from a [`Config`]).
    pub tls: Option<config::ServerTls>,
    /// Where Broadcast and Deliver count (shared with the operations endpoint).
    pub metrics: Arc<metrics::Metrics>,
    /// Keepalive and message sizes of the listener.
    pub grpc: config::GrpcLimits,
    /// `General.Authentication.TimeWindow` for Deliver requests.
    pub time_window: std::time::Duration,
    /// `General.Authentication.NoExpirationChecks`, as admission rules.
    pub admission: engine::admission::Rules,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            verify: true,
            clock: service::system_clock(),
            verify_threads: 0,
            tls: None,
            metrics: Arc::default(),
            grpc: config::GrpcLimits::default(),
            time_window: service::TIME_WINDOW_DEFAULT,
            admission: engine::admission::Rules::default(),
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("verify", &self.verify)
            .field("verify_threads", &self.verify_threads)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// Opens the ledger (bootstrapping from the genesis block if needed), then binds
/// `General.ListenAddress:ListenPort` and serves until `shutdown` resolves. Ledger and
/// configuration errors come before any port is taken.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
    let options = ServeOptions {
        tls: config.general.tls.load(config::TlsSection::General)?,
        grpc: config.general.grpc,
        time_window: config.general.time_window,
        admission: config.general.admission,
        ..ServeOptions::default()
    };
    let registrar = open_registrar(&config, &options.metrics).await?;
    // Fail before any port is taken when mutual TLS would trust no client root.
    with_channel_tls_cas(options.tls.clone(), &registrar)?;
    let operations = match &config.operations.listen_address {
        Some(address) => Some(
            start_operations(
                address,
                config
                    .operations
                    .tls
                    .load(config::TlsSection::Operations)?
                    .as_ref()
                    .map(operations::tls::server_config)
                    .transpose()?,
                operations::Operations {
                    registrar: Arc::clone(&registrar),
                    metrics: Arc::clone(&options.metrics),
                    prometheus: config.operations.prometheus,
                },
            )
            .await?,
        ),
        None => None,
    };
    let address = SocketAddr::new(config.general.listen_address, config.general.listen_port);
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| Error::Io {
            action: format!("bind {address}"),
            source,
        })?;
    let result = serve_registrar(registrar, listener, shutdown, options).await;
    if let Some(operations) = operations {
        operations.abort();
    }
    result
}

/// Binds `Operations.ListenAddress` and serves the operations endpoint there.
async fn start_operations(
    address: &str,
    tls: Option<Arc<rustls::ServerConfig>>,
    ops: operations::Operations,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| Error::Io {
            action: format!("bind Operations.ListenAddress {address}"),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Io {
        action: "read the operations address".into(),
        source,
    })?;
    info!(address = %bound, tls = tls.is_some(), "operations endpoint listening on {bound}");
    Ok(tokio::spawn(async move {
        if let Err(error) = operations::serve(listener, ops, tls, std::future::pending()).await {
            tracing::error!(%error, "operations endpoint failed");
        }
    }))
}

/// Serves on `listener` until `shutdown` resolves; then ends open streams, cuts and
/// stores pending envelopes and returns.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    serve_with(config, listener, shutdown, ServeOptions::default()).await
}

/// [`serve`] with `options`.
pub async fn serve_with(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    mut options: ServeOptions,
) -> Result<(), Error> {
    if options.tls.is_none() {
        options.tls = config.general.tls.load(config::TlsSection::General)?;
    }
    options.grpc = config.general.grpc;
    options.time_window = config.general.time_window;
    let registrar = open_registrar(&config, &options.metrics).await?;
    serve_registrar(registrar, listener, shutdown, options).await
}

/// Serves the channels of `registrar` on `listener` until `shutdown` resolves.
pub async fn serve_registrar(
    registrar: Arc<Registrar>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    options: ServeOptions,
) -> Result<(), Error> {
    let checks = checks(&options)?;
    let address = listener.local_addr().map_err(|source| Error::Io {
        action: "read listen address".into(),
        source,
    })?;
    let tls = options
        .tls
        .as_ref()
        .map(|tls| listener_tls(tls, &registrar))
        .transpose()?;
    let deliver_rules = service::DeliverRules {
        time_window: options.time_window,
        mutual_tls: options
            .tls
            .as_ref()
            .is_some_and(|tls| tls.client_auth_required),
    };
    info!(%address, tls = tls.is_some(), "orderer listening on {address}");
    let (stop, stopping) = watch::channel(false);
    let service = service::AtomicBroadcastService::new(
        Arc::clone(&registrar),
        checks,
        stopping.clone(),
        Arc::clone(&options.metrics),
    )
    .with_deliver_rules(deliver_rules);
    let server = AtomicBroadcastServer::new(service)
        .max_decoding_message_size(options.grpc.max_recv_bytes)
        .max_encoding_message_size(options.grpc.max_send_bytes);
    let router = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(options.grpc.keepalive_interval))
        .http2_keepalive_timeout(Some(options.grpc.keepalive_timeout))
        .max_concurrent_streams(options.grpc.max_concurrent_streams)
        .add_service(server);
    let connections = connections::limited(listener, options.grpc.max_connections);
    let shutdown = async move {
        shutdown.await;
        info!("shutting down: ending streams, storing pending envelopes");
        stop.send_replace(true);
    };
    let result = match tls {
        Some(acceptor) => {
            let handshaken = connections::tls::handshaking(connections, acceptor, stopping);
            router
                .serve_with_incoming_shutdown(handshaken, shutdown)
                .await
        }
        None => {
            router
                .serve_with_incoming_shutdown(connections, shutdown)
                .await
        }
    };
    let stopping = Arc::clone(&registrar);
    tokio::task::spawn_blocking(move || stopping.shutdown())
        .await
        .map_err(|error| Error::Config(format!("shutdown failed: {error}")))?;
    result.map_err(Error::from)
}

/// Fabric's checks on a verify pool, or none (`orderer benchmark --no-verify`).
fn checks(options: &ServeOptions) -> Result<Checks, Error> {
    if !options.verify {
        return Ok(Checks::Skipped);
    }
    let pool = VerifyPool::new(options.verify_threads).map_err(|source| Error::Io {
        action: "start the verify pool".into(),
        source,
    })?;
    Ok(Checks::Enforced {
        pool: Arc::new(pool),
        clock: Arc::clone(&options.clock),
        rules: options.admission,
    })
}

/// The listener's acceptors. Under mutual TLS the client roots are the operator's and
/// every channel's TLS CAs as the channels' configs are now: the acceptor is made again
/// for the next connection whenever a config block changed a channel or created one
/// (Fabric's orderer updates its trusted roots as it writes a config block). A rebuild
/// that fails keeps the roots it had, and says why.
fn listener_tls(
    tls: &config::ServerTls,
    registrar: &Arc<Registrar>,
) -> Result<connections::tls::Acceptors, Error> {
    if !tls.client_auth_required {
        let acceptor = tls_acceptor(tls)?;
        return Ok(Arc::new(move || acceptor.clone()));
    }
    let operator = tls.clone();
    let with_channels = move |registrar: &Registrar| {
        with_channel_tls_cas(Some(operator.clone()), registrar)?
            .as_ref()
            .map_or_else(|| tls_acceptor(&operator), tls_acceptor)
    };
    let acceptor = with_channels(registrar)?;
    let registrar = Arc::clone(registrar);
    let current = std::sync::Mutex::new((registrar.config_generation(), acceptor));
    Ok(Arc::new(move || {
        let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
        let generation = registrar.config_generation();
        if generation != current.0 {
            match with_channels(&registrar) {
                Ok(acceptor) => {
                    info!("channel configs changed: the trusted TLS client roots follow");
                    *current = (generation, acceptor);
                }
                Err(error) => {
                    warn!(%error, "channel configs changed, but the TLS client roots could not be rebuilt; keeping the previous ones");
                    current.0 = generation;
                }
            }
        }
        current.1.clone()
    }))
}

/// Under mutual TLS, `tls` with the TLS CAs of every channel's MSPs added to the client
/// roots, as Fabric's orderer trusts its channels' members; an error when no root is left.
fn with_channel_tls_cas(
    tls: Option<config::ServerTls>,
    registrar: &Registrar,
) -> Result<Option<config::ServerTls>, Error> {
    let Some(mut tls) = tls else {
        return Ok(None);
    };
    if !tls.client_auth_required {
        return Ok(Some(tls));
    }
    let mut roots = tls.client_roots_pem.take().unwrap_or_default();
    // The operator's own roots must all parse (Fabric stops on one that does not); the
    // channels' TLS CAs are taken where they parse, as the MSPs already checked them.
    crate::tls::check_roots(&roots, "General.TLS.ClientRootCAs")?;
    for chain in registrar.chains() {
        for pem in chain.config().access.tls_cas_pem() {
            roots.extend_from_slice(pem);
            roots.push(b'\n');
        }
    }
    if !String::from_utf8_lossy(&roots).contains("-----BEGIN") {
        return Err(Error::Config(
            "General.TLS.ClientAuthRequired is true but no client root is known: General.TLS.ClientRootCAs names no file and no channel MSP has a TLS CA".into(),
        ));
    }
    tls.client_roots_pem = Some(roots);
    Ok(Some(tls))
}

/// The listener's TLS: the server's identity, HTTP/2 by ALPN and, for mutual TLS, the
/// roots a client's certificate must chain to (a client without one is refused at the
/// handshake), judged by the clock shifted back by `TLSHandshakeTimeShift`.
fn tls_acceptor(tls: &config::ServerTls) -> Result<tokio_rustls::TlsAcceptor, Error> {
    let client_auth = match &tls.client_roots_pem {
        Some(_) if tls.client_auth_required => crate::tls::ClientAuth::Required,
        _ => crate::tls::ClientAuth::Off,
    };
    let config = crate::tls::server_config(
        tls,
        crate::tls::Settings {
            section: "General",
            client_auth,
            time_shift: tls.handshake_time_shift,
            lenient_roots: true,
            alpn_h2: true,
        },
    )?;
    Ok(tokio_rustls::TlsAcceptor::from(config))
}

/// Opens the ledger of `config` and starts its chains, bootstrapping from
/// `General.BootstrapFile` when the ledger holds no channel.
pub async fn open_registrar(
    config: &Config,
    metrics: &Arc<metrics::Metrics>,
) -> Result<Arc<Registrar>, Error> {
    let genesis = match (
        &config.general.bootstrap_method,
        &config.general.bootstrap_file,
    ) {
        (config::BootstrapMethod::File, Some(path)) => {
            vec![Bytes::from(std::fs::read(path).map_err(|source| {
                Error::Io {
                    action: format!("read General.BootstrapFile {}", path.display()),
                    source,
                }
            })?)]
        }
        _ => Vec::new(),
    };
    let signer = match &config.general.local_msp_dir {
        Some(dir) => Some(Arc::new(LocalSigner::from_msp_dir(
            dir,
            &config.general.local_msp_id,
        )?)),
        None => None,
    };
    let options = RegistrarOptions {
        ledger_dir: config.file_ledger.location.clone(),
        chain: engine::chain::ChainOptions {
            signer,
            kafka: config.kafka.clone(),
            durable_acks: config.general.durable_acks,
            fill_observer: Some(Arc::clone(metrics) as _),
            admission: config.general.admission,
            ..engine::chain::ChainOptions::default()
        },
    };
    let registrar = tokio::task::spawn_blocking(move || Registrar::open(&options, genesis))
        .await
        .map_err(|error| Error::Config(format!("opening the ledger failed: {error}")))??;
    if registrar.chains().is_empty() {
        return Err(Error::Config(
            "the ledger holds no channel and no General.BootstrapFile was given".into(),
        ));
    }
    Ok(registrar)
}
