//! `geosim plan --simulate`: builds the scenario that matches a plan, sweeps the backlog size
//! around the analytic minimum over several seeds, and sets the analytic figures beside the
//! simulated ones, flagging those that disagree by more than a stated factor.
//!
//! The matching scenario: `peers` clusters of `shards` shards each; the first cluster writes
//! `SET`s of 16-byte keys (`key:000000000000`, uniform over `keys` keys) and the op's value
//! size at `rate`; after a warm-up it is cut off from the others (connections dropped) for
//! the outage, then healed; the syncers reconnect after the reconnect delay (drawn uniformly
//! in `(0, d]`, as always); replication is not compressed (the closed form counts raw
//! stream bytes); memory limits are large enough never to matter.

use super::Row;
use super::plan::{Plan, PlanInput, plan};
use crate::model::backlog::largest_block;
use crate::model::topology::{ClusterTopo, ProxyPolicy};
use crate::model::workload::{KEY_DIGITS, key_name};

/// At this write rate and above, the matching scenario runs in sampled fidelity (`1/64`):
/// every figure the cross-check compares (backlog, syncs, lag, WAN bytes) is byte-level, so
/// exact in sampled mode, and the simulation is many times faster.
pub(crate) const SAMPLED_FROM_RATE: f64 = 10_000.0;

/// Backlog sizes swept, as multiples of the analytic minimum.
pub(crate) const FACTORS: [f64; 5] = [0.5, 0.9, 1.0, 1.1, 2.0];

/// Seconds of writing before the outage begins, and after the reconnect delay once it ends.
pub(crate) const WARM_UP_S: f64 = 5.0;
pub(crate) const TAIL_S: f64 = 5.0;

/// The generated workload's key length (`key:` and 12 digits).
pub(crate) const KEY_BYTES: u64 = 4 + KEY_DIGITS as u64;

/// The value length whose `SET` (with a 16-byte key) takes exactly `op_bytes` stream bytes.
pub(crate) fn value_bytes_for(op_bytes: u64) -> Option<u64> {
    (0..=op_bytes).find(|v| PlanInput::set_op_bytes(KEY_BYTES, *v) == op_bytes)
}

