//! `General.Limits.MaxConnections`: the gRPC listener holds at most this many client
//! connections (0, the default, sets no limit, as Fabric's orderer). One more is accepted
//! and closed at once, so its client sees the connection end instead of waiting in the
//! kernel's backlog, with a warning at most once a second. Each connection holds a
//! permit until the server drops it.
//!
//! Every connection must send its first [`SETUP_BYTES`] (the HTTP/2 preface, or a TLS
//! hello) within [`SETUP_TIMEOUT`] or be closed, so sockets that connect and stay silent
//! cannot hold the permits (or file descriptors) for long; the TLS handshake has the same
//! deadline ([`tls`]).

pub mod tls;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};
use tracing::warn;

/// How long a new connection has to send its first [`SETUP_BYTES`] (and to finish its TLS
/// handshake).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// The length of the HTTP/2 client preface; a TLS ClientHello is longer.
pub const SETUP_BYTES: usize = 24;

/// A connection that counts against the limit while it lives.
#[derive(Debug)]
pub struct Counted {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
    /// Running until the first [`SETUP_BYTES`] have arrived.
    setup: Option<Pin<Box<tokio::time::Sleep>>>,
    setup_bytes: usize,
}

impl Connected for Counted {
    type ConnectInfo = TcpConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.setup.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no HTTP/2 preface or TLS hello within the setup timeout",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.setup.is_some() && matches!(polled, Poll::Ready(Ok(()))) {
            this.setup_bytes += buf.filled().len() - before;
            if this.setup_bytes >= SETUP_BYTES {
                this.setup = None;
            }
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

struct Accepting {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    warned: Option<Instant>,
}

impl Accepting {
    /// The next connection within the limit; the ones past it are closed.
    async fn next(&mut self) -> std::io::Result<Counted> {
        loop {
            let (io, address) = self.listener.accept().await?;
            match Arc::clone(&self.permits).try_acquire_owned() {
                Ok(permit) => {
                    return Ok(Counted {
                        io,
                        _permit: permit,
                        setup: Some(Box::pin(tokio::time::sleep(SETUP_TIMEOUT))),
                        setup_bytes: 0,
                    });
                }
                Err(_) => {
                    drop(io);
                    if self
                        .warned
                        .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
                    {
                        self.warned = Some(Instant::now());
                        warn!(%address, max = self.max,
                            "connection refused: General.Limits.MaxConnections reached");
                    }
                }
            }
        }
    }
}

/// The connections of `listener`, at most `max` at once (0: no limit).
pub fn limited(listener: TcpListener, max: usize) -> impl Stream<Item = std::io::Result<Counted>> {
    let permits = if max == 0 {
        Semaphore::MAX_PERMITS
    } else {
        max
    };
    let accepting = Accepting {
        listener,
        permits: Arc::new(Semaphore::new(permits)),
        max,
        warned: None,
    };
    futures::stream::unfold(accepting, |mut accepting| async move {
        let next = accepting.next().await;
        Some((next, accepting))
    })
}
