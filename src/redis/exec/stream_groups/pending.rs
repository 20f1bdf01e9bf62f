//! `XPENDING`, `XCLAIM` and `XAUTOCLAIM`: this instance's pending entries, read and handed
//! to other consumers (local: never replicated).

use super::*;

/// `XPENDING key group [[IDLE ms] start end count [consumer]]`.
pub(super) fn x_pending(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let words = a.len() + 1;
    if words != 3 && !(6..=9).contains(&words) {
        return Err(Reply::err(SYNTAX));
    }
    let mut range = None;
    if words >= 6 {
        let mut at = 2;
        let mut min_idle = 0;
        if upper(&a[2]) == "IDLE" {
            min_idle = int_arg(&a[3])?;
            if words < 8 {
                return Err(Reply::err(SYNTAX));
            }
            at += 2;
        }
        let count = int_arg(&a[at + 2])?.max(0) as usize;
        let lo = interval_bound(&a[at], true)?;
        let hi = interval_bound(&a[at + 1], false)?;
        let consumer = a.get(at + 3).map(|c| c.to_bytes().to_vec());
        range = Some((min_idle, lo, hi, count, consumer));
    }
    let key = a[0].to_bytes();
    let group = a[1].to_bytes();
    if !group_exists(ex, &key, &group)? {
        return Err(no_key_or_group(&key, &group, ""));
    }
    let e = ex.view(&key).expect("the stream exists");
    let l = e
        .stream()
        .and_then(|s| s.groups.local(&group))
        .expect("the group exists here");
    let now = ex.cx.now_ms as i64;
    let Some((min_idle, lo, hi, count, consumer)) = range else {
        if l.pel.is_empty() {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        }
        let first = l.pel.keys().next().expect("not empty").0;
        let last = l.pel.keys().next_back().expect("not empty").0;
        let per: Vec<Reply> = l
            .consumers
            .keys()
            .filter_map(|c| {
                let n = l.pel.values().filter(|x| x.consumer == *c).count();
                (n > 0)
                    .then(|| Reply::Array(vec![Reply::Bulk(c.clone()), Reply::bulk(n.to_string())]))
            })
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(l.pel.len() as i64),
            Reply::bulk(first.to_string()),
            Reply::bulk(last.to_string()),
            Reply::Array(per),
        ]));
    };
    if let Some(c) = &consumer
        && !l.consumers.contains_key(c)
    {
        return Ok(Reply::Array(Vec::new()));
    }
    let out = l
        .pel
        .iter()
        .filter(|((id, _), n)| {
            *id >= lo
                && *id <= hi
                && consumer.as_ref().is_none_or(|c| n.consumer == *c)
                && (min_idle == 0 || now - n.delivered_ms as i64 >= min_idle)
        })
        .take(count)
        .map(|((id, _), n)| {
            Reply::Array(vec![
                Reply::bulk(id.to_string()),
                Reply::Bulk(n.consumer.clone()),
                Reply::Int((now - n.delivered_ms as i64).max(0)),
                Reply::Int(n.count as i64),
            ])
        })
        .collect();
    Ok(Reply::Array(out))
}

