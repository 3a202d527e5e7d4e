//! The producer of one channel: an idempotent, `acks=all` librdkafka producer writing
//! to partition 0 of the channel's topic. Broadcast keeps many writes in flight and
//! answers each envelope when the broker has acknowledged it; the producer's own
//! thread turns delivery reports into those answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::channel::oneshot;
use rdkafka::ClientContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use tracing::warn;

use super::options::KafkaOptions;

/// The partition every channel uses.
pub const PARTITION: i32 = 0;

/// The broker's answer to one write: the offset it was written at, or why not.
pub type Ack = oneshot::Receiver<Result<i64, String>>;

/// Who hears of a write's fate.
#[derive(Debug)]
enum Notify {
    /// A Broadcast client waits for it.
    Client(oneshot::Sender<Result<i64, String>>),
    /// Nobody waits (a time-to-cut): a failure is logged.
    Log(&'static str),
}

/// A write on its way: who to tell, and how often it was made again.
#[derive(Debug)]
struct Sent {
    notify: Notify,
    attempts: u32,
}

#[derive(Debug)]
struct Delivery {
    topic: String,
    /// Set when a write failed in a way this producer cannot recover from (its producer
    /// id was fenced): every later write would fail alike.
    fenced: AtomicBool,
    /// Writes the broker refused because the producer was fenced, to be written again
    /// by the next producer (shared by every producer of the topic). A fenced write was
    /// not stored, so writing it again cannot duplicate it.
    resend: Arc<Mutex<Vec<Resend>>>,
}

/// A write to make again.
#[derive(Debug)]
struct Resend {
    payload: Vec<u8>,
    sent: Box<Sent>,
}

/// Writes made again at most this often before their client is told they failed.
const RESEND_ATTEMPTS_MAX: u32 = 3;

/// Delivery errors after which the producer's id is no longer accepted. Seen after a
/// broker outage: writes time out, librdkafka bumps the producer's epoch, and a broker
/// that does not support the bump fences the producer.
const FENCED: &[RDKafkaErrorCode] = &[
    RDKafkaErrorCode::ProducerFenced,
    RDKafkaErrorCode::InvalidProducerEpoch,
    RDKafkaErrorCode::UnknownProducerId,
    RDKafkaErrorCode::OutOfOrderSequenceNumber,
];

impl ClientContext for Delivery {}

impl Delivery {
    /// Tells whoever waits for a write that it failed.
    fn fail(topic: &str, sent: Sent, why: String) {
        Self::tell(topic, sent.notify, Err(why));
    }

    /// Tells whoever waits for a write how it went.
    fn tell(topic: &str, notify: Notify, result: Result<i64, String>) {
        match notify {
            Notify::Client(sender) => {
                let _ = sender.send(result);
            }
            Notify::Log(what) => {
                if let Err(why) = result {
                    warn!(%topic, %why, "could not post {what}");
                }
            }
        }
    }
}

impl ProducerContext for Delivery {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, mut sent: Box<Sent>) {
        let result = match result {
            Ok(message) => Ok(message.offset()),
            Err((error, message)) => {
                if let KafkaError::MessageProduction(code) = error
                    && FENCED.contains(code)
                {
                    self.fenced.store(true, Ordering::Release);
                    if sent.attempts < RESEND_ATTEMPTS_MAX {
                        sent.attempts += 1;
                        let payload = message.payload().unwrap_or_default().to_vec();
                        let mut resend = self.resend.lock().unwrap_or_else(|e| e.into_inner());
                        resend.push(Resend { payload, sent });
                        return;
                    }
                }
                Err(error.to_string())
            }
        };
        Self::tell(&self.topic, sent.notify, result);
    }
}

/// Why a write was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The producer's queue is full: try again shortly.
    Full,
    /// librdkafka refused it.
    Failed(String),
}

