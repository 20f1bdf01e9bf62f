//! The differential test's stream commands beyond `XADD`/`XRANGE`/`XREAD`: consumer groups,
//! trimming and `XSETID`, on the stream `x0`.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::differential::{STREAMS, key, pick};

/// Consumer groups of the stream `x0`, and their consumers.
const GROUPS: &[&str] = &["g0", "g1"];
const CONSUMERS: &[&str] = &["c0", "c1"];

/// A consumer-group command on the stream `x0` (IDs up to `top`, the last one added).
pub(super) fn group_command(r: &mut ChaCha8Rng, top: u64) -> Vec<String> {
    let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let g = pick(r, GROUPS);
    let c = pick(r, CONSUMERS);
    let id = |r: &mut ChaCha8Rng| format!("{}-1", r.random_range(0..=top + 1));
    let s = key(r, STREAMS);
    match r.random_range(0..16) {
        15 => {
            let forms: &[&[&str]] = &[
                &["XREAD", "GROUP", g, c, "STREAMS", s, "0"],
                &["XREAD", "NOACK", "STREAMS", s, "0"],
                &["XREAD", "STREAMS", s, s, "0"],
                &["XREADGROUP", "GROUP", g, c, "STREAMS", s, s, ">"],
                &["XREADGROUP", "COUNT", "1", "STREAMS", s, ">"],
            ];
            w(forms[r.random_range(0..forms.len())])
        }
        14 => {
            let to = [
                format!("{}", top + 1),
                format!("{top}-1"),
                "1-1".into(),
                "x".into(),
            ];
            let mut v = vec![
                "XSETID".to_string(),
                s.into(),
                to[r.random_range(0..4)].clone(),
            ];
            let opts: &[&[&str]] = &[
                &[],
                &["ENTRIESADDED", "50"],
                &["MAXDELETEDID", "1-1"],
                &["ENTRIESADDED", "0"],
            ];
            v.extend(w(opts[r.random_range(0..opts.len())]));
            v
        }
        12 => {
            let mut v = w(&["XTRIM", s]);
            let opts: &[&[&str]] = &[
                &["MAXLEN", "2"],
                &["MAXLEN", "=", "1"],
                &["MAXLEN", "~", "1"],
                &["MINID", "3-1"],
                &["MINID", "~", "5", "LIMIT", "100"],
                &["MAXLEN", "2", "LIMIT", "5"],
                &["MAXLEN", "-1"],
                &["LIMIT", "5"],
                &[],
            ];
            v.extend(w(opts[r.random_range(0..opts.len())]));
            v
        }
        13 => {
            let opts: &[&[&str]] = &[
                &["MAXLEN", "3"],
                &["MAXLEN", "~", "2"],
                &["MINID", "=", "2-1"],
                &["NOMKSTREAM"],
                &["NOMKSTREAM", "MAXLEN", "1"],
                &["LIMIT", "2"],
            ];
            let mut v = w(&["XADD", s]);
            v.extend(w(opts[r.random_range(0..opts.len())]));
            v.push(format!("{}", top + 1 + r.random_range(0..3)));
            v.extend(w(&["f", "v"]));
            v
        }
        0 | 1 => {
            let start = pick(r, &["0", "$", "1-1", "x", "+"]);
            let mut v = w(&["XGROUP", "CREATE", s, g, start]);
            if r.random_bool(0.5) {
                v.push("MKSTREAM".into());
            }
            v
        }
        2 => w(&["XGROUP", "DESTROY", s, g]),
        3 => {
            let to = pick(r, &["0", "$", "+", "1-1", "2"]);
            w(&["XGROUP", "SETID", s, g, to])
        }
        4 => w(&[
            pick(r, &["XGROUP"]),
            pick(r, &["CREATECONSUMER", "DELCONSUMER"]),
            s,
            g,
            c,
        ]),
        5 | 6 => {
            let mut v = w(&["XREADGROUP", "GROUP", g, c]);
            if r.random_bool(0.5) {
                v.extend(w(&["COUNT", pick(r, &["1", "2", "0"])]));
            }
            if r.random_bool(0.15) {
                v.push("NOACK".into());
            }
            v.push("STREAMS".into());
            v.push(s.into());
            v.push(pick(r, &[">", ">", ">", "0", "1-1", "$"]).into());
            v
        }
        7 => {
            let mut v = w(&["XACK", s, g]);
            for _ in 0..r.random_range(1..=3) {
                v.push(id(r));
            }
            v
        }
        8 => match r.random_range(0..4) {
            0 => w(&["XPENDING", s, g]),
            1 => w(&["XPENDING", s, g, "-", "+", pick(r, &["1", "10", "x"])]),
            2 => w(&["XPENDING", s, g, "-", "+", "10", c]),
            _ => w(&["XPENDING", s, g, "IDLE", "0", "(0-1", "+", "5"]),
        },
        9 => {
            let mut v = w(&["XCLAIM", s, g, c, pick(r, &["0", "100000", "x"])]);
            v.push(id(r));
            if r.random_bool(0.3) {
                v.push(id(r));
            }
            let opts: &[&[&str]] = &[&[], &["JUSTID"], &["FORCE"], &["RETRYCOUNT", "3"], &["BAD"]];
            v.extend(w(opts[r.random_range(0..opts.len())]));
            v
        }
        10 => {
            let mut v = w(&[
                "XAUTOCLAIM",
                s,
                g,
                c,
                "0",
                pick(r, &["0", "-", "(1-1", "x"]),
            ]);
            let opts: &[&[&str]] = &[&[], &["COUNT", "1"], &["JUSTID"], &["COUNT", "0"]];
            v.extend(w(opts[r.random_range(0..opts.len())]));
            v
        }
        _ => match r.random_range(0..3) {
            0 => w(&["XINFO", "GROUPS", s]),
            1 => w(&["XINFO", "CONSUMERS", s, g]),
            _ => w(&["XINFO", "STREAM", s]),
        },
    }
}
