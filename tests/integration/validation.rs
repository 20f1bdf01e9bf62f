//! Every validation rule, with the message text a user sees.

use super::{inline, inline_error};

const TWO: &str = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n";

fn with_run(rest: &str) -> String {
    format!("[run]\nseed = 1\nduration = \"10s\"\n{rest}")
}

fn clusters(n: usize) -> String {
    (0..n)
        .map(|i| format!("[[cluster]]\nname = \"c{i}\"\n"))
        .collect()
}

#[test]
fn a_valid_minimal_scenario_uses_the_documented_defaults() {
    let s = inline(&with_run(TWO));
    let c = &s.config;
    assert_eq!(c.clusters.len(), 2);
    assert_eq!(c.clusters[0].shards, 1);
    assert_eq!(c.clusters[0].nodes, 3);
    // 1% of the default 1GB memory limit over 1 shard.
    assert_eq!(c.clusters[0].backlog_bytes, 1024 * 1024 * 1024 / 100);
    assert!(s.warnings.is_empty());
}

#[test]
fn the_default_backlog_is_clamped_to_the_documented_range() {
    let s = inline(&with_run(
        "[[cluster]]\nname = \"a\"\nmemory_limit = \"50MB\"\n[[cluster]]\nname = \"b\"\nmemory_limit = \"100GB\"\nshards = 2\n",
    ));
    assert_eq!(s.config.clusters[0].backlog_bytes, 1024 * 1024);
    assert_eq!(s.config.clusters[1].backlog_bytes, 250 * 1024 * 1024);
}

#[test]
fn fewer_than_two_clusters_are_rejected() {
    let e = inline_error(&with_run("[[cluster]]\nname = \"a\"\n"));
    assert!(e.contains("cluster = 1 cluster(s): an Active-Active database needs at least 2 participating clusters"), "{e}");
}

#[test]
fn more_than_five_clusters_need_the_what_if_switch() {
    let e = inline_error(&with_run(&clusters(6)));
    assert!(e.contains("cluster = 6 clusters: at most 5 participating clusters (the documented Redis Software limit); set whatif.allow_more_clusters = true"), "{e}");
    let s = inline(&with_run(&format!(
        "[whatif]\nallow_more_clusters = true\n{}",
        clusters(6)
    )));
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0]
            .render("x")
            .contains("6 participating clusters exceed the documented limit of 5")
    );
    let e = inline_error(&with_run(&format!(
        "[whatif]\nallow_more_clusters = true\n{}",
        clusters(33)
    )));
    assert!(e.contains("at most 32 clusters are simulated"), "{e}");
}

#[test]
fn distributed_sync_rejects_the_single_proxy_policy_with_the_reason() {
    let e = inline_error(&with_run(
        "[[cluster]]\nname = \"a\"\nsyncer_mode = \"distributed\"\n[[cluster]]\nname = \"b\"\n",
    ));
    assert!(
        e.contains("inline.toml:4:1: cluster[0].proxy_policy"),
        "{e}"
    );
    assert!(
        e.contains("distributed sync needs proxy policy \"all-master-shards\" or \"all-nodes\""),
        "{e}"
    );
    let ok = inline(&with_run(
        "[[cluster]]\nname = \"a\"\nsyncer_mode = \"distributed\"\nproxy_policy = \"all-nodes\"\n[[cluster]]\nname = \"b\"\n",
    ));
    assert_eq!(ok.config.clusters.len(), 2);
}

#[test]
fn backlog_size_outside_1mb_to_250mb_needs_the_what_if_switch() {
    for bad in ["512KB", "251MB"] {
        let e = inline_error(&with_run(&format!(
            "{TWO}[replication]\nbacklog_size = \"{bad}\"\n"
        )));
        assert!(e.contains(&format!("replication.backlog_size = \"{bad}\": the CRDT replication backlog must be 1MB to 250MB per shard")), "{e}");
        let e = inline_error(&with_run(&format!(
            "{TWO}[replication]\nrepl_backlog_size = \"{bad}\"\n"
        )));
        assert!(e.contains(&format!("replication.repl_backlog_size = \"{bad}\": the database replication backlog must be 1MB to 250MB per shard")), "{e}");
    }
    let s = inline(&with_run(&format!(
        "{TWO}[replication]\nrepl_backlog_size = \"2MB\"\n"
    )));
    assert_eq!(s.config.clusters[0].repl_backlog_bytes, 2 * 1024 * 1024);
    let s = inline(&with_run(&format!(
        "[whatif]\nallow_any_backlog_size = true\n{TWO}[replication]\nbacklog_size = \"512KB\"\n"
    )));
    assert!(
        s.warnings[0]
            .render("x")
            .contains("outside the documented 1MB–250MB per shard")
    );
    for ok in ["1MB", "250MB"] {
        inline(&with_run(&format!(
            "{TWO}[replication]\nbacklog_size = \"{ok}\"\n"
        )));
    }
}

