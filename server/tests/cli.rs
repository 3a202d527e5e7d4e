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

/// Kafka is not implemented yet: a kafka genesis block stops the start with a message
/// that names the consensus type, and leaves no channel behind.
#[test]
fn unsupported_consensus_type_is_a_clear_startup_error() {
    let ledger = tempfile::tempdir().unwrap();
    let output = orderer()
        .arg("start")
        .env("ORDERER_GENERAL_LISTENPORT", "0")
        .env(
            "ORDERER_GENERAL_GENESISFILE",
            support::vectors().join("genesis/v1.4.12/appchannel.kafka.genesis.block"),
        )
        .env("ORDERER_FILELEDGER_LOCATION", ledger.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("ConsensusType \"kafka\" is not supported"),
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
