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
use loadgen::msp::Signer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::BenchmarkArgs;
use crate::ServeOptions;
use crate::error::Error;

/// MSP ID of the benchmark's org.
const ORG: &str = "BenchOrg";

/// The benchmark's channels and identities.
struct Network {
    genesis: Vec<bytes::Bytes>,
    signer: LocalSigner,
    client: Arc<Signer>,
}

impl Network {
    /// One org of a fresh CA; a genesis block per channel of the flags.
    fn make(args: &BenchmarkArgs) -> Result<Self, Error> {
        let ca = DevCa::generate(ORG)?;
        let admin = ca.issue("admin", &["admin"])?;
        let client = Arc::new(ca.issue("client", &["client"])?.signer()?);
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
                    consensus: args.consensus.clone(),
                    batch_size: BatchSize {
                        max_message_count: args.max_message_count,
                        absolute_max_bytes: args.absolute_max_bytes,
                        preferred_max_bytes: args.preferred_max_bytes,
                    },
                    batch_timeout: Duration::from_millis(args.batch_timeout_ms),
                    orgs: vec![org.clone()],
                }
                .build()
            })
            .collect();
        let signer = LocalSigner::new(ORG, orderer.cert_pem.as_bytes(), &orderer.key_pkcs8_der)
            .map_err(Error::Config)?;
        Ok(Self {
            genesis,
            signer,
            client,
        })
    }
}

/// An orderer serving in this process until stopped.
pub(super) struct InProcess {
    pub endpoint: String,
    /// A client identity of the channel's org: it may write and read.
    pub client: Arc<Signer>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
    runtime: tokio::runtime::Runtime,
    _ledger: tempfile::TempDir,
}

fn io(action: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        action: action.into(),
        source,
    }
}

impl InProcess {
    pub async fn start(args: &BenchmarkArgs) -> Result<Self, Error> {
        if args.consensus != "solo" {
            return Err(Error::Config(format!(
                "--consensus {:?}: only solo is supported so far",
                args.consensus
            )));
        }
        let Network {
            genesis,
            signer,
            client,
        } = Network::make(args)?;
        let ledger = tempfile::tempdir().map_err(io("create a temporary ledger"))?;
        let options = RegistrarOptions {
            ledger_dir: ledger.path().to_path_buf(),
            chain: ChainOptions {
                signer: Some(Arc::new(signer)),
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
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(io("bind 127.0.0.1:0"))?;
        listener
            .set_nonblocking(true)
            .map_err(io("set the listener non-blocking"))?;
        let address = listener.local_addr().map_err(io("read listen address"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serve_options = ServeOptions {
            verify: !args.no_verify,
            ..ServeOptions::default()
        };
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
            client,
            stop,
            task,
            runtime,
            _ledger: ledger,
        })
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
