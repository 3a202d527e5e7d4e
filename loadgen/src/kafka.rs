//! The Kafka-protocol broker a Kafka run talks to: the cluster named by `KAFKA_BROKERS`,
//! or else a local tansu started by the project's `scripts/kafka/start.sh` (installed by
//! `install.sh` when missing) and stopped by pid when dropped.

use std::path::PathBuf;
use std::process::Command;

/// A broker for one run or test.
#[derive(Debug)]
pub struct Broker {
    /// Bootstrap address list, `host:port[,host:port]`.
    pub bootstrap: String,
    /// The pid of the broker this run started, if it started one.
    pub pid: Option<u32>,
}

/// The project's `scripts/kafka` directory.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka")
}

impl Broker {
    /// The cluster `KAFKA_BROKERS` names, or a fresh local broker.
    pub fn start() -> Result<Self, String> {
        Self::run_start_script(&mut Command::new(scripts_dir().join("start.sh")))
    }

    /// A fresh local broker (even when `KAFKA_BROKERS` names a cluster) that tells its
    /// clients to connect to `advertised` (`host:port`): a TLS terminator in front of it.
    pub fn start_local_advertising(advertised: &str) -> Result<Self, String> {
        Self::run_start_script(
            Command::new(scripts_dir().join("start.sh"))
                .env_remove("KAFKA_BROKERS")
                .env("KAFKA_ADVERTISED", advertised),
        )
    }

    fn run_start_script(command: &mut Command) -> Result<Self, String> {
        let script = scripts_dir().join("start.sh");
        let out = command
            .output()
            .map_err(|error| format!("run {}: {error}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_string)
        };
        let bootstrap = field("KAFKA_BROKERS").ok_or("start.sh printed no KAFKA_BROKERS")?;
        let pid = match field("KAFKA_PID") {
            Some(pid) => Some(pid.parse().map_err(|_| format!("bad KAFKA_PID {pid}"))?),
            None => None,
        };
        Ok(Self { bootstrap, pid })
    }

    /// Pauses the local broker (SIGSTOP): its connections stay open and nothing is
    /// answered. No-op for a named cluster.
    pub fn pause(&self) -> Result<(), String> {
        self.signal("-STOP")
    }

    /// Resumes a paused local broker (SIGCONT).
    pub fn resume(&self) -> Result<(), String> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<(), String> {
        let Some(pid) = self.pid else {
            return Ok(());
        };
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .map_err(|error| format!("kill {signal} {pid}: {error}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("kill {signal} {pid} failed"))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new(scripts_dir().join("stop.sh"))
                .arg(pid.to_string())
                .status();
        }
    }
}
