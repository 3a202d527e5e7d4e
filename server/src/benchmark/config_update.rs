//! `orderer benchmark --config-update-at S`: a config update under load. An open-loop
//! run goes on while, S seconds into it, an admin of the channel's org broadcasts a
//! CONFIG_UPDATE that sets `Orderer/BatchSize.MaxMessageCount` of the run's first
//! channel to `--new-max-message-count`. The record says whether the update was
//! answered SUCCESS and ordered in one config block, how many envelopes the blocks
//! before and after that block hold, and the delivered rate before, around and after
//! it (the throughput dip); loadgen's own counts say whether any envelope was lost.
//!
//! - [`update`]: the update, read, computed and signed as an operator makes it.
//! - [`blocks`]: the blocks' sizes on either side of the config block, read back after.
//! - [`dip`]: the dip, from loadgen's delivered timeline.

mod blocks;
mod dip;
mod update;

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, ClientTls};
use loadgen::report::Report;
use orderer_proto::common::Status;
use serde::Serialize;
use tokio::sync::oneshot;

pub use self::blocks::BlockSizes;
pub use self::dip::Dip;
use self::update::Reader;

use super::{BenchmarkArgs, InProcess};
use crate::error::Error;

/// Width of the delivered timeline's buckets when `--timeline-ms` names none.
const TIMELINE_MS_DEFAULT: u64 = 250;

/// What the update was and when it was sent.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigUpdateParams {
    /// The channel updated: the run's first.
    pub channel: String,
    /// Seconds into the run (loadgen's clock) the update is sent.
    pub at_s: f64,
    /// MaxMessageCount before the update, as read from the channel's config.
    pub max_message_count_from: u32,
    /// MaxMessageCount the update sets.
    pub max_message_count_to: u32,
}

/// What the update did.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigUpdateFigures {
    /// Broadcast's answer to the update (`SUCCESS`, or the refusal's status).
    pub update_status: String,
    /// The answer's info text (empty on SUCCESS).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub update_info: String,
    /// When the update was sent, seconds into the run.
    pub update_sent_s: f64,
    /// When its answer came, seconds into the run.
    pub update_answered_s: f64,
    /// The blocks on either side of the config block.
    #[serde(flatten)]
    pub blocks: BlockSizes,
    /// Delivered rates before, around and after the update.
    #[serde(flatten)]
    pub dip: Dip,
}

/// A run with a config update: what was sent, and what it did.
#[derive(Debug, Clone)]
pub struct UpdateRun {
    /// The update.
    pub params: ConfigUpdateParams,
    /// What it did.
    pub figures: ConfigUpdateFigures,
}

/// A record's parameters with the update's.
#[derive(Debug, Serialize)]
pub struct WithUpdateParams<'a, P: Serialize> {
    /// The benchmark's parameters.
    #[serde(flatten)]
    pub benchmark: P,
    /// The update's.
    pub config_update: &'a ConfigUpdateParams,
}

/// A record's figures with the update's.
#[derive(Debug, Serialize)]
pub struct WithUpdateFigures<'a, F: Serialize> {
    /// The benchmark's figures.
    #[serde(flatten)]
    pub benchmark: F,
    /// The update's.
    #[serde(flatten)]
    pub config_update: &'a ConfigUpdateFigures,
}

