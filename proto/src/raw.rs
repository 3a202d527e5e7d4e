//! Frames that cross gRPC without a prost decode or re-encode.
//!
//! Broadcast requests arrive as [`RawEnvelope`]: the envelope bytes exactly as the
//! client sent them, so a malformed envelope is answered with BAD_REQUEST on a stream
//! that stays open (a prost codec would fail the whole stream), and the same bytes go
//! into the block. Deliver answers are [`DeliverFrame`]s: a stored block's bytes are
//! wrapped in `DeliverResponse{block}` framing without being decoded.

use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::common;
use crate::orderer::BroadcastResponse;

/// `DeliverResponse.Type.status` is field 1 (varint); `block` is field 2 (bytes).
const DELIVER_STATUS_TAG: u8 = 1 << 3;
const DELIVER_BLOCK_TAG: u8 = (2 << 3) | 2;

/// Envelope bytes as received, not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEnvelope(pub Bytes);

/// One message of a Deliver response stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverFrame {
    /// The encoded `common.Block`, sent as stored.
    Block(Bytes),
    /// The closing status of one seek request.
    Status(common::Status),
}

/// A message that knows its own gRPC frame body.
pub trait Frame: Sized + Send + 'static {
    /// Writes the frame body.
    fn encode_frame(&self, target: &mut EncodeBuf<'_>);
    /// Reads one whole frame body.
    fn decode_frame(source: &mut DecodeBuf<'_>) -> Result<Self, Status>;
}

/// Writes `DeliverResponse{block}` around the encoded block: a tag, a length, the bytes.
pub fn encode_block_frame(block: &[u8], target: &mut impl BufMut) {
    target.put_u8(DELIVER_BLOCK_TAG);
    prost::encoding::encode_varint(block.len() as u64, target);
    target.put_slice(block);
}

impl Frame for RawEnvelope {
    fn encode_frame(&self, target: &mut EncodeBuf<'_>) {
        target.put_slice(&self.0);
    }
    fn decode_frame(source: &mut DecodeBuf<'_>) -> Result<Self, Status> {
        let length = source.remaining();
        Ok(Self(source.copy_to_bytes(length)))
    }
}

impl Frame for DeliverFrame {
    fn encode_frame(&self, target: &mut EncodeBuf<'_>) {
        match self {
            Self::Block(block) => encode_block_frame(block, target),
            Self::Status(status) => {
                target.put_u8(DELIVER_STATUS_TAG);
                prost::encoding::encode_varint(i64::from(*status as i32) as u64, target);
            }
        }
    }
    /// Parses `DeliverResponse` by hand so a block's bytes reach the caller as sent.
    fn decode_frame(source: &mut DecodeBuf<'_>) -> Result<Self, Status> {
        use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
        let bad =
            |error: prost::DecodeError| Status::internal(format!("bad DeliverResponse: {error}"));
        let mut frame = None;
        while source.has_remaining() {
            let (tag, wire_type) = decode_key(source).map_err(bad)?;
            match (tag, wire_type) {
                (1, WireType::Varint) => {
                    let value = decode_varint(source).map_err(bad)?;
                    let status = i32::try_from(value)
                        .ok()
                        .and_then(|v| common::Status::try_from(v).ok())
                        .unwrap_or(common::Status::Unknown);
                    frame = Some(Self::Status(status));
                }
                (2, WireType::LengthDelimited) => {
                    let length = usize::try_from(decode_varint(source).map_err(bad)?)
                        .map_err(|_| Status::internal("bad DeliverResponse: block too large"))?;
                    if length > source.remaining() {
                        return Err(Status::internal("bad DeliverResponse: truncated block"));
                    }
                    frame = Some(Self::Block(source.copy_to_bytes(length)));
                }
                _ => skip_field(wire_type, tag, source, DecodeContext::default()).map_err(bad)?,
            }
        }
        frame.ok_or_else(|| Status::internal("empty DeliverResponse"))
    }
}

impl Frame for BroadcastResponse {
    fn encode_frame(&self, target: &mut EncodeBuf<'_>) {
        // Encoding into a growable buffer cannot run out of space.
        self.encode_raw(target);
    }
    fn decode_frame(source: &mut DecodeBuf<'_>) -> Result<Self, Status> {
        Self::decode(source)
            .map_err(|error| Status::internal(format!("bad BroadcastResponse: {error}")))
    }
}

/// A tonic codec over [`Frame`]s: `E` is what this side sends, `D` what it receives.
#[derive(Debug)]
pub struct RawCodec<E, D>(PhantomData<(E, D)>);

impl<E, D> Default for RawCodec<E, D> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// Encoder half of [`RawCodec`].
#[derive(Debug)]
pub struct FrameEncoder<E>(PhantomData<E>);

/// Decoder half of [`RawCodec`].
#[derive(Debug)]
pub struct FrameDecoder<D>(PhantomData<D>);

impl<E: Frame, D: Frame> Codec for RawCodec<E, D> {
    type Encode = E;
    type Decode = D;
    type Encoder = FrameEncoder<E>;
    type Decoder = FrameDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        FrameEncoder(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        FrameDecoder(PhantomData)
    }
}

impl<E: Frame> Encoder for FrameEncoder<E> {
    type Item = E;
    type Error = Status;
    fn encode(&mut self, item: E, target: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode_frame(target);
        Ok(())
    }
}

impl<D: Frame> Decoder for FrameDecoder<D> {
    type Item = D;
    type Error = Status;
    fn decode(&mut self, source: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        D::decode_frame(source).map(Some)
    }
}

/// The `orderer.AtomicBroadcast` service over [`RawCodec`]: same route names and wire
/// bytes as the prost-generated service in [`crate::orderer`].
#[allow(clippy::all, clippy::pedantic, rust_2018_idioms, missing_docs)]
pub mod service {
    include!(concat!(env!("OUT_DIR"), "/orderer.AtomicBroadcast.rs"));
}
