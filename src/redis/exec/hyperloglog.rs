//! HyperLogLog commands (`PFADD`, `PFCOUNT`, `PFMERGE`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    match cmd.cmd {
        Cmd::PfAdd => pf_add(ex, cmd),
        Cmd::PfCount | Cmd::PfMerge => pf_count(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `PFADD`.
fn pf_add(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let e = ex.typed(k, KeyType::Hll)?;
    let regs = e
        .and_then(|e| e.hll())
        .map(|h| h.registers())
        .unwrap_or_else(|| Box::new([0u8; REGISTERS]));
    let mut changes: Vec<(u16, u8)> = Vec::new();
    for el in &a[1..] {
        let (i, c) = hll::position(&el.to_bytes());
        let cur = changes
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, c)| *c)
            .unwrap_or(regs[i as usize]);
        if c > cur {
            changes.retain(|(j, _)| *j != i);
            changes.push((i, c));
        }
    }
    changes.sort_unstable();
    let created = e.is_none();
    if created || !changes.is_empty() {
        ex.emit(k, OpKind::PfAdd(changes));
        Ok(Reply::Int(1))
    } else {
        Ok(Reply::Int(0))
    }
}

/// `PFCOUNT `, `PFMERGE`.
fn pf_count(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let keys = cmd.keys();
    let mut union = Box::new([0u8; REGISTERS]);
    for key in &keys {
        if let Some(h) = ex.typed(key, KeyType::Hll)?.and_then(|e| e.hll()) {
            for (u, r) in union.iter_mut().zip(h.registers().iter()) {
                *u = (*u).max(*r);
            }
        }
    }
    if cmd.cmd == Cmd::PfCount {
        return Ok(Reply::Int(hll::count(&union) as i64));
    }
    let dest = ex.typed(k, KeyType::Hll)?;
    let cur = dest
        .and_then(|e| e.hll())
        .map(|h| h.registers())
        .unwrap_or_else(|| Box::new([0u8; REGISTERS]));
    let changes: Vec<(u16, u8)> = (0..REGISTERS)
        .filter(|i| union[*i] > cur[*i])
        .map(|i| (i as u16, union[i]))
        .collect();
    // Replicated even when it changes nothing, as Redis always propagates a PFMERGE.
    ex.emit(k, OpKind::PfAdd(changes));
    Ok(Reply::ok())
}