/// The backlog sizes to simulate: [`FACTORS`] × the analytic minimum, and `extra` (the size
/// the user asked about), in increasing order.
pub(crate) fn backlog_grid(p: &Plan, extra: Option<u64>) -> Vec<u64> {
    let mut v: Vec<u64> = FACTORS
        .iter()
        .map(|f| ((p.min_backlog as f64 * f).round() as u64).max(1))
        .chain(extra)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn duration_s(i: &PlanInput) -> f64 {
    WARM_UP_S + i.outage_s + i.reconnect_s + TAIL_S
}

fn secs(x: f64) -> String {
    format!("{}ms", (x * 1000.0).round() as u64)
}

/// The matching scenario, with a `[sweep]` table over `sizes` and `seeds` so that
/// `geosim sweep` on the written file alone reproduces the simulated figures.
pub(crate) fn scenario_text(
    i: &PlanInput,
    value_bytes: u64,
    keys: u64,
    sizes: &[u64],
    seeds: (u64, u64),
) -> String {
    let sampled = if i.rate >= SAMPLED_FROM_RATE {
        format!(
            "# {} writes/s is at least {SAMPLED_FROM_RATE}: sampled fidelity keeps every byte-level figure exact.\n\
             fidelity = \"sampled\"\nsample = \"1/64\"\n",
            i.rate
        )
    } else {
        String::new()
    };
    let mut o = format!(
        "# Written by `geosim plan --simulate`: the scenario that matches the plan's inputs.\n\
         # The first cluster writes; it is cut off for the outage after a {WARM_UP_S} s warm-up.\n\
         [run]\nseed = {}\nduration = \"{}\"\nconverge_deadline = \"10m\"\n{sampled}\n\
         # Sizes below 1MB are simulated too, to show where the analytic minimum lies.\n\
         [whatif]\nallow_any_backlog_size = true\n\n",
        seeds.0,
        secs(duration_s(i)),
    );
    for c in 1..=i.peers {
        o.push_str(&format!(
            "[[cluster]]\nname = \"c{c}\"\nshards = {}\nnodes = {}\nmemory_limit = \"1TB\"\n\
             proxy_policy = \"all-master-shards\"\nsyncer_mode = \"distributed\"\n\n",
            i.shards,
            i.shards.min(3)
        ));
    }
    o.push_str("[network]\nlatency = \"10ms\"\n");
    if let Some(bw) = i.bandwidth_bps {
        o.push_str(&format!("bandwidth = \"{bw}bit/s\"\n"));
    }
    o.push_str(&format!(
        "\n[replication]\nbacklog_size = \"{}B\"\nreconnect_delay = \"{}\"\n\
         # The closed form counts uncompressed bytes, so the simulation does not compress.\n\
         compression = 0\n\n",
        sizes.last().copied().unwrap_or(1),
        secs(i.reconnect_s)
    ));
    o.push_str(&format!(
        "[workload]\nrate = \"{}/s\"\nkeys = {keys}\nvalue_size = \"{value_bytes}B\"\n\
         clusters = [\"c1\"]\n\n[workload.mix]\nset = 1.0\nincr = 0.0\n\n",
        i.rate
    ));
    o.push_str(&format!(
        "[[fault]]\nkind = \"partition\"\nname = \"outage\"\nbegin = \"{}\"\nduration = \"{}\"\n\
         isolate = [\"c1\"]\n\n",
        secs(WARM_UP_S),
        secs(i.outage_s)
    ));
    o.push_str(&format!(
        "[sweep]\nset = [\"replication.backlog_size={}\"]\nseeds = \"{}..{}\"\n",
        sizes
            .iter()
            .map(|b| format!("{b}B"))
            .collect::<Vec<_>>()
            .join(","),
        seeds.0,
        seeds.1
    ));
    o
}

/// The share of uniformly chosen keys that the busiest shard owns: writes are spread over
/// the shards by hash slot, not evenly.
pub(crate) fn busiest_shard_share(keys: u64, shards: u64) -> f64 {
    let topo = ClusterTopo::new("plan", 1, shards as usize, false, ProxyPolicy::AllNodes);
    let mut count = vec![0u64; shards as usize];
    for k in 0..keys {
        count[topo.shard_of_key(key_name("key:", k).as_bytes())] += 1;
    }
    *count.iter().max().unwrap_or(&0) as f64 / keys.max(1) as f64
}

/// What the closed form says about a full sync at one backlog size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The backlog holds every write of the outage and the longest reconnect delay.
    Never,
    /// It depends on where the block boundaries fall and on the drawn reconnect delay.
    Maybe,
    /// Even the outage alone, with an instant reconnect and the most generous block
    /// boundary (a block as large as the writes' largest argument can make), writes more
    /// than the backlog can hold.
    Always,
}

impl Expect {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Expect::Never => "never",
            Expect::Maybe => "maybe",
            Expect::Always => "always",
        }
    }
}

/// The closed-form outcome at `backlog` bytes for a shard writing `shard_bps`.
pub(crate) fn expected_at(i: &PlanInput, shard_bps: f64, backlog: u64) -> Expect {
    let worst = (shard_bps * (i.outage_s + i.reconnect_s)).ceil() as u64;
    let best = (shard_bps * i.outage_s).floor() as u64;
    if worst <= backlog + 1 {
        Expect::Never
    } else if best > backlog + largest_block(i.largest_piece, backlog) {
        Expect::Always
    } else {
        Expect::Maybe
    }
}

/// One figure, both ways.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Figure {
    pub name: String,
    pub analytic: f64,
    pub simulated: f64,
    /// Whether simulated ÷ analytic lies within [1/factor, factor].
    pub agrees: bool,
}

/// One backlog size: the closed form's outcome for the busiest shard, and how many seeds
/// needed a full sync.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SizeOutcome {
    pub backlog: u64,
    pub busiest: Expect,
    pub runs_with_full_sync: usize,
    pub runs: usize,
}

