//! Decoding a Broadcast envelope as Fabric's `BroadcastChannelSupport` does: its headers,
//! the header types that cannot be broadcast, and the parts a signature covers. What is
//! then checked against the channel is [`crate::admission`]'s. Nothing here re-encodes:
//! the envelope's own bytes go into the block.

use bytes::Bytes;
use orderer_proto::common::{
    ChannelHeader, Envelope, Header, HeaderType, Payload, SignatureHeader,
};
use prost::Message as _;

use crate::cutter::Message;
use crate::rejection::Rejection;

/// The signed parts of an envelope (Fabric's `SignedData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData {
    /// `SignatureHeader.creator`: a serialized identity.
    pub creator: Bytes,
    /// The signed bytes (the envelope's payload).
    pub payload: Bytes,
    /// `Envelope.signature`.
    pub signature: Bytes,
}

/// What Broadcast learns of an envelope by decoding its headers.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// `ChannelHeader.channel_id`.
    pub channel_id: String,
    /// `ChannelHeader.type`.
    pub header_type: i32,
    /// The envelope, ready for the cutter.
    pub message: Message,
    /// What the channel's Writers policy is checked on.
    pub signed: SignedData,
}

/// The creator, signed bytes and signature of an envelope whose payload has `header`
/// (Fabric's `AsSignedData`). A signature header that does not decode is BAD_REQUEST.
pub fn signed_data(envelope: &Envelope, header: &Header) -> Result<SignedData, Rejection> {
    let signature_header =
        SignatureHeader::decode(header.signature_header.clone()).map_err(|error| {
            Rejection::bad_request(format!(
                "signature header is not a valid common.SignatureHeader: {error}"
            ))
        })?;
    Ok(SignedData {
        creator: signature_header.creator,
        payload: envelope.payload.clone(),
        signature: envelope.signature.clone(),
    })
}

/// Decodes the envelope and its channel header, as Fabric's `BroadcastChannelSupport`
/// does, and sorts out the header types that cannot be broadcast directly.
pub fn inspect(raw: Bytes) -> Result<Inspected, Rejection> {
    inspect_any(raw, false)
}

/// [`inspect`] for an envelope this orderer made itself (CONFIG, ORDERER_TRANSACTION),
/// whose type clients may not send.
pub fn inspect_own(raw: Bytes) -> Result<Inspected, Rejection> {
    inspect_any(raw, true)
}

fn inspect_any(raw: Bytes, config_types_allowed: bool) -> Result<Inspected, Rejection> {
    let envelope = Envelope::decode(raw.clone()).map_err(|error| {
        Rejection::bad_request(format!("envelope is not a valid common.Envelope: {error}"))
    })?;
    let payload = Payload::decode(envelope.payload.clone()).map_err(|error| {
        Rejection::bad_request(format!(
            "envelope payload is not a valid common.Payload: {error}"
        ))
    })?;
    let header = payload
        .header
        .ok_or_else(|| Rejection::bad_request("envelope payload has no header"))?;
    if header.channel_header.is_empty() {
        return Err(Rejection::bad_request(
            "envelope payload has no channel header",
        ));
    }
    let channel_header = ChannelHeader::decode(header.channel_header.clone()).map_err(|error| {
        Rejection::bad_request(format!(
            "channel header is not a valid common.ChannelHeader: {error}"
        ))
    })?;
    if !config_types_allowed
        && let Ok(HeaderType::Config | HeaderType::OrdererTransaction) =
            HeaderType::try_from(channel_header.r#type)
    {
        return Err(Rejection::bad_request(
            "message is of type that cannot be processed directly",
        ));
    }
    if envelope.payload.is_empty() {
        return Err(Rejection::bad_request("message was empty"));
    }
    let signed = signed_data(&envelope, &header)?;
    let size_bytes = envelope.payload.len() + envelope.signature.len();
    Ok(Inspected {
        channel_id: channel_header.channel_id,
        header_type: channel_header.r#type,
        message: Message {
            envelope: raw,
            size_bytes: u32::try_from(size_bytes).unwrap_or(u32::MAX),
        },
        signed,
    })
}
