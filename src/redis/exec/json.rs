//! JSON commands (the RedisJSON module, as Active-Active runs it): replies and errors of
//! RedisJSON 2.6, with JSONPath (`$…`, replies list every match) and legacy paths (`.a`,
//! replies carry one value). Writes become edits of the JSON CRDT (`crdt::json`).

use super::*;
use crate::crdt::Dot;
use crate::crdt::json::{Edit, JsonCrdt, Lit, Node, NodeId, Place, Val};

mod path;
use path::{Found, JPath, Seg};

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    match cmd.cmd {
        Cmd::JsonSet => set(ex, cmd),
        Cmd::JsonGet => get(ex, cmd),
        Cmd::JsonMGet => mget(ex, cmd),
        Cmd::JsonDel => del(ex, cmd),
        Cmd::JsonType => type_of(ex, cmd),
        Cmd::JsonNumIncrBy => num_incr_by(ex, cmd),
        Cmd::JsonStrAppend => str_append(ex, cmd),
        Cmd::JsonStrLen => str_len(ex, cmd),
        Cmd::JsonToggle => toggle(ex, cmd),
        Cmd::JsonArrAppend | Cmd::JsonArrInsert => arr_insert(ex, cmd),
        Cmd::JsonArrPop => arr_pop(ex, cmd),
        Cmd::JsonArrTrim => arr_trim(ex, cmd),
        Cmd::JsonArrLen => arr_len(ex, cmd),
        Cmd::JsonObjKeys | Cmd::JsonObjLen => obj(ex, cmd),
        Cmd::JsonClear => clear(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

const NO_KEY: &str = "ERR could not perform this operation on a key that doesn't exist";
const NO_PATH: &str = "ERR Path does not exist";

fn expected(what: &str) -> Reply {
    Reply::err(format!(
        "WRONGTYPE wrong type of path value - expected {what}"
    ))
}

fn no_path_or(what: &str) -> Reply {
    Reply::err(format!("ERR Path does not exist or {what}"))
}

fn text(v: &Value) -> String {
    String::from_utf8_lossy(&v.bytes()).into_owned()
}

fn parse_path(v: &Value) -> Result<JPath, Reply> {
    JPath::parse(&text(v)).map_err(Reply::Error)
}

fn parse_json(v: &Value) -> Result<Lit, Reply> {
    Lit::parse(&text(v)).map_err(Reply::Error)
}

fn json_bulk(l: &Lit) -> Reply {
    Reply::Bulk(l.to_json().into_bytes())
}

/// What a write needs to know of the key before it plans its edits.
struct Plan {
    /// The dot the op will get.
    dot: Dot,
    /// The op's count of ops on the key (its clock's sum): where new members are listed.
    rank: u64,
    edits: Vec<Edit>,
    k: u32,
}

impl Plan {
    fn new(ex: &Exec, key: &[u8]) -> Plan {
        let origin = ex.cx.origin;
        let ctx = ex.ks.entry(key).map(|e| e.ctx.clone());
        let seq = ctx.as_ref().map_or(0, |c| c.get(origin)) + 1;
        let rank = ctx.map_or(0, |c| c.entries().iter().sum::<u64>()) + 1;
        Plan {
            dot: Dot { origin, seq },
            rank,
            edits: Vec::new(),
            k: 0,
        }
    }

    fn assign(&mut self, at: Place, pos: Option<(u64, u8, u32)>, value: Lit) {
        let k = self.k;
        self.k += value.nodes();
        let pos = pos.unwrap_or((self.rank, self.dot.origin.0, k));
        self.edits.push(Edit::Assign { at, pos, k, value });
    }

    /// Inserts `values` into `array` after `anchor`, one after another; their element ids.
    fn insert(
        &mut self,
        json: &JsonCrdt,
        array: NodeId,
        mut anchor: Option<NodeId>,
        values: &[Lit],
    ) {
        let first = json.insert_lamport(array, anchor);
        for (lamport, v) in (first..).zip(values) {
            let k = self.k;
            self.k += v.nodes();
            self.edits.push(Edit::Insert {
                array,
                anchor,
                lamport,
                k,
                value: v.clone(),
            });
            anchor = Some(NodeId { dot: self.dot, k });
        }
    }

    fn emit(self, ex: &mut Exec, key: &[u8]) {
        if !self.edits.is_empty() {
            ex.emit(key, OpKind::Json(self.edits));
        }
    }
}

/// The key's document (`None`: no key), or `WRONGTYPE`.
fn load<'a>(ex: &'a Exec, key: &[u8]) -> Result<Option<(&'a JsonCrdt, Node)>, Reply> {
    Ok(ex
        .typed(key, KeyType::Json)?
        .and_then(|e| e.json())
        .and_then(|j| j.doc().map(|d| (j, d))))
}

/// The place a member has now, so a rewrite keeps it listed where it was.
fn keep_pos(f: &Found) -> Option<(u64, u8, u32)> {
    matches!(f.place, Place::Member(..)).then_some(f.node.pos)
}

/// `JSON.SET key path value [NX|XX]`.
fn set(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let path = parse_path(&a[1])?;
    let (mut nx, mut xx) = (false, false);
    for opt in &a[3..] {
        match upper(opt).as_str() {
            "NX" if !nx && !xx => nx = true,
            "XX" if !nx && !xx => xx = true,
            "FORMAT" | "FPHA" => {
                return Err(Reply::err(
                    "ERR JSON.SET FORMAT and FPHA are not modelled by geosim",
                ));
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
    }
    let value = {
        ex.typed(&key, KeyType::Json)?;
        parse_json(&a[2])?
    };
    let mut plan = Plan::new(ex, &key);
    let reply = match load(ex, &key)? {
        None if xx => Reply::Nil,
        None if path.is_root() => {
            plan.assign(Place::Root, None, value);
            Reply::ok()
        }
        None => return Err(Reply::err("ERR new objects must be created at the root")),
        Some(_) if path.is_root() => {
            if nx {
                Reply::Nil
            } else {
                plan.assign(Place::Root, None, value);
                Reply::ok()
            }
        }
        Some((_, doc)) => {
            let found = if nx { Vec::new() } else { path.find(&doc) };
            if !found.is_empty() {
                for f in &found {
                    plan.assign(f.place.clone(), keep_pos(f), value.clone());
                }
                Reply::ok()
            } else if xx {
                Reply::Nil
            } else {
                add(&mut plan, &path, &doc, value)?
            }
        }
    };
    plan.emit(ex, &key);
    Ok(reply)
}

/// `JSON.SET` of a member that does not exist yet: added to every object the path's parent
/// finds.
fn add(plan: &mut Plan, path: &JPath, doc: &Node, value: Lit) -> Result<Reply, Reply> {
    if !path.is_static() {
        return Err(Reply::err("Err wrong static path"));
    }
    let Some((parent, last)) = path.split_last() else {
        return Ok(Reply::Nil);
    };
    match last {
        Seg::Name(name) => {
            let parents = parent.find(doc);
            if parents.is_empty() {
                return Ok(Reply::Nil);
            }
            let mut all = true;
            for p in &parents {
                match &p.node.val {
                    Val::Object(m) if !m.iter().any(|(k, _)| k == name) => {
                        plan.assign(Place::Member(p.node.id, name.clone()), None, value.clone())
                    }
                    _ => all = false,
                }
            }
            Ok(if all { Reply::ok() } else { Reply::Nil })
        }
        _ => {
            if path.find(doc).is_empty() {
                Err(Reply::err("ERR array index out of range"))
            } else {
                Ok(Reply::Nil)
            }
        }
    }
}

/// `JSON.GET key [path …]`.
fn get(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let mut paths = Vec::new();
    for v in &a[1..] {
        let t = upper(v);
        if matches!(t.as_str(), "INDENT" | "NEWLINE" | "SPACE" | "FORMAT") {
            return Err(Reply::err(
                "ERR JSON.GET formatting options are not modelled by geosim",
            ));
        }
        if t != "NOESCAPE" {
            paths.push((text(v), parse_path(v)?));
        }
    }
    if paths.is_empty() {
        paths.push((".".into(), JPath::parse(".").expect("root")));
    }
    let Some((_, doc)) = load(ex, &a[0].bytes())? else {
        return Ok(Reply::Nil);
    };
    let legacy = paths.iter().all(|(_, p)| p.legacy);
    let value_of = |p: &JPath| -> Option<Lit> {
        let found = p.find(&doc);
        if legacy {
            found.first().map(|f| f.node.to_lit())
        } else {
            Some(Lit::Array(found.iter().map(|f| f.node.to_lit()).collect()))
        }
    };
    if paths.len() == 1 {
        return match value_of(&paths[0].1) {
            Some(l) => Ok(json_bulk(&l)),
            None => Err(Reply::err(NO_PATH)),
        };
    }
    // Several paths: an object keyed by path, in the order given (RedisJSON builds it in a
    // hash map, whose order geosim does not reproduce).
    let mut members: Vec<(String, Lit)> = Vec::new();
    for (t, p) in &paths {
        let v = value_of(p).ok_or_else(|| Reply::err(NO_PATH))?;
        if !members.iter().any(|(k, _)| k == t) {
            members.push((t.clone(), v));
        }
    }
    Ok(json_bulk(&Lit::Object(members)))
}

/// `JSON.MGET key [key …] path`.
fn mget(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = parse_path(&a[a.len() - 1])?;
    let mut out = Vec::new();
    for k in &a[..a.len() - 1] {
        // A key of another type, or a legacy path it lacks, reads as nil.
        let doc = load(ex, &k.bytes()).ok().flatten().map(|(_, d)| d);
        out.push(match doc {
            None => Reply::Nil,
            Some(d) => {
                let found = path.find(&d);
                if path.legacy {
                    found
                        .first()
                        .map_or(Reply::Nil, |f| json_bulk(&f.node.to_lit()))
                } else {
                    json_bulk(&Lit::Array(found.iter().map(|f| f.node.to_lit()).collect()))
                }
            }
        });
    }
    Ok(Reply::Array(out))
}

/// The optional path argument at `i` (the root, as a legacy path, when absent).
fn path_or_root(a: &[Value], i: usize) -> Result<JPath, Reply> {
    match a.get(i) {
        Some(v) => parse_path(v),
        None => Ok(JPath::parse(".").expect("root")),
    }
}

/// `JSON.DEL key [path]` (and `JSON.FORGET`).
fn del(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    if a.len() > 2 {
        return Err(Reply::err(
            "ERR wrong number of arguments for 'JSON.DEL' command",
        ));
    }
    let path = path_or_root(a, 1)?;
    let mut plan = Plan::new(ex, &key);
    let n = match load(ex, &key)? {
        None => return Ok(Reply::Int(0)),
        Some(_) if path.is_root() => {
            ex.emit_del(&key, None);
            return Ok(Reply::Int(1));
        }
        Some((_, doc)) => {
            let found = path.find(&doc);
            for f in &found {
                plan.edits.push(Edit::Remove(f.place.clone()));
            }
            found.len() as i64
        }
    };
    plan.emit(ex, &key);
    Ok(Reply::Int(n))
}

/// `JSON.TYPE key [path]`.
fn type_of(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = path_or_root(a, 1)?;
    let Some((_, doc)) = load(ex, &a[0].bytes())? else {
        return Ok(Reply::Nil);
    };
    let found = path.find(&doc);
    Ok(if path.legacy {
        found
            .first()
            .map_or(Reply::Nil, |f| Reply::Status(f.node.type_name()))
    } else {
        Reply::Array(
            found
                .iter()
                .map(|f| Reply::Status(f.node.type_name()))
                .collect(),
        )
    })
}

/// Runs `each` on every value `path` finds in the document at `a[0]` (which must exist);
/// a `$` path replies every result in an array, a legacy path the last one (or `legacy_err`
/// when no value took it).
fn for_each_found(
    ex: &mut Exec,
    a: &[Value],
    path: &JPath,
    legacy_err: &str,
    mut each: impl FnMut(&mut Plan, &JsonCrdt, &Found) -> Result<Option<Reply>, Reply>,
) -> Result<Reply, Reply> {
    let key = a[0].bytes();
    let mut plan = Plan::new(ex, &key);
    let results = {
        let Some((json, doc)) = load(ex, &key)? else {
            return Err(Reply::err(NO_KEY));
        };
        let mut results = Vec::new();
        for f in path.find(&doc) {
            results.push(each(&mut plan, json, &f)?);
        }
        results
    };
    plan.emit(ex, &key);
    if path.legacy {
        results
            .into_iter()
            .flatten()
            .last()
            .ok_or_else(|| no_path_or(legacy_err))
    } else {
        Ok(Reply::Array(
            results
                .into_iter()
                .map(|r| r.unwrap_or(Reply::Nil))
                .collect(),
        ))
    }
}

/// `JSON.NUMINCRBY key path number`.
fn num_incr_by(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = parse_path(&a[1])?;
    let by = match Lit::parse(&text(&a[2])) {
        Ok(l @ (Lit::Int(_) | Lit::Float(_))) => l,
        Ok(_) => return Err(Reply::err("ERR result is not a number")),
        Err(e) => return Err(Reply::Error(e)),
    };
    let mut results: Vec<Lit> = Vec::new();
    let reply = for_each_found(ex, a, &path, "does not contains a number", |plan, _, f| {
        let now = match (&f.node.val, &by) {
            (Val::Int(n), Lit::Int(b)) => Lit::Int(
                n.checked_add(*b)
                    .ok_or_else(|| Reply::err("ERR numeric overflow"))?,
            ),
            (Val::Int(n), Lit::Float(b)) => Lit::Float(*n as f64 + b),
            (Val::Float(x), Lit::Int(b)) => Lit::Float(x + *b as f64),
            (Val::Float(x), Lit::Float(b)) => Lit::Float(x + b),
            _ => {
                results.push(Lit::Null);
                return Ok(None);
            }
        };
        if matches!(now, Lit::Float(x) if !x.is_finite()) {
            return Err(Reply::err("ERR result is not a number"));
        }
        let (int, float) = match by {
            Lit::Int(b) => (b, None),
            Lit::Float(b) => (0, Some(b)),
            _ => unreachable!("a number"),
        };
        plan.edits.push(Edit::Incr {
            node: f.node.id,
            int,
            float,
        });
        results.push(now.clone());
        Ok(Some(Reply::Bulk(now.to_json().into_bytes())))
    })?;
    // `$` paths: one JSON array of the results (null where no number was found).
    Ok(if path.legacy {
        reply
    } else {
        json_bulk(&Lit::Array(results))
    })
}

/// `JSON.STRAPPEND key [path] string`.
fn str_append(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let (path, arg) = if a.len() == 2 {
        (JPath::parse(".").expect("root"), &a[1])
    } else {
        (parse_path(&a[1])?, &a[2])
    };
    let tail = match Lit::parse(&text(arg)) {
        Ok(Lit::Str(s)) => s,
        Ok(_) => return Err(expected("string")),
        Err(e) => return Err(Reply::Error(e)),
    };
    for_each_found(ex, a, &path, "not a string", |plan, _, f| {
        let Val::Str(s) = &f.node.val else {
            return if path.legacy {
                Err(expected("string"))
            } else {
                Ok(None)
            };
        };
        let now = format!("{s}{tail}");
        let len = now.len() as i64;
        plan.assign(f.place.clone(), keep_pos(f), Lit::Str(now));
        Ok(Some(Reply::Int(len)))
    })
}

/// `JSON.STRLEN key [path]`.
fn str_len(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = path_or_root(a, 1)?;
    if ex.typed(&a[0].bytes(), KeyType::Json)?.is_none() {
        return Ok(Reply::Nil);
    }
    for_each_found(ex, a, &path, "not a string", |_, _, f| match &f.node.val {
        Val::Str(s) => Ok(Some(Reply::Int(s.len() as i64))),
        _ if path.legacy => Err(expected("string")),
        _ => Ok(None),
    })
}

/// `JSON.TOGGLE key path`.
fn toggle(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = parse_path(&a[1])?;
    for_each_found(ex, a, &path, "not a bool", |plan, _, f| {
        let Val::Bool(b) = f.node.val else {
            return Ok(None);
        };
        plan.assign(f.place.clone(), keep_pos(f), Lit::Bool(!b));
        Ok(Some(if path.legacy {
            Reply::bulk((!b).to_string())
        } else {
            Reply::Int(i64::from(!b))
        }))
    })
}

fn elements(n: &Node) -> Option<&[(NodeId, Node)]> {
    match &n.val {
        Val::Array(items) => Some(items),
        _ => None,
    }
}

/// `JSON.ARRAPPEND key path value …`, `JSON.ARRINSERT key path index value …`.
fn arr_insert(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = parse_path(&a[1])?;
    let (index, first) = if cmd.cmd == Cmd::JsonArrInsert {
        let i = a[2]
            .as_i64()
            .ok_or_else(|| Reply::err("ERR Couldn't parse as integer"))?;
        (Some(i), 3)
    } else {
        (None, 2)
    };
    if a.len() <= first {
        return Err(Reply::err(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name
        )));
    }
    let values = a[first..]
        .iter()
        .map(parse_json)
        .collect::<Result<Vec<_>, _>>()?;
    for_each_found(ex, a, &path, "not an array", |plan, json, f| {
        let Some(items) = elements(f.node) else {
            return if path.legacy {
                Err(expected("array"))
            } else {
                Ok(None)
            };
        };
        let len = items.len() as i64;
        let at = match index {
            None => len,
            Some(i) => {
                let i = if i < 0 { len + i } else { i };
                if !(0..=len).contains(&i) {
                    return Err(Reply::err("ERR index out of bounds"));
                }
                i
            }
        };
        let anchor = (at > 0).then(|| items[at as usize - 1].0);
        plan.insert(json, f.node.id, anchor, &values);
        Ok(Some(Reply::Int(len + values.len() as i64)))
    })
}

/// `JSON.ARRPOP key [path [index]]`.
fn arr_pop(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = path_or_root(a, 1)?;
    let index = match a.get(2) {
        Some(v) => v
            .as_i64()
            .ok_or_else(|| Reply::err("ERR Couldn't parse as integer"))?,
        None => -1,
    };
    if a.len() > 3 {
        return Err(Reply::err(
            "ERR wrong number of arguments for 'JSON.ARRPOP' command",
        ));
    }
    let legacy = path.legacy;
    for_each_found(ex, a, &path, "not an array", |plan, _, f| {
        let Some(items) = elements(f.node) else {
            return if legacy {
                Err(expected("array"))
            } else {
                Ok(None)
            };
        };
        if items.is_empty() {
            return Ok(Some(Reply::Nil));
        }
        let len = items.len() as i64;
        let i = if index < 0 {
            (len + index).max(0)
        } else {
            index.min(len - 1)
        };
        let (e, n) = &items[i as usize];
        plan.edits.push(Edit::Remove(Place::Elem(*e)));
        Ok(Some(json_bulk(&n.to_lit())))
    })
}

/// `JSON.ARRTRIM key path start stop`.
fn arr_trim(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = parse_path(&a[1])?;
    let int = |v: &Value| {
        v.as_i64()
            .ok_or_else(|| Reply::err("ERR Couldn't parse as integer"))
    };
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    for_each_found(ex, a, &path, "not an array", |plan, _, f| {
        let Some(items) = elements(f.node) else {
            return if path.legacy {
                Err(expected("array"))
            } else {
                Ok(None)
            };
        };
        let len = items.len() as i64;
        let norm = |x: i64| {
            if x < 0 {
                (len + x).max(0)
            } else {
                x.min(len - 1)
            }
        };
        let stop = norm(stop);
        let start = if start < 0 || start < len {
            norm(start)
        } else {
            stop + 1
        };
        let keep = if start > stop || len == 0 {
            0..0
        } else {
            start..stop + 1
        };
        for (i, (e, _)) in items.iter().enumerate() {
            if !keep.contains(&(i as i64)) {
                plan.edits.push(Edit::Remove(Place::Elem(*e)));
            }
        }
        Ok(Some(Reply::Int(keep.end - keep.start)))
    })
}

/// `JSON.ARRLEN key [path]`.
fn arr_len(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = path_or_root(a, 1)?;
    if path.legacy && ex.typed(&a[0].bytes(), KeyType::Json)?.is_none() {
        return Ok(Reply::Nil);
    }
    for_each_found(ex, a, &path, "not an array", |_, _, f| {
        match elements(f.node) {
            Some(items) => Ok(Some(Reply::Int(items.len() as i64))),
            None if path.legacy => Err(expected("array")),
            None => Ok(None),
        }
    })
}

/// `JSON.OBJKEYS key [path]`, `JSON.OBJLEN key [path]`.
fn obj(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let path = path_or_root(a, 1)?;
    let keys = cmd.cmd == Cmd::JsonObjKeys;
    if ex.typed(&a[0].bytes(), KeyType::Json)?.is_none() {
        return Ok(Reply::Nil);
    }
    let r = for_each_found(ex, a, &path, "not an object", |_, _, f| {
        let Val::Object(m) = &f.node.val else {
            return if path.legacy {
                Err(expected("object"))
            } else {
                Ok(None)
            };
        };
        Ok(Some(if keys {
            Reply::Array(m.iter().map(|(k, _)| Reply::bulk(k)).collect())
        } else {
            Reply::Int(m.len() as i64)
        }))
    });
    // A legacy path that finds nothing reads as nil.
    match r {
        Err(Reply::Error(e)) if path.legacy && e.starts_with("ERR Path does not exist") => {
            Ok(Reply::Nil)
        }
        r => r,
    }
}

/// `JSON.CLEAR key [path]`: empties objects and arrays (of what this instance sees: a
/// concurrent add survives) and sets numbers to 0.
fn clear(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    if a.len() > 2 {
        return Err(Reply::err(
            "ERR wrong number of arguments for 'JSON.CLEAR' command",
        ));
    }
    let path = path_or_root(a, 1)?;
    let mut n = 0;
    for_each_found(ex, a, &path, "", |plan, _, f| {
        match &f.node.val {
            Val::Object(m) if !m.is_empty() => plan.edits.push(Edit::Clear(f.node.id)),
            Val::Array(items) if !items.is_empty() => plan.edits.push(Edit::Clear(f.node.id)),
            Val::Int(x) if *x != 0 => plan.assign(f.place.clone(), keep_pos(f), Lit::Int(0)),
            Val::Float(x) if *x != 0.0 => plan.assign(f.place.clone(), keep_pos(f), Lit::Int(0)),
            _ => return Ok(None),
        }
        n += 1;
        Ok(None)
    })
    .or_else(|e| match e {
        // A legacy path with nothing to clear is not an error for `JSON.CLEAR`.
        Reply::Error(m) if m.starts_with("ERR Path does not exist") => Ok(Reply::Nil),
        e => Err(e),
    })?;
    Ok(Reply::Int(n))
}

#[cfg(test)]
mod tests;
