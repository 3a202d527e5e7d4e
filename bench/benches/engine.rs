//! The engine's per-block hot path on Fabric's block 215 (500 x 1 KiB): cutting, and
//! assembling with data and header hashes.
#![allow(clippy::unwrap_used, missing_docs)] // bench code

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine::block::{ChainTip, assemble};
use engine::cutter::{BatchSize, BlockCutter, Message};
use std::hint::black_box;

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
        let mut tip = ChainTip {
            number: 0,
            header_hash: [0; 32],
            last_config: 0,
        };
        b.iter(|| black_box(assemble(&mut tip, envelopes.clone()).bytes.len()));
    });
    group.finish();
}

criterion_group!(benches, cutter, assembly);
criterion_main!(benches);
