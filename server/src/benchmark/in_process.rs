//! The benchmark's orderer: a temporary ledger, channels made from the flags with one org
//! of a fresh development CA, blocks signed by an orderer identity of that org, served
//! over real gRPC on loopback from its own runtime (threads `orderer-rt`), so that the
//! orderer's CPU time can be told apart from the load generator's.

use std::sync::Arc;
use std::time::Duration;

use engine::chain::ChainOptions;
use engine::cutter::BatchSize;
use engine::genesis::{GenesisSpec, OrgSpec};
use engine::msp::local::LocalSigner;
use engine::registrar::{Registrar, RegistrarOptions};
use loadgen::ca::DevCa;
use loadgen::signers::Signers;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{BenchmarkArgs, Setup};
use crate::ServeOptions;
use crate::error::Error;

/// MSP ID of the benchmark's org.
const ORG: &str = "BenchOrg";

/// The benchmark's channels and identities.
struct Network {
    genesis: Vec<bytes::Bytes>,
    signer: LocalSigner,
    clients: Signers,
    admin: loadgen::msp::Signer,
}

impl Network {
    /// One org of a fresh CA; a genesis block per channel of the flags, ordered by
    /// `consensus` (Kafka channels name `kafka_brokers`).
    fn make(
        args: &BenchmarkArgs,
        consensus: &str,
        kafka_brokers: &[String],
    ) -> Result<Self, Error> {
        let ca = DevCa::generate(ORG)?;
        let admin = ca.issue("admin", &["admin"])?;
        let clients = issue_clients(&ca, args.workload.signers)?;
        let orderer = ca.issue("orderer", &["orderer"])?;
        let org = OrgSpec {
            msp_id: ORG.into(),
            msp_config: ca.msp_config(&[&admin]),
        };
        let genesis = args
            .workload
            .channels
            .iter()
            .map(|channel_id| {
                GenesisSpec {
                    channel_id: channel_id.clone(),
                    consensus: consensus.into(),
                    kafka_brokers: kafka_brokers.to_vec(),
                    batch_size: BatchSize {
                        max_message_count: args.max_message_count,
                        absolute_max_bytes: args.absolute_max_bytes,
                        preferred_max_bytes: args.preferred_max_bytes,
                    },
                    batch_timeout: Duration::from_millis(args.batch_timeout_ms),
                    orgs: vec![org.clone()],
                    sequence: 0,
                }
                .build()
            })
            .collect();
        let signer = LocalSigner::new(ORG, orderer.cert_pem.as_bytes(), &orderer.key_pkcs8_der)
            .map_err(Error::Config)?;
        Ok(Self {
            genesis,
            signer,
            clients,
            admin: admin.signer()?,
        })
    }
}

/// `count` client identities of the org, issued before the clock starts (the time it
/// took is printed when there are many).
fn issue_clients(ca: &DevCa, count: usize) -> Result<Signers, Error> {
    let started = std::time::Instant::now();
    let clients = Signers::issue(ca, count)?;
    if count > 1 {
        println!(
            "issued {count} client identities in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(clients)
}

/// An orderer serving in this process until stopped.
pub(super) struct InProcess {
    pub endpoint: String,
    /// The operations endpoint (`host:port`), serving `/metrics`.
    pub operations: String,
    /// Client identities of the channel's org (`--signers`): they may write and read.
    pub clients: Signers,
    /// The org's admin (its certificate is in the org's MSP admins, so it satisfies the
    /// channel's Admins policies): it signs config updates.
    pub admin: loadgen::msp::Signer,
    /// What a client needs to reach the listener, when it serves TLS.
    pub tls: Option<loadgen::client::ClientTls>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
    runtime: tokio::runtime::Runtime,
    _ledger: tempfile::TempDir,
    /// The Kafka broker this run started (stopped when dropped), for `kafka`.
    broker: Option<loadgen::kafka::Broker>,
}

/// How long Kafka channels may take to post CONNECT and start reading.
const KAFKA_START_TIMEOUT: Duration = Duration::from_secs(60);

/// The broker a `consensus` run needs (none for solo) and the Kafka options to reach it.
fn broker_for(
    args: &BenchmarkArgs,
    consensus: &str,
) -> Result<(Option<loadgen::kafka::Broker>, engine::kafka::KafkaOptions), Error> {
    let mut kafka = engine::kafka::KafkaOptions::default();
    for property in &args.kafka_properties {
        let (name, value) = property
            .split_once('=')
            .ok_or_else(|| Error::Config(format!("--kafka-property {property:?}: NAME=VALUE")))?;
        kafka
            .properties
            .push((name.trim().into(), value.trim().into()));
    }
    let broker = match consensus {
        "solo" => None,
        "kafka" => {
            let broker = loadgen::kafka::Broker::start().map_err(Error::Config)?;
            if broker.pid.is_some() {
                kafka.replication_factor = 1; // one local broker
            }
            Some(broker)
        }
        other => {
            return Err(Error::Config(format!(
                "--consensus {other:?}: solo or kafka"
            )));
        }
    };
    Ok((broker, kafka))
}

/// With `on`, a development CA's certificate for 127.0.0.1 to serve, and what a client
/// needs to trust it.
fn dev_tls(
    on: bool,
) -> Result<
    (
        Option<crate::config::ServerTls>,
        Option<loadgen::client::ClientTls>,
    ),
    Error,
> {
    if !on {
        return Ok((None, None));
    }
    let failed = |error: loadgen::Error| Error::Config(format!("TLS certificate: {error}"));
    let ca = DevCa::generate("BenchmarkTLS").map_err(failed)?;
    let server = ca.issue_tls(&["127.0.0.1", "localhost"]).map_err(failed)?;
    Ok((
        Some(crate::config::ServerTls {
            certificate_pem: server.cert_pem.clone().into_bytes(),
            private_key_pem: server.key_pem().into_bytes(),
            client_roots_pem: None,
            client_auth_required: false,
            handshake_time_shift: std::time::Duration::ZERO,
        }),
        Some(loadgen::client::ClientTls {
            root_cas_pem: ca.cert_pem().as_bytes().to_vec(),
            identity: None,
            server_name: None,
        }),
    ))
}

/// A non-blocking listener on a free loopback port, and its address.
fn bind_loopback() -> Result<(std::net::TcpListener, std::net::SocketAddr), Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("bind 127.0.0.1:0"))?;
    listener
        .set_nonblocking(true)
        .map_err(io("set the listener non-blocking"))?;
    let address = listener.local_addr().map_err(io("read listen address"))?;
    Ok((listener, address))
}