#[test]
fn a_cluster_without_ntp_is_allowed_with_a_warning() {
    let s = inline(&with_run(
        "[[cluster]]\nname = \"a\"\nntp = false\n[[cluster]]\nname = \"b\"\n",
    ));
    assert_eq!(s.warnings.len(), 1);
    let w = s.warnings[0].render("inline.toml");
    assert!(
        w.starts_with("inline.toml:6:7: cluster[0].ntp = false: Redis requires a time service"),
        "{w}"
    );
}

#[test]
fn unknown_fields_and_wrong_types_name_the_path_and_position() {
    let e = inline_error(&with_run(&format!("colour = \"blue\"\n{TWO}")));
    assert!(
        e.contains("inline.toml:4:1: run.colour: unknown field `colour`, expected one of"),
        "{e}"
    );
    let e = inline_error(&with_run(
        "[[cluster]]\nname = \"a\"\nshards = \"four\"\n[[cluster]]\nname = \"b\"\n",
    ));
    assert!(
        e.contains("inline.toml:6:10: cluster[0].shards: invalid type: string \"four\""),
        "{e}"
    );
}

#[test]
fn every_wrong_type_and_unknown_field_is_reported_at_once_in_file_order() {
    let e = inline_error(
        "[run]\nseed = -5\nduration = 5\ncolour = \"blue\"\n\
         [[cluster]]\nname = \"a\"\nshards = \"two\"\n[[cluster]]\nname = \"b\"\nntp = \"yes\"\n",
    );
    assert!(e.contains("(5 errors)"), "{e}");
    let lines: Vec<&str> = e.lines().filter(|l| l.contains("error: inline")).collect();
    let wanted = [
        "inline.toml:2:8: run.seed: invalid value: integer `-5`, expected u64",
        "inline.toml:3:12: run.duration: invalid type: integer `5`, expected a string",
        "inline.toml:4:1: run.colour: unknown field `colour`",
        "inline.toml:7:10: cluster[0].shards: invalid type: string \"two\", expected u64",
        "inline.toml:10:7: cluster[1].ntp: invalid type: string \"yes\", expected a boolean",
    ];
    assert_eq!(lines.len(), wanted.len(), "{e}");
    for (line, want) in lines.iter().zip(wanted) {
        assert!(line.contains(want), "{line} lacks {want}");
    }
    // A missing field is reported alone after any type errors: blanking more would only
    // invent errors.
    let e = inline_error("[run]\nseed = -5\n[[cluster]]\nshards = 2\n[[cluster]]\nname = \"b\"\n");
    assert!(e.contains("run.seed"), "{e}");
}

#[test]
fn a_lost_writes_bound_is_a_count_or_a_range_or_a_max_never_two() {
    let base = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[expect]\n";
    for name in ["lost_writes", "lost_to_removal"] {
        let e = inline_error(&with_run(&format!("{base}{name} = 3\n{name}_max = 4\n")));
        assert!(
            e.contains(&format!(
                "expect.{name}_max: give {name} or {name}_max, not both"
            )),
            "{e}"
        );
        let s = inline(&with_run(&format!(
            "{base}{name} = {{ min = 1, max = 9 }}\n"
        )));
        assert!(!s.outcomes.is_empty());
    }
}

#[test]
fn toml_syntax_errors_keep_their_line_and_column() {
    let e = inline_error("[run]\nseed = 1\nduration = \"10s\n");
    assert!(e.starts_with("scenario is not valid TOML"), "{e}");
    assert!(e.contains("inline.toml:3:"), "{e}");
}

