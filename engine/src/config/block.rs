//! Finding the `Config` inside a config block: block, first envelope, payload, CONFIG
//! channel header, `ConfigEnvelope`. The block's bytes are never re-encoded.

use orderer_proto::common::{
    Block, ChannelHeader, Config, ConfigEnvelope, Envelope, HeaderType, Payload,
};
use prost::Message;

use crate::error::Error;

/// The configuration a config block carries, with the channel header that names its
/// channel.
#[derive(Debug, Clone)]
pub struct ConfigBlock {
    /// The envelope's channel header (type CONFIG).
    pub channel_header: ChannelHeader,
    /// `ConfigEnvelope.config`.
    pub config: Config,
}

impl ConfigBlock {
    /// Reads the config envelope of a config block (for example a genesis block).
    pub fn decode(block_bytes: &[u8]) -> Result<Self, Error> {
        let block = decode::<Block>(block_bytes, "config block")?;
        let envelope = block
            .data
            .and_then(|data| data.data.into_iter().next())
            .ok_or_else(|| Error::Config("config block holds no envelope".into()))?;
        let envelope = decode::<Envelope>(&envelope, "config envelope")?;
        let payload = decode::<Payload>(&envelope.payload, "config payload")?;
        let header = payload
            .header
            .ok_or_else(|| Error::Config("config payload has no header".into()))?;
        let channel_header = decode::<ChannelHeader>(&header.channel_header, "channel header")?;
        if channel_header.r#type != HeaderType::Config as i32 {
            return Err(Error::Config(format!(
                "block's envelope has header type {}, not CONFIG",
                channel_header.r#type
            )));
        }
        let config_envelope = decode::<ConfigEnvelope>(&payload.data, "ConfigEnvelope")?;
        let config = config_envelope
            .config
            .ok_or_else(|| Error::Config("ConfigEnvelope has no config".into()))?;
        Ok(Self {
            channel_header,
            config,
        })
    }
}

fn decode<M: Message + Default>(bytes: &[u8], what: &'static str) -> Result<M, Error> {
    M::decode(bytes).map_err(|source| Error::Decode { what, source })
}