impl SizeOutcome {
    /// The simulation contradicts a definite closed-form outcome for the busiest shard.
    pub(crate) fn contradicts(&self) -> bool {
        match self.busiest {
            Expect::Never => self.runs_with_full_sync > 0,
            Expect::Always => self.runs_with_full_sync < self.runs,
            Expect::Maybe => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Crosscheck {
    pub factor: f64,
    pub busiest_share: f64,
    pub figures: Vec<Figure>,
    pub sizes: Vec<SizeOutcome>,
    /// The smallest simulated size no seed needed a full sync at, if any.
    pub simulated_min: Option<u64>,
}

impl Crosscheck {
    pub(crate) fn disagreements(&self) -> usize {
        self.figures.iter().filter(|f| !f.agrees).count()
    }

    /// Backlog sizes whose simulated outcome contradicts a definite closed-form one.
    pub(crate) fn contradictions(&self) -> usize {
        self.sizes.iter().filter(|s| s.contradicts()).count()
    }
}

fn figure(name: &str, analytic: f64, simulated: f64, factor: f64) -> Figure {
    let r = simulated / analytic;
    Figure {
        name: name.to_string(),
        analytic,
        simulated,
        agrees: r.is_finite() && r >= 1.0 / factor && r <= factor,
    }
}

/// Compares the plan with the sweep's `rows` (one axis: the backlog size in bytes).
pub(crate) fn crosscheck(
    i: &PlanInput,
    rows: &[Row],
    busiest_share: f64,
    factor: f64,
) -> Crosscheck {
    let p = plan(i);
    let mut sizes: Vec<SizeOutcome> = Vec::new();
    let busiest_bps = i.rate * i.op_bytes as f64 * busiest_share;
    for r in rows {
        let b = crate::scenario::units::parse_size(&r.values[0]).unwrap_or(0);
        let s = match sizes.iter_mut().find(|s| s.backlog == b) {
            Some(s) => s,
            None => {
                sizes.push(SizeOutcome {
                    backlog: b,
                    busiest: expected_at(i, busiest_bps, b),
                    runs_with_full_sync: 0,
                    runs: 0,
                });
                sizes.last_mut().expect("just pushed")
            }
        };
        s.runs += 1;
        s.runs_with_full_sync += usize::from(r.full_syncs > 0);
    }
    sizes.sort_by_key(|s| s.backlog);
    let simulated_min = sizes
        .iter()
        .find(|s| s.runs_with_full_sync == 0)
        .map(|s| s.backlog);
    // Stream rate: from the runs that needed no full sync (a snapshot replaces stream bytes).
    let streamed: Vec<&Row> = rows.iter().filter(|r| r.full_syncs == 0).collect();
    let per_shard_s = (i.peers - 1) as f64 * i.shards as f64 * duration_s(i);
    let mut figures = Vec::new();
    if !streamed.is_empty() {
        let mean =
            streamed.iter().map(|r| r.stream_bytes as f64).sum::<f64>() / streamed.len() as f64;
        figures.push(figure(
            "stream bytes/s per shard",
            p.shard_stream_bps,
            mean / per_shard_s,
            factor,
        ));
        figures.push(figure(
            "WAN bytes/s out of the writing cluster",
            p.wan_out_bps,
            mean / duration_s(i),
            factor,
        ));
    }
    if let Some(m) = simulated_min {
        figures.push(figure(
            "minimal backlog (bytes)",
            p.min_backlog as f64,
            m as f64,
            factor,
        ));
    }
    Crosscheck {
        factor,
        busiest_share,
        figures,
        sizes,
        simulated_min,
    }
}

fn mib(b: f64) -> String {
    format!("{:.2} MiB", b / 1_048_576.0)
}

/// The comparison as text (also written as `plan.md`, so it is Markdown).
pub(crate) fn crosscheck_text(i: &PlanInput, c: &Crosscheck, seeds: (u64, u64)) -> String {
    let p = plan(i);
    let mut o = format!(
        "## Analytic vs simulated\n\n{} backlog sizes × seeds {}..{}; a figure disagrees when \
         simulated ÷ analytic is outside [1/{f}, {f}].\n\n\
         | figure | analytic | simulated | ratio | |\n|---|---|---|---|---|\n",
        c.sizes.len(),
        seeds.0,
        seeds.1,
        f = c.factor
    );
    for f in &c.figures {
        o.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.3} | {} |\n",
            f.name,
            f.analytic,
            f.simulated,
            f.simulated / f.analytic,
            if f.agrees { "agrees" } else { "**DISAGREES**" }
        ));
    }
    if c.simulated_min.is_none() {
        o.push_str(&format!(
            "| minimal backlog (bytes) | {} | every simulated size needed a full sync | | **DISAGREES** |\n",
            p.min_backlog
        ));
    }
    o.push_str(&format!(
        "\nThe closed form assumes writes spread evenly over the {} shard(s) ({:.2}% each); by \
         hash slot the busiest shard owns {:.2}% of the simulated keys, so it writes {} \
         during the outage and reconnect where an even share writes {}. The closed-form \
         column is for the busiest shard.\n\n\
         | backlog | closed form: full sync | runs with a full sync | |\n|---|---|---|---|\n",
        i.shards,
        100.0 / i.shards as f64,
        100.0 * c.busiest_share,
        mib(p.backlog_needed as f64 * c.busiest_share * i.shards as f64),
        mib(p.backlog_needed as f64),
    ));
    for s in &c.sizes {
        o.push_str(&format!(
            "| {} ({} B) | {} | {} of {} | {} |\n",
            mib(s.backlog as f64),
            s.backlog,
            s.busiest.name(),
            s.runs_with_full_sync,
            s.runs,
            if s.contradicts() {
                "contradicts the closed form"
            } else {
                ""
            }
        ));
    }
    o.push_str(&format!(
        "\n{}\n",
        match (c.disagreements(), c.contradictions()) {
            (0, 0) => format!(
                "The simulation agrees with the closed form within a factor of {}.",
                c.factor
            ),
            (n, 0) => format!(
                "{n} figure(s) disagree by more than a factor of {}: see above.",
                c.factor
            ),
            (0, k) => format!(
                "The figures agree within a factor of {}, but {k} backlog size(s) contradict \
                 the closed form's definite outcome: see the table.",
                c.factor
            ),
            (n, k) => format!(
                "{n} figure(s) disagree by more than a factor of {}, and {k} backlog size(s) \
                 contradict the closed form's definite outcome: see above.",
                c.factor
            ),
        }
    ));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::backlog::BLOCK_BYTES;

