//! Who may write and read: Fabric's signature and policy checks on the verify pool, with
//! the clock that identity expiry is judged by.

use std::sync::Arc;

use engine::access::{AccessControl, Admitted, SignedData};
use engine::envelope::Rejection;

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
    /// Checks `signed` against `policy` of `access`: expiry (BAD_REQUEST), then signature
    /// and policy (FORBIDDEN).
    pub async fn admit(
        &self,
        access: &Arc<AccessControl>,
        signed: SignedData,
        policy: &'static str,
    ) -> Result<Admitted, Rejection> {
        match self {
            Self::Enforced { pool, clock } => {
                let access = Arc::clone(access);
                let clock = Arc::clone(clock);
                pool.run(move || access.check(&signed, policy, clock()))
                    .await
                    .unwrap_or_else(|_| Err(Rejection::unavailable("the orderer is stopping")))
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
