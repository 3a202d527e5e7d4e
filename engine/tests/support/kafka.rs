//! The Kafka-protocol broker a test talks to: the cluster named by `KAFKA_BROKERS`, or
//! else a local tansu started by `scripts/kafka/start.sh` and stopped by pid on drop.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

/// A broker for one test.
pub struct Broker {
    /// Bootstrap address list, `host:port[,host:port]`.
    pub bootstrap: String,
    /// The pid of the broker this test started, if it started one.
    pub pid: Option<u32>,
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka")
}

impl Broker {
    /// The named cluster, or a fresh local broker.
    pub fn start() -> Self {
        let out = Command::new(scripts().join("start.sh"))
            .output()
            .expect("run scripts/kafka/start.sh");
        assert!(
            out.status.success(),
            "scripts/kafka/start.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("start.sh prints text");
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_string)
        };
        Self {
            bootstrap: field("KAFKA_BROKERS").expect("start.sh prints KAFKA_BROKERS"),
            pid: field("KAFKA_PID").map(|pid| pid.parse().expect("a pid")),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new(scripts().join("stop.sh"))
                .arg(pid.to_string())
                .status();
        }
    }
}