impl UpdateRun {
    /// What the update must show and did not: empty when it was answered SUCCESS, ordered
    /// in exactly one config block that carries the new MaxMessageCount, no block before
    /// it holds more than the old count, none after it more than the new one, and some
    /// after it exactly the new one (the run is under load, so blocks fill).
    pub fn failures(&self) -> Vec<String> {
        let (p, f) = (&self.params, &self.figures);
        let b = &f.blocks;
        let mut failures = Vec::new();
        let mut check = |holds: bool, what: String| {
            if !holds {
                failures.push(what);
            }
        };
        check(
            f.update_status == Status::Success.as_str_name(),
            format!(
                "the update was answered {} {}",
                f.update_status, f.update_info
            ),
        );
        check(
            b.config_blocks == 1,
            format!("{} config blocks, not 1", b.config_blocks),
        );
        check(
            b.config_block_max_message_count == Some(p.max_message_count_to),
            format!(
                "the config block carries MaxMessageCount {:?}",
                b.config_block_max_message_count
            ),
        );
        check(
            b.tx_per_block_max_before <= u64::from(p.max_message_count_from),
            format!("a block before holds {}", b.tx_per_block_max_before),
        );
        check(
            b.tx_per_block_max_after <= u64::from(p.max_message_count_to),
            format!("a block after holds {}", b.tx_per_block_max_after),
        );
        check(
            b.blocks_after_at_new_max > 0,
            "no block after the update holds the new MaxMessageCount (is the rate too low?)".into(),
        );
        failures
    }
}

impl fmt::Display for UpdateRun {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, f) = (&self.params, &self.figures);
        let b = &f.blocks;
        let number = |n: Option<u64>| n.map_or("none".into(), |n| n.to_string());
        let tps = |rate: Option<f64>| rate.map_or("-".into(), |rate| format!("{rate:.0}"));
        let ratio = |rate: Option<f64>| rate.map_or("-".into(), |rate| format!("{rate:.2}"));
        writeln!(
            out,
            "config update of {}: sent at {:.2} s, answered {} {:.1} ms later; MaxMessageCount {} -> {}, config block {}",
            p.channel,
            f.update_sent_s,
            f.update_status,
            (f.update_answered_s - f.update_sent_s) * 1000.0,
            p.max_message_count_from,
            p.max_message_count_to,
            number(b.config_block),
        )?;
        writeln!(
            out,
            "tx per block: at most {} in the {} blocks before, at most {} in the {} after ({} holding {})",
            b.tx_per_block_max_before,
            b.blocks_before,
            b.tx_per_block_max_after,
            b.blocks_after,
            b.blocks_after_at_new_max,
            p.max_message_count_to,
        )?;
        write!(
            out,
            "delivered tx/s: {} before (median), {} lowest around the update (at {} s): dip ratio {} \
             (lowest before: {}), {} after",
            tps(f.dip.rate_before_tps),
            tps(f.dip.rate_min_around_tps),
            ratio(f.dip.rate_min_around_at_s),
            ratio(f.dip.dip_ratio),
            ratio(f.dip.min_ratio_before),
            tps(f.dip.rate_after_tps),
        )
    }
}

/// Refuses flags a config update run cannot take: it must be one open-loop run
/// (`--rate N --duration D`) with the update inside it.
pub(super) fn check_flags(args: &BenchmarkArgs, at_s: f64) -> Result<(), Error> {
    let refuse = |why: &str| Err(Error::Config(format!("--config-update-at {at_s}: {why}")));
    let duration = args.workload.duration.unwrap_or(0.0);
    if args.workload.rate == "max" || args.workload.duration.is_none() {
        return refuse("needs an open-loop run, --rate N --duration SECONDS");
    }
    if args.sweep {
        return refuse("not with --sweep");
    }
    if !(at_s >= 0.0 && at_s < duration) {
        return refuse("must fall within --duration");
    }
    if args.new_max_message_count == 0 || args.new_max_message_count == args.max_message_count {
        return refuse(
            "--new-max-message-count must be above 0 and differ from --max-message-count",
        );
    }
    Ok(())
}

/// The answer to the update and when it came.
#[derive(Debug)]
struct Answer {
    status: String,
    info: String,
    sent_s: f64,
    answered_s: f64,
}

