//! Signature and policy checks, off the gRPC reactor: a pool of plain threads, one per
//! core, fed through a queue whose depth is bounded by a semaphore. A stream that finds
//! the pool busy waits for a permit, and while it waits it reads nothing more from its
//! client: backpressure reaches the client through HTTP/2 flow control.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::{Semaphore, oneshot};
use tracing::error;

type Job = Box<dyn FnOnce() + Send>;

/// Checks queued or running at once, over all streams, per pool thread.
const JOBS_PER_THREAD_MAX: usize = 256;

/// The pool. Dropping it lets the threads finish the queued jobs and end.
#[derive(Debug)]
pub struct VerifyPool {
    jobs: Option<Sender<Job>>,
    permits: Arc<Semaphore>,
    threads: Vec<JoinHandle<()>>,
}

/// The pool stopped before the job ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolClosed;

impl VerifyPool {
    /// `threads` threads named `verify-<n>`; 0 means one per available core.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let handles = (0..threads)
            .map(|index| {
                let queue: Receiver<Job> = queue.clone();
                std::thread::Builder::new()
                    .name(format!("verify-{index}"))
                    .spawn(move || {
                        for job in queue {
                            job();
                        }
                    })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self {
            jobs: Some(jobs),
            permits: Arc::new(Semaphore::new(threads * JOBS_PER_THREAD_MAX)),
            threads: handles,
        })
    }

    /// Runs `check` on a pool thread and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        check: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, PoolClosed> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| PoolClosed)?;
        let (result, done) = oneshot::channel();
        let job: Job = Box::new(move || {
            let value = check();
            // The permit is back before the caller hears the result.
            drop(permit);
            let _ = result.send(value);
        });
        self.jobs
            .as_ref()
            .ok_or(PoolClosed)?
            .send(job)
            .map_err(|_| PoolClosed)?;
        done.await.map_err(|_| PoolClosed)
    }
}

impl Drop for VerifyPool {
    fn drop(&mut self) {
        self.permits.close();
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                error!("a verify thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_pool_threads_and_return_in_any_order() {
        let pool = Arc::new(VerifyPool::new(2).unwrap());
        let mut tasks = Vec::new();
        for index in 0..1000u64 {
            let pool = Arc::clone(&pool);
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    let name = std::thread::current().name().map(str::to_string);
                    (index * 2, name)
                })
                .await
            }));
        }
        for (index, task) in tasks.into_iter().enumerate() {
            let (doubled, thread) = task.await.unwrap().unwrap();
            assert_eq!(doubled, index as u64 * 2);
            assert!(thread.unwrap().starts_with("verify-"));
        }
        assert_eq!(
            pool.permits.available_permits(),
            2 * JOBS_PER_THREAD_MAX,
            "every permit is returned"
        );
    }
}