#[test]
fn values_with_bad_units_say_what_is_valid() {
    let cases = [
        (
            "[run]\nduration = \"10 parsecs\"\n",
            "run.duration = \"10 parsecs\": expected a duration: a number and a unit ns, us, ms, s, m, h or d",
        ),
        (
            "[run]\nduration = \"10s\"\n[network]\nbandwidth = \"2Mbps\"\n",
            "network.bandwidth = \"2Mbps\": expected a bandwidth",
        ),
        (
            "[run]\nduration = \"10s\"\n[replication]\nbacklog_size = \"16mb\"\n",
            "replication.backlog_size = \"16mb\": expected a size",
        ),
        (
            "[run]\nduration = \"10s\"\n[workload]\nrate = \"5k\"\n",
            "workload.rate = \"5k\": expected a rate",
        ),
        (
            "[run]\nduration = \"10s\"\n[network]\nlatency = \"fast\"\n",
            "network.latency = \"fast\": expected a duration such as \"40ms\" (constant), or a table",
        ),
    ];
    for (text, want) in cases {
        let e = inline_error(&format!("{text}{TWO}"));
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
}

#[test]
fn latency_distributions_check_their_parameters() {
    let cases = [
        (
            "{ dist = \"gamma\" }",
            "network.latency.dist = \"gamma\": expected one of \"constant\", \"uniform\", \"normal\", \"lognormal\", \"pareto\"",
        ),
        (
            "{ dist = \"uniform\", min = \"50ms\", max = \"10ms\" }",
            "network.latency.max: max (10ms) must not be below min (50ms)",
        ),
        (
            "{ dist = \"lognormal\", median = \"40ms\" }",
            "network.latency.sigma: missing; expected a number in (0, 10]",
        ),
        (
            "{ dist = \"pareto\", scale = \"40ms\", shape = 0 }",
            "network.latency.shape = 0: expected a number in (0, 1000]",
        ),
        (
            "{ dist = \"normal\", mean = \"40ms\", stddev = \"1ms\", sigma = 2 }",
            "network.latency.sigma: unknown field for dist = \"normal\"; expected mean, stddev",
        ),
    ];
    for (lat, want) in cases {
        let e = inline_error(&with_run(&format!("{TWO}[network]\nlatency = {lat}\n")));
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
    for ok in [
        "\"40ms\"",
        "{ dist = \"constant\", value = \"40ms\" }",
        "{ dist = \"uniform\", min = \"10ms\", max = \"50ms\" }",
        "{ dist = \"normal\", mean = \"40ms\", stddev = \"4ms\" }",
        "{ dist = \"lognormal\", median = \"40ms\", sigma = 0.3 }",
        "{ dist = \"pareto\", scale = \"30ms\", shape = 2.5 }",
    ] {
        inline(&with_run(&format!("{TWO}[network]\nlatency = {ok}\n")));
    }
}

#[test]
fn links_and_faults_name_existing_clusters() {
    let e = inline_error(&with_run(&format!(
        "{TWO}[[network.link]]\nbetween = [\"a\", \"x\"]\nlatency = \"5ms\"\n"
    )));
    assert!(
        e.contains(
            "network.link[0].between[1] = \"x\": no such cluster; expected one of \"a\", \"b\""
        ),
        "{e}"
    );
    let e = inline_error(&with_run(&format!(
        "{TWO}[[fault]]\nkind = \"partition\"\nbegin = \"1s\"\nduration = \"2s\"\nisolate = [\"zz\"]\n"
    )));
    assert!(
        e.contains("fault[0].isolate[0] = \"zz\": no such cluster"),
        "{e}"
    );
}

#[test]
fn partition_windows_are_checked() {
    let fault = |body: &str| with_run(&format!("{TWO}[[fault]]\nkind = \"partition\"\n{body}\n"));
    let cases = [
        (
            "begin = \"5s\"\nend = \"2s\"\nisolate = [\"a\"]",
            "fault[0].end: the fault must end after it begins (5s)",
        ),
        (
            "begin = \"1s\"\nend = \"2s\"\nduration = \"1s\"\nisolate = [\"a\"]",
            "fault[0]: give either end or duration, not both",
        ),
        (
            "begin = \"1s\"\nisolate = [\"a\"]",
            "fault[0]: missing end or duration",
        ),
        (
            "begin = \"1s\"\nend = \"2s\"",
            "fault[0]: say which links the fault affects",
        ),
        (
            "begin = \"20s\"\nend = \"30s\"\nisolate = [\"a\"]",
            "fault[0].begin = \"20s\": must be before the end of run.duration (10s)",
        ),
        (
            "begin = \"1s\"\nend = \"2s\"\nisolate = [\"a\", \"b\"]",
            "isolating every cluster (or none) cuts no link",
        ),
    ];
    for (body, want) in cases {
        let e = inline_error(&fault(body));
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
    let e = inline_error(&with_run(&format!("{TWO}[[fault]]\nkind = \"meteor\"\n")));
    assert!(
        e.contains(
            "fault[0].kind = \"meteor\": expected \"partition\", \"degrade\", \"clock_step\" or \"crash\""
        ),
        "{e}"
    );
}

#[test]
fn names_workload_and_loss_are_checked() {
    let cases = [
        (
            "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"a\"\n",
            "cluster[1].name = \"a\": cluster names must be unique",
        ),
        (
            "[[cluster]]\nname = \"a b\"\n[[cluster]]\nname = \"b\"\n",
            "cluster[0].name = \"a b\": expected 1 to 64 characters",
        ),
        (
            "[[cluster]]\n[[cluster]]\nname = \"b\"\n",
            "cluster[0].name: missing",
        ),
        (
            &format!("{TWO}[workload]\nrate = \"1k/s\"\nzipf_exponent = 1.1\n"),
            "workload.zipf_exponent = 1.1: only valid with key_distribution = \"zipf\"",
        ),
        (
            &format!("{TWO}[workload]\nrate = \"0/s\"\n"),
            "workload.rate = \"0/s\": expected a rate above 0",
        ),
        (
            &format!("{TWO}[workload]\nrate = \"1/s\"\n[workload.mix]\nset = 0\n"),
            "workload.mix: the weights must not all be zero",
        ),
        (
            &format!("{TWO}[network]\nloss = 1.5\n"),
            "network.loss = 1.5: expected a probability in [0, 1)",
        ),
        (
            &format!("{TWO}[[network.link]]\nlatency = \"1ms\"\n"),
            "network.link[0]: name the link with either between",
        ),
    ];
    for (body, want) in cases {
        let e = inline_error(&with_run(body));
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
}

#[test]
fn every_error_is_reported_at_once() {
    let e = inline_error("[run]\nduration = \"x\"\n[[cluster]]\nname = \"a\"\nshards = 0\n");
    assert!(e.starts_with("invalid scenario (3 errors)"), "{e}");
}

/// No input may panic: every prefix of every bundled scenario, and byte-level mutations of
/// one, load or fail with an error.
#[test]
fn truncated_and_mutated_scenarios_never_panic() {
    let dir = super::root().join("scenarios");
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            texts.push(std::fs::read_to_string(p).unwrap());
        }
    }
    assert!(texts.len() >= 2);
    let opts = geosim::scenario::LoadOptions::default();
    for t in &texts {
        for cut in (0..t.len()).step_by(7).filter(|c| t.is_char_boundary(*c)) {
            let _ = geosim::scenario::parse(&t[..cut], "cut.toml", &opts);
        }
    }
    let base = texts[0].as_bytes();
    let replacements = [b'"', b'=', b'[', b']', b'0', b'-', b'\n', b'x', b'.', b'{'];
    for (i, &r) in (0..base.len()).step_by(3).zip(replacements.iter().cycle()) {
        let mut m = base.to_vec();
        m[i] = r;
        if let Ok(text) = String::from_utf8(m) {
            let _ = geosim::scenario::parse(&text, "mutated.toml", &opts);
        }
    }
}

#[test]
fn membership_changes_follow_the_documented_preconditions() {
    let three = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[[cluster]]\nname = \"c\"\n";
    let part = "[[fault]]\nkind = \"partition\"\nbegin = \"2s\"\nend = \"8s\"\nisolate = [\"c\"]\n";
    let e = inline_error(&with_run(&format!("{}join_at = \"5s\"\n{part}", three)));
    assert!(
        e.contains("adding a cluster requires every existing cluster online and syncing"),
        "{e}"
    );
    let e = inline_error(&with_run(&format!("{three}leave_at = \"5s\"\n{part}")));
    assert!(
        e.contains("only a forced removal works (leave_force = true)"),
        "{e}"
    );
    inline(&with_run(&format!(
        "{three}leave_at = \"5s\"\nleave_force = true\n{part}"
    )));
    // Two members, one removed: convergence would compare nothing.
    let e = inline_error(&with_run(
        "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\nleave_at = \"1s\"\n",
    ));
    assert!(
        e.contains("at least 2 clusters must still be members at the end"),
        "{e}"
    );
    let e = inline_error(&with_run(
        "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\njoin_at = \"1s\"\n",
    ));
    assert!(
        e.contains("at least 2 clusters must be members from the start"),
        "{e}"
    );
}

#[test]
fn an_auto_backlog_uses_the_default_formula_and_a_large_one_is_warned_about() {
    let s = inline(&with_run(&format!(
        "{TWO}[replication]\nbacklog_size = \"auto\"\n"
    )));
    assert_eq!(s.config.clusters[0].backlog_bytes, 1024 * 1024 * 1024 / 100);
    let s = inline(&with_run(
        "[[cluster]]\nname = \"a\"\nmemory_limit = \"100MB\"\n[[cluster]]\nname = \"b\"\n[replication]\nbacklog_size = \"64MB\"\n",
    ));
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0]
            .render("x")
            .contains("take more than a quarter of the shard's memory limit"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn absurd_runs_are_refused_before_they_start_with_the_estimate() {
    let huge = "[run]\nduration = \"30d\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n\
                [workload]\nrate = \"1M/s\"\nkeys = 1000000000000\n";
    let e = super::inline_error(huge);
    assert!(
        e.contains("workload.keys = 1000000000000: the run would hold about 2235174 GiB (1.000e12 distinct keys × 2 instances × ~1200 bytes each), over the 64 GiB guard"),
        "{e}"
    );
    assert!(
        e.contains("run.duration = \"30d\": the run would process about 7.776e12 events"),
        "{e}"
    );
    // The what-if switch lets a user take the risk knowingly.
    let allowed = huge.replace("[run]", "[whatif]\nallow_huge_runs = true\n[run]");
    super::inline(&allowed);
    // A big keyspace that a short run never fills is fine: the estimate counts keys written.
    super::inline(&huge.replace("30d", "10s"));
}

/// A sampled run holds CRDT state for about one key in N and a 4-byte cell per other key:
/// the guard counts that, so a production-scale keyspace that an exact run could not hold
/// is accepted sampled, and a larger one is still refused with the sampled estimate.
#[test]
fn the_memory_guard_counts_what_a_sampled_run_holds() {
    let big = "[run]\nduration = \"30m\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n\
               [[cluster]]\nname = \"c\"\n[workload]\nrate = \"200k/s\"\nkeys = 10000000\n\
               [workload.mix]\nset = 0.8\nincr = 0.2\n";
    let e = super::inline_error(big);
    assert!(
        e.contains("the run would hold about 67 GiB (2.000e7 distinct keys × 3 instances"),
        "{e}"
    );
    let sampled = big.replace("[run]\n", "[run]\nfidelity = \"sampled\"\n");
    let s = super::inline(&sampled);
    // 2e7 / 64 keys × 3 instances × 1200 bytes, and 2e7 cells of 4 bytes.
    let want = 2e7 / 64.0 * 3.0 * 1200.0 + 2e7 * 4.0;
    assert!(
        (s.estimated_memory as f64 - want).abs() < 1e3,
        "{} vs {want}",
        s.estimated_memory
    );
    let e = super::inline_error(&sampled.replace("fidelity", "sample = \"1/1\"\nfidelity"));
    assert!(
        e.contains("distinct keys, 1 in 1 of them sampled, × 3 instances"),
        "{e}"
    );
    // The bundled production-scale what-if is such a run.
    let path = super::root().join("benches/production.toml");
    let s = geosim::scenario::load(&path, &Default::default()).expect("valid");
    assert_eq!(
        s.config.fidelity,
        geosim::model::Fidelity::Sampled { every: 64 }
    );
    assert!(s.estimated_memory < 2 << 30, "{} bytes", s.estimated_memory);
}

#[test]
fn scripted_values_count_in_the_resource_guard() {
    let two = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n";
    // One SETRANGE at 512 MB on two instances: measured to peak at 2.1 GB, estimated as four
    // copies (two instances, the backlog, the merge).
    let one = format!("{two}[[step]]\non = \"a\"\ncmd = \"SETRANGE k 536870000 x\"\n");
    let s = super::inline(&one);
    assert_eq!(s.estimated_memory, 4 * (536_870_000 + 1 + 1 + 9));
    // Forty of them would need 80 GiB: refused, naming the largest step.
    let mut many = two.to_string();
    for i in 0..40 {
        many.push_str(&format!(
            "[[step]]\non = \"a\"\ncmd = \"SETRANGE k{i} {} x\"\n",
            536_870_000 - i
        ));
    }
    let e = super::inline_error(&many);
    assert!(
        e.contains("step[0].cmd: the script's values would take about 80.0 GiB")
            && e.contains("over the 64 GiB guard"),
        "{e}"
    );
    super::inline(&format!("[whatif]\nallow_huge_runs = true\n{many}"));
    // Reads cost nothing; a generated workload adds its keys' copies.
    let read = format!("{two}[[step]]\non = \"a\"\ncmd = \"GET k\"\n");
    assert_eq!(super::inline(&read).estimated_memory, 0);
}

#[test]
fn a_latency_that_could_stall_the_run_is_refused_naming_its_field() {
    let two = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n";
    for (dist, field) in [
        (
            "{ dist = \"lognormal\", median = \"60ms\", sigma = 3.0 }",
            "network.latency.sigma",
        ),
        (
            "{ dist = \"pareto\", scale = \"10ms\", shape = 0.5 }",
            "network.latency.shape",
        ),
        (
            "{ dist = \"normal\", mean = \"10ms\", stddev = \"20000s\" }",
            "network.latency.stddev",
        ),
    ] {
        let e = inline_error(&with_run(&format!("{two}[network]\nlatency = {dist}\n")));
        assert!(
            e.contains(field) && e.contains("would stall the run"),
            "{dist}: {e}"
        );
    }
    // Heavy tails within a day are fine (Pareto shape 4 from 10 ms: at most ~97 s).
    inline(&with_run(&format!(
        "{two}[network]\nlatency = {{ dist = \"pareto\", scale = \"10ms\", shape = 4.0 }}\n"
    )));
}

/// A partition from time zero is refused: Redis needs the members to reach each other to
/// create the database.
#[test]
fn a_database_cannot_be_created_partitioned() {
    let text = |begin: &str| {
        format!(
            "[run]\nduration = \"30s\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n\
             [workload]\nrate = \"10/s\"\n[[fault]]\nkind = \"partition\"\nbegin = \"{begin}\"\n\
             duration = \"5s\"\nisolate = [\"a\"]\n"
        )
    };
    let err = super::inline_error(&text("0s"));
    assert!(
        err.contains("fault[0].begin = \"0s\"") && err.contains("cannot be created"),
        "{err}"
    );
    super::inline(&text("1ms"));
}

/// Several shards synced through one centralized proxy get a warning that cites the
/// documented distributed mode; one shard, or distributed sync, does not.
#[test]
fn centralized_sync_of_several_shards_is_warned_about() {
    let text = |extra: &str| {
        format!(
            "[run]\nduration = \"10s\"\n[[cluster]]\nname = \"a\"\nshards = 4\n{extra}\
             [[cluster]]\nname = \"b\"\n[workload]\nrate = \"10/s\"\n"
        )
    };
    let s = super::inline(&text(""));
    let warned: Vec<String> = s.warnings.iter().map(|w| w.render("x")).collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("cluster[0].syncer_mode") && warned[0].contains("distributed"));
    let s = super::inline(&text(
        "syncer_mode = \"distributed\"\nproxy_policy = \"all-master-shards\"\n",
    ));
    assert!(s.warnings.is_empty());
}

/// The production-like workload fields: size distributions (and a histogram file beside the
/// scenario), members, TTLs, shares, rate shapes, the full mix, and what sampled fidelity
/// refuses; each error names the field, the value and what is valid.
#[test]
fn production_workload_fields_are_checked() {
    let w = |body: &str| with_run(&format!("{TWO}[workload]\nrate = \"1k/s\"\n{body}"));
    let cases = [
        (
            "value_size = { dist = \"lognormal\", median = \"100B\" }",
            "workload.value_size.sigma: missing; expected a number from 0 to 5",
        ),
        (
            "value_size = { dist = \"uniform\", min = \"2KB\", max = \"1KB\" }",
            "workload.value_size.max = \"1KB\": must be at least min (2048 B)",
        ),
        (
            "value_size = { dist = \"gamma\" }",
            "workload.value_size.dist = \"gamma\": expected one of \"fixed\", \"uniform\", \"lognormal\", \"histogram\"",
        ),
        (
            "value_size = { dist = \"histogram\", sizes = [\"1KB\", \"2KB\"], weights = [1] }",
            "workload.value_size.weights = [1]: expected one weight per size (2 sizes)",
        ),
        (
            "value_size = { dist = \"histogram\", file = \"no-such-sizes.csv\" }",
            "workload.value_size.file = \"no-such-sizes.csv\": cannot read",
        ),
        (
            "value_size = { dist = \"fixed\", value = \"1KB\", sigma = 1 }",
            "workload.value_size.sigma: unknown field for dist = \"fixed\"; expected value",
        ),
        (
            "members = 0",
            "workload.members = 0: expected 1 to 1000000000",
        ),
        (
            "shares = { a = 2 }",
            "workload.shares: no share for \"b\": give every writing cluster a share",
        ),
        (
            "shares = { a = 1, b = 0 }",
            "workload.shares.b = 0: expected a share above zero",
        ),
        (
            "shares = { a = 1, b = 1, z = 1 }",
            "workload.shares.z: no such cluster",
        ),
        (
            "shape = { kind = \"weekly\" }",
            "workload.shape.kind = \"weekly\": expected one of \"flat\", \"diurnal\", \"step\"",
        ),
        (
            "shape = { kind = \"diurnal\", trough = 0 }",
            "workload.shape.trough = 0: expected a multiplier in (0, 1]",
        ),
        (
            "shape = { kind = \"step\", at = \"5s\" }",
            "workload.shape.factor: missing; expected the rate's multiplier",
        ),
        (
            "shape = { kind = \"step\", at = \"5s\", factor = 2, trough = 0.5 }",
            "workload.shape.trough: not a field of kind = \"step\"",
        ),
        (
            "shape = { kind = \"diurnal\", peaks = { q = \"1h\" } }",
            "workload.shape.peaks.q = \"1h\": no such cluster",
        ),
        (
            "[workload.mix]\nhset = -1\nset = 1",
            "workload.mix.hset = -1: expected a weight of zero or more",
        ),
        (
            "[workload.mix]\ndel = 1",
            "workload.mix: the weights must not all be zero (a DEL needs some other kind",
        ),
    ];
    for (body, want) in cases {
        let e = inline_error(&w(body));
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
    // Sampled fidelity models SET and INCR keys only.
    let e = inline_error(&with_run(&format!(
        "fidelity = \"sampled\"\n{TWO}[workload]\nrate = \"1k/s\"\n[workload.mix]\nset = 1\nhset = 1\nxadd = 1\n"
    )));
    assert!(
        e.contains("run.fidelity = \"sampled\": sampled fidelity models SET and INCR keys only")
            && e.contains("gives weight to hset, xadd"),
        "{e}"
    );
    // A histogram from a CSV beside the scenario, header and comments skipped.
    let dir = std::env::temp_dir().join(format!("geosim-hist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("sizes.csv"),
        "size,weight\n# measured\n64,3\n4KB,1\n",
    )
    .unwrap();
    let text = w("value_size = { dist = \"histogram\", file = \"sizes.csv\" }");
    let file = dir.join("s.toml");
    let s = geosim::scenario::parse(&text, &file.display().to_string(), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let sizes = &s.config.workload.as_ref().unwrap().value_size;
    assert_eq!(sizes.mean(), (3.0 * 64.0 + 4096.0) / 4.0);
    std::fs::write(dir.join("sizes.csv"), "64,3\n4KB,many\n").unwrap();
    let e = geosim::scenario::parse(&text, &file.display().to_string(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sizes.csv:2: \"4KB,many\": expected `size,weight`"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
