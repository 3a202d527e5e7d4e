//! The engine's hot paths on real bytes (Fabric's block 215: 500 envelopes of 1 KiB
//! payload data, signed by a Fabric client): envelope header decode, the cutter, block
//! assembly with hashing, one signature verification (ring, and the table verifier with
//! its table build), certificate parse, Broadcast's admission of an envelope by a signer
//! the channel has seen (cached identity, key table) and by one it has not (MSP
//! validation and a ring verification), store appends with and without fdatasync, and
//! Deliver's read and framing of a stored block.
#![allow(clippy::unwrap_used, missing_docs)] // bench code

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize as Batching, Criterion, Throughput, criterion_group, criterion_main};
use engine::block::{ChainTip, assemble};
use engine::cutter::{BatchSize, BlockCutter, Message};
use engine::store::{BlockStore, StoreOptions};

fn tip() -> ChainTip {
    ChainTip {
        number: 0,
        header_hash: [0; 32],
        last_config: 0,
    }
}

fn envelope_decode(c: &mut Criterion) {
    let envelope = bench::block_215_envelopes().unwrap().swap_remove(0);
    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Elements(1));
    group.bench_function("inspect_header", |b| {
        b.iter(|| {
            black_box(
                engine::envelope::inspect(envelope.clone())
                    .unwrap()
                    .message
                    .size_bytes,
            )
        });
    });
    group.finish();
}

/// One client signature verification (Fabric's own envelope and certificate).
fn signature(c: &mut Criterion) {
    use orderer_proto::common::{Envelope, Payload, SignatureHeader};
    use orderer_proto::msp::SerializedIdentity;
    use prost::Message as _;
    let bytes = bench::block_215_envelopes().unwrap().swap_remove(0);
    let envelope = Envelope::decode(bytes).unwrap();
    let payload = Payload::decode(envelope.payload.clone()).unwrap();
    let header = SignatureHeader::decode(payload.header.unwrap().signature_header).unwrap();
    let identity = SerializedIdentity::decode(header.creator).unwrap();
    let cert = engine::msp::cert::Cert::from_pem(&identity.id_bytes).unwrap();
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_p256_low_s", |b| {
        b.iter(|| {
            engine::signature::verify(&cert.public_key, &envelope.payload, &envelope.signature)
                .unwrap()
        });
    });
    let table = engine::signature::PrecomputedKey::from_sec1(&cert.public_key).unwrap();
    group.bench_function("verify_p256_low_s_table", |b| {
        b.iter(|| {
            engine::signature::verify_precomputed(&table, &envelope.payload, &envelope.signature)
                .unwrap()
        });
    });
    group.bench_function("precompute_key_table", |b| {
        b.iter(|| {
            black_box(engine::signature::PrecomputedKey::from_sec1(&cert.public_key).unwrap())
        });
    });
    group.bench_function("parse_certificate", |b| {
        b.iter(|| {
            black_box(
                engine::msp::cert::Cert::from_pem(&identity.id_bytes)
                    .unwrap()
                    .not_after,
            )
        });
    });
    group.finish();
}

fn cutter(c: &mut Criterion) {
    let envelopes = bench::block_215_envelopes().unwrap();
    let size = BatchSize {
        max_message_count: 500,
        absolute_max_bytes: 10 << 20,
        preferred_max_bytes: 2 << 20,
    };
    let mut group = c.benchmark_group("cutter");
    group.throughput(Throughput::Elements(envelopes.len() as u64));
    group.bench_function("ordered_500", |b| {
        b.iter(|| {
            let mut cutter = BlockCutter::new(size);
            let mut batches = 0;
            for envelope in &envelopes {
                let message = Message {
                    envelope: envelope.clone(),
                    size_bytes: envelope.len() as u32,
                };
                batches += cutter.ordered(message).len();
            }
            black_box(batches)
        });
    });
    group.finish();
}

fn assembly(c: &mut Criterion) {
    let envelopes = bench::block_215_envelopes().unwrap();
    let bytes: usize = envelopes.iter().map(|e| e.len()).sum();
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("assemble_and_hash_500x1KiB", |b| {
        let mut tip = tip();
        b.iter(|| {
            black_box(
                assemble(&mut tip, envelopes.clone(), None)
                    .unwrap()
                    .bytes
                    .len(),
            )
        });
    });
    group.finish();
}

fn store(c: &mut Criterion) {
    let block = assemble(&mut tip(), bench::block_215_envelopes().unwrap(), None)
        .unwrap()
        .bytes;
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Bytes(block.len() as u64));
    for (name, sync) in [
        ("append_1MiB_block", false),
        ("append_1MiB_block_fdatasync", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let number = store.written_height();
                store.append(number, &block).unwrap();
                if sync {
                    store.sync().unwrap();
                }
            });
        });
        store.sync().unwrap();
    }
    group.finish();
}

fn deliver(c: &mut Criterion) {
    let block = assemble(&mut tip(), bench::block_215_envelopes().unwrap(), None)
        .unwrap()
        .bytes;
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    store.append(0, &block).unwrap();
    store.sync().unwrap();
    let reader = store.reader();
    let mut group = c.benchmark_group("deliver");
    group.throughput(Throughput::Bytes(block.len() as u64));
    group.bench_function("read_and_frame_1MiB_block", |b| {
        b.iter_batched_ref(
            || BytesMut::with_capacity(block.len() + 16),
            |frame| {
                let stored = reader.block(0).unwrap();
                orderer_proto::raw::encode_block_frame(&stored, frame);
                black_box(frame.len())
            },
            Batching::SmallInput,
        );
    });
    group.finish();
}

/// Broadcast's checks after decoding (`admission::admit`: size, expiry, identity,
/// signature, Writers) on Fabric's envelope and genesis block. `seen_signer` is a signer
/// the channel has validated and built a key table for; `unseen_signer` gets a fresh
/// identity cache every time, so it pays what a signer's first envelope pays: its MSP
/// validation (certificate parse, chain, CRLs, OUs) and a verification by ring.
fn admission(c: &mut Criterion) {
    use engine::admission::{self, Rules};
    use engine::config::ChannelConfig;
    let envelope = bench::block_215_envelopes().unwrap().swap_remove(0);
    let genesis = bench::appchannel_genesis().unwrap();
    // 2026-01-01: inside the sample certificate's validity.
    let now_unix = 1_767_225_600;
    let admit = |config: &ChannelConfig| {
        let inspected = engine::envelope::inspect(envelope.clone()).unwrap();
        admission::admit(config, inspected, Rules::default(), now_unix).unwrap()
    };
    let mut group = c.benchmark_group("admission");
    group.throughput(Throughput::Elements(1));
    let seen = ChannelConfig::from_block(&genesis).unwrap();
    for _ in 0..engine::access::KEY_TABLE_AFTER_USES {
        admit(&seen);
    }
    assert_eq!(seen.access.key_tables(), 1);
    group.bench_function("seen_signer", |b| b.iter(|| black_box(admit(&seen))));
    group.bench_function("unseen_signer", |b| {
        b.iter_batched_ref(
            || ChannelConfig::from_block(&genesis).unwrap(),
            |config| black_box(admit(config)),
            Batching::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(
    benches,
    envelope_decode,
    signature,
    admission,
    cutter,
    assembly,
    store,
    deliver
);
criterion_main!(benches);
