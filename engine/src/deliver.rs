//! Deliver requests: from a signed `SeekInfo` envelope to a range of blocks.

use orderer_proto::common::{ChannelHeader, Envelope, Payload};
use orderer_proto::orderer::SeekInfo;
use orderer_proto::orderer::seek_info::{SeekBehavior, SeekContentType, SeekErrorResponse};
use orderer_proto::orderer::seek_position::Type as Position;
use prost::Message as _;

use crate::envelope::{self, SignedData};
use crate::rejection::Rejection;

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
    /// The block after which the request is done (SUCCESS); `u64::MAX` streams for ever
    /// (Fabric's loop ends only on the block whose number equals its stop number, so a
    /// stop below the start is never reached).
    pub stop: u64,
    /// Whether to answer NOT_FOUND rather than wait for a block that does not exist yet.
    pub fail_if_not_ready: bool,
    /// Send headers and metadata only (Fabric 3.x `HEADER_WITH_SIG`).
    pub headers_only: bool,
}

/// Whether a request asks for blocks even from a chain whose consenter has failed
/// (`SeekInfo.error_response == BEST_EFFORT`); otherwise such a chain answers
/// SERVICE_UNAVAILABLE, as Fabric's deliver handler does with `chain.Errored()`.
pub fn best_effort(seek: &SeekInfo) -> bool {
    seek.error_response == SeekErrorResponse::BestEffort as i32
}

/// Resolves a seek against `height` (the number of blocks stored now) exactly as
/// Fabric's `deliverBlocks` (common/deliver/deliver.go, v1.4.12 and v2.5.6) and its file
/// ledger's `Iterator` (common/ledger/blockledger/file/impl.go) do:
/// - no start or no stop: BAD_REQUEST;
/// - start: oldest 0, newest `height - 1`, next commit `height` (2.x), specified `n`;
///   a specified start above `height`, or a position without a type, is the ledger's
///   not-found iterator: NOT_FOUND (whatever the behaviour);
/// - stop: oldest is the start itself; newest is the start when both are newest, else
///   `height - 1`; specified `m` must not be below the start (BAD_REQUEST); any other
///   stop (next commit, no type) counts as 0;
/// - a stop below the start is never reached: the request streams for ever.
pub fn plan(seek: &SeekInfo, height: u64) -> Result<SeekPlan, Rejection> {
    let (Some(start), Some(stop)) = (&seek.start, &seek.stop) else {
        return Err(Rejection::bad_request(
            "seek info has no start or no stop position",
        ));
    };
    let newest = height.saturating_sub(1);
    let not_found = || Rejection::not_found("the start position is past the end of the ledger");
    let start_number = match &start.r#type {
        Some(Position::Oldest(_)) => 0,
        Some(Position::Newest(_)) => newest,
        Some(Position::Specified(specified)) if specified.number > height => {
            return Err(not_found());
        }
        Some(Position::Specified(specified)) => specified.number,
        Some(Position::NextCommit(_)) => height,
        None => return Err(not_found()),
    };
    let stop_number = match &stop.r#type {
        Some(Position::Oldest(_)) => start_number,
        // Start and stop both "newest": exactly one block, even if more arrive.
        Some(Position::Newest(_)) if start == stop => start_number,
        Some(Position::Newest(_)) => newest,
        Some(Position::Specified(specified)) if specified.number < start_number => {
            return Err(Rejection::bad_request(format!(
                "start number {start_number} is greater than stop number {}",
                specified.number
            )));
        }
        Some(Position::Specified(specified)) => specified.number,
        Some(Position::NextCommit(_)) | None => 0,
    };
    Ok(SeekPlan {
        start: start_number,
        stop: if stop_number < start_number {
            u64::MAX
        } else {
            stop_number
        },
        fail_if_not_ready: seek.behavior == SeekBehavior::FailIfNotReady as i32,
        headers_only: seek.content_type == SeekContentType::HeaderWithSig as i32,
    })
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

    /// The request's `SeekInfo` (BAD_REQUEST when it does not decode).
    pub fn seek_info(&self) -> Result<SeekInfo, Rejection> {
        SeekInfo::decode(self.seek_info.clone())
            .map_err(|e| Rejection::bad_request(format!("seek info is malformed: {e}")))
    }

    /// [`plan`] of the request's `SeekInfo` against `height`.
    pub fn plan(&self, height: u64) -> Result<SeekPlan, Rejection> {
        plan(&self.seek_info()?, height)
    }
}
