use super::*;
use crate::engine::stream_for;
use crate::model::backlog::BacklogModel;
use crate::model::net::{LatencyDist, LinkParams};

fn session() -> Session {
    Session::new((0, 0, 1), 0, 0, stream_for(1, "s"))
}

fn backlog(first_kept: u64, end: u64) -> Backlog<BacklogItem> {
    let mut b = Backlog::starting_at(BacklogModel::Ring, end - first_kept, 0);
    b.advance(end);
    b
}

fn view(b: &Backlog<BacklogItem>, epoch: u32) -> SourceView<'_> {
    SourceView {
        backlog: b,
        epoch,
        down: false,
        stale: false,
    }
}

#[test]
fn partial_while_the_backlog_holds_the_next_byte() {
    let b = backlog(1000, 5000);
    let mut s = session();
    s.consumed = 1000;
    assert_eq!(
        s.decide(&view(&b, 0), false),
        Reconnect::Partial { until: 5000 }
    );
    s.consumed = 999;
    assert_eq!(
        s.decide(&view(&b, 0), false),
        Reconnect::Full(ResyncReason::BacklogOverflow {
            needed: 999,
            first: 1000
        })
    );
}

#[test]
fn a_new_history_or_a_forced_resync_is_always_full() {
    let b = backlog(0, 5000);
    let mut s = session();
    s.consumed = 4000;
    assert_eq!(
        s.decide(&view(&b, 1), false),
        Reconnect::Full(ResyncReason::NewHistory),
        "the source restarted: its offsets are another history's"
    );
    s.force_full = true;
    assert_eq!(
        s.decide(&view(&b, 0), false),
        Reconnect::Full(ResyncReason::NewHistory)
    );
}

#[test]
fn a_down_or_stale_source_serves_nothing_but_two_stale_instances_sync() {
    let b = backlog(0, 10);
    let s = session();
    let mut v = view(&b, 0);
    v.down = true;
    assert_eq!(s.decide(&v, false), Reconnect::Wait);
    v.down = false;
    v.stale = true;
    assert_eq!(s.decide(&v, false), Reconnect::Wait);
    assert_eq!(s.decide(&v, true), Reconnect::Partial { until: 10 });
}

#[test]
fn a_snapshot_that_arrives_after_the_backlog_moved_on_fails_and_backs_off() {
    let mut s = session();
    s.disconnect();
    let g = s.generation;
    s.begin_full_sync(SimTime(5), Box::new(Keyspace::new(2)), (0, 700, 0));
    assert!(
        s.take_snapshot(g + 1).is_none(),
        "an older connection's snapshot"
    );
    let (_, offset) = s.take_snapshot(g).expect("the snapshot");
    assert!(s.is_disconnected());
    assert!(s.take_snapshot(g).is_none(), "taken once");
    // Meanwhile the backlog dropped everything before 2000.
    let b = backlog(2000, 9000);
    let end = s.finish_full_sync(offset, b.can_continue_from(offset));
    assert_eq!(end, FullSyncEnd::Failed);
    assert_eq!((s.consumed, s.full_sync_failures), (700, 1));
    let end = s.finish_full_sync(offset, false);
    assert_eq!(end, FullSyncEnd::Failed);
    assert_eq!(s.max_consecutive_failures, 2, "a full-sync loop");
    // Two failures double the reconnect delay bound twice.
    let base = SimDuration::from_secs(1);
    for _ in 0..200 {
        assert!(s.reconnect_delay(base) <= SimDuration::from_secs(4));
    }
    assert_eq!(s.finish_full_sync(offset, true), FullSyncEnd::Resumed);
    assert_eq!(s.consecutive_failures, 0);
    for _ in 0..200 {
        let d = s.reconnect_delay(base);
        assert!(d > SimDuration::ZERO && d <= base);
    }
}

#[test]
fn backoff_is_capped() {
    let mut s = session();
    s.consecutive_failures = 40;
    for _ in 0..200 {
        assert!(s.reconnect_delay(SimDuration::from_secs(1)) <= MAX_BACKOFF);
    }
}

