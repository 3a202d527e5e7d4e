//! The endorser transactions loadgen sends are ones a peer can read: decoded through
//! Fabric's message types down to the read-write set, by our prost types and by Fabric's
//! own `configtxlator` (v2.5.6, from `../shared/fabric-bin`).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use bytes::Bytes;
use loadgen::msp::Signer;
use loadgen::tag;
use loadgen::transaction::{self, CHAINCODE_NAME, TransactionSpec};
use orderer_proto::Message;
use orderer_proto::common::{
    Block, BlockData, BlockHeader, BlockMetadata, ChannelHeader, Envelope, HeaderType, Payload,
    SignatureHeader,
};
use orderer_proto::kvrwset::KvrwSet;
use orderer_proto::protos::{
    ChaincodeAction, ChaincodeActionPayload, ChaincodeHeaderExtension, ChaincodeInvocationSpec,
    ChaincodeProposalPayload, ProposalResponsePayload, Transaction,
};
use orderer_proto::rwset::TxReadWriteSet;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

const CHANNEL: &str = "appchannel";
const RUN_ID: u64 = 0x5eed;

fn envelope(signer: &Signer, index: u64, results_bytes: usize) -> Bytes {
    transaction::build(&TransactionSpec {
        channel_id: CHANNEL,
        signer: Some(signer),
        nonce: tag::nonce(RUN_ID, index),
        results_bytes,
    })
    .unwrap()
}

fn verify(signer: &Signer, message: &[u8], signature: &[u8]) {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, signer.public_key())
        .verify(message, signature)
        .unwrap();
}

#[test]
fn an_endorser_transaction_decodes_down_to_results_of_the_size_asked() {
    let signer = Signer::ephemeral("Org1MSP").unwrap();
    for results_bytes in [300, 1024, 64 * 1024] {
        let bytes = envelope(&signer, 17, results_bytes);
        assert_eq!(
            tag::index_of(&bytes, RUN_ID),
            Some(17),
            "tagged by the nonce"
        );
        let envelope = Envelope::decode(bytes).unwrap();
        verify(&signer, &envelope.payload, &envelope.signature);
        let payload = Payload::decode(envelope.payload).unwrap();
        let header = payload.header.unwrap();
        let channel_header = ChannelHeader::decode(header.channel_header.clone()).unwrap();
        assert_eq!(
            channel_header.r#type,
            HeaderType::EndorserTransaction as i32
        );
        assert_eq!(
            (channel_header.channel_id.as_str(), channel_header.epoch),
            (CHANNEL, 0)
        );
        let extension = ChaincodeHeaderExtension::decode(channel_header.extension).unwrap();
        assert_eq!(extension.chaincode_id.unwrap().name, CHAINCODE_NAME);
        let signature_header = SignatureHeader::decode(header.signature_header.clone()).unwrap();
        assert_eq!(&signature_header.creator, signer.creator());
        let tx_id = loadgen::envelope::tx_id(&signature_header.nonce, &signature_header.creator);
        assert_eq!(channel_header.tx_id, tx_id);

        let transaction = Transaction::decode(payload.data).unwrap();
        assert_eq!(transaction.actions.len(), 1);
        let action = &transaction.actions[0];
        assert_eq!(
            action.header, header.signature_header,
            "the proposal's header"
        );
        let action_payload = ChaincodeActionPayload::decode(action.payload.clone()).unwrap();
        let proposal_payload =
            ChaincodeProposalPayload::decode(action_payload.chaincode_proposal_payload.clone())
                .unwrap();
        let invocation = ChaincodeInvocationSpec::decode(proposal_payload.input).unwrap();
        let spec = invocation.chaincode_spec.unwrap();
        assert_eq!(spec.chaincode_id.unwrap().name, CHAINCODE_NAME);
        let endorsed = action_payload.action.unwrap();
        let response_payload =
            ProposalResponsePayload::decode(endorsed.proposal_response_payload.clone()).unwrap();
        let hash = transaction::proposal_hash(&header, &action_payload.chaincode_proposal_payload);
        assert_eq!(response_payload.proposal_hash, hash.as_slice());
        assert_eq!(endorsed.endorsements.len(), 1);
        let endorsement = &endorsed.endorsements[0];
        assert_eq!(&endorsement.endorser, signer.creator());
        let signed = [
            &endorsed.proposal_response_payload[..],
            &endorsement.endorser,
        ]
        .concat();
        verify(&signer, &signed, &endorsement.signature);

        let chaincode_action = ChaincodeAction::decode(response_payload.extension).unwrap();
        assert_eq!(chaincode_action.response.unwrap().status, 200);
        assert_eq!(chaincode_action.chaincode_id.unwrap().name, CHAINCODE_NAME);
        assert_eq!(chaincode_action.results.len(), results_bytes);
        let results = TxReadWriteSet::decode(chaincode_action.results).unwrap();
        assert_eq!(results.ns_rwset.len(), 1);
        assert_eq!(results.ns_rwset[0].namespace, CHAINCODE_NAME);
        let rwset = KvrwSet::decode(results.ns_rwset[0].rwset.clone()).unwrap();
        assert_eq!(rwset.writes.len(), 1);
        let value = rwset.writes[0].value.len();
        assert!(
            value + 150 > results_bytes && value < results_bytes,
            "value {value}"
        );
    }
}