/// The operations endpoint on a free loopback port, over the orderer's metrics.
fn start_operations(
    runtime: &tokio::runtime::Runtime,
    registrar: &Arc<Registrar>,
    metrics: &Arc<crate::metrics::Metrics>,
) -> Result<String, Error> {
    let (listener, address) = bind_loopback()?;
    let ops = crate::operations::Operations {
        registrar: Arc::clone(registrar),
        metrics: Arc::clone(metrics),
        prometheus: true,
    };
    runtime.spawn(async move {
        let Ok(listener) = TcpListener::from_std(listener) else {
            return;
        };
        let _ = crate::operations::serve(listener, ops, None, std::future::pending()).await;
    });
    Ok(address.to_string())
}

/// Waits for every chain to take envelopes (Kafka: CONNECT posted, partition read).
async fn wait_until_ready(registrar: &Registrar) -> Result<(), Error> {
    let started = std::time::Instant::now();
    while !registrar.is_ready() {
        if started.elapsed() > KAFKA_START_TIMEOUT {
            return Err(Error::Config(format!(
                "the Kafka consenters did not start within {KAFKA_START_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn io(action: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        action: action.into(),
        source,
    }
}

impl InProcess {
    /// An orderer whose channels use `consensus`: `solo`, or `kafka` on the cluster
    /// `KAFKA_BROKERS` names or else a local broker started by `scripts/kafka/start.sh`.
    pub async fn start(args: &BenchmarkArgs, setup: Setup) -> Result<Self, Error> {
        let consensus = setup.consensus;
        let (broker, kafka) = broker_for(args, consensus)?;
        let brokers: Vec<String> = broker
            .iter()
            .flat_map(|b| b.bootstrap.split(',').map(str::to_string))
            .collect();
        let Network {
            genesis,
            signer,
            clients,
            admin,
        } = Network::make(args, consensus, &brokers)?;
        let ledger = tempfile::tempdir().map_err(io("create a temporary ledger"))?;
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let options = RegistrarOptions {
            ledger_dir: ledger.path().to_path_buf(),
            chain: ChainOptions {
                signer: Some(Arc::new(signer)),
                kafka,
                durable_acks: args.ack_mode == "durable",
                fill_observer: Some(Arc::clone(&metrics) as _),
                ..ChainOptions::default()
            },
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("orderer-rt")
            .enable_all()
            .build()
            .map_err(io("start the orderer's runtime"))?;
        let registrar = runtime
            .spawn_blocking(move || Registrar::open(&options, genesis))
            .await
            .map_err(|e| Error::Config(format!("opening the ledger failed: {e}")))??;
        wait_until_ready(&registrar).await?;
        let (listener, address) = bind_loopback()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (server_tls, tls) = dev_tls(setup.tls)?;
        let serve_options = ServeOptions {
            verify: !args.no_verify,
            tls: server_tls,
            metrics,
            ..ServeOptions::default()
        };
        let operations = start_operations(&runtime, &registrar, &serve_options.metrics)?;
        let task = runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).map_err(io("register the listener"))?;
            crate::serve_registrar(
                registrar,
                listener,
                async move {
                    let _ = stopped.await;
                },
                serve_options,
            )
            .await
        });
        Ok(Self {
            endpoint: format!("http://{address}"),
            operations,
            clients,
            admin,
            tls,
            stop,
            task,
            runtime,
            _ledger: ledger,
            broker,
        })
    }

    /// The pid of the local broker this run started, if it started one.
    pub fn broker_pid(&self) -> Option<u32> {
        self.broker.as_ref().and_then(|broker| broker.pid)
    }

    pub async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(());
        let result = self
            .task
            .await
            .map_err(|e| Error::Config(format!("orderer task failed: {e}")))?;
        self.runtime.shutdown_background();
        result
    }
}
