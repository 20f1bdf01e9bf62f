//! The text summary for terminals: seed first, the reproduce command last.

use super::{EstimateSummary, Summary, human_bytes};

impl Summary {
    /// The human summary: seed first, reproduce command last.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        o.push_str(&format!("seed {}  scenario {}\n", self.seed, self.scenario));
        for w in &self.warnings {
            o.push_str(&format!("warning: {w}\n"));
        }
        self.text_transcript(&mut o);
        self.text_totals(&mut o);
        self.text_peers(&mut o);
        self.text_verdict(&mut o);
        o
    }

    /// A scripted run's steps with their replies, then the expectations that failed.
    fn text_transcript(&self, o: &mut String) {
        for st in &self.steps {
            if let Some(n) = &st.note {
                o.push_str(&format!("            # {n}\n"));
            }
            match (&st.on, &st.reply) {
                (Some(on), Some(reply)) => {
                    o.push_str(&format!("[{:>9.3} ms] {on}> {}\n", st.time_ms, st.cmd));
                    let check = self.expectations.iter().find(|e| e.step == Some(st.step));
                    let mark = match check {
                        Some(e) if e.pass => "  ✓",
                        Some(_) => "  ✗ (expected otherwise, see below)",
                        None => "",
                    };
                    let indented = reply.replace('\n', "\n              ");
                    o.push_str(&format!("              {indented}{mark}\n"));
                }
                _ => o.push_str(&format!("[{:>9.3} ms] -- {} --\n", st.time_ms, st.cmd)),
            }
        }
        if !self.expectations.is_empty() {
            o.push_str(&format!(
                "expectations: {} of {} passed\n",
                self.expectations.len() - self.expectations_failed,
                self.expectations.len()
            ));
            for e in self.expectations.iter().filter(|e| !e.pass) {
                let what = if e.on.is_empty() {
                    e.cmd.clone()
                } else {
                    format!("step {} on {}: {}", e.step.unwrap_or_default(), e.on, e.cmd)
                };
                o.push_str(&format!(
                    "  FAIL {}\n    expected: {}\n    actual:   {}\n",
                    what,
                    e.expected.replace('\n', "\n              "),
                    e.actual.replace('\n', "\n              ")
                ));
            }
        }
    }

    /// What was simulated, written and synced; crashes, memory, peaks and LWW conflicts.
    fn text_totals(&self, o: &mut String) {
        o.push_str(&format!(
            "simulated {:.3} s ({:.3} s of writes), {} events\n",
            self.simulated_s, self.duration_s, self.events
        ));
        o.push_str(&format!(
            "writes {} (rejected {}), ops applied at peers {}, stream {}, snapshots {}, on the wire {}\n",
            self.totals.writes,
            self.totals.rejected_writes,
            self.totals.ops_applied,
            human_bytes(self.totals.stream_bytes),
            human_bytes(self.totals.snapshot_bytes),
            human_bytes(self.totals.wire_bytes)
        ));
        // The most held at a sample, when more than at the end (removal history that piled
        // up during a partition and was collected after it).
        let peak = if self.peaks.tombstones_max > self.totals.tombstones {
            format!(", at most {} at a sample", self.peaks.tombstones_max)
        } else {
            String::new()
        };
        o.push_str(&format!(
            "syncs: partial {}, full {} (failed {}); tombstones held {} ({}{peak}), collected {}\n",
            self.totals.partial_syncs,
            self.totals.full_syncs,
            self.totals.full_sync_failures,
            self.totals.tombstones,
            human_bytes(self.totals.tombstone_bytes),
            self.totals.tombstones_collected
        ));
        if self.totals.unavailable_rejections
            + self.totals.writes_lost
            + self.totals.writes_recovered_from_peers
            > 0
        {
            o.push_str(&format!(
                "crashes: writes refused while a shard was down {}, writes lost for good {}, lost locally but recovered from peers {}\n",
                self.totals.unavailable_rejections,
                self.totals.writes_lost,
                self.totals.writes_recovered_from_peers
            ));
        }
        if self.totals.oom_rejections + self.totals.evictions + self.totals.replication_oom_stops
            > 0
        {
            o.push_str(&format!(
                "memory: writes refused (OOM) {}, keys evicted {}, replication stopped by a full shard {} time(s)\n",
                self.totals.oom_rejections, self.totals.evictions, self.totals.replication_oom_stops
            ));
        }
        o.push_str(&format!(
            "peaks ({} samples): backlog {} ({:.0}% of capacity), link queue {}, sampled lag {:.3} ms, divergent keys {}, clock error {:.3} ms\n",
            self.peaks.samples,
            human_bytes(self.peaks.backlog_bytes_max),
            self.peaks.backlog_fill_max * 100.0,
            human_bytes(self.peaks.link_queue_bytes_max),
            self.peaks.lag_ms_max_sampled,
            self.peaks.divergent_keys_max,
            self.peaks.clock_offset_ms_max
        ));
        if let Some(sm) = &self.sampling {
            let ci = |e: &EstimateSummary| {
                format!("~{:.0} (95% CI {:.0}–{:.0})", e.estimate, e.low, e.high)
            };
            o.push_str(&format!(
                "sampled fidelity {}: {} keys kept ({} with certainty); estimated: last-write-wins conflicts {}, clock-inverted wins {}, divergent keys at the end {}; memory and divergent-key peaks are estimates too\n",
                sm.sample,
                sm.sampled_keys,
                sm.certain_keys,
                ci(&sm.lww_conflicts),
                ci(&sm.clock_inverted_wins),
                ci(&sm.divergent_keys_end),
            ));
        }
        if self.totals.lww_conflicts > 0 {
            o.push_str(&format!(
                "last-write-wins conflicts {}{}, clock-inverted wins {}, same-millisecond ties settled by instance id {}\n",
                self.totals.lww_conflicts,
                if self.sampling.is_some() { " (estimated)" } else { "" },
                self.totals.clock_inverted_wins,
                self.totals.lww_ties
            ));
            for x in &self.clock_inverted_examples {
                o.push_str(&format!(
                    "  {}: {} wrote {:?} at true {:.3} ms (its clock {} ms) and beat {} writing {:?} later at true {:.3} ms (its clock {} ms)\n",
                    x.key,
                    x.winner.instance,
                    x.winner.value,
                    x.winner.true_ms,
                    x.winner.clock_ms,
                    x.loser.instance,
                    x.loser.value,
                    x.loser.true_ms,
                    x.loser.clock_ms
                ));
            }
        }
    }

    /// Per peer pair the time until writes are visible (and the streamed lag), and each
    /// heal's catch-up.
    fn text_peers(&self, o: &mut String) {
        let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        o.push_str(
            "time until a write is visible at the peer (ms), streamed or by a full sync's snapshot:\n",
        );
        o.push_str(&format!(
            "  {:<28} {:>10} {:>10} {:>10} {:>12} {:>10} {:>11} {:>8} {:>5}\n",
            "from -> to",
            "p50",
            "p99",
            "max",
            "streamed p99",
            "streamed",
            "by snapshot",
            "partial",
            "full"
        ));
        for p in &self.peers {
            o.push_str(&format!(
                "  {:<28} {:>10} {:>10} {:>10} {:>12} {:>10} {:>11} {:>8} {:>5}{}\n",
                format!("{} -> {}", p.from, p.to),
                opt(p.visible_ms_p50),
                opt(p.visible_ms_p99),
                opt(p.visible_ms_max),
                opt(p.lag_ms_p99),
                p.ops_applied,
                p.writes_by_snapshot,
                p.partial_syncs,
                p.full_syncs,
                if p.full_sync_loop {
                    "  FULL-SYNC LOOP"
                } else {
                    ""
                }
            ));
        }
        if self.peers.iter().any(|p| p.behind_s > 0.0) {
            o.push_str("not caught up (stale reads possible), longest session per peer (s):\n");
            for p in self.peers.iter().filter(|p| p.behind_s > 0.0) {
                o.push_str(&format!(
                    "  {:<28} behind {:>10.3}  in full sync {:>10.3}{}\n",
                    format!("{} -> {}", p.from, p.to),
                    p.behind_s,
                    p.in_full_sync_s,
                    if p.snapshot_load_memory_bytes > 0 {
                        format!(
                            "  memory while loading a snapshot {}",
                            human_bytes(p.snapshot_load_memory_bytes)
                        )
                    } else {
                        String::new()
                    }
                ));
            }
        }
        for h in &self.heals {
            o.push_str(&format!(
                "heal of {} at {:.3} s: caught up {}\n",
                h.name,
                h.healed_at_s,
                match h.caught_up_after_ms {
                    Some(ms) => format!("after {ms:.3} ms"),
                    None => "never (before the run ended)".into(),
                }
            ));
        }
    }

    /// The verdict, each instance's keys, memory and digest, and how to reproduce.
    fn text_verdict(&self, o: &mut String) {
        o.push_str(&format!(
            "verdict: {}{}\n",
            self.verdict,
            match self.time_to_converge_ms {
                Some(ms) => format!(" {ms:.3} ms after the end of writes"),
                None => String::new(),
            }
        ));
        for c in &self.clusters {
            let note = match (c.membership.as_str(), c.joined_at_s) {
                ("active", Some(t)) => format!("  (joined, writable from {t:.3} s)"),
                ("active", None) => String::new(),
                (m, _) => format!("  ({m})"),
            };
            let est = if self.sampling.is_some() { "~" } else { " " };
            o.push_str(&format!(
                "  {:<20} keys {:>10}  memory{est}{:>10} of {:>10}  digest {}{note}\n",
                c.name,
                c.keys,
                human_bytes(c.memory_bytes),
                human_bytes(c.memory_limit_bytes),
                c.keyspace_digest
            ));
        }
        if self.totals.refused_reconnects > 0 {
            o.push_str(&format!(
                "syncer reconnects refused (a side was removed): {}\n",
                self.totals.refused_reconnects
            ));
        }
        if self.totals.writes_lost_to_removal > 0 {
            o.push_str(&format!(
                "writes lost to removals (acknowledged by a removed cluster, missing at some member left): {}\n",
                self.totals.writes_lost_to_removal
            ));
        }
        o.push_str(&format!("trace digest {}\n", self.trace_digest));
        o.push_str(&format!("reproduce: {}\n", self.reproduce));
    }
}
