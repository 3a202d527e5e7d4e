//! Fabric's admission sequence, in one place: what a Broadcast envelope passes before it
//! is ordered, and what a Deliver request passes before blocks are sent. Broadcast (on
//! the verify pool) and Kafka's re-validation of a message read back from the partition
//! call the same functions, so a message is judged alike whenever it is judged.
//!
//! Broadcast, as Fabric v1.4.12's standard channel filters
//! (orderer/common/msgprocessor/standardchannel.go, `CreateStandardChannelFilters`):
//! 1. decode (BAD_REQUEST): [`envelope::inspect`]; an empty payload is Fabric's
//!    `EmptyRejectRule`;
//! 2. size (BAD_REQUEST): `len(payload) + len(signature)` within `AbsoluteMaxBytes`
//!    (`MaxBytesRule`, sizefilter.go);
//! 3. expiration (BAD_REQUEST): only with the Orderer capability ExpirationCheck and
//!    without `General.Authentication.NoExpirationChecks` (expiration.go);
//! 4. signature and `/Channel/Writers` (FORBIDDEN; BAD_REQUEST when the channel
//!    defines no such policy): `SigFilter` (sigfilter.go).
//!
//! Deliver, as common/deliver/acl.go's `SessionAccessControl`: the creator's expiry
//! (FORBIDDEN, whatever the capabilities, unless `NoExpirationChecks`), then signature
//! and `/Channel/Readers` (FORBIDDEN).
//!
//! Everything here is pure: the clock is an argument.

use bytes::Bytes;

use crate::access::{AccessControl, READERS, WRITERS};
use crate::config::ChannelConfig;
use crate::cutter::{BatchSize, Message};
use crate::envelope::{self, Inspected, SignedData};
use crate::rejection::Rejection;

/// The node's settings that change admission (orderer.yaml, not the channel config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Whether signers' certificates are checked for expiry: false with Fabric's
    /// `General.Authentication.NoExpirationChecks: true`.
    pub expiration_checks: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            expiration_checks: true,
        }
    }
}

/// What a passed Deliver check learnt of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// When the reader's certificate expires (Unix seconds; `i64::MAX` when it never
    /// does or expiry is not checked): a Deliver stream that outlives it is ended with
    /// FORBIDDEN, as Fabric's session access control does.
    pub expires_at_unix: i64,
}

/// Steps 2 to 4 of Broadcast's sequence for an envelope of `config`'s channel, decoded
/// by [`envelope::inspect`]: the message for the cutter, or why it is refused.
pub fn admit(
    config: &ChannelConfig,
    inspected: Inspected,
    rules: Rules,
    now_unix: i64,
) -> Result<Message, Rejection> {
    check_size(&inspected.message, &config.batch_size)?;
    authorize_writer(config, &inspected.signed, rules, now_unix)?;
    Ok(inspected.message)
}

/// The whole Broadcast sequence on a message read back from a Kafka partition (Fabric's
/// `ProcessNormalMsg` when the config moved on since it was validated): decode, the
/// channel it names, then [`admit`].
pub fn revalidate(
    config: &ChannelConfig,
    raw: Bytes,
    rules: Rules,
    now_unix: i64,
) -> Result<Message, Rejection> {
    let inspected = envelope::inspect(raw)?;
    if inspected.channel_id != config.channel_id {
        return Err(Rejection::bad_request(format!(
            "message is for channel {}, not {}",
            inspected.channel_id, config.channel_id
        )));
    }
    admit(config, inspected, rules, now_unix)
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

/// Steps 3 and 4 of Broadcast's sequence: the signer's expiry when the channel's
/// capabilities ask for it (BAD_REQUEST), then signature and `/Channel/Writers`
/// (FORBIDDEN).
pub fn authorize_writer(
    config: &ChannelConfig,
    signed: &SignedData,
    rules: Rules,
    now_unix: i64,
) -> Result<(), Rejection> {
    let creator = config.access.creator(&signed.creator);
    if rules.expiration_checks
        && config.expiration_check()
        && creator.expires_at_unix().is_some_and(|at| now_unix >= at)
    {
        return Err(Rejection::bad_request("identity expired"));
    }
    config.access.authorize(&creator, signed, WRITERS)
}

/// Deliver's check of a signed seek request: the reader's expiry, then signature and
/// `/Channel/Readers`. Every refusal is FORBIDDEN.
pub fn authorize_reader(
    access: &AccessControl,
    signed: &SignedData,
    rules: Rules,
    now_unix: i64,
) -> Result<Admitted, Rejection> {
    let creator = access.creator(&signed.creator);
    let expires_at_unix = match creator.expires_at_unix() {
        Some(at) if rules.expiration_checks => at,
        _ => i64::MAX,
    };
    if now_unix >= expires_at_unix {
        return Err(Rejection::forbidden("client identity expired"));
    }
    // Fabric's session access control answers every failed evaluation FORBIDDEN.
    access
        .authorize(&creator, signed, READERS)
        .map_err(|rejection| Rejection::forbidden(rejection.info))?;
    Ok(Admitted { expires_at_unix })
}
