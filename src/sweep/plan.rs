//! `geosim plan`: the closed-form capacity figures a simulation should agree with.
//!
//! Everything here is arithmetic on the same byte model the simulator uses: a write travels
//! in a shard's replication stream as its RESP command (`redis::resp`), a shard's backlog
//! holds the most recent stream bytes (`model::backlog`, block model: at least `size + 1`
//! bytes once full, and at most one block more: 20,440 bytes while every argument is at most
//! that long, a block sized to the largest argument otherwise), and a full sync ships the
//! shard's dataset and then needs the backlog to still hold every write made while it
//! travelled.

use crate::model::backlog::largest_block;
use crate::redis::resp::set_bytes;
use crate::scenario::validate::{MAX_BACKLOG, MAX_SHARDS, MIN_BACKLOG};

/// What the planner knows.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanInput {
    /// Writes per second to the whole database, at one participating cluster.
    pub rate: f64,
    /// Replication-stream bytes per write.
    pub op_bytes: u64,
    /// The longest single argument of a write (a `SET`'s value): above 20,440 bytes it gets
    /// replication-buffer blocks of its own size, which widen the range of backlog sizes
    /// whose outcome depends on block placement.
    pub largest_piece: u64,
    /// Shards per cluster; writes spread evenly over them.
    pub shards: u64,
    /// Participating clusters (each cluster streams its writes to the other `peers − 1`).
    pub peers: u64,
    /// How long a peer is cut off, in seconds.
    pub outage_s: f64,
    /// The syncer's reconnect delay after the link heals, in seconds (added to the outage).
    pub reconnect_s: f64,
    /// A backlog size per shard to assess, in bytes.
    pub backlog: Option<u64>,
    /// The database's dataset size (all shards), in bytes, for full-sync figures.
    pub dataset: Option<u64>,
    /// The WAN link's bandwidth, in bits per second.
    pub bandwidth_bps: Option<u64>,
}

impl PlanInput {
    /// The stream bytes of `SET` with the given key and value lengths.
    pub fn set_op_bytes(key_bytes: u64, value_bytes: u64) -> u64 {
        set_bytes(key_bytes, value_bytes)
    }
}

/// The planner's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Stream bytes per second written into one shard's backlog.
    pub shard_stream_bps: f64,
    /// Stream bytes one shard writes during the outage and the reconnect delay.
    pub backlog_needed: u64,
    /// The smallest backlog size per shard that always rides out the outage (block model:
    /// a full backlog holds at least `size + 1` bytes); never below the 1MB minimum.
    pub min_backlog: u64,
    /// Sizes from `min_backlog − block + 1` up may also suffice, depending on where the
    /// stream's block boundaries fall (`block`: the largest block, [`Plan::largest_block`]).
    pub may_suffice_from: u64,
    /// The largest replication-buffer block the writes can make at the minimal backlog: the
    /// most a full backlog may hold above its size.
    pub largest_block: u64,
    /// The fewest shards for which `min_backlog` fits Redis's 250MB per-shard limit (may
    /// exceed the 256-shard maximum: the text says so instead of recommending it).
    pub shards_for_limit: u64,
    /// Seconds of outage (reconnect included) the given backlog rides out.
    pub outage_ridden_s: Option<f64>,
    /// WAN bytes per second each cluster sends (to all its peers), uncompressed.
    pub wan_out_bps: f64,
    /// Whether the link carries the stream at all (stream bits/s ≤ bandwidth).
    pub link_keeps_up: Option<bool>,
    /// Seconds to ship the dataset over the link in a full sync (uncompressed).
    pub full_sync_s: Option<f64>,
    /// Stream bytes one shard writes while its full sync travels.
    pub full_sync_backlog_needed: Option<u64>,
    /// Whether the full sync can finish: the backlog still holds the writes made meanwhile.
    pub full_sync_finishes: Option<bool>,
}

pub fn plan(i: &PlanInput) -> Plan {
    let shards = i.shards.max(1);
    let total_bps = i.rate * i.op_bytes as f64;
    let shard_stream_bps = total_bps / shards as f64;
    let window = i.outage_s + i.reconnect_s;
    let needed_total = (total_bps * window).ceil() as u64;
    let backlog_needed = (shard_stream_bps * window).ceil() as u64;
    let min_backlog = backlog_needed.saturating_sub(1).max(MIN_BACKLOG);
    let block = largest_block(i.largest_piece, min_backlog);
    let may_suffice_from = backlog_needed
        .saturating_sub(block)
        .max(MIN_BACKLOG)
        .min(min_backlog);
    let shards_for_limit = needed_total.saturating_sub(1).div_ceil(MAX_BACKLOG).max(1);
    let outage_ridden_s = i.backlog.map(|b| {
        if shard_stream_bps > 0.0 {
            (b + 1) as f64 / shard_stream_bps - i.reconnect_s
        } else {
            f64::INFINITY
        }
    });
    let wan_out_bps = total_bps * i.peers.saturating_sub(1) as f64;
    let link_keeps_up = i.bandwidth_bps.map(|bw| total_bps * 8.0 <= bw as f64);
    let full_sync_s = match (i.dataset, i.bandwidth_bps) {
        (Some(d), Some(bw)) if bw > 0 => Some(d as f64 * 8.0 / bw as f64),
        _ => None,
    };
    let full_sync_backlog_needed = full_sync_s.map(|t| (shard_stream_bps * t).ceil() as u64);
    let full_sync_finishes = match (full_sync_backlog_needed, i.backlog) {
        (Some(n), Some(b)) => Some(n <= b + 1),
        _ => None,
    };
    Plan {
        shard_stream_bps,
        backlog_needed,
        min_backlog,
        may_suffice_from,
        largest_block: block,
        shards_for_limit,
        outage_ridden_s,
        wan_out_bps,
        link_keeps_up,
        full_sync_s,
        full_sync_backlog_needed,
        full_sync_finishes,
    }
}

