//! Sampled fidelity in the world: the write path of a key outside the sample (admitted,
//! counted, appended and shipped as any write, with no CRDT state), its delivery, and what
//! full syncs carry of such keys. See `model::keysample`.

use super::{Event, World};
use crate::crdt::Keyspace;
use crate::crdt::keyspace::compact::{Compact, CompactKind, CompactOp};
use crate::engine::Scheduler;
use crate::model::config::{Fidelity, WorldConfig};
use crate::model::keysample::{KeySample, Shadow};
use crate::model::syncer::StreamOp;
use crate::model::workload::{ShadowWrite, generated_name};
use crate::redis;

/// A sampled run's sample and what it keeps of the other keys.
#[derive(Debug)]
pub(crate) struct Sampled {
    pub sample: KeySample,
    pub shadow: Shadow,
    /// Modelled bytes of a shadow key once held, and in a snapshot: `[counter, string]`
    /// (see [`modelled_key_bytes`]).
    key_bytes: [u64; 2],
    snapshot_key_bytes: [u64; 2],
    /// Per session, the shadow keys of the snapshot its full sync is carrying.
    snapshots: Vec<Vec<u32>>,
}

impl Sampled {
    /// The sample of a sampled configuration (`None` for an exact one).
    pub(crate) fn for_config(cfg: &WorldConfig, sessions: usize) -> Option<Sampled> {
        let Fidelity::Sampled { every } = cfg.fidelity else {
            return None;
        };
        let w = cfg.workload.as_ref()?;
        let (key_bytes, snapshot_key_bytes) = modelled_key_bytes(mean_value_bytes(&w.value_size));
        Some(Sampled {
            sample: KeySample::new(every, w, cfg.seed),
            shadow: Shadow::new(w.keys.saturating_mul(2)),
            key_bytes,
            snapshot_key_bytes,
            snapshots: vec![Vec::new(); sessions],
        })
    }
}

