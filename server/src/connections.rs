//! `General.Limits.MaxConnections`: the gRPC listener holds at most this many client
//! connections. One more is accepted and closed at once, so its client sees the
//! connection end instead of waiting in the kernel's backlog, with a warning at most once
//! a second. Each connection holds a permit until the server drops it.

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

/// A connection that counts against the limit while it lives.
#[derive(Debug)]
pub struct Counted {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
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
        Pin::new(&mut self.io).poll_read(cx, buf)
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

/// The connections of `listener`, at most `max` at once.
pub fn limited(listener: TcpListener, max: usize) -> impl Stream<Item = std::io::Result<Counted>> {
    let accepting = Accepting {
        listener,
        permits: Arc::new(Semaphore::new(max)),
        max,
        warned: None,
    };
    futures::stream::unfold(accepting, |mut accepting| async move {
        let next = accepting.next().await;
        Some((next, accepting))
    })
}