/// `plan --json`: the inputs and every figure, keys carrying their unit (absent figures are
/// `null`), pretty-printed with a trailing newline.
pub(crate) fn plan_json(i: &PlanInput, p: &Plan) -> String {
    let v = serde_json::json!({
        "inputs": {
            "rate_per_s": i.rate,
            "op_bytes": i.op_bytes,
            "largest_piece_bytes": i.largest_piece,
            "shards": i.shards,
            "peers": i.peers,
            "outage_s": i.outage_s,
            "reconnect_s": i.reconnect_s,
            "backlog_bytes": i.backlog,
            "dataset_bytes": i.dataset,
            "bandwidth_bits_per_s": i.bandwidth_bps,
        },
        "shard_stream_bytes_per_s": p.shard_stream_bps,
        "written_during_outage_bytes_per_shard": p.backlog_needed,
        "min_backlog_bytes": p.min_backlog,
        "may_suffice_from_bytes": p.may_suffice_from,
        "largest_block_bytes": p.largest_block,
        "min_backlog_within_limit": p.min_backlog <= MAX_BACKLOG,
        "shards_for_limit": p.shards_for_limit,
        "shards_for_limit_within_max": p.shards_for_limit <= MAX_SHARDS,
        "outage_ridden_s": p.outage_ridden_s.map(|s| s.max(0.0)),
        "wan_out_bytes_per_s": p.wan_out_bps,
        "link_keeps_up": p.link_keeps_up,
        "full_sync_s": p.full_sync_s,
        "full_sync_written_bytes_per_shard": p.full_sync_backlog_needed,
        "full_sync_finishes": p.full_sync_finishes,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("plan figures serialise");
    s.push('\n');
    s
}

fn mib(b: f64) -> String {
    format!("{:.2} MiB", b / 1_048_576.0)
}

/// The plan as text, one figure per line with how it was computed.
pub(crate) fn plan_text(i: &PlanInput, p: &Plan) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "inputs: {} writes/s, {} stream bytes per write, {} shard(s) per cluster, {} clusters, \
         outage {} s + reconnect {} s\n",
        i.rate, i.op_bytes, i.shards, i.peers, i.outage_s, i.reconnect_s
    ));
    o.push_str(&format!(
        "stream per shard:        {}/s ({:.0} B/s = rate x bytes per write / shards)\n",
        mib(p.shard_stream_bps),
        p.shard_stream_bps
    ));
    o.push_str(&format!(
        "written during outage:   {} per shard ({} B = stream per shard x (outage + reconnect))\n",
        mib(p.backlog_needed as f64),
        p.backlog_needed
    ));
    o.push_str(&format!(
        "minimal backlog_size:    {} per shard ({} B; a full block-model backlog holds at least size + 1 B; \
         sizes from {} B may suffice depending on block boundaries: blocks of up to {} B{})\n",
        mib(p.min_backlog as f64),
        p.min_backlog,
        p.may_suffice_from,
        p.largest_block,
        if i.largest_piece > crate::model::backlog::BLOCK_BYTES {
            format!(" for {}-byte arguments", i.largest_piece)
        } else {
            String::new()
        }
    ));
    if p.min_backlog > MAX_BACKLOG {
        if p.shards_for_limit <= MAX_SHARDS {
            o.push_str(&format!(
                "  over the 250MB per-shard limit: use at least {} shards per cluster\n",
                p.shards_for_limit
            ));
        } else {
            o.push_str(&format!(
                "  over the 250MB per-shard limit even at the {MAX_SHARDS}-shard maximum ({} per \
                 shard would be needed): no backlog rides out this outage; expect a full sync\n",
                mib(p.backlog_needed as f64 * i.shards as f64 / MAX_SHARDS as f64)
            ));
        }
    }
    if let (Some(b), Some(s)) = (i.backlog, p.outage_ridden_s) {
        o.push_str(&format!(
            "backlog {}:        rides out outages up to {:.1} s; longer ones need a full sync\n",
            mib(b as f64),
            s.max(0.0)
        ));
    }
    o.push_str(&format!(
        "WAN out per cluster:     {}/s to its {} peer(s), uncompressed\n",
        mib(p.wan_out_bps),
        i.peers.saturating_sub(1)
    ));
    if let Some(k) = p.link_keeps_up {
        o.push_str(&format!(
            "link carries the stream: {}\n",
            if k {
                "yes"
            } else {
                "NO: lag grows without bound"
            }
        ));
    }
    if let Some(t) = p.full_sync_s {
        o.push_str(&format!(
            "full sync transfer:      {t:.1} s (dataset x 8 / bandwidth, uncompressed)\n"
        ));
    }
    if let Some(n) = p.full_sync_backlog_needed {
        o.push_str(&format!(
            "written during it:       {} per shard\n",
            mib(n as f64)
        ));
    }
    if let Some(f) = p.full_sync_finishes {
        o.push_str(&format!(
            "full sync can finish:    {}\n",
            if f {
                "yes"
            } else {
                "NO: the backlog overflows before the snapshot arrives, so the sync restarts"
            }
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PlanInput {
        PlanInput {
            rate: 20_000.0,
            op_bytes: PlanInput::set_op_bytes(16, 100),
            largest_piece: 100,
            shards: 1,
            peers: 3,
            outage_s: 600.0,
            reconnect_s: 1.0,
            backlog: Some(250 * 1_048_576),
            dataset: Some(8 * 1_073_741_824),
            bandwidth_bps: Some(1_000_000_000),
        }
    }

    #[test]
    fn a_ten_minute_outage_at_20k_writes_per_second() {
        // SET with a 16-byte key and a 100-byte value: 23 + 16 + 100 + 2 + 3 = 144 bytes.
        let i = input();
        assert_eq!(i.op_bytes, 144);
        let p = plan(&i);
        assert_eq!(p.shard_stream_bps, 2_880_000.0);
        assert_eq!(p.backlog_needed, 2_880_000 * 601);
        assert_eq!(p.min_backlog, 2_880_000 * 601 - 1);
        // 1,730,880,000 B over 262,144,000 B per shard: 6.6, so 7 shards.
        assert_eq!(p.shards_for_limit, 7);
        // 250MB holds 262,144,001 B: 91.02 s at 2.88 MB/s, minus the 1 s reconnect.
        let s = p.outage_ridden_s.unwrap();
        assert!(
            (s - (262_144_001.0 / 2_880_000.0 - 1.0)).abs() < 1e-9,
            "{s}"
        );
        assert_eq!(p.wan_out_bps, 2.0 * 2_880_000.0);
        assert_eq!(p.link_keeps_up, Some(true));
        // 8 GiB at 1 Gbit/s: 68.7 s, during which 197.9 MB arrive: it fits 250MB.
        let t = p.full_sync_s.unwrap();
        assert!((t - 68.719_476_736).abs() < 1e-9, "{t}");
        assert_eq!(p.full_sync_finishes, Some(true));
        let text = plan_text(&i, &p);
        assert!(text.contains("use at least 7 shards per cluster"), "{text}");
    }

    #[test]
    fn large_values_widen_the_sizes_that_depend_on_block_placement() {
        // One 1 MB write per second into one shard, a 15-second outage and a 1 s reconnect.
        let i = PlanInput {
            rate: 1.0,
            op_bytes: PlanInput::set_op_bytes(16, 1_000_000),
            largest_piece: 1_000_000,
            outage_s: 15.0,
            reconnect_s: 1.0,
            ..input()
        };
        let p = plan(&i);
        assert_eq!(p.backlog_needed, 16 * i.op_bytes);
        // A remainder of the whole value (under the backlog / 16 cap) plus the 40-byte
        // header, 1,000,040 B, rounds up to jemalloc's 1 MiB class.
        assert_eq!(p.largest_block, 1_048_536);
        assert_eq!(p.may_suffice_from, p.backlog_needed - 1_048_536);
        let text = plan_text(&i, &p);
        assert!(
            text.contains("blocks of up to 1048536 B for 1000000-byte arguments"),
            "{text}"
        );
        // Small values: the 20,440-byte blocks of the measured trials.
        let p = plan(&input());
        assert_eq!(p.largest_block, 20_440);
    }

    #[test]
    fn a_thin_link_and_a_small_backlog_are_flagged() {
        let mut i = input();
        i.bandwidth_bps = Some(10_000_000);
        i.backlog = Some(16 * 1_048_576);
        let p = plan(&i);
        assert_eq!(p.link_keeps_up, Some(false));
        assert_eq!(p.full_sync_finishes, Some(false));
        let text = plan_text(&i, &p);
        assert!(text.contains("NO: lag grows without bound"), "{text}");
        assert!(text.contains("the sync restarts"), "{text}");
    }

    #[test]
    fn more_shards_shrink_the_backlog_per_shard() {
        let mut i = input();
        i.shards = 8;
        let p = plan(&i);
        assert_eq!(p.backlog_needed, 360_000 * 601);
        assert!(p.min_backlog < MAX_BACKLOG);
        assert!(!plan_text(&i, &p).contains("shards per cluster\n"));
    }
}
