//! `[[step]]`: a scripted scenario's commands, syncs, partitions and heals, with the
//! replies each command is expected to give.

use super::*;

/// A note printed with step `usize`'s transcript line.
pub(super) type Note = (usize, String);

/// The script, its expected replies and its notes.
pub(super) fn step_tables(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
) -> (Vec<Step>, Vec<Expectation>, Vec<Note>) {
    let mut script = Vec::new();
    let mut expectations = Vec::new();
    let mut notes = Vec::new();
    for (i, st) in raw.step.iter().enumerate() {
        let p = |field: &str| format!("step[{i}].{field}");
        let at = st
            .at
            .as_ref()
            .and_then(|s| duration_field(f, &p("at"), Some(s), None));
        let after = st
            .after
            .as_ref()
            .and_then(|s| duration_field(f, &p("after"), Some(s), None));
        if st.at.is_some() && st.after.is_some() {
            f.err(
                format!("step[{i}]"),
                None,
                "give at (an absolute time) or after (a delay), not both",
            );
        }
        let actions = [
            st.cmd.is_some(),
            st.sync.is_some(),
            st.partition.is_some(),
            st.heal.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if actions > 1 {
            f.err(
                format!("step[{i}]"),
                None,
                "a step does one thing: cmd (with on), sync, partition or heal",
            );
            continue;
        }
        let action = if st.cmd.is_some() {
            command_action(f, st, i, names)
        } else if let Some(v) = &st.sync {
            sync_action(f, v, i, names)
        } else if let Some(iso) = &st.partition {
            partition_action(f, iso, i, names)
        } else if let Some(h) = st.heal {
            if !h {
                f.err(
                    p("heal"),
                    Some("false".into()),
                    "write heal = true, or leave the field out",
                );
            }
            Some(StepAction::Heal)
        } else if st.after.is_some() || st.at.is_some() {
            Some(StepAction::Wait)
        } else {
            f.err(format!("step[{i}]"), None, "empty step: give cmd (with on), sync, partition, heal, or a time (at/after) to wait");
            None
        };
        if st.on.is_some() && st.cmd.is_none() {
            f.err(p("on"), None, "only valid with cmd");
        }
        expectations.extend(step_expectation(f, st, i));
        if st.unordered.is_some() && st.expect.is_none() {
            f.err(p("unordered"), None, "only valid with expect = [ ... ]");
        }
        if let Some(n) = &st.note {
            notes.push((i, n.clone()));
        }
        if let Some(action) = action {
            script.push(Step {
                at: at.map(|d| SimTime::ZERO + d),
                after,
                action,
            });
        }
    }
    (script, expectations, notes)
}

/// A `cmd` step: the instance that runs it (`on`) and the parsed command.
fn command_action(
    f: &mut Findings,
    st: &RawStep,
    i: usize,
    names: &[String],
) -> Option<StepAction> {
    let p = |field: &str| format!("step[{i}].{field}");
    let line = st.cmd.as_ref()?;
    let cluster = match &st.on {
        None => {
            f.err(
                p("on"),
                None,
                "missing: which instance runs the command (a cluster name)",
            );
            None
        }
        Some(name) => cluster_named(f, p("on"), name, names),
    };
    match crate::redis::parse_line(line) {
        // A step that expects an error may hold a command refused before it runs (one that
        // Active-Active does not support, a wrong number of arguments): its reply is that
        // error. A command geosim does not model is never an expected outcome.
        Err(e) if st.expect_error.is_some() && !e.0.contains("geosim does not model") => cluster
            .map(|cluster| StepAction::Refused {
                cluster,
                line: line.clone(),
                error: e.0,
            }),
        Err(e) => {
            f.err(p("cmd"), quoted(line), e.0);
            None
        }
        Ok(cmd) => cluster.map(|cluster| StepAction::Command {
            cluster,
            line: line.clone(),
            cmd,
        }),
    }
}

/// A `sync` step: `"all"` or two or more cluster names.
fn sync_action(
    f: &mut Findings,
    v: &toml::Value,
    i: usize,
    names: &[String],
) -> Option<StepAction> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    let p = |field: &str| format!("step[{i}].{field}");
    let group = match v {
        toml::Value::String(s) if s == "all" => Some((0..names.len()).collect::<Vec<_>>()),
        toml::Value::Array(items) => {
            let mut g = Vec::new();
            for (j, it) in items.iter().enumerate() {
                match it.as_str().and_then(index_of) {
                    Some(c) if !g.contains(&c) => g.push(c),
                    _ => f.err(
                        format!("{}[{j}]", p("sync")),
                        Some(it.to_string()),
                        "expected the name of a cluster, once",
                    ),
                }
            }
            if g.len() < 2 {
                f.err(
                    p("sync"),
                    Some(v.to_string()),
                    "a sync needs at least two clusters (or \"all\")",
                );
            }
            g.sort_unstable();
            Some(g)
        }
        other => {
            f.err(
                p("sync"),
                Some(other.to_string()),
                "expected \"all\" or a list of cluster names",
            );
            None
        }
    };
    group.map(|clusters| StepAction::Sync { clusters })
}

/// A `partition` step: the clusters cut off from the others.
fn partition_action(
    f: &mut Findings,
    iso: &[String],
    i: usize,
    names: &[String],
) -> Option<StepAction> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    let p = |field: &str| format!("step[{i}].{field}");
    let mut side = Vec::new();
    for (j, name) in iso.iter().enumerate() {
        match index_of(name) {
            Some(c) => side.push(c),
            None => f.err(
                format!("{}[{j}]", p("partition")),
                quoted(name),
                "no such cluster",
            ),
        }
    }
    let mut pairs = Vec::new();
    for a in 0..names.len() {
        for b in a + 1..names.len() {
            if side.contains(&a) != side.contains(&b) {
                pairs.push((a, b));
            }
        }
    }
    if pairs.is_empty() {
        f.err(
            p("partition"),
            Some(format!("{iso:?}")),
            "list the clusters to cut off from the others (not all, not none)",
        );
    }
    Some(StepAction::Partition { pairs })
}

/// The reply a `cmd` step expects (`expect`, `expect_nil` or `expect_error`), if any.
fn step_expectation(f: &mut Findings, st: &RawStep, i: usize) -> Option<Expectation> {
    let p = |field: &str| format!("step[{i}].{field}");
    let expect_given = [
        st.expect.is_some(),
        st.expect_nil == Some(true),
        st.expect_error.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if expect_given > 0 && st.cmd.is_none() {
        f.err(
            format!("step[{i}]"),
            None,
            "expectations apply to a cmd step",
        );
    } else if expect_given > 1 {
        f.err(
            format!("step[{i}]"),
            None,
            "give one of expect, expect_nil, expect_error",
        );
    } else if expect_given == 1 {
        let expected = if let Some(v) = &st.expect {
            match Expected::from_toml(v) {
                Ok(e) => Some(e),
                Err(msg) => {
                    f.err(p("expect"), Some(v.to_string()), msg);
                    None
                }
            }
        } else if let Some(e) = &st.expect_error {
            Some(Expected::Error(e.clone()))
        } else {
            Some(Expected::Nil)
        };
        if let Some(expected) = expected {
            return Some(Expectation {
                step: i,
                expected,
                unordered: st.unordered.unwrap_or(false),
            });
        }
    }
    None
}