/// Fabric's configtxlator decodes a block of these transactions down to the write.
#[test]
fn configtxlator_decodes_a_block_of_them_down_to_the_chaincode_action() {
    let configtxlator = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fabric-bin/v2.5.6/configtxlator");
    let signer = Signer::ephemeral("Org1MSP").unwrap();
    let block = Block {
        header: Some(BlockHeader {
            number: 1,
            ..BlockHeader::default()
        }),
        data: Some(BlockData {
            data: (0..3).map(|index| envelope(&signer, index, 1024)).collect(),
        }),
        metadata: Some(BlockMetadata {
            metadata: vec![Bytes::new(); 5],
        }),
    };
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("block.pb"), dir.path().join("block.json"));
    std::fs::write(&input, block.encode_to_vec()).unwrap();
    // configtxlator opens /dev/stdout read-write: write to a file instead.
    let status = std::process::Command::new(&configtxlator)
        .args(["proto_decode", "--type", "common.Block", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .status()
        .unwrap_or_else(|e| panic!("run {}: {e}", configtxlator.display()));
    assert!(status.success(), "configtxlator failed: {status}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let envelopes = json["data"]["data"].as_array().unwrap();
    assert_eq!(envelopes.len(), 3);
    for envelope in envelopes {
        let payload = &envelope["payload"];
        let channel_header = &payload["header"]["channel_header"];
        assert_eq!(channel_header["type"], 3, "ENDORSER_TRANSACTION");
        assert_eq!(
            channel_header["extension"]["chaincode_id"]["name"],
            CHAINCODE_NAME
        );
        let action = &payload["data"]["actions"][0]["payload"];
        let input = &action["chaincode_proposal_payload"]["input"]["chaincode_spec"];
        assert_eq!(input["chaincode_id"]["name"], CHAINCODE_NAME);
        let endorsed = &action["action"];
        assert_eq!(endorsed["endorsements"].as_array().unwrap().len(), 1);
        let chaincode_action = &endorsed["proposal_response_payload"]["extension"];
        assert_eq!(chaincode_action["response"]["status"], 200);
        let results = &chaincode_action["results"];
        assert_eq!(results["data_model"], "KV");
        assert_eq!(results["ns_rwset"][0]["namespace"], CHAINCODE_NAME);
        let write = &results["ns_rwset"][0]["rwset"]["writes"][0];
        assert!(write["key"].as_str().unwrap().len() >= 48, "{write}");
        assert!(
            write["value"].as_str().unwrap().len() > 1000,
            "base64 of ~900 bytes"
        );
    }
}
