//! `geosim explain` and space-time diagrams: each lesson's narration states the rule that
//! settles its conflicts (and matches its snapshot), the SVG is well-formed with one lane per
//! instance and one arrow per delivered op, and tracing never changes a run.

use geosim::model::trace::{TraceFilter, TraceKind, Tracer};
use geosim::report::explain::{ExplainOptions, Explained, Format, explain};
use geosim::report::spacetime;
use geosim::scenario::{LoadOptions, Scenario, load};
use geosim::sim::Simulation;

fn lesson(name: &str) -> Scenario {
    let path = super::root().join("scenarios/teaching").join(name);
    load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn narrate(name: &str) -> (Explained, String) {
    let s = lesson(name);
    let x = explain(&s, &ExplainOptions::default()).unwrap();
    let title = name.trim_end_matches(".toml");
    let text = x.render(title, Format::Text);
    (x, text)
}

/// The rule each lesson is about, as the narration must state it (rule name and the reason).
const LESSONS: &[(&str, &[&str])] = &[
    (
        "01-concurrent-sets-lww.toml",
        &[
            "Rule: last write wins",
            "I2's timestamp is later (2 vs 1 ms by the writers' clocks), so \"b\" wins",
        ],
    ),
    (
        "02-counters-add-up.toml",
        &["Rule: counters add up", "I1: \"13\""],
    ),
    (
        "03-set-vs-incr.toml",
        &[
            "Rule: SET plus unobserved increments",
            "plus every increment its writer had not observed",
        ],
    ),
    (
        "04-sets-observed-remove.toml",
        &[
            "Rule: add wins",
            "SREM on I1 had not observed I2's add of \"b\", so it stays",
            "Rule: union",
        ],
    ),
    (
        "05-del-vs-concurrent-add.toml",
        &[
            "Rule: observed remove",
            "had not observed I2's SADD s z, so that write stays",
            "Rule: DEL wins (HyperLogLog)",
        ],
    ),
    (
        "06-sorted-set-scores.toml",
        &[
            "the smaller instance id wins a tie, so I1's 1.1 wins",
            "a score is a counter",
            "ZREM removes only the score contributions it had observed",
        ],
    ),
    (
        "07-lists-and-concurrent-pops.toml",
        &["Rule: concurrent pops", "Rule: both inserts kept"],
    ),
    (
        "08-expiry-longer-ttl-wins.toml",
        &["Rule: longer TTL wins", "Rule: PERSIST wins"],
    ),
    (
        "09-clock-drift-inverts-lww.toml",
        &[
            "Rule: clock-inverted win",
            "I1's clock runs 300 ms ahead of I2's, so its earlier write (100 ms before in true time)",
            "(its clock is 300 ms ahead)",
        ],
    ),
    (
        "10-partition-backlog-full-sync.toml",
        &[
            "FULL SYNC: the backlog overflowed",
            "partial sync: the backlog still holds everything it missed",
            "loads the full-sync snapshot from I1",
            "Rule: last write wins",
        ],
    ),
    (
        "11-hashes.toml",
        &[
            "HDEL on I1 had not observed I2's write of field \"city\", so the field stays",
            "Concurrent HINCRBYs of field \"visits\": both increments count",
        ],
    ),
    ("12-streams.toml", &["Rule: both entries kept"]),
    ("13-hyperloglog.toml", &["Rule: union"]),
    (
        "14-set-ex-vs-set.toml",
        &[
            "Rule: TTL kept beside the value",
            "had not observed I1's expiry",
            "Rule: last write wins",
        ],
    ),
    (
        "15-append-setrange-edits-lost.toml",
        &[
            "I1:2 APPEND log a; and I2:1 APPEND log b;",
            "so \"start;b;\" wins",
            "so \"start;B;\" wins",
        ],
    ),
    (
        "16-setnx-double-win.toml",
        &["Rule: last write wins", "so \"worker-2\" wins"],
    ),
    (
        "17-type-conflict-resurrection.toml",
        &[
            "Rule: type conflict",
            "I1 wrote a string and I2 a set concurrently",
            "the other value stays hidden, to come back",
        ],
    ),
    (
        "18-consumer-groups.toml",
        &[
            "Rule: groups union",
            "Concurrent creates of groups \"group1\" and \"group2\": both groups exist everywhere",
            "Rule: delete wins (consumer groups)",
            "so the DEL removes that group too",
            "XGROUP DESTROY of \"group1\" is concurrent with a create",
        ],
    ),
    (
        "19-json-merges.toml",
        &[
            "Rule: smaller instance id wins (JSON)",
            "so I1's value stays",
            "Rule: clear merges (JSON)",
            "Rule: values have identity (JSON)",
            "Rule: arrays merge (JSON)",
            "Rule: delete wins over update (JSON)",
            "Rule: create wins over delete (JSON)",
        ],
    ),
];

#[test]
fn each_lesson_narration_states_its_rule_and_matches_its_snapshot() {
    let dir = super::root().join("tests/data/explain");
    let bless = std::env::var_os("GEOSIM_BLESS").is_some();
    let mut stale = Vec::new();
    for (file, phrases) in LESSONS {
        let (_, text) = narrate(file);
        for p in *phrases {
            assert!(text.contains(p), "{file}: narration lacks {p:?}:\n{text}");
        }
        let snap = dir.join(file.replace(".toml", ".txt"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&snap, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snap)
            .unwrap_or_else(|_| panic!("{} missing: run with GEOSIM_BLESS=1", snap.display()));
        if want != text {
            stale.push(format!("{file}:\n--- want\n{want}\n--- got\n{text}"));
        }
    }
    assert!(
        stale.is_empty(),
        "narrations changed (GEOSIM_BLESS=1 rewrites the snapshots after an intended change):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_lesson_of_the_curriculum_is_explained() {
    let mut files: Vec<String> = std::fs::read_dir(super::root().join("scenarios/teaching"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let covered: Vec<String> = LESSONS.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(files, covered);
}

/// A minimal XML well-formedness check: tags nest and close, attributes are quoted,
/// and no raw `<` or `&` appears in text.
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        for (j, _) in text.match_indices('&') {
            let ent = &text[j..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "raw & in text: {}",
                &ent[..ent.len().min(20)]
            );
        }
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        assert!(!tag.contains('<'), "< inside a tag: {tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap().to_string();
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(name);
        } else if stack.is_empty() {
            roots += 1;
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn each_diagram_is_valid_svg_with_a_lane_per_instance_and_an_arrow_per_delivered_op() {
    for (file, _) in LESSONS {
        let (x, _) = narrate(file);
        let (svg, stats) = spacetime::diagram(&x, file);
        assert_well_formed(&svg);
        let instances = x.tracer.names.len();
        assert_eq!(
            svg.matches("<g class=\"lane\">").count(),
            instances,
            "{file}"
        );
        assert_eq!(stats.lanes, instances);
        let delivered = x
            .tracer
            .events
            .iter()
            .filter(|e| {
                matches!(&e.kind, TraceKind::Deliver { applied, .. }
                    if *applied != geosim::crdt::Applied::Duplicate)
            })
            .count();
        // Every op delivered in the stream was counted by the run too.
        let applied: u64 = x.result.peers.iter().map(|p| p.ops_applied).sum();
        assert_eq!(delivered as u64, applied, "{file}");
        assert_eq!(
            svg.matches("class=\"delivery\"").count(),
            delivered,
            "{file}"
        );
        assert_eq!(stats.deliveries, delivered);
        assert_eq!(stats.rows_left_out, 0);
        let ops = x
            .tracer
            .events
            .iter()
            .filter(|e| matches!(e.kind, TraceKind::Op { .. }))
            .count();
        assert_eq!(svg.matches("<g class=\"op\">").count(), ops, "{file}");
    }
    // The full-sync lesson draws its snapshot and its shaded partition.
    let (x, _) = narrate("10-partition-backlog-full-sync.toml");
    let (svg, _) = spacetime::diagram(&x, "10");
    assert_eq!(svg.matches("class=\"fullsync\"").count(), 1);
    assert_eq!(svg.matches("class=\"partition\"").count(), 1);
    assert!(svg.contains("backlog overflowed: full sync"));
    // A conflict is ringed and named where it was settled.
    let (x, _) = narrate("01-concurrent-sets-lww.toml");
    let (svg, stats) = spacetime::diagram(&x, "01");
    assert_eq!(stats.conflicts_marked, 2, "once at each instance");
    assert_eq!(svg.matches(">last write wins</text>").count(), 2);
}

#[test]
fn tracing_never_changes_the_run() {
    for (file, _) in LESSONS.iter().take(10) {
        let s = lesson(file);
        let plain = Simulation::new(s.config.clone()).run();
        let (traced, t) =
            Simulation::new(s.config.clone()).run_traced(Some(Tracer::new(TraceFilter::All)));
        assert_eq!(plain.trace_digest, traced.trace_digest, "{file}");
        assert_eq!(plain.instance_digests, traced.instance_digests, "{file}");
        assert!(!t.unwrap().events.is_empty());
    }
    let s = super::bundled("02-partition-and-heal.toml", None);
    let plain = Simulation::new(s.config.clone()).run();
    let (traced, t) =
        Simulation::new(s.config.clone()).run_traced(Some(Tracer::new(TraceFilter::Contention)));
    assert_eq!(plain.trace_digest, traced.trace_digest);
    assert!(t.unwrap().most_contended().is_some());
}

fn generated() -> Scenario {
    let dir = std::env::temp_dir().join(format!("geosim-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("gen.toml");
    std::fs::write(
        &f,
        "[run]\nseed = 4\nduration = \"3s\"\n[[cluster]]\nname = \"us\"\n[[cluster]]\nname = \"eu\"\n[network]\nlatency = \"80ms\"\n[workload]\nrate = \"200/s\"\nkeys = 20\nvalue_size = \"8B\"\n",
    )
    .unwrap();
    load(&f, &LoadOptions::default()).unwrap()
}

#[test]
fn a_generated_workload_is_narrated_for_its_most_contended_key() {
    let s = generated();
    let x = explain(&s, &ExplainOptions::default()).unwrap();
    let chosen = x.chosen.clone().expect("a key was chosen");
    assert!(chosen.contains("chosen as the most contended"), "{chosen}");
    let keys = x.tracer.keys();
    assert_eq!(keys.len(), 1);
    assert!(
        !x.conflicts.is_empty(),
        "the most contended key had conflicts"
    );
    assert!(x.conflicts.iter().all(|c| c.key == keys[0]));
    let md = x.render("gen", Format::Markdown);
    assert!(md.starts_with("# gen\n"), "{md}");
    assert!(md.contains("## Conflicts and the rules that settled them"));
    assert!(md.contains("Rule: last write wins"), "{md}");
    // A window keeps the diagram to what happened in it.
    let all = spacetime::diagram(&x, "gen").1;
    let w = explain(
        &s,
        &ExplainOptions {
            from: Some(geosim::engine::SimTime::ZERO + geosim::engine::SimDuration::from_secs(1)),
            until: Some(geosim::engine::SimTime::ZERO + geosim::engine::SimDuration::from_secs(2)),
            ..ExplainOptions::default()
        },
    )
    .unwrap();
    let part = spacetime::diagram(&w, "gen").1;
    assert!(part.rows > 0 && part.rows < all.rows, "{part:?} vs {all:?}");
    // One instance's view leaves the other's commands out.
    let us = explain(
        &s,
        &ExplainOptions {
            instance: Some("us".into()),
            ..ExplainOptions::default()
        },
    )
    .unwrap()
    .render("gen", Format::Text);
    let what = us.split("Conflicts and").next().unwrap();
    assert!(!what.contains("eu (I2): SET"), "{what}");
    assert!(what.contains("us (I1): SET"), "{what}");
}

fn geosim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_geosim"))
        .current_dir(super::root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_explain_command_writes_the_diagram_and_refuses_bad_names() {
    let dir = std::env::temp_dir().join(format!("geosim-explain-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("d.svg");
    let lesson = "scenarios/teaching/09-clock-drift-inverts-lww.toml";
    let (code, out, err) = geosim(&[
        "explain",
        lesson,
        "--format",
        "md",
        "--diagram",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# 09-clock-drift-inverts-lww\n"), "{out}");
    assert!(err.contains("2 lanes"), "{err}");
    assert_well_formed(&std::fs::read_to_string(&svg).unwrap());
    let (code, _, err) = geosim(&["explain", lesson, "--instance", "I9"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--instance \"I9\": no such instance; the scenario has I1, I2"),
        "{err}"
    );
    let (code, _, err) = geosim(&["explain", lesson, "--key", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no command or op touched this key"), "{err}");
    let (code, _, err) = geosim(&["explain", lesson, "--from", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a duration"), "{err}");
}

#[test]
fn a_small_scripted_run_report_includes_the_diagram_and_narration() {
    let dir = std::env::temp_dir().join(format!("geosim-explain-report-{}", std::process::id()));
    let s = lesson("01-concurrent-sets-lww.toml");
    geosim::report::write_report(&s, &dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("spacetime.svg")).unwrap();
    assert_well_formed(&svg);
    let md = std::fs::read_to_string(dir.join("explain.md")).unwrap();
    assert!(md.contains("Rule: last write wins"));
    // A generated workload's report has none (it may be millions of events).
    let gen_dir = dir.join("gen");
    geosim::report::write_report(&generated(), &gen_dir).unwrap();
    assert!(!gen_dir.join("spacetime.svg").exists());
}

#[test]
fn the_diagrams_in_docs_teaching_are_current() {
    let dir = super::root().join("docs/teaching");
    let bless = std::env::var_os("GEOSIM_BLESS").is_some();
    let doc = std::fs::read_to_string(super::root().join("docs/teaching.md")).unwrap();
    for (file, _) in LESSONS {
        let stem = file.trim_end_matches(".toml");
        let (x, _) = narrate(file);
        let (svg, _) = spacetime::diagram(&x, stem);
        let path = dir.join(format!("{stem}.svg"));
        if bless {
            std::fs::write(&path, &svg).unwrap();
        } else {
            let have = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} missing", path.display()));
            assert!(
                have == svg,
                "{} is stale: GEOSIM_BLESS=1 cargo nextest run explain",
                path.display()
            );
        }
        assert!(
            doc.contains(&format!("(teaching/{stem}.svg)")),
            "docs/teaching.md does not embed {stem}.svg"
        );
    }
}

#[test]
fn a_run_without_concurrent_writes_narrates_its_first_written_key() {
    let s = super::bundled("09-thin-link-lag.toml", None);
    let x = explain(&s, &ExplainOptions::default()).unwrap();
    let chosen = x.chosen.clone().unwrap();
    assert!(
        chosen.starts_with("no key had concurrent writes in this run; narrating key"),
        "{chosen}"
    );
    assert!(x.conflicts.is_empty());
    assert_eq!(x.tracer.keys().len(), 1);
    let text = x.render("09", Format::Text);
    assert!(
        text.contains("No two ops on the same key were concurrent"),
        "{text}"
    );
}