    fn input() -> PlanInput {
        PlanInput {
            rate: 1000.0,
            op_bytes: PlanInput::set_op_bytes(16, 128),
            largest_piece: 128,
            shards: 2,
            peers: 2,
            outage_s: 20.0,
            reconnect_s: 1.0,
            backlog: None,
            dataset: None,
            bandwidth_bps: None,
        }
    }

    #[test]
    fn the_value_size_is_recovered_from_the_op_size() {
        for v in [0, 9, 10, 100, 128, 1000, 65_536] {
            assert_eq!(value_bytes_for(PlanInput::set_op_bytes(16, v)), Some(v));
        }
        // From a 9- to a 10-byte value the length prefix grows a digit too: a 1-byte gap.
        let gap = PlanInput::set_op_bytes(16, 9) + 1;
        assert_eq!(PlanInput::set_op_bytes(16, 10), gap + 1);
        assert_eq!(value_bytes_for(gap), None);
    }

    #[test]
    fn the_closed_form_outcome_brackets_the_block_boundary_and_the_reconnect() {
        let i = input();
        // 172 B per write, 500 writes/s per shard: 86,000 B/s.
        let bps = 86_000.0;
        // Outage + full reconnect: 1,806,000 B; outage alone 1,720,000 B.
        assert_eq!(expected_at(&i, bps, 1_805_999), Expect::Never);
        assert_eq!(expected_at(&i, bps, 1_805_998), Expect::Maybe);
        assert_eq!(expected_at(&i, bps, 1_720_000 - BLOCK_BYTES), Expect::Maybe);
        assert_eq!(
            expected_at(&i, bps, 1_720_000 - BLOCK_BYTES - 1),
            Expect::Always
        );
        // 100,000-byte values make blocks of up to 114,648 bytes (jemalloc's 114,688 class,
        // less the header; a 1.6 MB backlog caps a block request at 100,000 B): the range
        // whose outcome depends on block placement widens to match.
        let big = PlanInput {
            largest_piece: 100_000,
            ..i
        };
        let block = crate::model::backlog::largest_block(100_000, 1_605_352);
        assert_eq!(block, 114_648);
        assert_eq!(expected_at(&big, bps, 1_720_000 - block), Expect::Maybe);
        assert_eq!(
            expected_at(&big, bps, 1_720_000 - block - 1),
            Expect::Always
        );
        assert_eq!(
            expected_at(&i, bps, 1_720_000 - block),
            Expect::Always,
            "with small values the same size is always a full sync"
        );
    }

