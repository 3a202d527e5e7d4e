//! TLS handshakes of the gRPC listener's connections, run off the accept loop: each
//! gets at most [`SETUP_TIMEOUT`], at most [`HANDSHAKES_MAX`] run at once (a connection
//! past that is closed at once), and connections through their handshake wait for the
//! server in a queue of [`READY_MAX`]. The accept loop never waits for a handshake, so a
//! client that stalls in it delays nobody else.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tracing::debug;

use super::{Counted, SETUP_TIMEOUT};

/// Handshakes in progress at once.
pub const HANDSHAKES_MAX: usize = 256;
/// Connections through their handshake that the server has not taken yet.
const READY_MAX: usize = 16;
/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The connections of `incoming` once through their TLS handshake with `acceptor`.
/// Connections whose handshake fails or times out are closed and logged at debug.
pub fn handshaking(
    incoming: impl Stream<Item = std::io::Result<Counted>> + Send + 'static,
    acceptor: TlsAcceptor,
) -> impl Stream<Item = std::io::Result<TlsStream<Counted>>> {
    let (ready, taken) = mpsc::channel(READY_MAX);
    tokio::spawn(accept_loop(Box::pin(incoming), acceptor, ready));
    ReceiverStream::new(taken)
}

async fn accept_loop(
    mut incoming: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Counted>> + Send>>,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<std::io::Result<TlsStream<Counted>>>,
) {
    let slots = Arc::new(Semaphore::new(HANDSHAKES_MAX));
    loop {
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
            // The server is gone (stopped): stop accepting.
            _ = ready.closed() => return,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            debug!("gRPC listener: too many TLS handshakes in progress; connection closed");
            continue;
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(SETUP_TIMEOUT, acceptor.accept(connection)).await;
            drop(slot);
            match handshake {
                Ok(Ok(stream)) => {
                    let _ = ready.send(Ok(stream)).await;
                }
                Ok(Err(error)) => debug!(%error, "gRPC listener: TLS handshake failed"),
                Err(_) => debug!("gRPC listener: TLS handshake timed out"),
            }
        });
    }
}