/// The producer of one channel's topic.
pub struct Producer {
    /// Replaced by a fresh producer when librdkafka reports a fatal error (for example
    /// an idempotent producer fenced after writes timed out during a broker outage):
    /// such a producer refuses every write from then on.
    inner: RwLock<Arc<ThreadedProducer<Delivery>>>,
    config: ClientConfig,
    topic: String,
    resend: Arc<Mutex<Vec<Resend>>>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer for `topic` at `bootstrap`. It connects lazily.
    pub fn new(options: &KafkaOptions, bootstrap: &str, topic: &str) -> Result<Self, KafkaError> {
        let mut config = options.client(
            bootstrap,
            &[
                // 5 ms gathers bigger produce batches than 2 ms: less CPU per envelope
                // in the orderer and the broker (results/README.md, Kafka next to solo).
                ("linger.ms", "5".into()),
                (
                    "queue.buffering.max.messages",
                    options.queue_messages_max.to_string(),
                ),
            ],
        );
        // What Fabric's promises rest on: not overridable.
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "message.timeout.ms",
                options.write_timeout.as_millis().max(1).to_string(),
            );
        let resend = Arc::new(Mutex::new(Vec::new()));
        let inner = Self::create(&config, topic, &resend)?;
        Ok(Self {
            inner: RwLock::new(inner),
            config,
            topic: topic.to_string(),
            resend,
        })
    }

    fn create(
        config: &ClientConfig,
        topic: &str,
        resend: &Arc<Mutex<Vec<Resend>>>,
    ) -> Result<Arc<ThreadedProducer<Delivery>>, KafkaError> {
        config
            .create_with_context(Delivery {
                topic: topic.to_string(),
                fenced: AtomicBool::new(false),
                resend: Arc::clone(resend),
            })
            .map(Arc::new)
    }

    /// Replaces a producer that cannot write any more and writes again what it could
    /// not write. Called by the chain worker between reads, and before each write.
    pub fn maintain(&self) {
        let waiting = std::mem::take(&mut *self.resend.lock().unwrap_or_else(|e| e.into_inner()));
        if waiting.is_empty() {
            return;
        }
        let producer = match self.current() {
            Ok(producer) => producer,
            Err(error) => {
                warn!(topic = %self.topic, ?error, "cannot start a new Kafka producer");
                self.resend
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(waiting);
                return;
            }
        };
        for resend in waiting {
            let record =
                BaseRecord::<[u8], [u8], Box<Sent>>::with_opaque_to(&self.topic, resend.sent)
                    .partition(PARTITION)
                    .payload(&resend.payload);
            if let Err((error, record)) = producer.send(record) {
                Delivery::fail(&self.topic, *record.delivery_opaque, error.to_string());
            }
        }
    }

    /// The current producer, replaced first if it has failed fatally.
    fn current(&self) -> Result<Arc<ThreadedProducer<Delivery>>, SendError> {
        let current = Arc::clone(&self.inner.read().unwrap_or_else(|e| e.into_inner()));
        let failure = match current.client().fatal_error() {
            Some((code, reason)) => format!("{code}: {reason}"),
            None if current.context().fenced.load(Ordering::Acquire) => "fenced".to_string(),
            None => return Ok(current),
        };
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&inner, &current) {
            warn!(topic = %self.topic, %failure, "Kafka producer cannot write any more; starting a new one");
            *inner = Self::create(&self.config, &self.topic, &self.resend)
                .map_err(|error| SendError::Failed(error.to_string()))?;
        }
        Ok(Arc::clone(&inner))
    }

    /// Queues `payload` for partition 0; the answer comes through the returned [`Ack`].
    pub fn send(&self, payload: &[u8]) -> Result<Ack, SendError> {
        let (sender, receiver) = oneshot::channel();
        self.queue(payload, Notify::Client(sender))?;
        Ok(receiver)
    }

    /// Queues `payload` that nobody waits for; `what` names it if it fails.
    pub fn post(&self, payload: &[u8], what: &'static str) -> Result<(), SendError> {
        self.queue(payload, Notify::Log(what))
    }

    fn queue(&self, payload: &[u8], notify: Notify) -> Result<(), SendError> {
        self.maintain();
        let producer = self.current()?;
        let record = BaseRecord::<[u8], [u8], Box<Sent>>::with_opaque_to(
            &self.topic,
            Box::new(Sent {
                notify,
                attempts: 0,
            }),
        )
        .partition(PARTITION)
        .payload(payload);
        producer.send(record).map_err(|(error, _)| match error {
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => SendError::Full,
            other => SendError::Failed(other.to_string()),
        })
    }

    /// Writes `payload` and waits up to `timeout` for the broker's acknowledgement.
    pub fn send_and_wait(&self, payload: &[u8], timeout: Duration) -> Result<i64, String> {
        let ack = self.send(payload).map_err(|error| format!("{error:?}"))?;
        let deadline = std::time::Instant::now() + timeout;
        let mut ack = ack;
        loop {
            match ack.try_recv() {
                Ok(Some(result)) => return result,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => return Err(format!("no acknowledgement within {timeout:?}")),
                Err(_) => return Err("the producer dropped the write".into()),
            }
        }
    }
}

/// Creates `topic` with one partition unless it exists (Fabric's `setupTopicForChannel`).
pub fn ensure_topic(options: &KafkaOptions, bootstrap: &str, topic: &str) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = options
        .client(bootstrap, &[])
        .create()
        .map_err(|error| error.to_string())?;
    let new_topic = NewTopic::new(
        topic,
        1,
        TopicReplication::Fixed(options.replication_factor),
    );
    let admin_options = AdminOptions::new().operation_timeout(Some(options.write_timeout));
    let results = futures::executor::block_on(admin.create_topics([&new_topic], &admin_options))
        .map_err(|error| error.to_string())?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(format!("cannot create topic {topic}: {code}")),
        }
    }
    Ok(())
}
