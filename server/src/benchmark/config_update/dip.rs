//! The throughput dip a config update causes, read from the run's delivered timeline
//! (envelopes per bucket of commit time): the median rate before the update, the lowest
//! bucket around it, the median after it, and the same low-to-median ratio over the
//! buckets before, which says how low a bucket gets without any update.

use loadgen::report::Timeline;
use serde::Serialize;

/// Buckets starting this early are left out: the first blocks wait for the run to fill
/// them.
const WARM_UP_S: f64 = 1.0;
/// After its answer, the update's effects are looked for this long: the config block
/// is written alone and blocks are then cut at the new size.
const SETTLE_S: f64 = 2.0;

/// When the update went out, relative to the run's clock, and when sending ended.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moments {
    /// The update was sent.
    pub sent_s: f64,
    /// Its answer came.
    pub answered_s: f64,
    /// The load generator stopped sending (the run's duration).
    pub sending_end_s: f64,
}

/// Delivered rates before, around and after the update.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dip {
    /// Median delivered tx/s of the buckets after warm-up and before the update.
    pub rate_before_tps: Option<f64>,
    /// Lowest delivered tx/s of a bucket from the update's send to 2 s after its answer.
    pub rate_min_around_tps: Option<f64>,
    /// Where that bucket starts, seconds into the run.
    pub rate_min_around_at_s: Option<f64>,
    /// Median delivered tx/s of the buckets from 2 s after the answer to the end of
    /// sending.
    pub rate_after_tps: Option<f64>,
    /// `rate_min_around_tps / rate_before_tps`: 1 is no dip.
    pub dip_ratio: Option<f64>,
    /// The lowest bucket before the update over the median before it: the dip ratio the
    /// run shows with no update, its noise.
    pub min_ratio_before: Option<f64>,
}

fn median(rates: &[f64]) -> Option<f64> {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

/// The dip in `timeline` around an update at `moments`.
pub(super) fn dip(timeline: &Timeline, moments: Moments) -> Dip {
    let width_s = timeline.bucket_ms as f64 / 1000.0;
    let buckets: Vec<(f64, f64)> = timeline
        .rates_tps()
        .enumerate()
        .map(|(i, rate)| (i as f64 * width_s, rate))
        .collect();
    let within = |from: f64, to: f64| -> Vec<(f64, f64)> {
        buckets
            .iter()
            .copied()
            .filter(|(start, _)| *start >= from && start + width_s <= to)
            .collect()
    };
    let rates = |buckets: &[(f64, f64)]| buckets.iter().map(|(_, rate)| *rate).collect::<Vec<_>>();
    let settled_s = (moments.answered_s + SETTLE_S).min(moments.sending_end_s);
    let before = rates(&within(WARM_UP_S, moments.sent_s));
    let around = buckets
        .iter()
        .copied()
        .filter(|(start, _)| start + width_s > moments.sent_s && *start < settled_s)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let after = rates(&within(settled_s, moments.sending_end_s));
    let rate_before_tps = median(&before).filter(|rate| *rate > 0.0);
    let low_before = before.iter().copied().min_by(f64::total_cmp);
    Dip {
        rate_before_tps,
        rate_min_around_tps: around.map(|(_, rate)| rate),
        rate_min_around_at_s: around.map(|(start, _)| start),
        rate_after_tps: median(&after),
        dip_ratio: rate_before_tps
            .zip(around)
            .map(|(median, (_, low))| low / median),
        min_ratio_before: rate_before_tps
            .zip(low_before)
            .map(|(median, low)| low / median),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dip_is_the_lowest_bucket_around_the_update_against_the_median_before() {
        // 500 ms buckets: 1000 tx/s, a bucket at 600 tx/s when the update lands at 3.2 s,
        // then 1000 tx/s again; sending ends at 8 s, the tail after it is left out.
        let per_bucket = [
            500, 500, 450, 500, 500, 500, 300, 500, 500, 500, 500, 500, 500, 500, 500, 500, 20,
        ];
        let timeline = Timeline {
            bucket_ms: 500,
            delivered_tx: per_bucket.to_vec(),
        };
        let moments = Moments {
            sent_s: 3.2,
            answered_s: 3.21,
            sending_end_s: 8.0,
        };
        let dip = dip(&timeline, moments);
        assert_eq!(dip.rate_before_tps, Some(1000.0), "buckets 1.0-3.0 s");
        assert_eq!(dip.rate_min_around_tps, Some(600.0));
        assert_eq!(dip.rate_min_around_at_s, Some(3.0));
        assert_eq!(dip.dip_ratio, Some(0.6));
        assert_eq!(
            dip.min_ratio_before,
            Some(0.9),
            "the 1.0 s bucket: 900 tx/s"
        );
        assert_eq!(dip.rate_after_tps, Some(1000.0), "buckets 5.5-8.0 s");
    }

    #[test]
    fn an_update_during_warm_up_has_no_figure_before() {
        let timeline = Timeline {
            bucket_ms: 250,
            delivered_tx: vec![100; 8],
        };
        let moments = Moments {
            sent_s: 0.5,
            answered_s: 0.5,
            sending_end_s: 2.0,
        };
        let dip = dip(&timeline, moments);
        assert_eq!((dip.rate_before_tps, dip.dip_ratio), (None, None));
        assert_eq!(dip.rate_min_around_tps, Some(400.0));
    }
}
