//! Running a scenario: the library's entry point, used alike by the CLI, sweeps, the hunt,
//! the tests and a program that embeds geosim.
//!
//! A [`Simulation`] is a world built from a scenario with the built-in checkers installed
//! (last-write-wins conflicts, divergent keys); a [`Builder`] adds a metrics sink, a tracer
//! or observers of your own. [`Simulation::run`] runs the scenario's phases (script, writes
//! and faults, the end-of-run heal, the healed phase) and returns a [`RunResult`];
//! [`judge`] checks its convergence and the scenario's expectations.
//!
//! ```
//! use geosim::scenario::{LoadOptions, parse};
//! use geosim::sim::{Simulation, judge};
//!
//! let scenario = parse(r#"
//!     [run]
//!     seed = 7
//!     [[cluster]]
//!     name = "us"
//!     [[cluster]]
//!     name = "eu"
//!     [[step]]
//!     on = "us"
//!     cmd = "SET greeting hello"
//!     [[step]]
//!     on = "eu"
//!     cmd = "SET greeting bonjour"
//!     [[step]]
//!     sync = ["us", "eu"]
//! "#, "example.toml", &LoadOptions::default()).expect("a valid scenario");
//! let result = Simulation::new(scenario.config.clone()).run();
//! let judged = judge(&scenario, &result);
//! assert!(judged.converged());
//! // Both instances read the same value, and the same seed gives the same history.
//! assert_eq!(result.instance_digests[0], result.instance_digests[1]);
//! let again = Simulation::new(scenario.config.clone()).run();
//! assert_eq!(result.trace_digest, again.trace_digest);
//! ```
//!
//! An observer of your own sees every replicated op before it is applied:
//!
//! ```
//! use geosim::crdt::{Entry, Op};
//! use geosim::model::Observer;
//! use geosim::scenario::{LoadOptions, parse};
//! use geosim::sim::Simulation;
//!
//! #[derive(Default)]
//! struct CountApplies(u64);
//! impl Observer for CountApplies {
//!     fn before_apply(&mut self, _dst: usize, _before: Option<&Entry>, _op: &Op) {
//!         self.0 += 1;
//!     }
//! }
//!
//! let scenario = parse(r#"
//!     [run]
//!     duration = "2s"
//!     [[cluster]]
//!     name = "us"
//!     [[cluster]]
//!     name = "eu"
//!     [workload]
//!     rate = "100/s"
//! "#, "count.toml", &LoadOptions::default()).unwrap();
//! let sim = Simulation::builder(scenario.config.clone())
//!     .observer(Box::new(CountApplies::default()))
//!     .build();
//! let (result, observers) = sim.run_observed();
//! let mine = (observers.into_iter().next().unwrap() as Box<dyn std::any::Any>)
//!     .downcast::<CountApplies>()
//!     .unwrap();
//! let applied: u64 = result.peers.iter().map(|p| p.ops_applied + p.duplicates).sum();
//! assert_eq!(mine.0, applied);
//! ```

use std::any::Any;

use crate::check::{
    Checks, Convergence, ExpectationResult, RunResult, Verdict, check_convergence,
    check_expectations, check_outcomes, divergence,
};
use crate::engine::SimTime;
use crate::model::metrics::SampleSink;
use crate::model::trace::Tracer;
use crate::model::{Driver, Observer, World, WorldConfig, driver};
use crate::redis;
use crate::scenario::Scenario;

/// Sets up a [`Simulation`]: a metrics sink and observers of your own.
pub struct Builder {
    config: WorldConfig,
    sink: Option<SampleSink>,
    observers: Vec<Box<dyn Observer>>,
}

impl Builder {
    /// Streams every metric sample to `sink` as it is taken.
    pub fn sink(mut self, sink: SampleSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Adds an observer; it is told everything after the built-in checkers.
    pub fn observer(mut self, observer: Box<dyn Observer>) -> Self {
        self.observers.push(observer);
        self
    }

    pub fn build(self) -> Simulation {
        let mut driver = Driver::new(self.config);
        if let Some(sink) = self.sink {
            driver.world.set_sink(sink);
        }
        let mut checks = Checks {
            extra: self.observers,
            ..Checks::default()
        };
        if driver.world.key_sample().is_some() {
            checks.lww.per_key = Some(Default::default());
        }
        driver.world.set_observer(Box::new(checks));
        Simulation { driver }
    }
}

/// One run of a scenario, with the built-in checkers installed.
pub struct Simulation {
    driver: Driver,
}

impl Simulation {
    /// A simulation of `config` with the built-in checkers and nothing else.
    pub fn new(config: WorldConfig) -> Self {
        Simulation::builder(config).build()
    }

