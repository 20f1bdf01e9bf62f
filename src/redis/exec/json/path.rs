//! Paths into a JSON document: JSONPath (`$.a[0]['b']`, `[*]`, `.*`) and RedisJSON's legacy
//! paths (`.`, `.a.b`, `a[0]`). Filters, slices, unions and recursive descent are not
//! modelled: such a path gets an error saying so.

use crate::crdt::json::{Node, NodeId, Place, Val};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Name(String),
    Index(i64),
    Wild,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JPath {
    pub segs: Vec<Seg>,
    /// A legacy path: replies carry one value, not an array of matches.
    pub legacy: bool,
}

/// A value a path found, and where it sits.
pub(crate) struct Found<'a> {
    pub place: Place,
    pub node: &'a Node,
}

impl JPath {
    pub fn parse(text: &str) -> Result<JPath, String> {
        let (body, legacy) = if let Some(rest) = text.strip_prefix('$') {
            (rest.to_string(), false)
        } else if text == "." {
            (String::new(), true)
        } else if text.starts_with('.') || text.starts_with('[') {
            (text.to_string(), true)
        } else {
            (format!(".{text}"), true)
        };
        let b = body.as_bytes();
        let mut segs = Vec::new();
        let mut i = 0;
        let bad = |why: &str| Err(format!("ERR invalid JSONPath '{text}': {why}"));
        let not_modelled = |what: &str| {
            Err(format!(
                "ERR JSONPath {what} in '{text}' are not modelled by geosim"
            ))
        };
        while i < b.len() {
            match b[i] {
                b'.' => {
                    i += 1;
                    if i < b.len() && b[i] == b'.' {
                        return not_modelled("recursive descents (`..`)");
                    }
                    if i < b.len() && b[i] == b'*' {
                        segs.push(Seg::Wild);
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                        i += 1;
                    }
                    if start == i {
                        return bad("a name must follow '.'");
                    }
                    segs.push(Seg::Name(body[start..i].to_string()));
                }
                b'[' => {
                    let Some(end) = find_close(b, i) else {
                        return bad("'[' is not closed");
                    };
                    let inner = body[i + 1..end].trim();
                    i = end + 1;
                    if inner == "*" {
                        segs.push(Seg::Wild);
                    } else if let Some(name) = quoted(inner) {
                        segs.push(Seg::Name(name));
                    } else if let Ok(n) = inner.parse::<i64>() {
                        segs.push(Seg::Index(n));
                    } else if inner.starts_with('?') {
                        return not_modelled("filters (`[?(...)]`)");
                    } else if inner.contains(':') {
                        return not_modelled("slices (`[a:b]`)");
                    } else if inner.contains(',') {
                        return not_modelled("unions (`[a,b]`)");
                    } else {
                        return bad("expected a quoted name, an index or '*' in brackets");
                    }
                }
                _ => return bad("expected '.' or '['"),
            }
        }
        Ok(JPath { segs, legacy })
    }

    pub fn is_root(&self) -> bool {
        self.segs.is_empty()
    }

    pub fn is_static(&self) -> bool {
        !self.segs.contains(&Seg::Wild)
    }

    /// The path without its last step, and that step.
    pub fn split_last(&self) -> Option<(JPath, &Seg)> {
        let (last, init) = self.segs.split_last()?;
        Some((
            JPath {
                segs: init.to_vec(),
                legacy: self.legacy,
            },
            last,
        ))
    }

    /// Every value the path finds in `doc`, in document order.
    pub fn find<'a>(&self, doc: &'a Node) -> Vec<Found<'a>> {
        let mut cur = vec![Found {
            place: Place::Root,
            node: doc,
        }];
        for seg in &self.segs {
            let mut next = Vec::new();
            for f in &cur {
                step(f.node, seg, &mut next);
            }
            cur = next;
        }
        cur
    }
}

fn step<'a>(n: &'a Node, seg: &Seg, out: &mut Vec<Found<'a>>) {
    let member = |id: NodeId, name: &str, node: &'a Node| Found {
        place: Place::Member(id, name.to_string()),
        node,
    };
    match (&n.val, seg) {
        (Val::Object(m), Seg::Name(name)) => {
            if let Some((k, c)) = m.iter().find(|(k, _)| k == name) {
                out.push(member(n.id, k, c));
            }
        }
        (Val::Object(m), Seg::Wild) => {
            out.extend(m.iter().map(|(k, c)| member(n.id, k, c)));
        }
        (Val::Array(items), Seg::Index(i)) => {
            let len = items.len() as i64;
            let i = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&i) {
                let (e, c) = &items[i as usize];
                out.push(Found {
                    place: Place::Elem(*e),
                    node: c,
                });
            }
        }
        (Val::Array(items), Seg::Wild) => {
            out.extend(items.iter().map(|(e, c)| Found {
                place: Place::Elem(*e),
                node: c,
            }));
        }
        _ => {}
    }
}

fn find_close(b: &[u8], open: usize) -> Option<usize> {
    let mut quote = None;
    let mut i = open + 1;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), b'\\') => i += 1,
            (None, b'\'' | b'"') => quote = Some(b[i]),
            (None, b']') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn quoted(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if (q != '\'' && q != '"') || s.len() < 2 || !s.ends_with(q) {
        return None;
    }
    let mut out = String::new();
    let mut chars = s[1..s.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_and_legacy_forms_parse_to_steps() {
        let p = JPath::parse("$.todo[0]['done']").unwrap();
        assert_eq!(
            p.segs,
            vec![
                Seg::Name("todo".into()),
                Seg::Index(0),
                Seg::Name("done".into())
            ]
        );
        assert!(!p.legacy);
        assert!(JPath::parse("$").unwrap().is_root());
        let l = JPath::parse(".").unwrap();
        assert!(l.legacy && l.is_root());
        assert_eq!(JPath::parse("a.b").unwrap().segs.len(), 2);
        assert_eq!(JPath::parse("$.*").unwrap().segs, vec![Seg::Wild]);
        assert_eq!(JPath::parse("$[*]").unwrap().segs, vec![Seg::Wild]);
        assert_eq!(
            JPath::parse(r#"$["a.b"]"#).unwrap().segs,
            vec![Seg::Name("a.b".into())]
        );
    }

    #[test]
    fn unmodelled_jsonpath_says_so_and_bad_paths_are_errors() {
        let e = JPath::parse("$..a").unwrap_err();
        assert!(e.contains("not modelled by geosim"), "{e}");
        let e = JPath::parse("$.a[?(@.b>1)]").unwrap_err();
        assert!(e.contains("filters"), "{e}");
        let e = JPath::parse("$.a[").unwrap_err();
        assert!(e.starts_with("ERR invalid JSONPath"), "{e}");
        assert!(JPath::parse("$a").is_err());
    }
}