#[test]
fn events_of_an_old_connection_are_ignored() {
    let mut s = session();
    let g = s.generation;
    assert!(
        !s.accepts_reconnect(g, true),
        "a streaming session needs no reconnect"
    );
    s.disconnect();
    assert!(
        !s.accepts_reconnect(g, true),
        "the old connection's attempt"
    );
    assert!(s.accepts_reconnect(g + 1, true));
    assert!(!s.accepts_reconnect(g + 1, false), "not over a cut link");
}

#[test]
fn a_held_link_queues_and_an_open_one_schedules_one_delivery() {
    let mut link = test_link(SimDuration::from_millis(40), 8_000);
    let mut s = session();
    let mut busy = SimTime::ZERO;
    let half = SendParams {
        compression: 0.5,
        per_op: None,
        batch_window: SimDuration::ZERO,
    };
    link.hold(true);
    assert_eq!(
        s.send(
            &mut link,
            SimTime::ZERO,
            (100, 100, test_op()),
            &SendParams {
                compression: 1.0,
                per_op: None,
                batch_window: SimDuration::ZERO,
            },
            &mut busy,
        ),
        Sent::Held
    );
    link.hold(false);
    let first = s.send(
        &mut link,
        SimTime::ZERO,
        (500, 600, test_op()),
        &half,
        &mut busy,
    );
    // 250 wire bytes at 1000 B/s, then 40 ms.
    let at = SimTime::ZERO + SimDuration::from_millis(290);
    assert_eq!(
        first,
        Sent::OnWire {
            wire: 250,
            deliver_at: Some(at)
        }
    );
    let second = s.send(
        &mut link,
        SimTime::ZERO,
        (2, 602, test_op()),
        &half,
        &mut busy,
    );
    assert_eq!(
        second,
        Sent::OnWire {
            wire: 1,
            deliver_at: None
        },
        "one delivery event drains the session in order"
    );
    assert_eq!(s.outbox.len(), 1);
    assert_eq!(s.inflight.len(), 2);
}

fn test_link(latency: SimDuration, bps: u64) -> Link {
    Link::new(
        LinkParams {
            latency: LatencyDist::Constant(latency),
            jitter: SimDuration::ZERO,
            bandwidth_bps: bps,
            loss: 0.0,
            latency_interval: SimDuration::ZERO,
        },
        stream_for(1, "l"),
    )
}

fn test_op() -> StreamOp {
    StreamOp::new(
        Keyspace::new(2).prepare(
            b"k",
            crate::crdt::InstanceId(0),
            1,
            crate::crdt::OpKind::Incr { int: 1, float: 0.0 },
        ),
        SimTime::ZERO,
        0,
        super::super::keys::KeyId(0),
    )
}

fn ms(n: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(n)
}

/// Sends a 10-byte op at `at` ms; its arrival.
fn send_at(
    s: &mut Session,
    link: &mut Link,
    p: &SendParams,
    busy: &mut SimTime,
    at: u64,
) -> SimTime {
    let end = s.inflight.back().map_or(0, |f| f.end) + 10;
    s.send(link, ms(at), (10, end, test_op()), p, busy);
    s.inflight.back().expect("sent").arrives
}

#[test]
fn ops_within_the_batch_window_arrive_together_and_later_ones_start_a_batch() {
    // 80 Mbit/s: 10 bytes take 1 µs; latency a constant 40 ms.
    let mut link = test_link(SimDuration::from_millis(40), 80_000_000);
    let mut s = session();
    let p = SendParams {
        compression: 1.0,
        per_op: None,
        batch_window: SimDuration::from_millis(10),
    };
    let mut busy = SimTime::ZERO;
    let first = send_at(&mut s, &mut link, &p, &mut busy, 0);
    // Sent when the window closes: 1 µs of serialisation + 10 ms + 40 ms.
    assert_eq!(first, ms(50) + SimDuration(1_000));
    assert_eq!(send_at(&mut s, &mut link, &p, &mut busy, 4), first);
    assert_eq!(
        send_at(&mut s, &mut link, &p, &mut busy, 10),
        first,
        "the window is closed at its end"
    );
    let next = send_at(&mut s, &mut link, &p, &mut busy, 11);
    assert_eq!(next, ms(61) + SimDuration(1_000), "a new batch");
    assert_eq!(s.inflight.len(), 4);
    // A disconnect forgets the open batch.
    s.disconnect();
    s.resume(ms(12));
    assert_eq!(
        send_at(&mut s, &mut link, &p, &mut busy, 12),
        ms(62) + SimDuration(1_000)
    );
}

