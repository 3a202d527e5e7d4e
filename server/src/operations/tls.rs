//! TLS on the operations endpoint (`Operations.TLS`), as Fabric's: a client certificate
//! is verified against `ClientRootCAs` when one is given, and required at the handshake
//! with `ClientAuthRequired`; `/metrics` and `/logspec` answer 401 to a client without a
//! verified certificate, `/healthz` and `/version` answer anyone.
//!
//! Handshakes run off the accept loop, each for at most [`HANDSHAKE_TIMEOUT`]; the loop
//! never waits for them. At most [`HANDSHAKES_MAX`] run at once: a connection past that
//! is closed at once (memory stays bounded), so sockets that connect and stay silent can
//! at worst make new connections fail for 10 s at a time, and only by keeping hundreds
//! open.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::debug;

use crate::config::ServerTls;
use crate::error::Error;
use crate::tls::{ClientAuth, Settings};

/// Handshakes in progress at once.
pub const HANDSHAKES_MAX: usize = 256;
/// How long a client has to finish its handshake (Fabric's operations server reads a
/// request within 10 s).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections through their handshake, waiting for the HTTP server to take them.
const READY_MAX: usize = 16;

/// Who is at the other end of an operations connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's address.
    pub address: SocketAddr,
    /// The client presented a certificate that chains to `ClientRootCAs`.
    pub client_verified: bool,
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// The rustls server configuration of `tls`: a client certificate is verified when
/// one is given (`ClientRootCAs`), and required with `ClientAuthRequired`.
pub fn server_config(tls: &ServerTls) -> Result<Arc<rustls::ServerConfig>, Error> {
    let client_auth = if tls.client_auth_required {
        ClientAuth::Required
    } else {
        ClientAuth::Optional
    };
    crate::tls::server_config(
        tls,
        Settings {
            section: "Operations",
            client_auth,
            time_shift: Duration::ZERO,
            lenient_roots: false,
            alpn_h2: false,
        },
    )
}

/// Connections of a TCP listener, through their TLS handshake.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, Peer)>,
    accepting: JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl TlsListener {
    /// Accepts on `listener`, handshaking as `config`.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> Result<Self, Error> {
        let local = listener.local_addr().map_err(|source| Error::Io {
            action: "read the operations address".into(),
            source,
        })?;
        let (sender, ready) = mpsc::channel(READY_MAX);
        let accepting = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), sender));
        Ok(Self {
            local,
            ready,
            accepting,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, Peer)>,
) {
    let slots = Arc::new(Semaphore::new(HANDSHAKES_MAX));
    loop {
        let (socket, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                debug!(%error, "operations endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            debug!(%address, "operations endpoint: too many TLS handshakes in progress; closed");
            continue;
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await;
            drop(slot);
            match handshake {
                Ok(Ok(stream)) => {
                    let client_verified = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .is_some_and(|certs| !certs.is_empty());
                    let peer = Peer {
                        address,
                        client_verified,
                    };
                    let _ = ready.send((stream, peer)).await;
                }
                Ok(Err(error)) => {
                    debug!(%address, %error, "operations endpoint: TLS handshake failed")
                }
                Err(_) => debug!(%address, "operations endpoint: TLS handshake timed out"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop only ends with the listener: wait for the shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(Peer {
            address: self.local,
            client_verified: false,
        })
    }
}
