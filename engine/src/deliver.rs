//! Deliver requests: from a signed `SeekInfo` envelope to a range of blocks.

use orderer_proto::common::{ChannelHeader, Envelope, Payload};
use orderer_proto::orderer::seek_info::{SeekBehavior, SeekContentType};
use orderer_proto::orderer::seek_position::Type as Position;
use orderer_proto::orderer::{SeekInfo, SeekPosition};
use prost::Message as _;

use crate::access::SignedData;
use crate::envelope::{self, Rejection};

/// A Deliver request whose headers are decoded; the `SeekInfo` is decoded once the
/// channel is known (Fabric's order: an unknown channel is NOT_FOUND before anything else).
#[derive(Debug, Clone, PartialEq)]
pub struct SeekRequest {
    /// The channel to read.
    pub channel_id: String,
    /// The encoded `SeekInfo`.
    pub seek_info: bytes::Bytes,
    /// What the channel's Readers policy is checked on, or why it cannot be (an error
    /// answered only once the channel is known to exist, as in Fabric).
    pub signed: Result<SignedData, Rejection>,
    /// `ChannelHeader.timestamp` in nanoseconds since the Unix epoch, if set: Deliver
    /// refuses a request outside `General.Authentication.TimeWindow`.
    pub timestamp_unix_ns: Option<i128>,
    /// `ChannelHeader.tls_cert_hash`: under mutual TLS, the SHA-256 of the client's TLS
    /// certificate, which must be the one the connection presented.
    pub tls_cert_hash: bytes::Bytes,
}

/// Which blocks to send, resolved against the height at request time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeekPlan {
    /// First block to send.
    pub start: u64,
    /// Last block to send (inclusive); `u64::MAX` streams for ever.
    pub stop: u64,
    /// Whether to answer NOT_FOUND rather than wait for a block that does not exist yet.
    pub fail_if_not_ready: bool,
    /// Send headers and metadata only (Fabric 2.x `HEADER_WITH_SIG`).
    pub headers_only: bool,
}

impl SeekRequest {
    /// Decodes a Deliver envelope. Malformed input is BAD_REQUEST, as in Fabric.
    pub fn decode(raw: &[u8]) -> Result<Self, Rejection> {
        let bad = |what: &str, error: prost::DecodeError| {
            Rejection::bad_request(format!("{what} is malformed: {error}"))
        };
        let envelope = Envelope::decode(raw).map_err(|e| bad("envelope", e))?;
        let payload = Payload::decode(envelope.payload.clone()).map_err(|e| bad("payload", e))?;
        let header = payload
            .header
            .ok_or_else(|| Rejection::bad_request("payload has no header"))?;
        let channel_header = ChannelHeader::decode(header.channel_header.clone())
            .map_err(|e| bad("channel header", e))?;
        let timestamp_unix_ns = channel_header
            .timestamp
            .map(|t| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos));
        Ok(Self {
            channel_id: channel_header.channel_id,
            seek_info: payload.data,
            signed: envelope::signed_data(&envelope, &header),
            timestamp_unix_ns,
            tls_cert_hash: channel_header.tls_cert_hash,
        })
    }

    /// Resolves the positions against `height` (the number of blocks stored now).
    pub fn plan(&self, height: u64) -> Result<SeekPlan, Rejection> {
        let seek = SeekInfo::decode(self.seek_info.clone())
            .map_err(|e| Rejection::bad_request(format!("seek info is malformed: {e}")))?;
        let seek = &seek;
        let (Some(start), Some(stop)) = (position(&seek.start), position(&seek.stop)) else {
            return Err(Rejection::bad_request(
                "seek info has no start or no stop position",
            ));
        };
        let newest = height.saturating_sub(1);
        let start_number = match start {
            Position::Oldest(_) => 0,
            Position::Newest(_) => newest,
            Position::Specified(specified) => specified.number,
            Position::NextCommit(_) => height,
        };
        let stop_number = match stop {
            Position::Oldest(_) => start_number,
            // Start and stop both "newest": exactly one block, even if more arrive.
            Position::Newest(_) if matches!(start, Position::Newest(_)) => start_number,
            Position::Newest(_) => newest,
            Position::Specified(specified) => specified.number,
            Position::NextCommit(_) => height,
        };
        if stop_number < start_number {
            return Err(Rejection::bad_request(format!(
                "start number {start_number} is greater than stop number {stop_number}"
            )));
        }
        Ok(SeekPlan {
            start: start_number,
            stop: stop_number,
            fail_if_not_ready: seek.behavior == SeekBehavior::FailIfNotReady as i32,
            headers_only: seek.content_type == SeekContentType::HeaderWithSig as i32,
        })
    }
}

fn position(position: &Option<SeekPosition>) -> Option<&Position> {
    position.as_ref().and_then(|p| p.r#type.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderer_proto::orderer::{SeekNewest, SeekOldest, SeekSpecified};

    fn request(start: Position, stop: Position) -> SeekRequest {
        SeekRequest {
            channel_id: "c".into(),
            seek_info: SeekInfo {
                start: Some(SeekPosition {
                    r#type: Some(start),
                }),
                stop: Some(SeekPosition { r#type: Some(stop) }),
                ..SeekInfo::default()
            }
            .encode_to_vec()
            .into(),
            signed: Err(Rejection::bad_request("unsigned")),
            timestamp_unix_ns: None,
            tls_cert_hash: bytes::Bytes::new(),
        }
    }

    #[test]
    fn positions_resolve_like_fabric() {
        let oldest = || Position::Oldest(SeekOldest {});
        let newest = || Position::Newest(SeekNewest {});
        let at = |number| Position::Specified(SeekSpecified { number });
        assert_eq!(request(oldest(), newest()).plan(10).unwrap().stop, 9);
        assert_eq!(request(newest(), newest()).plan(10).unwrap().start, 9);
        assert_eq!(request(at(3), oldest()).plan(10).unwrap().stop, 3);
        assert_eq!(
            request(at(3), at(u64::MAX)).plan(10).unwrap().stop,
            u64::MAX
        );
        assert!(request(at(5), at(4)).plan(10).is_err());
    }
}
