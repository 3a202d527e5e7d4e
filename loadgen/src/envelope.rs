//! Envelopes built as a Fabric client builds them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use orderer_proto::common::{
    ChannelHeader, Envelope, Header, HeaderType, Payload, SignatureHeader,
};
use orderer_proto::orderer::seek_info::SeekBehavior;
use orderer_proto::orderer::seek_position::Type as Position;
use orderer_proto::orderer::{SeekInfo, SeekOldest, SeekPosition, SeekSpecified};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::msp::Signer;

/// Length of the nonce in a signature header, as Fabric's clients use.
pub const NONCE_LEN: usize = 24;

static NONCE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A nonce unique within this process and very likely across processes.
pub fn nonce() -> [u8; NONCE_LEN] {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(now.as_nanos().to_le_bytes());
    hasher.update(NONCE_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = hasher.finalize();
    let mut out = [0u8; NONCE_LEN];
    out.copy_from_slice(&digest[..NONCE_LEN]);
    out
}

/// A random-looking 64-bit id (a run's id).
pub fn nonce_u64() -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&nonce()[..8]);
    u64::from_le_bytes(bytes)
}

/// Fabric's transaction id: hex of SHA-256 over nonce and creator.
pub fn tx_id(nonce: &[u8], creator: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(nonce)
        .chain_update(creator)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of an envelope a client chooses.
#[derive(Debug, Clone)]
pub struct EnvelopeSpec<'a> {
    /// Target channel.
    pub channel_id: &'a str,
    /// `ChannelHeader.type`.
    pub header_type: HeaderType,
    /// Who signs the envelope; `None` leaves creator and signature empty.
    pub signer: Option<&'a Signer>,
    /// `Payload.data`.
    pub data: Bytes,
}

/// Builds an envelope as a Fabric client does: a fresh nonce, its tx id, the current
/// time, and the signer's signature over the payload bytes.
pub fn build(spec: &EnvelopeSpec<'_>) -> Result<Bytes, Error> {
    build_bound(spec, &[])
}

/// [`build`], with `ChannelHeader.tls_cert_hash` set to `tls_cert_hash` (a Deliver
/// request under mutual TLS names the client's TLS certificate, as Fabric's clients do).
pub fn build_bound(spec: &EnvelopeSpec<'_>, tls_cert_hash: &[u8]) -> Result<Bytes, Error> {
    let header = HeaderSpec {
        channel_id: spec.channel_id,
        header_type: spec.header_type,
        creator: spec.signer.map_or(&[], |signer| signer.creator()),
        nonce: nonce(),
        tls_cert_hash,
        extension: Bytes::new(),
    };
    seal(header.encode(), spec.data.clone(), spec.signer)
}

/// The header fields a client chooses.
#[derive(Debug, Clone)]
pub struct HeaderSpec<'a> {
    /// Target channel.
    pub channel_id: &'a str,
    /// `ChannelHeader.type`.
    pub header_type: HeaderType,
    /// The signer's encoded `SerializedIdentity` (empty when unsigned).
    pub creator: &'a [u8],
    /// `SignatureHeader.nonce`; the tx id is derived from it and the creator.
    pub nonce: [u8; NONCE_LEN],
    /// `ChannelHeader.tls_cert_hash` (empty unless bound to a TLS certificate).
    pub tls_cert_hash: &'a [u8],
    /// `ChannelHeader.extension` (an endorser transaction's `ChaincodeHeaderExtension`).
    pub extension: Bytes,
}

impl HeaderSpec<'_> {
    /// The encoded headers, stamped with the current time.
    pub fn encode(&self) -> Header {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let channel_header = ChannelHeader {
            r#type: self.header_type as i32,
            timestamp: Some(prost_types::Timestamp {
                seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                nanos: i32::try_from(now.subsec_nanos()).unwrap_or(0),
            }),
            channel_id: self.channel_id.to_string(),
            tx_id: tx_id(&self.nonce, self.creator),
            tls_cert_hash: Bytes::copy_from_slice(self.tls_cert_hash),
            extension: self.extension.clone(),
            ..ChannelHeader::default()
        };
        let signature_header = SignatureHeader {
            creator: Bytes::copy_from_slice(self.creator),
            nonce: Bytes::copy_from_slice(&self.nonce),
        };
        Header {
            channel_header: channel_header.encode_to_vec().into(),
            signature_header: signature_header.encode_to_vec().into(),
        }
    }
}

/// The envelope of `header` and `data`, its payload signed by `signer` if given.
pub fn seal(header: Header, data: Bytes, signer: Option<&Signer>) -> Result<Bytes, Error> {
    let payload = Payload {
        header: Some(header),
        data,
    }
    .encode_to_vec();
    let signature = match signer {
        Some(signer) => signer.sign(&payload)?.into(),
        None => Bytes::new(),
    };
    Ok(Envelope {
        payload: payload.into(),
        signature,
    }
    .encode_to_vec()
    .into())
}

/// A position in a seek request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// The first block.
    Oldest,
    /// The newest block at request time.
    Newest,
    /// Block `n`.
    At(u64),
}

impl Seek {
    fn position(self) -> SeekPosition {
        let position = match self {
            Self::Oldest => Position::Oldest(SeekOldest {}),
            Self::Newest => Position::Newest(orderer_proto::orderer::SeekNewest {}),
            Self::At(number) => Position::Specified(SeekSpecified { number }),
        };
        SeekPosition {
            r#type: Some(position),
        }
    }
}

/// An unsigned Deliver request envelope for blocks `start..=stop` of `channel_id`.
pub fn seek(channel_id: &str, start: Seek, stop: Seek, fail_if_not_ready: bool) -> Bytes {
    seek_signed(channel_id, start, stop, fail_if_not_ready, None)
        .unwrap_or_else(|_| unreachable!("building an unsigned envelope cannot fail"))
}

/// A Deliver request envelope for blocks `start..=stop`, signed by `signer` if given.
pub fn seek_signed(
    channel_id: &str,
    start: Seek,
    stop: Seek,
    fail_if_not_ready: bool,
    signer: Option<&Signer>,
) -> Result<Bytes, Error> {
    seek_bound(channel_id, (start, stop), fail_if_not_ready, signer, None)
}

/// [`seek_signed`] over the blocks `range`, bound to the client's TLS certificate when
/// `tls` has one (Fabric's Deliver under mutual TLS requires it).
pub fn seek_bound(
    channel_id: &str,
    (start, stop): (Seek, Seek),
    fail_if_not_ready: bool,
    signer: Option<&Signer>,
    tls: Option<&crate::client::ClientTls>,
) -> Result<Bytes, Error> {
    let behavior = if fail_if_not_ready {
        SeekBehavior::FailIfNotReady
    } else {
        SeekBehavior::BlockUntilReady
    };
    let info = SeekInfo {
        start: Some(start.position()),
        stop: Some(stop.position()),
        behavior: behavior as i32,
        ..SeekInfo::default()
    };
    let spec = EnvelopeSpec {
        channel_id,
        header_type: HeaderType::DeliverSeekInfo,
        signer,
        data: info.encode_to_vec().into(),
    };
    let hash = tls
        .map(crate::client::ClientTls::cert_hash)
        .transpose()?
        .flatten();
    build_bound(&spec, hash.as_ref().map_or(&[], |hash| hash.as_slice()))
}
