//! The answers of a bidirectional call, opened without waiting for them.
//!
//! A grpc-go server (Fabric's orderer) sends its response headers only with its first
//! answer, and Fabric's handlers read the first request before they answer: a client
//! that awaits the headers before it sends waits forever, and so does the server. So the
//! call runs in a task of its own, started at once, while requests are queued; the first
//! read waits for the headers, which by then the first request has drawn.

use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tonic::{Response, Status, Streaming};

use crate::Error;

/// The inbound half of a call: pending until the server's headers come, then open.
pub(crate) struct Inbound<T> {
    state: State<T>,
}

enum State<T> {
    /// The call's task has not delivered the response headers yet.
    Starting {
        opened: oneshot::Receiver<Result<Streaming<T>, Status>>,
        /// Aborted when the stream is dropped before it opened, which resets the call.
        task: AbortHandle,
    },
    /// Boxed: a `Streaming` is large, and the stream is moved around while pending.
    Open(Box<Streaming<T>>),
    /// The call failed to open; the failure was returned once.
    Failed,
}

impl<T: Send + 'static> Inbound<T> {
    /// Starts `call` (a tonic client call, holding the outbound request stream) in its own
    /// task, so requests queued before the first read reach the server.
    pub(crate) fn start<F>(call: F) -> Self
    where
        F: Future<Output = Result<Response<Streaming<T>>, Status>> + Send + 'static,
    {
        let (sender, opened) = oneshot::channel();
        let task = tokio::spawn(async move {
            // The receiver is gone only when the stream was dropped: nothing to tell.
            let _ = sender.send(call.await.map(Response::into_inner));
        });
        Self {
            state: State::Starting {
                opened,
                task: task.abort_handle(),
            },
        }
    }

    /// The next answer; `None` once the server ended the answers. Cancel-safe: a read
    /// dropped while the headers are awaited leaves the call pending.
    pub(crate) async fn message(&mut self) -> Result<Option<T>, Error> {
        if let State::Starting { opened, .. } = &mut self.state {
            let result = opened.await;
            self.state = State::Failed;
            match result {
                Ok(Ok(streaming)) => self.state = State::Open(Box::new(streaming)),
                Ok(Err(status)) => return Err(status.into()),
                Err(_) => return Err(Error::Task("the call's task ended".into())),
            }
        }
        match &mut self.state {
            State::Open(streaming) => Ok(streaming.message().await?),
            State::Starting { .. } | State::Failed => Ok(None),
        }
    }
}

impl<T> Drop for Inbound<T> {
    fn drop(&mut self) {
        if let State::Starting { task, .. } = &self.state {
            task.abort();
        }
    }
}

impl<T> std::fmt::Debug for Inbound<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Starting { .. } => "starting",
            State::Open(_) => "open",
            State::Failed => "failed",
        };
        f.debug_struct("Inbound").field("state", &state).finish()
    }
}
