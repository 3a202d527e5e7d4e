//! The `orderer` binary's commands and start-up errors.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::process::Command;

fn orderer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_orderer"))
}

#[test]
fn version_prints_the_version() {
    let output = orderer().arg("version").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("orderer {}", env!("CARGO_PKG_VERSION"))
    );
}

/// etcdraft is not implemented: its genesis block stops the start with a message that
/// names the consensus type, and leaves no channel behind.
#[test]
fn unsupported_consensus_type_is_a_clear_startup_error() {
    let ledger = tempfile::tempdir().unwrap();
    let mut spec = support::genesis_spec("raftchannel", &[]);
    spec.consensus = "etcdraft".into();
    let genesis_block = ledger.path().join("raft.block");
    std::fs::write(&genesis_block, spec.build()).unwrap();
    let output = orderer()
        .arg("start")
        .env("ORDERER_GENERAL_LISTENPORT", "0")
        .env("ORDERER_GENERAL_GENESISFILE", &genesis_block)
        .env("ORDERER_FILELEDGER_LOCATION", ledger.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("ConsensusType \"etcdraft\" is not supported"),
        "{text}"
    );
    let chains = std::fs::read_dir(ledger.path().join("chains"))
        .unwrap()
        .count();
    assert_eq!(chains, 0, "no half-made channel is left in the ledger");
}

#[test]
fn invalid_environment_value_names_the_key() {
    let output = orderer()
        .arg("start")
        .env("ORDERER_GENERAL_LISTENPORT", "port")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("General.ListenPort"), "{text}");
}

#[test]
fn missing_bootstrap_file_is_named() {
    let ledger = tempfile::tempdir().unwrap();
    let output = orderer()
        .arg("start")
        .env(
            "ORDERER_GENERAL_BOOTSTRAPFILE",
            "/nonexistent/genesis.block",
        )
        .env("ORDERER_FILELEDGER_LOCATION", ledger.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("/nonexistent/genesis.block"), "{text}");
}

/// Copies `from` (a directory of files) into `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// An orderer.yaml in $FABRIC_CFG_PATH, with paths relative to it, starts an orderer that
/// orders; the environment still overrides the file (the port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orderer_yaml_in_fabric_cfg_path_configures_the_start() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(support::genesis(), dir.path().join("genesis.block")).unwrap();
    copy_dir(&support::orderer_msp_dir(), &dir.path().join("msp"));
    std::fs::write(
        dir.path().join("orderer.yaml"),
        format!(
            "General:\n  ListenAddress: 127.0.0.1\n  ListenPort: 7050\n  BootstrapMethod: file\n  BootstrapFile: genesis.block\n  LocalMSPDir: msp\n  LocalMSPID: {}\n  TLS:\n    Enabled: false\nFileLedger:\n  Location: ledger\n",
            support::ORG
        ),
    )
    .unwrap();
    let mut child = orderer()
        .arg("start")
        .env("FABRIC_CFG_PATH", dir.path())
        .env("ORDERER_GENERAL_LISTENPORT", "0")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("orderer exited before listening")
            .unwrap();
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
        }
    };
    let mut client = loadgen::client::connect(&format!("http://{address}"))
        .await
        .unwrap();
    let mut stream = loadgen::client::BroadcastStream::open(&mut client)
        .await
        .unwrap();
    support::broadcast_all(&mut stream, &[support::message(support::CHANNEL, b"yaml")]).await;
    assert!(
        dir.path()
            .join("ledger/chains")
            .join(support::CHANNEL)
            .is_dir(),
        "the ledger is where the file says, relative to it"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn unknown_key_in_orderer_yaml_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orderer.yaml"),
        "General:\n  ListenPort: 7050\n  LocalMSPDirectory: msp\n",
    )
    .unwrap();
    let output = orderer()
        .arg("start")
        .env("FABRIC_CFG_PATH", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("General.LocalMSPDirectory"), "{text}");
}

/// Fabric's `orderer` with no command starts the node; so does this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_orderer_starts_the_node() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer =
        support::process::spawn_orderer_command(&[], ledger.path(), &support::genesis(), &[]);
    let status = support::order_one(&orderer.endpoint, None, b"bare").await;
    assert_eq!(status, Ok(orderer_proto::common::Status::Success as i32));
}

/// `General.BCCSP.Default: PKCS11` asks for signing with an HSM, which this orderer does
/// not do yet: rather than sign with a file key while the operator believes the key is
/// in the HSM, the start stops naming the key.
#[test]
fn pkcs11_bccsp_stops_the_start_naming_the_key() {
    let ledger = tempfile::tempdir().unwrap();
    for (variable, value) in [
        ("ORDERER_GENERAL_BCCSP_DEFAULT", "PKCS11"),
        ("ORDERER_GENERAL_BCCSP_DEFAULT", "pkcs11"),
    ] {
        let output = orderer()
            .arg("start")
            .env("ORDERER_GENERAL_LISTENPORT", "0")
            .env("ORDERER_GENERAL_BOOTSTRAPFILE", support::genesis())
            .env("ORDERER_FILELEDGER_LOCATION", ledger.path())
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(text.contains("General.BCCSP.Default"), "{text}");
        assert!(text.contains("PKCS11"), "{text}");
    }
}
