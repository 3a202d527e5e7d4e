//! CPU time of the orderer's threads in this process, from Linux's per-thread
//! `/proc/self/task/<tid>/schedstat` (nanoseconds on a CPU). The benchmark's orderer runs
//! on threads named `orderer-rt` (its runtime and that runtime's blocking pool),
//! `verify-*`, `chain-*`, `store-*` and, under Kafka, librdkafka's `rdk:*`; the load
//! generator runs on others. A local broker's CPU is read the same way from its process.

use std::path::Path;

/// Name prefixes of the orderer's threads.
const ORDERER_THREADS: [&str; 5] = ["orderer-rt", "verify-", "chain-", "store-", "rdk:"];

/// Nanoseconds the orderer's live threads have spent on a CPU; `None` where `/proc` has
/// no per-thread schedstat.
pub fn orderer_cpu_ns() -> Option<u64> {
    threads_cpu_ns(Path::new("/proc/self/task"), &ORDERER_THREADS)
}

/// Nanoseconds the live threads of process `pid` have spent on a CPU.
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    threads_cpu_ns(
        &Path::new("/proc").join(pid.to_string()).join("task"),
        &[""],
    )
}

/// Nanoseconds on a CPU of the threads under `tasks` whose names start with one of
/// `prefixes`.
fn threads_cpu_ns(tasks: &Path, prefixes: &[&str]) -> Option<u64> {
    let tasks = std::fs::read_dir(tasks).ok()?;
    let mut total_ns = 0u64;
    let mut seen = false;
    for task in tasks.flatten() {
        let path = task.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        if let Some(ns) = schedstat_ns(&path) {
            total_ns += ns;
            seen = true;
        }
    }
    seen.then_some(total_ns)
}

fn schedstat_ns(task: &Path) -> Option<u64> {
    std::fs::read_to_string(task.join("schedstat"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orderer_named_thread_is_counted() {
        std::thread::Builder::new()
            .name("verify-test".into())
            .spawn(|| {
                let mut x = 0u64;
                for i in 0..20_000_000u64 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                let own_ns = schedstat_ns(Path::new("/proc/thread-self")).unwrap();
                assert!(own_ns > 0);
                let counted_ns = orderer_cpu_ns().unwrap();
                assert!(counted_ns >= own_ns, "{counted_ns} < {own_ns}");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