/// `XCLAIM key group consumer min-idle id ... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE]
/// [JUSTID] [LASTID id]`: changes the owner of pending entries (local: not replicated).
pub(super) fn x_claim(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].to_bytes();
    let group = a[1].to_bytes();
    let consumer = a[2].to_bytes().to_vec();
    if !group_exists(ex, &key, &group)? {
        return Err(no_key_or_group(&key, &group, ""));
    }
    let min_idle = a[3]
        .as_i64()
        .ok_or_else(|| Reply::err("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 4;
    while j < a.len() {
        match strict_id(&a[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ex.cx.now_ms as i64;
    let (mut force, mut justid) = (false, false);
    let mut retry: Option<i64> = None;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::default();
    while j < a.len() {
        let more = a.len() - 1 - j;
        let opt = upper(&a[j]);
        let num = |v: &Value, what: &str| {
            v.as_i64()
                .ok_or_else(|| Reply::err(format!("ERR Invalid {what} option argument for XCLAIM")))
        };
        match opt.as_str() {
            "FORCE" => force = true,
            "JUSTID" => justid = true,
            "IDLE" if more > 0 => {
                j += 1;
                delivery = Some(now - num(&a[j], "IDLE")?);
            }
            "TIME" if more > 0 => {
                j += 1;
                delivery = Some(num(&a[j], "TIME")?);
            }
            "RETRYCOUNT" if more > 0 => {
                j += 1;
                retry = Some(num(&a[j], "RETRYCOUNT")?);
            }
            "LASTID" if more > 0 => {
                j += 1;
                last_id = strict_id(&a[j])?;
            }
            _ => {
                return Err(Reply::err(format!(
                    "ERR Unrecognized XCLAIM option '{}'",
                    text(&a[j])
                )));
            }
        }
        j += 1;
    }
    let delivered = match delivery {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    } as u64;
    let out = with_local(ex, &key, &group, |l, entries| {
        if last_id > l.last_id() {
            l.raise_all(last_id);
        }
        let mut out = Vec::new();
        let mut touched = false;
        for id in ids {
            let live: Vec<&StreamEntry> =
                entries.iter().filter(|e| !e.dead && e.id == id).collect();
            // Pending entries whose entry is gone are dropped.
            l.pel
                .retain(|(x, r), _| *x != id || live.iter().any(|e| region(e) == *r));
            for e in live {
                let k = (id, region(e));
                // A forced entry starts with no owner, delivered now, once (as Redis's NACK).
                if force && !l.pel.contains_key(&k) {
                    l.pel.insert(
                        k,
                        Nack {
                            consumer: Vec::new(),
                            delivered_ms: now as u64,
                            count: 1,
                        },
                    );
                }
                let Some(n) = l.pel.get_mut(&k) else {
                    continue;
                };
                let owned = !n.consumer.is_empty();
                if owned && min_idle > 0 && now - (n.delivered_ms as i64) < min_idle {
                    continue;
                }
                touched = true;
                n.consumer = consumer.clone();
                n.delivered_ms = delivered;
                match retry {
                    Some(c) if c >= 0 => n.count = c as u64,
                    _ if !justid => n.count += 1,
                    _ => {}
                }
                out.push(if justid {
                    Reply::bulk(id.to_string())
                } else {
                    entry_reply(e)
                });
            }
        }
        if touched {
            touch_consumer(l, &consumer, now as u64);
        }
        out
    })
    .expect("the group exists here");
    Ok(Reply::Array(out))
}

/// `XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]`.
pub(super) fn x_autoclaim(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let min_idle = a[3]
        .as_i64()
        .ok_or_else(|| Reply::err("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = interval_bound(&a[4], true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 5;
    while j < a.len() {
        let more = a.len() - 1 - j;
        match upper(&a[j]).as_str() {
            "COUNT" if more > 0 => {
                count = match a[j + 1].as_i64() {
                    Some(c) if (1..=i64::MAX / 10).contains(&c) => c,
                    _ => return Err(Reply::err("ERR COUNT must be > 0")),
                };
                j += 1;
            }
            "JUSTID" => justid = true,
            _ => return Err(Reply::err(SYNTAX)),
        }
        j += 1;
    }
    let key = a[0].to_bytes();
    let group = a[1].to_bytes();
    let consumer = a[2].to_bytes().to_vec();
    if !group_exists(ex, &key, &group)? {
        return Err(no_key_or_group(&key, &group, ""));
    }
    let now = ex.cx.now_ms;
    let reply = with_local(ex, &key, &group, |l, entries| {
        let keys: Vec<(StreamId, u8)> = l.pel.range((start, 0)..).map(|(k, _)| *k).collect();
        let mut attempts = count * 10;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut next = 0;
        while attempts > 0 && count > 0 && next < keys.len() {
            attempts -= 1;
            let k = keys[next];
            next += 1;
            let Some(e) = entries
                .iter()
                .find(|e| !e.dead && e.id == k.0 && region(e) == k.1)
            else {
                l.pel.remove(&k);
                deleted.push(Reply::bulk(k.0.to_string()));
                count -= 1;
                continue;
            };
            let n = l.pel.get_mut(&k).expect("listed");
            if min_idle > 0 && (now as i64) - (n.delivered_ms as i64) < min_idle {
                continue;
            }
            n.consumer = consumer.clone();
            n.delivered_ms = now;
            if !justid {
                n.count += 1;
            }
            claimed.push(if justid {
                Reply::bulk(k.0.to_string())
            } else {
                entry_reply(e)
            });
            count -= 1;
        }
        if !claimed.is_empty() {
            touch_consumer(l, &consumer, now);
        }
        let cursor = keys.get(next).map(|k| k.0).unwrap_or_default();
        Reply::Array(vec![
            Reply::bulk(cursor.to_string()),
            Reply::Array(claimed),
            Reply::Array(deleted),
        ])
    })
    .expect("the group exists here");
    Ok(reply)
}
