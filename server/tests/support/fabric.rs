//! Fabric's own orderer (`../shared/fabric-bin`) as a real process next to ours, and the
//! genesis blocks both can start on.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fabric_bin;

/// A Fabric orderer process on a loopback port; SIGTERM and wait when dropped.
pub struct FabricOrderer {
    child: Child,
    pub endpoint: String,
    /// The ledger directory (removed with the guard).
    _ledger: tempfile::TempDir,
}

/// A free loopback port (bound, then released for the process to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl FabricOrderer {
    /// Fabric's orderer at `version` (`v1.4.12` or `v2.5.6`) on the system-channel
    /// `genesis_block`, solo, signing blocks as the MSP in `msp_dir` (`msp_id`); serves
    /// once its port accepts connections.
    pub fn start(version: &str, genesis_block: &Path, msp_dir: &Path, msp_id: &str) -> Self {
        Self::start_with_env(version, genesis_block, msp_dir, msp_id, &[])
    }

    /// [`FabricOrderer::start`] with `env` on top (`ORDERER_KAFKA_*`, say).
    pub fn start_with_env(
        version: &str,
        genesis_block: &Path,
        msp_dir: &Path,
        msp_id: &str,
        env: &[(&str, String)],
    ) -> Self {
        let ledger = tempfile::tempdir().unwrap();
        let port = free_port();
        let genesis = genesis_block.to_str().unwrap().to_string();
        let mut command = Command::new(fabric_bin(version, "orderer"));
        command
            .env("FABRIC_CFG_PATH", fabric_bin(version, "sampleconfig"))
            .env("ORDERER_GENERAL_LISTENADDRESS", "127.0.0.1")
            .env("ORDERER_GENERAL_LISTENPORT", port.to_string())
            .env("ORDERER_OPERATIONS_LISTENADDRESS", "127.0.0.1:0")
            .env("ORDERER_FILELEDGER_LOCATION", ledger.path())
            .env("ORDERER_GENERAL_LOCALMSPDIR", msp_dir)
            .env("ORDERER_GENERAL_LOCALMSPID", msp_id)
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("TEST_LOGS_FABRIC").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        if version.starts_with("v1.") {
            command
                .env("ORDERER_GENERAL_GENESISMETHOD", "file")
                .env("ORDERER_GENERAL_GENESISFILE", &genesis);
        } else {
            command
                .env("ORDERER_GENERAL_BOOTSTRAPMETHOD", "file")
                .env("ORDERER_GENERAL_BOOTSTRAPFILE", &genesis)
                .env("ORDERER_ADMIN_LISTENADDRESS", "127.0.0.1:0");
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("Fabric's {version} orderer exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "Fabric's orderer did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            _ledger: ledger,
        }
    }
}

impl Drop for FabricOrderer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The system-channel genesis blocks of `scripts/compare/genesis.py` for `channel`
/// (made by Fabric v2.5.6's configtxgen, 1.x-shaped so v1.4.12 starts on them too):
/// `signed.block` (SampleOrg writes) and `unsigned.block` (no organizations), in `dir`.
pub fn system_channel_blocks(channel: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/compare/genesis.py");
    let fabric = fabric_bin("", "");
    let output = Command::new("python3")
        .arg(script)
        .arg(&fabric)
        .arg(super::vectors().join("msp"))
        .arg(channel)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "genesis.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (dir.join("signed.block"), dir.join("unsigned.block"))
}