#[test]
fn a_batch_never_arrives_before_its_last_byte_has_travelled() {
    // 8,000 bit/s: 10 bytes take 10 ms, so the link queues.
    let mut link = test_link(SimDuration::from_millis(40), 8_000);
    let mut s = session();
    let p = SendParams {
        compression: 1.0,
        per_op: None,
        batch_window: SimDuration::from_millis(5),
    };
    let mut busy = SimTime::ZERO;
    let first = send_at(&mut s, &mut link, &p, &mut busy, 0);
    assert_eq!(
        first,
        ms(55),
        "10 ms on the wire, 5 ms of window, 40 ms of latency"
    );
    // Its bytes leave at 20 ms: 20 + 40 = 60 > 55, so it arrives after the batch, and
    // the batch's later ops with it.
    let second = send_at(&mut s, &mut link, &p, &mut busy, 1);
    assert_eq!(second, ms(60));
    let third = send_at(&mut s, &mut link, &p, &mut busy, 2);
    assert_eq!(third, ms(70), "the third's bytes leave at 30 ms");
    assert!(first < second && second < third, "in order");
}

#[test]
fn a_batch_is_applied_at_once_and_its_syncer_time_delays_what_follows() {
    let mut link = test_link(SimDuration::from_millis(40), 80_000_000);
    let mut s = session();
    let p = SendParams {
        compression: 1.0,
        per_op: Some(SimDuration::from_millis(5)),
        batch_window: SimDuration::from_millis(10),
    };
    let mut busy = SimTime::ZERO;
    let first = send_at(&mut s, &mut link, &p, &mut busy, 0);
    assert_eq!(
        first,
        ms(55) + SimDuration(1_000),
        "the first op's syncer time"
    );
    for at in 1..=3 {
        assert_eq!(send_at(&mut s, &mut link, &p, &mut busy, at), first);
    }
    assert_eq!(
        busy,
        first + SimDuration::from_millis(15),
        "three more ops of syncer time"
    );
    // The next batch reaches the destination at 61 ms + 1 µs but waits for the syncer.
    let next = send_at(&mut s, &mut link, &p, &mut busy, 11);
    assert_eq!(next, first + SimDuration::from_millis(20));
}

#[test]
fn without_a_window_each_op_has_its_own_draw() {
    let mut link = Link::new(
        LinkParams {
            latency: LatencyDist::LogNormal {
                median: SimDuration::from_millis(40),
                sigma: 0.5,
            },
            jitter: SimDuration::ZERO,
            bandwidth_bps: 80_000_000,
            loss: 0.0,
            latency_interval: SimDuration::ZERO,
        },
        stream_for(1, "l"),
    );
    let mut s = session();
    let p = SendParams {
        compression: 1.0,
        per_op: None,
        batch_window: SimDuration::ZERO,
    };
    let mut busy = SimTime::ZERO;
    let arrivals: Vec<SimTime> = (0..20)
        .map(|i| send_at(&mut s, &mut link, &p, &mut busy, 100 * i))
        .collect();
    // Ops 100 ms apart never wait for each other: their latencies are all different.
    let mut lat: Vec<u64> = arrivals
        .iter()
        .enumerate()
        .map(|(i, a)| a.since(ms(100 * i as u64)).0)
        .collect();
    lat.sort_unstable();
    lat.dedup();
    assert_eq!(lat.len(), 20);
}
