//! TLS handshakes of the gRPC listener's connections, run off the accept loop: each
//! gets at most [`SETUP_TIMEOUT`], at most [`HANDSHAKES_MAX`] run at once, and
//! connections through their handshake wait for the server in a queue of
//! [`READY_MAX`], holding their handshake place until the server takes them. When every
//! place is taken the loop stops accepting until one frees (new clients wait in the
//! kernel's backlog, as they would for a slow server) rather than closing them: clients
//! that stall in the handshake can delay others by at most the setup timeout, and cannot
//! make a real client's connection fail. The loop ends when the orderer stops.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected as _;
use tracing::{debug, warn};

use super::{Counted, SETUP_TIMEOUT};

/// Handshakes in progress (or through and not yet taken by the server) at once. Each
/// holds a socket and rustls' state (tens of KiB).
pub const HANDSHAKES_MAX: usize = 1024;
/// Connections through their handshake that the server has not taken yet.
const READY_MAX: usize = 16;
/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The acceptor for the next connection: the listener's TLS as it is now (under mutual
/// TLS the trusted client roots follow the channels' configs).
pub type Acceptors = Arc<dyn Fn() -> TlsAcceptor + Send + Sync>;

/// The connections of `incoming` once through their TLS handshake with the acceptor
/// `acceptors` gives for each, until `stopping` turns true. A failed handshake is logged
/// (Fabric logs it as an error) and its connection closed.
pub fn handshaking(
    incoming: impl Stream<Item = std::io::Result<Counted>> + Send + 'static,
    acceptor: Acceptors,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = std::io::Result<TlsStream<Counted>>> {
    let (ready, taken) = mpsc::channel(READY_MAX);
    tokio::spawn(accept_loop(Box::pin(incoming), acceptor, ready, stopping));
    ReceiverStream::new(taken)
}

async fn accept_loop(
    mut incoming: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Counted>> + Send>>,
    acceptors: Acceptors,
    ready: mpsc::Sender<std::io::Result<TlsStream<Counted>>>,
    mut stopping: watch::Receiver<bool>,
) {
    let places = Arc::new(Semaphore::new(HANDSHAKES_MAX));
    loop {
        let place = tokio::select! {
            place = Arc::clone(&places).acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => return,
            },
            () = stopped(&mut stopping) => return,
        };
        let connection = tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(connection)) => connection,
                Some(Err(error)) => {
                    debug!(%error, "gRPC listener: accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
                None => return,
            },
            () = stopped(&mut stopping) => return,
        };
        let (acceptor, ready) = (acceptors(), ready.clone());
        tokio::spawn(async move {
            let peer = connection.connect_info().remote_addr();
            let handshake = tokio::time::timeout(SETUP_TIMEOUT, acceptor.accept(connection)).await;
            match handshake {
                Ok(Ok(stream)) => {
                    let _ = ready.send(Ok(stream)).await;
                }
                Ok(Err(error)) => warn!(?peer, %error, "TLS handshake failed"),
                Err(_) => warn!(?peer, "TLS handshake timed out"),
            }
            drop(place);
        });
    }
}

/// Resolves once the orderer stops (or its stop signal is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}