    pub fn builder(config: WorldConfig) -> Builder {
        Builder {
            config,
            sink: None,
            observers: Vec::new(),
        }
    }

    /// The world as it stands (read-only).
    pub fn world(&self) -> &World {
        &self.driver.world
    }

    pub fn now(&self) -> SimTime {
        self.driver.now()
    }

    /// Runs the events up to and including time `t` (bounded by the run's event limit).
    pub fn run_until(&mut self, t: SimTime) {
        self.driver.run_until(t);
    }

    /// Executes a command at instance `c` at the current time.
    pub fn execute(&mut self, c: usize, cmd: &redis::Command) -> redis::Reply {
        self.driver.execute(c, cmd)
    }

    /// Keys whose member instances have not all applied the same writes, now.
    pub fn divergent_keys(&mut self) -> u64 {
        let mut checks = self.checks();
        checks.divergence.refresh(&self.driver.world);
        let n = checks.divergence.count();
        self.driver.world.set_observer(checks);
        n
    }

    /// The same figure by comparing every key (the oracle of [`Self::divergent_keys`]).
    pub fn divergent_keys_by_scan(&self) -> u64 {
        divergence::divergent_keys_by_scan(&self.driver.world)
    }

    fn checks(&mut self) -> Box<Checks> {
        let any: Box<dyn Any> = self.driver.world.take_observer();
        any.downcast::<Checks>()
            .expect("a Simulation's world holds its Checks")
    }

    /// Runs the whole scenario: the script, writes until the end of the duration, then heal
    /// everything and run until quiescent or the convergence deadline.
    pub fn run(self) -> RunResult {
        self.finish(None).0
    }

    /// As [`Self::run`] with a tracer installed; returns it with the traced keys' final
    /// states. Tracing never changes the run.
    pub fn run_traced(self, tracer: Option<Tracer>) -> (RunResult, Option<Tracer>) {
        let (result, tracer, _) = self.finish(tracer);
        (result, tracer)
    }

    /// As [`Self::run`], and hands back the observers given to the builder, in order.
    pub fn run_observed(self) -> (RunResult, Vec<Box<dyn Observer>>) {
        let (result, _, observers) = self.finish(None);
        (result, observers)
    }

    fn finish(
        mut self,
        tracer: Option<Tracer>,
    ) -> (RunResult, Option<Tracer>, Vec<Box<dyn Observer>>) {
        let (outcome, tracer) = self.driver.run(tracer);
        let mut checks = self.checks();
        checks.finish(&self.driver.world);
        let estimates =
            crate::check::Estimates::of(&self.driver.world, &checks.lww, &checks.divergence);
        let result = RunResult {
            outcome,
            lww: std::mem::take(&mut checks.lww.stats),
            divergent_keys_end: checks.divergence.count(),
            estimates,
        };
        let observers = std::mem::take(&mut checks.extra);
        if driver::leaking_at_exit() {
            // The process is about to exit and will return the memory at once; freeing
            // millions of entries one by one would only cost time.
            std::mem::forget(self);
            std::mem::forget(checks);
        }
        (result, tracer, observers)
    }
}

/// Every judgement of a finished run.
#[derive(Clone, Debug)]
pub struct Judgement {
    pub convergence: Convergence,
    /// The scenario's `[expect]` table, then its outcome expectations.
    pub expectations: Vec<ExpectationResult>,
}

impl Judgement {
    pub fn converged(&self) -> bool {
        self.convergence.verdict == Verdict::Converged
    }

    pub fn expectations_failed(&self) -> usize {
        self.expectations.iter().filter(|e| !e.pass).count()
    }
}

/// Checks a run of scenario `s`: convergence and every expectation.
pub fn judge(s: &Scenario, result: &RunResult) -> Judgement {
    let convergence = check_convergence(result);
    let mut expectations = check_expectations(s, result);
    expectations.extend(check_outcomes(s, result, &convergence));
    Judgement {
        convergence,
        expectations,
    }
}

/// Runs a validated scenario and judges its convergence.
pub fn run_scenario(s: &Scenario) -> (RunResult, Convergence) {
    let result = Simulation::new(s.config.clone()).run();
    let convergence = check_convergence(&result);
    (result, convergence)
}
