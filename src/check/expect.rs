//! Checking a scripted run's replies against the scenario's expectations.

use crate::check::RunResult;
use crate::scenario::Scenario;

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectationResult {
    pub step: usize,
    /// The instance that ran the command.
    pub on: String,
    pub cmd: String,
    pub expected: String,
    pub actual: String,
    pub pass: bool,
}

impl ExpectationResult {
    /// A readable report: one line when it passed, a small diff when it failed.
    pub fn render(&self) -> String {
        if self.step == usize::MAX {
            return if self.pass {
                format!("ok   {}: {}", self.cmd, self.actual)
            } else {
                format!(
                    "FAIL {}\n       expected: {}\n       actual:   {}",
                    self.cmd, self.expected, self.actual
                )
            };
        }
        if self.pass {
            format!("ok   step {} on {}: {}", self.step, self.on, self.cmd)
        } else {
            format!(
                "FAIL step {} on {}: {}\n       expected: {}\n       actual:   {}",
                self.step,
                self.on,
                self.cmd,
                self.expected.replace('\n', "\n                 "),
                self.actual.replace('\n', "\n                 ")
            )
        }
    }
}

/// Checks the `[expect]` outcomes of `s` against run `r` and its convergence verdict. Each
/// result's `cmd` names the expectation (`expect.full_syncs`).
pub fn check_outcomes(
    s: &Scenario,
    r: &RunResult,
    conv: &crate::check::Convergence,
) -> Vec<ExpectationResult> {
    let o = &s.outcomes;
    let mut out = Vec::new();
    let mut push = |what: &str, expected: String, actual: String, pass: bool| {
        out.push(ExpectationResult {
            step: usize::MAX,
            on: String::new(),
            cmd: format!("expect.{what}"),
            expected,
            actual,
            pass,
        });
    };
    let converged = conv.verdict == crate::check::Verdict::Converged;
    // A pinned digest holds for the file's own seed; another seed is another history.
    if let Some((want, seed)) = &o.digest
        && *seed == s.config.seed
    {
        let got = format!("{:016x}", r.trace_digest);
        push("digest", want.clone(), got.clone(), got == *want);
    }
    if let Some(want) = o.converges {
        push(
            "converges",
            want.to_string(),
            conv.verdict.name().to_string(),
            converged == want,
        );
    }
    if let Some(within) = o.converge_within {
        let got = conv.time_to_converge;
        push(
            "converge_within",
            format!("at most {within}"),
            got.map(|d| d.to_string()).unwrap_or_else(|| "never".into()),
            got.is_some_and(|d| d <= within),
        );
    }
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    if let Some(range) = o.full_syncs {
        push(
            "full_syncs",
            range.to_string(),
            full.to_string(),
            range.contains(full),
        );
    }
    if let Some(range) = o.partial_syncs {
        push(
            "partial_syncs",
            range.to_string(),
            partial.to_string(),
            range.contains(partial),
        );
    }
    if let Some(want) = o.full_sync_loop {
        let got = r
            .peers
            .iter()
            .any(|p| p.max_consecutive_full_sync_failures >= 2);
        push(
            "full_sync_loop",
            want.to_string(),
            got.to_string(),
            got == want,
        );
    }
    let lost: [(&str, Option<crate::scenario::expect::CountRange>, u64); 2] = [
        (
            "lost_writes",
            o.lost_writes,
            r.clusters.iter().map(|c| c.writes_lost).sum(),
        ),
        (
            "lost_to_removal",
            o.lost_to_removal,
            r.clusters.iter().map(|c| c.writes_lost_to_removal).sum(),
        ),
    ];
    for (name, range, got) in lost {
        if let Some(range) = range {
            push(
                name,
                range.to_string(),
                got.to_string(),
                range.contains(got),
            );
        }
    }
    if let Some(min) = o.clock_inverted_wins_min {
        let got = r.clock_inverted_wins();
        push(
            "clock_inverted_wins_min",
            format!("at least {min}"),
            got.to_string(),
            got >= min,
        );
    }
    let worst_p99 = r
        .peers
        .iter()
        .filter_map(|p| p.lag.quantile(0.99))
        .max()
        .map(|ns| ns as f64 / 1e6);
    if let Some(max) = o.lag_ms_p99_max {
        push(
            "lag_ms_p99_max",
            format!("at most {max} ms"),
            worst_p99
                .map(|x| format!("{x:.3} ms"))
                .unwrap_or_else(|| "no lag measured".into()),
            worst_p99.is_some_and(|x| x <= max),
        );
    }
    if let Some(min) = o.lag_ms_p99_min {
        push(
            "lag_ms_p99_min",
            format!("at least {min} ms"),
            worst_p99
                .map(|x| format!("{x:.3} ms"))
                .unwrap_or_else(|| "no lag measured".into()),
            worst_p99.is_some_and(|x| x >= min),
        );
    }
    out
}

/// Checks every expectation of `s` against the replies recorded in `r`.
pub fn check_expectations(s: &Scenario, r: &RunResult) -> Vec<ExpectationResult> {
    s.expectations
        .iter()
        .map(|e| {
            let rec = r.steps.iter().find(|st| st.index == e.step);
            let on = rec
                .and_then(|st| st.cluster)
                .map(|c| s.config.clusters[c].name.clone())
                .unwrap_or_default();
            match rec.and_then(|st| st.reply.as_ref().map(|rep| (st, rep))) {
                Some((st, reply)) => ExpectationResult {
                    step: e.step,
                    on,
                    cmd: st.line.clone(),
                    expected: format!(
                        "{}{}",
                        e.expected,
                        if e.unordered { " (any order)" } else { "" }
                    ),
                    actual: reply.to_string(),
                    pass: e.expected.matches(reply, e.unordered),
                },
                None => ExpectationResult {
                    step: e.step,
                    on,
                    cmd: String::new(),
                    expected: e.expected.to_string(),
                    actual: "(the step did not run)".into(),
                    pass: false,
                },
            }
        })
        .collect()
}
