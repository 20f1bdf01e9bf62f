//! Consumer groups across two instances: what replicates and what a reader sees.

use crate::redis::exec::pair::Pair;

/// The docs: XREAD may skip an entry another region wrote with a smaller ID, XREADGROUP
/// never does (one read position per source region).
#[test]
fn xreadgroup_reads_an_entry_that_arrives_late_with_a_smaller_id() {
    let mut p = Pair::new();
    p.run(0, "XADD x 110 f a");
    p.run(1, "XADD x 115 f b");
    p.run(0, "XADD x 120 f c");
    p.run(0, "XGROUP CREATE x g 0");
    let first = p.run(0, "XREADGROUP GROUP g alice STREAMS x >");
    assert!(
        first.contains("110-1") && first.contains("120-1") && !first.contains("115-2"),
        "{first}"
    );
    assert_eq!(p.run(0, "XREAD STREAMS x 120-1"), "(nil)");
    p.deliver(1);
    // 115-2 arrived after the group had read past it: XREAD from the last seen ID misses
    // it, XREADGROUP delivers it.
    assert_eq!(p.run(0, "XREAD STREAMS x 120-1"), "(nil)");
    let read = p.run(0, "XREADGROUP GROUP g alice STREAMS x >");
    assert!(read.contains("115-2") && !read.contains("110-1"), "{read}");
    assert_eq!(p.run(0, "XREADGROUP GROUP g alice STREAMS x >"), "(nil)");
}

/// The docs' ack example: only XACKs that complete a contiguous prefix make an op, and
/// the other region's group moves past the acknowledged entries.
#[test]
fn acks_replicate_only_contiguous_prefixes() {
    let mut p = Pair::new();
    for ms in [110, 120, 130] {
        p.run(0, &format!("XADD x {ms} f v"));
    }
    p.run(0, "XGROUP CREATE x g 0");
    p.run(0, "XREADGROUP GROUP g alice STREAMS x >");
    p.deliver(0);
    let ops = |p: &Pair| p.pending[0].len();
    p.run(0, "XACK x g 110-1");
    assert_eq!(ops(&p), 1, "110 completes a prefix");
    p.deliver(0);
    p.run(0, "XACK x g 130-1");
    assert_eq!(ops(&p), 0, "120 is pending: nothing replicates");
    p.run(0, "XACK x g 120-1");
    assert_eq!(ops(&p), 1, "now 130 completes the prefix");
    p.deliver(0);
    let l = p.ks[1]
        .entry(b"x")
        .and_then(|e| e.stream())
        .and_then(|s| s.groups.local(b"g"))
        .unwrap();
    assert_eq!(l.last_id().to_string(), "130-1");
    assert!(
        l.consumers.is_empty() && l.pel.is_empty(),
        "local state stays local"
    );
    assert_eq!(p.run(1, "XREADGROUP GROUP g bob STREAMS x >"), "(nil)");
}
