//! The Kafka toolchain the consenter rests on, against a real broker (the local tansu the
//! project's scripts install and start, or the cluster named by `KAFKA_BROKERS`): a topic
//! created with exactly one partition, an idempotent `acks=all` producer whose writes
//! are all acknowledged, and a consumer assigned to partition 0 at an offset that reads
//! them back in order with consecutive offsets.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

const MESSAGES: usize = 2000;

/// Offsets acknowledged by the broker, and errors.
#[derive(Default)]
struct Acks {
    offsets: Mutex<Vec<i64>>,
    errors: Mutex<Vec<String>>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        match result {
            Ok(message) => self.offsets.lock().unwrap().push(message.offset()),
            Err((error, _)) => self.errors.lock().unwrap().push(error.to_string()),
        }
    }
}

fn create_topic(bootstrap: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let results =
        futures::executor::block_on(admin.create_topics([&new_topic], &AdminOptions::new()))
            .unwrap();
    for result in results {
        result.unwrap();
    }
}

fn produce(bootstrap: &str, topic: &str) -> Vec<i64> {
    let producer: BaseProducer<Acks> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create_with_context(Acks::default())
        .unwrap();
    for i in 0..MESSAGES {
        let payload = format!("envelope {i}");
        let mut record = BaseRecord::to(topic).partition(0).payload(&payload);
        loop {
            match producer.send::<(), _>(record) {
                Ok(()) => break,
                Err((error, back)) => {
                    // Queue full: serve delivery reports, then retry.
                    assert!(
                        error.to_string().contains("Queue full"),
                        "send failed: {error}"
                    );
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let acks = producer.context();
    assert_eq!(acks.errors.lock().unwrap().as_slice(), &[] as &[String]);
    acks.offsets.lock().unwrap().clone()
}

fn consume_from(bootstrap: &str, topic: &str, start: i64) -> Vec<(i64, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kafka-broker-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, 0, Offset::Offset(start))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let wanted = MESSAGES - usize::try_from(start).unwrap();
    let mut read = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while read.len() < wanted {
        assert!(Instant::now() < deadline, "read {} of {wanted}", read.len());
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message.unwrap();
            assert_eq!(message.partition(), 0);
            let payload = String::from_utf8(message.payload().unwrap().to_vec()).unwrap();
            read.push((message.offset(), payload));
        }
    }
    read
}

#[test]
fn one_partition_topic_round_trips_in_offset_order() {
    let broker = loadgen::kafka::Broker::start().unwrap();
    let topic = format!("broker-test-{}", std::process::id());
    create_topic(&broker.bootstrap, &topic);

    let mut offsets = produce(&broker.bootstrap, &topic);
    offsets.sort_unstable();
    let expected: Vec<i64> = (0..i64::try_from(MESSAGES).unwrap()).collect();
    assert_eq!(
        offsets, expected,
        "every write acknowledged once, offsets 0..N"
    );

    for start in [0, 1234] {
        let read = consume_from(&broker.bootstrap, &topic, start);
        for (i, (offset, payload)) in read.iter().enumerate() {
            let want = start + i64::try_from(i).unwrap();
            assert_eq!(*offset, want, "offsets are consecutive from {start}");
            assert_eq!(payload, &format!("envelope {want}"));
        }
    }
}
