//! The checks an envelope passes before it is ordered, and the Fabric status each
//! failure earns. Nothing here re-encodes: the envelope's own bytes go into the block.

use bytes::Bytes;
use orderer_proto::common::{
    ChannelHeader, Envelope, Header, HeaderType, Payload, SignatureHeader, Status,
};
use prost::Message as _;

use crate::access::SignedData;
use crate::cutter::{BatchSize, Message};

/// Why an envelope is refused: the Fabric status and the `info` the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status to answer with.
    pub status: Status,
    /// Why, for the client.
    pub info: String,
}

impl Rejection {
    /// BAD_REQUEST with `info`.
    pub fn bad_request(info: impl Into<String>) -> Self {
        Self {
            status: Status::BadRequest,
            info: info.into(),
        }
    }

    /// NOT_FOUND with `info`.
    pub fn not_found(info: impl Into<String>) -> Self {
        Self {
            status: Status::NotFound,
            info: info.into(),
        }
    }

    /// SERVICE_UNAVAILABLE with `info`.
    pub fn unavailable(info: impl Into<String>) -> Self {
        Self {
            status: Status::ServiceUnavailable,
            info: info.into(),
        }
    }
}

/// What Broadcast learns of an envelope by decoding its headers.
#[derive(Debug)]
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
    match HeaderType::try_from(channel_header.r#type) {
        Ok(HeaderType::Config | HeaderType::OrdererTransaction) => {
            return Err(Rejection::bad_request(
                "message is of type that cannot be processed directly",
            ));
        }
        Ok(HeaderType::ConfigUpdate) => {
            return Err(Rejection::bad_request(
                "config updates (CONFIG_UPDATE) are not supported by this orderer yet",
            ));
        }
        _ => {}
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

/// Fabric's `ProcessNormalMsg` on a message read back from a Kafka partition, when the
/// config moved on since it was validated: Broadcast's checks again, under `config` at
/// `now_unix` (seconds).
pub fn revalidate(
    config: &crate::config::ChannelConfig,
    raw: Bytes,
    now_unix: i64,
) -> Result<(), Rejection> {
    let inspected = inspect(raw)?;
    if inspected.channel_id != config.channel_id {
        return Err(Rejection::bad_request(format!(
            "message is for channel {}, not {}",
            inspected.channel_id, config.channel_id
        )));
    }
    check_size(&inspected.message, &config.batch_size)?;
    // Fabric's ExpirationRejectRule applies only with the Orderer capability
    // ExpirationCheck (V1_1 and later): without it an expired signer still passes.
    let now_unix = if config.expiration_check() {
        now_unix
    } else {
        i64::MIN
    };
    config
        .access
        .check(&inspected.signed, crate::access::WRITERS, now_unix)
        .map(|_| ())
}

/// Fabric's `MaxBytesRule`: `len(payload) + len(signature)` within AbsoluteMaxBytes.
pub fn check_size(message: &Message, batch_size: &BatchSize) -> Result<(), Rejection> {
    if message.size_bytes > batch_size.absolute_max_bytes {
        return Err(Rejection::bad_request(format!(
            "message payload is {} bytes and exceeds maximum allowed {} bytes",
            message.size_bytes, batch_size.absolute_max_bytes
        )));
    }
    Ok(())
}