/// Once the run's clock starts, waits until `at` into it and broadcasts `envelope`.
async fn send_at(
    endpoint: String,
    tls: Option<ClientTls>,
    envelope: Bytes,
    started: oneshot::Receiver<Instant>,
    at: Duration,
) -> Result<Answer, Error> {
    let start = started
        .await
        .map_err(|_| Error::Config("the run ended before its clock started".into()))?;
    let mut client = client::connect_with(&endpoint, tls.as_ref()).await?;
    let mut stream = BroadcastStream::open(&mut client).await?;
    tokio::time::sleep_until((start + at).into()).await;
    let sent_s = start.elapsed().as_secs_f64();
    let response = stream.submit(envelope).await?;
    let answered_s = start.elapsed().as_secs_f64();
    let status = Status::try_from(response.status)
        .map_or_else(|_| response.status.to_string(), |s| s.as_str_name().into());
    Ok(Answer {
        status,
        info: response.info,
        sent_s,
        answered_s,
    })
}

/// Reads the channel's config as `reader` and makes the signed update: its parameters
/// and envelope.
async fn prepare(
    client: &mut client::Client,
    reader: Reader<'_>,
    at_s: f64,
    new_max_message_count: u32,
) -> Result<(ConfigUpdateParams, Bytes), Error> {
    let config = update::current_config(client, reader).await?;
    let params = ConfigUpdateParams {
        channel: reader.channel_id.into(),
        at_s,
        max_message_count_from: update::max_message_count(&config)?,
        max_message_count_to: new_max_message_count,
    };
    let change =
        update::max_message_count_update(reader.channel_id, &config, new_max_message_count)?;
    let envelope = update::signed_envelope(reader.channel_id, &change, reader.signer)?;
    Ok((params, envelope))
}

/// The measured run: loadgen at the flags' rate, the update sent `at_s` into it, then the
/// blocks read back and the dip read from the timeline.
pub(super) async fn run(
    args: &BenchmarkArgs,
    orderer: &InProcess,
    at_s: f64,
) -> Result<(Report, UpdateRun), Error> {
    let mut workload = super::workload_for(args, orderer, None)?;
    workload
        .timeline_bucket
        .get_or_insert(Duration::from_millis(TIMELINE_MS_DEFAULT));
    let sending_end_s = workload.duration.map_or(0.0, |d| d.as_secs_f64());
    let channel = workload.channels[0].clone();
    let reader = Reader {
        channel_id: &channel,
        signer: &orderer.admin,
        tls: orderer.tls.as_ref(),
    };
    let mut client = client::connect_with(&orderer.endpoint, reader.tls).await?;
    let newest = async |client: &mut client::Client| {
        loadgen::run::newest_block(client, &channel, Some(reader.signer), reader.tls).await
    };
    let height = newest(&mut client).await?;
    let (params, envelope) = prepare(&mut client, reader, at_s, args.new_max_message_count).await?;
    let (started, on_start) = oneshot::channel();
    let at = Duration::from_secs_f64(at_s);
    let (endpoint, tls) = (orderer.endpoint.clone(), orderer.tls.clone());
    let sender = tokio::spawn(send_at(endpoint, tls, envelope, on_start, at));
    let report = match loadgen::run::run_signalling_start(workload, Some(started)).await {
        Ok(report) => report,
        Err(error) => {
            sender.abort();
            return Err(error.into());
        }
    };
    let answer = sender
        .await
        .map_err(|e| Error::Config(format!("the config update's task failed: {e}")))??;
    let last = newest(&mut client).await?;
    let to = params.max_message_count_to;
    let blocks = blocks::sizes(&mut client, reader, (height + 1, last), to).await?;
    let moments = dip::Moments {
        sent_s: answer.sent_s,
        answered_s: answer.answered_s,
        sending_end_s,
    };
    let timeline = report.figures.delivered_timeline.as_ref();
    let figures = ConfigUpdateFigures {
        update_status: answer.status,
        update_info: answer.info,
        update_sent_s: answer.sent_s,
        update_answered_s: answer.answered_s,
        blocks,
        dip: timeline.map_or_else(Dip::default, |timeline| dip::dip(timeline, moments)),
    };
    Ok((report, UpdateRun { params, figures }))
}