    #[test]
    fn the_grid_surrounds_the_analytic_minimum() {
        let i = input();
        let p = plan(&i);
        assert_eq!(p.min_backlog, 1_805_999);
        let g = backlog_grid(&p, Some(4_000_000));
        assert_eq!(
            g,
            vec![
                903_000, 1_625_399, 1_805_999, 1_986_599, 3_611_998, 4_000_000
            ]
        );
    }

    /// A size whose simulated outcome contradicts the closed form is not overruled by
    /// figures that agree: the text says so, and the count makes `plan --simulate` fail.
    #[test]
    fn a_contradicted_outcome_is_never_reported_as_agreement() {
        let i = input();
        let size = |busiest, with| SizeOutcome {
            backlog: 2_000_000,
            busiest,
            runs_with_full_sync: with,
            runs: 3,
        };
        let mut c = Crosscheck {
            factor: 1.25,
            busiest_share: 1.0,
            figures: vec![figure("f", 100.0, 101.0, 1.25)],
            sizes: vec![size(Expect::Never, 0), size(Expect::Maybe, 2)],
            simulated_min: None,
        };
        assert_eq!(c.contradictions(), 0);
        assert!(crosscheck_text(&i, &c, (1, 3)).contains("agrees with the closed form"));
        c.sizes.push(size(Expect::Never, 1));
        c.sizes.push(size(Expect::Always, 2));
        assert_eq!((c.disagreements(), c.contradictions()), (0, 2));
        let text = crosscheck_text(&i, &c, (1, 3));
        assert!(!text.contains("agrees with the closed form"), "{text}");
        assert!(text.contains("2 backlog size(s) contradict"), "{text}");
    }

    #[test]
    fn the_busiest_shard_owns_more_than_an_even_share() {
        let one = busiest_shard_share(10_000, 1);
        assert_eq!(one, 1.0);
        // Sequential key names spread almost perfectly over the CRC16 slots.
        let s = busiest_shard_share(100_000, 16);
        assert!((1.0 / 16.0..1.01 / 16.0).contains(&s), "{s}");
        let s = busiest_shard_share(777, 16);
        assert!(s > 1.0 / 16.0, "{s}");
    }

    #[test]
    fn the_scenario_loads_and_carries_its_sweep() {
        let i = input();
        let text = scenario_text(&i, 128, 100_000, &[903_000, 1_805_999], (1, 3));
        let s = crate::scenario::parse(&text, "plan.toml", &Default::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.config.clusters.len(), 2);
        assert_eq!(s.sweep.seeds, Some(vec![1, 2, 3]));
        assert_eq!(s.sweep.axes[0].values, vec!["903000B", "1805999B"]);
        assert_eq!(s.config.fidelity, crate::model::config::Fidelity::Exact);
        // From the threshold on, the scenario runs sampled (byte-level figures stay exact).
        let fast = PlanInput {
            rate: SAMPLED_FROM_RATE,
            ..input()
        };
        let text = scenario_text(&fast, 128, 100_000, &[903_000], (1, 1));
        let s = crate::scenario::parse(&text, "plan.toml", &Default::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            s.config.fidelity,
            crate::model::config::Fidelity::Sampled { every: 64 }
        );
    }
}
