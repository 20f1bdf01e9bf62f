//! The divergent-key count: kept incrementally, equal to a full comparison at every
//! checkpoint, zero when converged and kept when not.

use geosim::check::Verdict;
use geosim::engine::{SimDuration, SimTime};
use geosim::sim::Simulation;
use geosim::sim::run_scenario;

/// The divergent-key count is kept incrementally (only keys touched since the last sample are
/// compared again); at every checkpoint it must equal a comparison of every key.
fn divergence_matches_a_full_scan(s: &geosim::scenario::Scenario, checkpoints_s: &[u64]) {
    let mut sim = Simulation::new(s.config.clone());
    let mut seen_divergence = false;
    for t in checkpoints_s {
        sim.run_until(SimTime::ZERO + SimDuration::from_secs(*t));
        let by_scan = sim.divergent_keys_by_scan();
        assert_eq!(sim.divergent_keys(), by_scan, "{} at {t} s", s.file);
        seen_divergence |= by_scan > 0;
    }
    assert!(
        seen_divergence,
        "{}: some checkpoint must see divergence",
        s.file
    );
}

#[test]
fn divergent_keys_are_counted_exactly_through_partitions_crashes_and_joins() {
    // A partition and heal; a crash with recovery from persistence; a region added mid-run.
    let cases: [(&str, &[u64]); 3] = [
        ("02-partition-and-heal.toml", &[30, 61, 120, 179, 181, 200]),
        (
            "06-crash-and-recover.toml",
            &[20, 31, 89, 91, 120, 121, 150],
        ),
        ("08-add-a-region.toml", &[29, 31, 40, 61, 65, 120, 200]),
    ];
    for (name, checkpoints) in cases {
        divergence_matches_a_full_scan(&super::bundled(name, None), checkpoints);
    }
}

#[test]
fn divergent_keys_end_at_zero_when_converged_and_stay_when_not() {
    let (r, c) = run_scenario(&super::bundled("02-partition-and-heal.toml", None));
    assert_eq!(c.verdict, Verdict::Converged);
    assert_eq!(r.divergent_keys_end, 0);
    // Mid-partition nearly every key written since it began differs somewhere.
    assert!(
        r.peaks.divergent_keys_max > 1_000,
        "{}",
        r.peaks.divergent_keys_max
    );
    // A full shard stops applying its peer's stream: the keys it missed stay divergent.
    let (r, c) = run_scenario(&super::inline(&super::memory::OOM.replace("POLICY", "")));
    assert_eq!(c.verdict, Verdict::NotConverged);
    assert!(r.divergent_keys_end > 1_000, "{}", r.divergent_keys_end);
}
