//! A drawn [`Spec`] written out as ordinary scenario TOML, which `geosim run` reproduces.

use super::{FaultSpec, Spec};

/// Cluster `i`'s `join_at`/`leave_at` lines, if it joins or leaves.
fn membership_toml(s: &Spec, i: usize) -> String {
    let mut o = String::new();
    if let Some((c, at)) = s.join
        && c == i
    {
        o.push_str(&format!("join_at = \"{at}s\"\n"));
    }
    if let Some((c, at, force)) = s.leave
        && c == i
    {
        o.push_str(&format!("leave_at = \"{at}s\"\nleave_force = {force}\n"));
    }
    o
}

fn name(c: usize) -> String {
    format!("c{}", c + 1)
}

/// The spec as scenario TOML (`geosim run` reproduces it; the seed is the spec's).
pub(crate) fn to_toml(s: &Spec) -> String {
    let mut o = format!(
        "# Drawn by `geosim hunt` from seed {}.\n[run]\nseed = {}\nduration = \"{}s\"\nconverge_deadline = \"10m\"\n\n",
        s.seed, s.seed, s.duration_s
    );
    for (i, c) in s.clusters.iter().enumerate() {
        o.push_str(&format!(
            "[[cluster]]\nname = \"{}\"\nshards = {}\nnodes = {}\nreplication = {}\npersistence = \"{}\"\n\
             clock_drift_ppm = {}\nntp = {}\n{}{}{}\n",
            name(i),
            c.shards,
            c.shards.min(2),
            c.replication,
            c.persistence,
            c.drift_ppm,
            c.ntp,
            if s.centralized {
                "proxy_policy = \"single\"\nsyncer_mode = \"centralized\"\n"
            } else {
                "proxy_policy = \"all-master-shards\"\nsyncer_mode = \"distributed\"\n"
            },
            match s.memory {
                Some((kb, policy)) => {
                    format!("memory_limit = \"{kb}KB\"\neviction_policy = \"{policy}\"\n")
                }
                None => String::new(),
            },
            membership_toml(s, i)
        ));
    }
    if s.causal || s.xadd_mode != "strict" {
        o.push_str(&format!(
            "[database]\ncausal_consistency = {}\nxadd_id_mode = \"{}\"\n\n",
            s.causal, s.xadd_mode
        ));
    }
    if s.backlog_kb < 1024 {
        o.push_str("[whatif]\nallow_any_backlog_size = true\n\n");
    }
    o.push_str(&format!(
        "[network]\nlatency = \"{}ms\"\nbandwidth = \"{}Mbit/s\"\nloss = {}\n\n\
         [replication]\nbacklog_size = \"{}KB\"\ncompression = {}\n{}\n",
        s.latency_ms,
        s.bandwidth_mbit,
        s.loss_pct as f64 / 100.0,
        s.backlog_kb,
        s.compression,
        // Under a drawn memory limit the database replication backlog is as small as the
        // CRDT one (its default, 1MB at least, would not fit).
        if s.memory.is_some() {
            format!("repl_backlog_size = \"{}KB\"\n", s.backlog_kb)
        } else {
            String::new()
        }
    ));
    if s.rate > 0 {
        o.push_str(&format!(
            "[workload]\nrate = \"{}/s\"\nkeys = {}\nvalue_size = \"{}B\"\n\n[workload.mix]\nset = {}\nincr = {}\n\n",
            s.rate,
            s.keys,
            s.value_bytes,
            100 - s.incr_share_pct.min(100),
            s.incr_share_pct.min(100)
        ));
    }
    for f in &s.faults {
        o.push_str("[[fault]]\n");
        match f {
            FaultSpec::Partition {
                isolate,
                begin_s,
                dur_s,
                stall,
            } => o.push_str(&format!(
                "kind = \"partition\"\nisolate = [\"{}\"]\nbegin = \"{begin_s}s\"\nduration = \"{dur_s}s\"\nmode = \"{}\"\n\n",
                name(*isolate),
                if *stall { "stall" } else { "drop" }
            )),
            FaultSpec::Degrade {
                cluster,
                begin_s,
                dur_s,
                latency_add_ms,
                bandwidth_kbit,
            } => o.push_str(&format!(
                "kind = \"degrade\"\nisolate = [\"{}\"]\nbegin = \"{begin_s}s\"\nduration = \"{dur_s}s\"\nlatency_add = \"{latency_add_ms}ms\"\nbandwidth = \"{bandwidth_kbit}kbit/s\"\n\n",
                name(*cluster)
            )),
            FaultSpec::ClockStep {
                cluster,
                at_s,
                step_ms,
            } => o.push_str(&format!(
                "kind = \"clock_step\"\ncluster = \"{}\"\nbegin = \"{at_s}s\"\nstep = \"{step_ms}ms\"\n\n",
                name(*cluster)
            )),
            FaultSpec::Crash {
                cluster,
                shard,
                begin_s,
                dur_s,
            } => o.push_str(&format!(
                "kind = \"crash\"\ncluster = \"{}\"\nshard = {shard}\nbegin = \"{begin_s}s\"\nduration = \"{dur_s}s\"\n\n",
                name(*cluster)
            )),
        }
    }
    for (i, (t, on, cmd)) in s.steps.iter().enumerate() {
        o.push_str(&format!(
            "[[step]]\nat = \"{t}ms\"\non = \"{}\"\ncmd = \"{}\"\n\n",
            name(*on),
            cmd.replace('"', "\\\"")
        ));
        if i % 4 == 3 {
            o.push_str("[[step]]\nsync = \"all\"\n\n");
        }
    }
    o
}
