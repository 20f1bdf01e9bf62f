//! Checking a scripted run's replies against the scenario's expectations.

use crate::model::RunResult;
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
