//! Who may write and read: [`engine::admission`]'s sequence on the verify pool, with the
//! clock that identity expiry is judged by and the node's admission rules.

use std::sync::Arc;

use engine::access::AccessControl;
use engine::admission::{self, Admitted, Rules};
use engine::chain::{Chain, Submission};
use engine::envelope::{Inspected, SignedData};
use engine::rejection::Rejection;

use crate::verify::VerifyPool;

/// Seconds since the Unix epoch, as identity expiry is judged. Tests inject a fixed time
/// to replay certificates past their expiry.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            })
    })
}

/// How Broadcast and Deliver check signed envelopes.
#[derive(Clone)]
pub enum Checks {
    /// Fabric's checks, each envelope verified once on the pool.
    Enforced {
        /// Where signatures are verified.
        pool: Arc<VerifyPool>,
        /// What expiry is judged by.
        clock: Clock,
        /// `General.Authentication.NoExpirationChecks`, as rules.
        rules: Rules,
    },
    /// No signature or policy check: only to measure what the checks cost
    /// (`orderer benchmark --no-verify`); the orderer binary never runs this way.
    Skipped,
}

impl std::fmt::Debug for Checks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Enforced { pool, .. } => f.debug_struct("Enforced").field("pool", pool).finish(),
            Self::Skipped => f.write_str("Skipped"),
        }
    }
}

impl Checks {
    /// Broadcast's sequence after decoding, for an envelope of `chain`'s channel: size,
    /// expiry (by capability), signature and Writers. Skipped checks keep the size rule.
    pub async fn admit(
        &self,
        chain: &Arc<Chain>,
        inspected: Inspected,
    ) -> Result<Submission, Rejection> {
        let config = chain.config();
        let config_seq = config.sequence;
        let message = match self {
            Self::Enforced { pool, clock, rules } => {
                let (clock, rules) = (Arc::clone(clock), *rules);
                pool.run(move || admission::admit(&config, inspected, rules, clock()))
                    .await
                    .unwrap_or_else(|_| Err(stopping()))?
            }
            Self::Skipped => {
                admission::check_size(&inspected.message, &config.batch_size)?;
                inspected.message
            }
        };
        Ok(Submission::Normal {
            message,
            config_seq,
        })
    }

    /// A CONFIG_UPDATE for `chain` (its own channel's update, or a channel creation on a
    /// system channel), processed on the pool as Fabric's message processors do. Config
    /// updates are always checked, even when normal envelopes are not.
    pub async fn admit_config_update(
        &self,
        chain: &Arc<Chain>,
        inspected: Inspected,
    ) -> Result<Submission, Rejection> {
        let chain = Arc::clone(chain);
        let process = move |rules: Rules, now_unix: i64| {
            chain
                .process_config_update(inspected, rules, now_unix)
                .map(Submission::Config)
        };
        match self {
            Self::Enforced { pool, clock, rules } => {
                let (clock, rules) = (Arc::clone(clock), *rules);
                pool.run(move || process(rules, clock()))
                    .await
                    .unwrap_or_else(|_| Err(stopping()))
            }
            Self::Skipped => process(Rules::default(), (system_clock())()),
        }
    }

    /// Deliver's check of a signed request against `access`: expiry, signature and
    /// Readers (all FORBIDDEN).
    pub async fn admit_reader(
        &self,
        access: &Arc<AccessControl>,
        signed: SignedData,
    ) -> Result<Admitted, Rejection> {
        match self {
            Self::Enforced { pool, clock, rules } => {
                let (access, clock, rules) = (Arc::clone(access), Arc::clone(clock), *rules);
                pool.run(move || admission::authorize_reader(&access, &signed, rules, clock()))
                    .await
                    .unwrap_or_else(|_| Err(stopping()))
            }
            Self::Skipped => Ok(Admitted {
                expires_at_unix: i64::MAX,
            }),
        }
    }

    /// Whether an identity admitted as `admitted` has expired by now.
    pub fn expired(&self, admitted: &Admitted) -> bool {
        match self {
            Self::Enforced { clock, .. } => clock() >= admitted.expires_at_unix,
            Self::Skipped => false,
        }
    }
}

fn stopping() -> Rejection {
    Rejection::unavailable("the orderer is stopping")
}
