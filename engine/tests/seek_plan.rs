//! Every (start, stop, behavior) combination of a Deliver request against a chain of five
//! blocks, with what Fabric's Go code does for it, worked out by hand from
//! common/deliver/deliver.go (`deliverBlocks`, v1.4.12 and v2.5.6) and the file ledger's
//! `Iterator` (common/ledger/blockledger/file/impl.go):
//! - the iterator starts at oldest 0, newest `height-1`, next commit `height`, specified
//!   `n` unless `n > height`; a specified start past the height, or a position without a
//!   type, is the not-found iterator (NOT_FOUND, its number 0);
//! - stop: oldest is the start number; newest is `height-1` unless start and stop are
//!   both newest (then the start); specified below the start is BAD_REQUEST; any other
//!   stop leaves the stop number at 0;
//! - the loop sends blocks until it has sent the one numbered as the stop, so a stop below
//!   the start is never reached; FAIL_IF_NOT_READY answers NOT_FOUND when the next block
//!   is past the end, BLOCK_UNTIL_READY waits for it.
//!
//! The error_response field (STRICT or BEST_EFFORT) changes nothing here: it only decides
//! whether a failed chain answers SERVICE_UNAVAILABLE, which the server tests show.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use engine::deliver::{self, SeekPlan};
use orderer_proto::orderer::seek_info::{SeekBehavior, SeekErrorResponse};
use orderer_proto::orderer::seek_position::Type;
use orderer_proto::orderer::{
    SeekInfo, SeekNewest, SeekNextCommit, SeekOldest, SeekPosition, SeekSpecified,
};

/// Blocks 0 to 4 are stored.
const HEIGHT: u64 = 5;

fn position(name: &str) -> SeekPosition {
    let r#type = match name {
        "oldest" => Some(Type::Oldest(SeekOldest {})),
        "newest" => Some(Type::Newest(SeekNewest {})),
        "next" => Some(Type::NextCommit(SeekNextCommit {})),
        "untyped" => None,
        number => Some(Type::Specified(SeekSpecified {
            number: number.parse().unwrap(),
        })),
    };
    SeekPosition { r#type }
}

/// What a client sees when no block arrives after the request: the blocks sent, then
/// how the request ends.
fn outcome(plan: Result<SeekPlan, engine::rejection::Rejection>) -> String {
    let plan = match plan {
        Ok(plan) => plan,
        Err(rejection) => return rejection.status.as_str_name().to_string(),
    };
    let last_stored = plan.stop.min(HEIGHT - 1);
    let sent = if plan.start < HEIGHT {
        if plan.start == last_stored {
            format!("{} ", plan.start)
        } else {
            format!("{}-{last_stored} ", plan.start)
        }
    } else {
        String::new()
    };
    let end = if plan.stop < HEIGHT {
        "SUCCESS".to_string()
    } else if plan.fail_if_not_ready {
        "NOT_FOUND".to_string()
    } else if plan.stop == u64::MAX {
        "waits for ever".to_string()
    } else {
        format!("waits to {}", plan.stop)
    };
    format!("{sent}{end}")
}

fn plan(start: &str, stop: &str, behavior: SeekBehavior) -> String {
    let seek = SeekInfo {
        start: Some(position(start)),
        stop: Some(position(stop)),
        behavior: behavior as i32,
        ..SeekInfo::default()
    };
    outcome(deliver::plan(&seek, HEIGHT))
}