/// The value size a shadow string key is modelled with: the workload's mean, rounded.
fn mean_value_bytes(d: &crate::engine::dist::SizeDist) -> u32 {
    d.mean().round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// The bytes a generated key takes once one instance has written it once (its compact
/// form's `entry_bytes`), and its bytes in a snapshot (`Keyspace::snapshot_bytes`): each
/// `[counter, string of value_bytes]`. A shadow key is modelled with these; keys written at
/// several instances, or holding concurrent values, are a few dozen bytes larger in an exact
/// run (documented in `docs/semantics.md`).
fn modelled_key_bytes(value_bytes: u32) -> ([u64; 2], [u64; 2]) {
    let key_len = crate::model::workload::key_name("key:", 0).len();
    let one = |kind: CompactKind, shown: Option<(u64, bool)>| {
        let mut state = Compact::empty_for(&kind);
        let mut vc = [0; 3];
        vc[0] = 1;
        let op = CompactOp {
            origin: 0,
            vc,
            ts: 1,
            annotation: 1,
            kind,
        };
        state.apply(&op);
        let memory = state.bytes(key_len);
        // A snapshot entry is 16 bytes, the name and the entry's values and metadata: the
        // memory figure less its plain Redis part, with the shown value's raw bytes.
        let values = memory - crate::crdt::memory::plain_overhead(key_len as u64, shown);
        (memory, 16 + key_len as u64 + values)
    };
    // One writer leaves one clock entry, whatever the number of instances.
    let counter = one(CompactKind::Incr { int: 1 }, None);
    let string = one(
        CompactKind::Set {
            len: value_bytes,
            tag: 0,
        },
        Some((u64::from(value_bytes), false)),
    );
    ([counter.0, string.0], [counter.1, string.1])
}

impl World {
    /// A generated write on the key numbered `number`, outside the sample: admitted as any
    /// write, counted, appended with its exact stream bytes and shipped; no CRDT state.
    pub(super) fn write_shadow(
        &mut self,
        c: usize,
        write: &ShadowWrite,
        number: u64,
        q: &mut Scheduler<Event>,
    ) {
        let slot = self
            .sampled_mut()
            .shadow
            .slot_with(number, || generated_name(number));
        self.append_shadow(
            c,
            slot,
            number,
            (write.stream_bytes, &write.large),
            write.key_len,
            q,
        );
    }

    /// [`World::write_shadow`] of a write given as its command (a kind without a shadow form).
    pub(super) fn write_shadow_command(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        number: u64,
        q: &mut Scheduler<Event>,
    ) {
        let key = cmd.key();
        let slot = self.sampled_mut().shadow.slot_with(number, || key.to_vec());
        let large = cmd.large_pieces();
        self.append_shadow(c, slot, number, (cmd.stream_bytes(), &large), key.len(), q);
    }

    fn append_shadow(
        &mut self,
        c: usize,
        slot: u16,
        number: u64,
        bytes: (u64, &[(u64, u64)]),
        key_len: usize,
        q: &mut Scheduler<Event>,
    ) {
        let shard_idx = self.instances[c].topo.shard_of_slot(slot);
        if self.members.write_refusal(c).is_some() {
            self.instances[c].counters.rejected += 1;
            return;
        }
        if self.instances[c].refusal(shard_idx, true).is_some() {
            return;
        }
        if !self.make_room(c, shard_idx, q) {
            let counters = &mut self.instances[c].counters;
            counters.rejected += 1;
            counters.oom_rejections += 1;
            return;
        }
        self.instances[c].counters.writes += 1;
        self.hold_shadow(c, shard_idx, number);
        let extra = self.causal_extra_bytes(key_len);
        // Holding only ever grows, so a destination that holds the key now still holds it
        // when the write arrives: its delivery need not look (the table is larger than the
        // cache; the key's cell is in it now, just written).
        let held = self.sampled_mut().shadow.narrow_holders(number);
        let item = StreamOp::shadow(q.now(), slot, number, held);
        let appended = self.instances[c].shards[shard_idx].append_item(item, bytes, extra);
        self.ship_to_peers(c, shard_idx, appended, q);
    }

    /// Instance `c` (shard `shard`) now holds the shadow key numbered `number`.
    pub(super) fn hold_shadow(&mut self, c: usize, shard: usize, number: u64) {
        let s = self.sampled_mut();
        if s.shadow.hold(number, c) {
            let bytes = s.key_bytes[(number & 1) as usize];
            let sh = &mut self.instances[c].shards[shard];
            sh.shadow_keys += 1;
            sh.shadow_bytes += bytes;
        }
    }

    /// A full sync from session `sid`'s source shard starts, with `snapshot` of its sampled
    /// keys: the shadow keys it holds travel with it. Returns their estimated snapshot
    /// bytes: their number times the snapshot's bytes per key, a ratio estimate over its
    /// sampled entries, each weighted by how many unsampled keys it stands for (its weight
    /// less one: the certain keys stand for none), or the modelled one-writer size when
    /// no sampled entry stands for any.
    pub(super) fn snapshot_shadow(&mut self, sid: usize, snapshot: &Keyspace) -> u64 {
        let (src, src_shard) = (self.sessions[sid].src, self.sessions[sid].src_shard);
        let keys_per_kind = self.cfg.workload.as_ref().map_or(0, |w| w.keys);
        let Some(s) = self.sampled.as_mut() else {
            return 0;
        };
        let topo = &self.instances[src].topo;
        let held = s
            .shadow
            .held(src, |slot| topo.shard_of_slot(slot) == src_shard);
        let sample = &s.sample;
        let (wb, ws) =
            snapshot.snapshot_bytes_weighted(|k| sample.weight_of_name(k, keys_per_kind) - 1);
        let bytes = if ws > 0 {
            // Rounded to the nearest byte, in integers.
            (held.len() as u128 * wb as u128 + ws as u128 / 2) / ws as u128
        } else {
            held.iter()
                .map(|&n| s.snapshot_key_bytes[(n & 1) as usize] as u128)
                .sum()
        };
        s.snapshots[sid] = held;
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }

    /// Session `sid`'s snapshot was merged at its destination: it holds the snapshot's shadow
    /// keys now.
    pub(super) fn merge_shadow(&mut self, sid: usize) {
        let dst = self.sessions[sid].dst;
        let Some(s) = self.sampled.as_mut() else {
            return;
        };
        let held = std::mem::take(&mut s.snapshots[sid]);
        for n in held {
            let slot = self.sampled_mut().shadow.slot_of(n as u64);
            let shard = self.instances[dst].topo.shard_of_slot(slot);
            self.hold_shadow(dst, shard, n as u64);
        }
    }

    /// A delivered shadow write: its destination holds the key. `held`: which of instances
    /// 0 to 15 held it when it was written (those still do: nothing to mark).
    pub(super) fn deliver_shadow(&mut self, dst: usize, shard: usize, (number, held): (u64, u16)) {
        if dst < 16 && held & (1 << dst) != 0 {
            debug_assert!(
                self.sampled_mut().shadow.narrow_holders(number) & (1 << dst) != 0,
                "holding only grows"
            );
            return;
        }
        self.hold_shadow(dst, shard, number);
    }

    fn sampled_mut(&mut self) -> &mut Sampled {
        self.sampled
            .as_mut()
            .expect("shadow keys exist only in a sampled run")
    }

    /// The key sample of a sampled run.
    pub fn key_sample(&self) -> Option<&KeySample> {
        self.sampled.as_ref().map(|s| &s.sample)
    }

    /// Shadow keys each instance holds (all zero in an exact run).
    pub fn shadow_keys(&self) -> Vec<u64> {
        (0..self.instances.len())
            .map(|c| self.sampled.as_ref().map_or(0, |s| s.shadow.count(c)))
            .collect()
    }
}
