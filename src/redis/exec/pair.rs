//! Two instances for tests: each runs command lines and replicates its effects to the other
//! when told to.

use super::*;
use crate::redis::parse_line;

/// Two instances; each runs lines and replicates its effects to the other on `sync`.
pub(crate) struct Pair {
    pub(crate) ks: [Keyspace; 2],
    pub(crate) pending: [Vec<Op>; 2],
    now: u64,
}

impl Pair {
    pub(crate) fn new() -> Pair {
        Pair {
            ks: [Keyspace::new(2), Keyspace::new(2)],
            pending: [Vec::new(), Vec::new()],
            now: 1_000,
        }
    }

    pub(crate) fn run(&mut self, at: usize, line: &str) -> String {
        self.reply(at, line).to_string()
    }

    /// [`Pair::run`], keeping the reply as it is.
    pub(crate) fn reply(&mut self, at: usize, line: &str) -> Reply {
        self.now += 1;
        let cx = ExecContext {
            origin: InstanceId(at as u8),
            now_ms: self.now,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        let out = execute(&mut self.ks[at], &parse_line(line).unwrap(), &cx);
        self.pending[at].extend(out.effects.into_iter().map(|e| e.op));
        out.reply
    }

    /// Delivers `from`'s pending ops to the other instance.
    pub(crate) fn deliver(&mut self, from: usize) {
        for op in std::mem::take(&mut self.pending[from]) {
            self.ks[1 - from].apply(&op);
        }
    }

    /// Delivers both ways; the two keyspaces must then hold equal states.
    pub(crate) fn sync(&mut self) {
        self.deliver(0);
        self.deliver(1);
        assert_eq!(self.ks[0], self.ks[1], "the instances differ after a sync");
    }
}
