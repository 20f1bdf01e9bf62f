//! Catch-up after a heal: for each healed partition, how long until every affected syncer
//! had applied everything written before the heal.

use super::stats::HealStats;
use crate::engine::{SimDuration, SimTime};

#[derive(Debug)]
struct CatchUp {
    stats: HealStats,
    /// Sessions still short of their target offset.
    pending: usize,
}

/// The open and finished catch-ups of a run, and which session each waits for.
#[derive(Debug)]
pub(crate) struct CatchUps {
    list: Vec<CatchUp>,
    /// Per session: (catch-up index, target offset) while a heal waits for it.
    target: Vec<Option<(usize, u64)>>,
}

impl CatchUps {
    pub fn new(sessions: usize) -> Self {
        CatchUps {
            list: Vec::new(),
            target: vec![None; sessions],
        }
    }

    /// Opens the catch-up of a heal of fault `name` (begun at `begin`) at `now`.
    pub(crate) fn open(&mut self, name: &str, begin: SimTime, now: SimTime) -> usize {
        self.list.push(CatchUp {
            stats: HealStats {
                name: name.to_string(),
                begin,
                healed_at: now,
                caught_up_after: None,
            },
            pending: 0,
        });
        self.list.len() - 1
    }

    /// Session `sid`, at offset `consumed`, must reach `target` (the source's end now) for
    /// catch-up `ci`; nothing if it already has or waits for another heal.
    pub(crate) fn track(&mut self, ci: usize, sid: usize, consumed: u64, target: u64) {
        if consumed < target && self.target[sid].is_none() {
            self.target[sid] = Some((ci, target));
            self.list[ci].pending += 1;
        }
    }

    /// Closes catch-up `ci` at once if no session had anything to catch up.
    pub(crate) fn close_if_done(&mut self, ci: usize) {
        if self.list[ci].pending == 0 {
            self.list[ci].stats.caught_up_after = Some(SimDuration::ZERO);
        }
    }

    /// Session `sid` has consumed up to `consumed` at `now`.
    pub(crate) fn progress(&mut self, sid: usize, consumed: u64, now: SimTime) {
        if let Some((ci, target)) = self.target[sid]
            && consumed >= target
        {
            self.target[sid] = None;
            let c = &mut self.list[ci];
            c.pending -= 1;
            if c.pending == 0 {
                c.stats.caught_up_after = Some(now.since(c.stats.healed_at));
            }
        }
    }

    pub(crate) fn stats(&self) -> Vec<HealStats> {
        self.list.iter().map(|c| c.stats.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heal_is_caught_up_when_its_last_session_reaches_its_target() {
        let mut c = CatchUps::new(3);
        let ci = c.open("cut", SimTime(10), SimTime(100));
        c.track(ci, 0, 5, 50);
        c.track(ci, 1, 7, 70);
        c.track(ci, 2, 9, 9); // already there
        c.close_if_done(ci);
        c.progress(0, 60, SimTime(150));
        assert_eq!(c.stats()[0].caught_up_after, None);
        c.progress(1, 69, SimTime(160));
        assert_eq!(c.stats()[0].caught_up_after, None);
        c.progress(1, 70, SimTime(180));
        assert_eq!(c.stats()[0].caught_up_after, Some(SimDuration(80)));
    }

    #[test]
    fn a_heal_with_nothing_to_catch_up_takes_no_time() {
        let mut c = CatchUps::new(1);
        let ci = c.open("cut", SimTime(0), SimTime(5));
        c.track(ci, 0, 9, 9);
        c.close_if_done(ci);
        assert_eq!(c.stats()[0].caught_up_after, Some(SimDuration::ZERO));
    }

    #[test]
    fn a_session_waits_for_its_first_heal_only() {
        let mut c = CatchUps::new(1);
        let a = c.open("a", SimTime(0), SimTime(10));
        c.track(a, 0, 0, 100);
        let b = c.open("b", SimTime(0), SimTime(20));
        c.track(b, 0, 0, 200);
        c.close_if_done(b);
        assert_eq!(c.stats()[1].caught_up_after, Some(SimDuration::ZERO));
        c.progress(0, 100, SimTime(30));
        assert_eq!(c.stats()[0].caught_up_after, Some(SimDuration(20)));
    }
}
