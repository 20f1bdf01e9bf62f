//! `XINFO STREAM`, `XINFO GROUPS` and `XINFO CONSUMERS`.

use super::*;

/// `XINFO STREAM key | GROUPS key | CONSUMERS key group | HELP`.
pub(super) fn x_info(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let sub = upper(&a[0]);
    let words = a.len() + 1;
    let arity_ok = match sub.as_str() {
        "GROUPS" => words == 3,
        "CONSUMERS" => words == 4,
        "STREAM" => words >= 3,
        "HELP" => words == 2,
        _ => {
            return Err(Reply::err(format!(
                "ERR unknown subcommand '{}'. Try XINFO HELP.",
                text(&a[0])
            )));
        }
    };
    if !arity_ok {
        return Err(Reply::err(format!(
            "ERR wrong number of arguments for 'xinfo|{}' command",
            sub.to_ascii_lowercase()
        )));
    }
    if sub == "HELP" {
        return Ok(Reply::Array(
            [
                "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CONSUMERS <key> <groupname>",
                "GROUPS <key>",
                "STREAM <key>",
                "HELP",
            ]
            .iter()
            .map(|l| Reply::Status(l))
            .collect(),
        ));
    }
    let key = a[1].to_bytes();
    let Some(e) = ex.typed(&key, KeyType::Stream)? else {
        return Err(Reply::err("ERR no such key"));
    };
    let s = e.stream().expect("a live stream has its part");
    let tomb = e.tomb();
    let now = ex.cx.now_ms as i64;
    let field = |n: &'static str| Reply::bulk(n);
    match sub.as_str() {
        "CONSUMERS" => {
            let group = a[2].to_bytes();
            let Some(l) = s.groups.local(&group) else {
                return Err(no_group(&key, &group));
            };
            Ok(Reply::Array(
                l.consumers
                    .iter()
                    .map(|(c, seen)| {
                        Reply::Array(vec![
                            field("name"),
                            Reply::Bulk(c.clone()),
                            field("pending"),
                            Reply::Int(l.pel.values().filter(|n| n.consumer == *c).count() as i64),
                            field("idle"),
                            Reply::Int((now - *seen as i64).max(0)),
                        ])
                    })
                    .collect(),
            ))
        }
        "GROUPS" => {
            let shape = Shape::of(s);
            Ok(Reply::Array(
                s.groups
                    .live_names(tomb)
                    .filter_map(|g| s.groups.local(g).map(|l| (g, l)))
                    .map(|(g, l)| {
                        Reply::Array(vec![
                            field("name"),
                            Reply::bulk(g),
                            field("consumers"),
                            Reply::Int(l.consumers.len() as i64),
                            field("pending"),
                            Reply::Int(l.pel.len() as i64),
                            field("last-delivered-id"),
                            Reply::bulk(l.last_id().to_string()),
                            field("entries-read"),
                            if l.entries_read == INVALID_ENTRIES_READ {
                                Reply::Nil
                            } else {
                                Reply::Int(l.entries_read)
                            },
                            field("lag"),
                            shape
                                .lag(l.entries_read, l.last_id())
                                .map_or(Reply::Nil, Reply::Int),
                        ])
                    })
                    .collect(),
            ))
        }
        _ => {
            if words > 3 {
                if upper(&a[2]) == "FULL" && (words == 4 || words == 6) {
                    return Err(Reply::err(
                        "ERR XINFO STREAM FULL is a form that geosim does not model (use \
                         XINFO STREAM, XINFO GROUPS, XINFO CONSUMERS and XPENDING)",
                    ));
                }
                return Err(Reply::err(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
                    text(&a[0])
                )));
            }
            let shape = Shape::of(s);
            let first = s.live().next().map_or(Reply::Nil, entry_reply);
            let last = s.live().last().map_or(Reply::Nil, entry_reply);
            // Redis also reports `radix-tree-keys` and `radix-tree-nodes`, the sizes of its
            // own radix tree, which geosim does not model: they are left out rather than made up
            // (docs/semantics.md).
            Ok(Reply::Array(vec![
                field("length"),
                Reply::Int(shape.len),
                field("last-generated-id"),
                Reply::bulk(shape.last.to_string()),
                field("max-deleted-entry-id"),
                Reply::bulk(shape.max_deleted.to_string()),
                field("entries-added"),
                Reply::Int(shape.added),
                field("recorded-first-entry-id"),
                Reply::bulk(shape.first.to_string()),
                field("groups"),
                Reply::Int(s.groups.live_names(tomb).count() as i64),
                field("first-entry"),
                first,
                field("last-entry"),
                last,
            ]))
        }
    }
}
