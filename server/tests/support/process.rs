//! A real `orderer start` process on a free loopback port, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{ORG, genesis, orderer_msp_dir};

pub struct Process {
    pub child: Child,
    pub endpoint: String,
    /// The process's log lines after the listening line.
    lines: mpsc::Receiver<String>,
}

impl Process {
    /// Waits up to 60 s for a log line that contains `text`, and returns it.
    pub fn wait_for_log(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("the orderer logged no {text:?} within 60 s"),
            }
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    /// A failing test leaves no orderer behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `orderer start` on the tests' solo genesis block with `env` on top, expecting it
/// to refuse to start; returns what it printed on stderr.
pub fn refused_start(env: &[(&str, &str)]) -> String {
    let ledger = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderer"));
    command
        .arg("start")
        .env("ORDERER_GENERAL_BOOTSTRAPFILE", genesis())
        .env("ORDERER_GENERAL_LOCALMSPDIR", orderer_msp_dir())
        .env("ORDERER_GENERAL_LOCALMSPID", ORG)
        .env("ORDERER_FILELEDGER_LOCATION", ledger.path());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "the orderer started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Starts `orderer start` on the tests' solo genesis block.
pub fn spawn_orderer(ledger: &Path) -> Process {
    spawn_orderer_with(ledger, &genesis(), &[])
}

/// Starts `orderer start` bootstrapped from `genesis_block`, with `env` on top, and waits
/// for its listening line.
pub fn spawn_orderer_with(ledger: &Path, genesis_block: &Path, env: &[(&str, String)]) -> Process {
    spawn_orderer_command(&["start"], ledger, genesis_block, env)
}

/// [`spawn_orderer_with`] with the command line `args` (`&[]`: a bare `orderer`).
pub fn spawn_orderer_command(
    args: &[&str],
    ledger: &Path,
    genesis_block: &Path,
    env: &[(&str, String)],
) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderer"));
    command
        .args(args)
        .env("ORDERER_GENERAL_LISTENADDRESS", "127.0.0.1")
        .env("ORDERER_GENERAL_LISTENPORT", "0")
        .env("ORDERER_GENERAL_BOOTSTRAPFILE", genesis_block)
        .env("ORDERER_GENERAL_LOCALMSPDIR", orderer_msp_dir())
        .env("ORDERER_GENERAL_LOCALMSPID", ORG)
        .env("ORDERER_FILELEDGER_LOCATION", ledger)
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, address) = mpsc::channel();
    let (log, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if std::env::var_os("TEST_LOGS_ORDERER").is_some() {
                eprintln!("{line}");
            }
            if let Some(at) = line.find("orderer listening on ") {
                let rest = &line[at + "orderer listening on ".len()..];
                let _ = found.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            let _ = log.send(line);
        }
    });
    let address = address
        .recv_timeout(Duration::from_secs(30))
        .expect("orderer did not start");
    Process {
        child,
        endpoint: format!("http://{address}"),
        lines,
    }
}