/// (start, stop, BLOCK_UNTIL_READY, FAIL_IF_NOT_READY).
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("oldest", "oldest", "0 SUCCESS", "0 SUCCESS"),
    ("oldest", "newest", "0-4 SUCCESS", "0-4 SUCCESS"),
    ("oldest", "1", "0-1 SUCCESS", "0-1 SUCCESS"),
    ("oldest", "4", "0-4 SUCCESS", "0-4 SUCCESS"),
    ("oldest", "5", "0-4 waits to 5", "0-4 NOT_FOUND"),
    ("oldest", "7", "0-4 waits to 7", "0-4 NOT_FOUND"),
    ("oldest", "next", "0 SUCCESS", "0 SUCCESS"),
    ("oldest", "untyped", "0 SUCCESS", "0 SUCCESS"),
    ("newest", "oldest", "4 SUCCESS", "4 SUCCESS"),
    ("newest", "newest", "4 SUCCESS", "4 SUCCESS"),
    ("newest", "1", "BAD_REQUEST", "BAD_REQUEST"),
    ("newest", "4", "4 SUCCESS", "4 SUCCESS"),
    ("newest", "5", "4 waits to 5", "4 NOT_FOUND"),
    ("newest", "7", "4 waits to 7", "4 NOT_FOUND"),
    ("newest", "next", "4 waits for ever", "4 NOT_FOUND"),
    ("newest", "untyped", "4 waits for ever", "4 NOT_FOUND"),
    ("2", "oldest", "2 SUCCESS", "2 SUCCESS"),
    ("2", "newest", "2-4 SUCCESS", "2-4 SUCCESS"),
    ("2", "1", "BAD_REQUEST", "BAD_REQUEST"),
    ("2", "4", "2-4 SUCCESS", "2-4 SUCCESS"),
    ("2", "5", "2-4 waits to 5", "2-4 NOT_FOUND"),
    ("2", "7", "2-4 waits to 7", "2-4 NOT_FOUND"),
    ("2", "next", "2-4 waits for ever", "2-4 NOT_FOUND"),
    ("2", "untyped", "2-4 waits for ever", "2-4 NOT_FOUND"),
    // A start at the height is the next block: Fabric's iterator waits for it.
    ("5", "oldest", "waits to 5", "NOT_FOUND"),
    ("5", "newest", "waits for ever", "NOT_FOUND"),
    ("5", "1", "BAD_REQUEST", "BAD_REQUEST"),
    ("5", "4", "BAD_REQUEST", "BAD_REQUEST"),
    ("5", "5", "waits to 5", "NOT_FOUND"),
    ("5", "7", "waits to 7", "NOT_FOUND"),
    ("5", "next", "waits for ever", "NOT_FOUND"),
    ("5", "untyped", "waits for ever", "NOT_FOUND"),
    // Past the height: the not-found iterator, whatever the stop.
    ("6", "oldest", "NOT_FOUND", "NOT_FOUND"),
    ("6", "newest", "NOT_FOUND", "NOT_FOUND"),
    ("6", "1", "NOT_FOUND", "NOT_FOUND"),
    ("6", "4", "NOT_FOUND", "NOT_FOUND"),
    ("6", "5", "NOT_FOUND", "NOT_FOUND"),
    ("6", "7", "NOT_FOUND", "NOT_FOUND"),
    ("6", "next", "NOT_FOUND", "NOT_FOUND"),
    ("6", "untyped", "NOT_FOUND", "NOT_FOUND"),
    ("next", "oldest", "waits to 5", "NOT_FOUND"),
    ("next", "newest", "waits for ever", "NOT_FOUND"),
    ("next", "1", "BAD_REQUEST", "BAD_REQUEST"),
    ("next", "4", "BAD_REQUEST", "BAD_REQUEST"),
    ("next", "5", "waits to 5", "NOT_FOUND"),
    ("next", "7", "waits to 7", "NOT_FOUND"),
    ("next", "next", "waits for ever", "NOT_FOUND"),
    ("next", "untyped", "waits for ever", "NOT_FOUND"),
    ("untyped", "oldest", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "newest", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "1", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "4", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "5", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "7", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "next", "NOT_FOUND", "NOT_FOUND"),
    ("untyped", "untyped", "NOT_FOUND", "NOT_FOUND"),
];

#[test]
fn every_start_stop_and_behavior_resolves_as_fabric() {
    let mut wrong = Vec::new();
    for (start, stop, blocking, failing) in TABLE {
        for (behavior, expected) in [
            (SeekBehavior::BlockUntilReady, blocking),
            (SeekBehavior::FailIfNotReady, failing),
        ] {
            let got = plan(start, stop, behavior);
            if got != *expected {
                wrong.push(format!(
                    "start {start}, stop {stop}, {}: got {got:?}, Fabric {expected:?}",
                    behavior.as_str_name()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let positions = [
        "oldest", "newest", "1", "2", "4", "5", "6", "7", "next", "untyped",
    ];
    let starts = ["oldest", "newest", "2", "5", "6", "next", "untyped"];
    let stops = ["oldest", "newest", "1", "4", "5", "7", "next", "untyped"];
    assert_eq!(
        TABLE.len(),
        starts.len() * stops.len(),
        "every pair is listed"
    );
    for (start, stop, _, _) in TABLE {
        assert!(positions.contains(start) && positions.contains(stop));
    }
}

#[test]
fn a_missing_start_or_stop_is_bad_request() {
    for (start, stop) in [
        (None, Some(position("newest"))),
        (Some(position("oldest")), None),
        (None, None),
    ] {
        let seek = SeekInfo {
            start,
            stop,
            ..SeekInfo::default()
        };
        assert_eq!(outcome(deliver::plan(&seek, HEIGHT)), "BAD_REQUEST");
    }
}

#[test]
fn best_effort_is_read_from_error_response() {
    let mut seek = SeekInfo::default();
    assert!(!deliver::best_effort(&seek), "STRICT is the default");
    seek.error_response = SeekErrorResponse::BestEffort as i32;
    assert!(deliver::best_effort(&seek));
}
