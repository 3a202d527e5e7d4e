//! Endorser transactions as a Fabric client assembles them from an endorsed proposal
//! (Fabric's `CreateSignedTx`): payload data a peer can read, a `protos.Transaction` down
//! to a chaincode action whose results are a read-write set of the size asked for.
//!
//! The signer plays client and endorser: it signs the envelope and endorses the action
//! (its signature over the proposal response payload followed by its identity, as
//! Fabric's endorsers sign). No peer ran the chaincode; the transaction is shaped as if
//! one had.

mod results;

use bytes::Bytes;
use orderer_proto::common::{Header, HeaderType};
use orderer_proto::protos::chaincode_spec::Type as ChaincodeType;
use orderer_proto::protos::{
    ChaincodeAction, ChaincodeActionPayload, ChaincodeEndorsedAction, ChaincodeHeaderExtension,
    ChaincodeId, ChaincodeInput, ChaincodeInvocationSpec, ChaincodeProposalPayload, ChaincodeSpec,
    Endorsement, ProposalResponsePayload, Response, Transaction, TransactionAction,
};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::envelope::{self, HeaderSpec, NONCE_LEN};
use crate::msp::Signer;

/// The chaincode every transaction invokes (installed nowhere) and its namespace in the
/// read-write set.
pub const CHAINCODE_NAME: &str = "loadgen";
const CHAINCODE_VERSION: &str = "1.0";
/// `Response.status` of a successful chaincode invocation (HTTP-like, as Fabric's shim).
const CHAINCODE_OK: i32 = 200;

/// What one transaction is made of.
#[derive(Debug, Clone)]
pub struct TransactionSpec<'a> {
    /// Target channel.
    pub channel_id: &'a str,
    /// Client and endorser; `None` leaves creators and signatures empty.
    pub signer: Option<&'a Signer>,
    /// The signature header's nonce (loadgen's runs tag envelopes by it).
    pub nonce: [u8; NONCE_LEN],
    /// Size of the chaincode action's results (at least the smallest read-write set).
    pub results_bytes: usize,
}

/// An `ENDORSER_TRANSACTION` envelope, signed by the spec's signer.
pub fn build(spec: &TransactionSpec<'_>) -> Result<Bytes, Error> {
    let chaincode_id = ChaincodeId {
        path: String::new(),
        name: CHAINCODE_NAME.into(),
        version: CHAINCODE_VERSION.into(),
    };
    let extension = ChaincodeHeaderExtension {
        payload_visibility: Bytes::new(),
        chaincode_id: Some(chaincode_id.clone()),
    };
    let creator: &[u8] = spec.signer.map_or(&[], |signer| signer.creator());
    let header = HeaderSpec {
        channel_id: spec.channel_id,
        header_type: HeaderType::EndorserTransaction,
        creator,
        nonce: spec.nonce,
        tls_cert_hash: &[],
        extension: extension.encode_to_vec().into(),
    }
    .encode();
    // The written key is the nonce: unique per transaction, so no two of a run conflict.
    let key: String = spec.nonce.iter().map(|b| format!("{b:02x}")).collect();
    let proposal_payload = ChaincodeProposalPayload {
        input: invocation(&chaincode_id, &key).encode_to_vec().into(),
        transient_map: Default::default(),
    }
    .encode_to_vec();
    let action = ChaincodeAction {
        results: results::sized(CHAINCODE_NAME, &key, spec.results_bytes),
        events: Bytes::new(),
        response: Some(Response {
            status: CHAINCODE_OK,
            ..Response::default()
        }),
        chaincode_id: Some(chaincode_id),
    };
    let response_payload = ProposalResponsePayload {
        proposal_hash: Bytes::copy_from_slice(&proposal_hash(&header, &proposal_payload)),
        extension: action.encode_to_vec().into(),
    }
    .encode_to_vec();
    let endorsement = endorse(&response_payload, spec.signer)?;
    let action_payload = ChaincodeActionPayload {
        chaincode_proposal_payload: proposal_payload.into(),
        action: Some(ChaincodeEndorsedAction {
            proposal_response_payload: response_payload.into(),
            endorsements: vec![endorsement],
        }),
    };
    let transaction = Transaction {
        actions: vec![TransactionAction {
            header: header.signature_header.clone(),
            payload: action_payload.encode_to_vec().into(),
        }],
    };
    envelope::seal(header, transaction.encode_to_vec().into(), spec.signer)
}

/// The invocation `put(key)` of the chaincode.
fn invocation(chaincode_id: &ChaincodeId, key: &str) -> ChaincodeInvocationSpec {
    ChaincodeInvocationSpec {
        chaincode_spec: Some(ChaincodeSpec {
            r#type: ChaincodeType::Golang as i32,
            chaincode_id: Some(chaincode_id.clone()),
            input: Some(ChaincodeInput {
                args: vec![Bytes::from_static(b"put"), Bytes::from(key.to_string())],
                decorations: Default::default(),
            }),
            timeout: 0,
        }),
    }
}

/// What a proposal response names its proposal by, and what a peer checks again: SHA-256
/// over the channel header, the signature header and the proposal payload (Fabric's
/// `GetProposalHash1`, with no payload visibility set).
pub fn proposal_hash(header: &Header, proposal_payload: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(&header.channel_header)
        .chain_update(&header.signature_header)
        .chain_update(proposal_payload)
        .finalize()
        .into()
}

/// The signer's endorsement of `response_payload`: its signature over the payload
/// followed by its identity, as Fabric's default endorsement plugin signs.
fn endorse(response_payload: &[u8], signer: Option<&Signer>) -> Result<Endorsement, Error> {
    let Some(signer) = signer else {
        return Ok(Endorsement::default());
    };
    let endorser = signer.creator().clone();
    let signed = [response_payload, &endorser].concat();
    Ok(Endorsement {
        signature: signer.sign(&signed)?.into(),
        endorser,
    })
}
