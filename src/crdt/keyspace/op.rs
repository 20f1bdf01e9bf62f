//! Ops: what a write becomes and what replication carries: a key, a dot, the key's vector
//! clock at the origin, the writer's timestamp and the kind of change.

use super::*;

pub type Bytes = Vec<u8>;

/// The data types, in the order used for type stamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyType {
    String,
    Hash,
    Set,
    ZSet,
    List,
    Stream,
    Hll,
    /// A RedisJSON document.
    Json,
}

impl KeyType {
    pub const ALL: [KeyType; 8] = [
        KeyType::String,
        KeyType::Hash,
        KeyType::Set,
        KeyType::ZSet,
        KeyType::List,
        KeyType::Stream,
        KeyType::Hll,
        KeyType::Json,
    ];

    /// What `TYPE` replies (a HyperLogLog is a string in Redis).
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String | KeyType::Hll => "string",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::List => "list",
            KeyType::Stream => "stream",
            KeyType::Json => "ReJSON-RL",
        }
    }
}

/// A key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Expires when the owner's clock reaches this many milliseconds.
    At(u64),
    /// No expiry (`PERSIST`), which beats any `EXPIRE`.
    Persist,
}

/// Which counter-bearing part of a key a remove's observed totals refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Str,
    Field(Bytes),
    Member(Bytes),
}

/// A replicated effect: what one write does to one key, with its causal metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub key: Key,
    pub dot: Dot,
    /// The key's vector clock at the origin right after this op (`vc[origin] == dot.seq`).
    pub vc: VClock,
    /// The origin's wall clock in milliseconds when it wrote.
    pub ts: u64,
    pub kind: OpKind,
    /// An opaque annotation carried with the op and its register; no merge rule reads it.
    /// The simulator stores the true time of the write here, to spot clock-inverted wins.
    pub annotation: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// A string register write (`SET`, `APPEND`, `SETRANGE`, `GETSET`, … as their result),
    /// with the counter totals the writer had observed.
    Set {
        value: Value,
        observed: Vec<Total>,
    },
    Incr {
        int: i64,
        float: f64,
    },
    HSet(Vec<(Bytes, Value, Vec<Total>)>),
    HIncr {
        field: Bytes,
        int: i64,
        float: f64,
    },
    HDel(Vec<(Bytes, Vec<Total>)>),
    SAdd(Vec<Bytes>),
    SRem(Vec<Bytes>),
    ZAdd(Vec<(Bytes, f64, Vec<Total>)>),
    ZIncr {
        member: Bytes,
        by: f64,
    },
    ZRem(Vec<(Bytes, Vec<Total>)>),
    LInsert(Vec<Insert>),
    LRem(Vec<ElemId>),
    LSet {
        id: ElemId,
        value: Value,
    },
    XAdd {
        id: StreamId,
        fields: Vec<(Bytes, Bytes)>,
    },
    XDel(Vec<Dot>),
    /// `XTRIM` (or `XADD`'s trimming): removes these entries, as `XDEL` does, without
    /// counting them as deleted (Redis's `max-deleted-entry-id`).
    XTrim(Vec<Dot>),
    /// `XSETID`: the stream's last ID becomes at least `id` (Active-Active refuses to move it
    /// back); `entries_added` and `max_deleted` set this instance's counters when given.
    XSetId {
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    },
    /// `XGROUP CREATE`: the group, and the ID it starts reading after.
    XGroupCreate {
        group: Bytes,
        id: StreamId,
    },
    /// `XGROUP DESTROY` (delete wins over concurrent creates and ack effects).
    XGroupDestroy {
        group: Bytes,
    },
    /// An `XACK` that completed a contiguous acknowledged prefix: per source region, the
    /// highest ID of that prefix.
    XAck {
        group: Bytes,
        prefix: Vec<(u8, StreamId)>,
    },
    PfAdd(Vec<(u16, u8)>),
    /// A JSON write: its edits, in order (their nodes are numbered across the op).
    Json(Vec<JsonEdit>),
    /// `DEL`, or the owner's expiry: removes what the origin had observed.
    Del {
        observed: Vec<(Part, Vec<Total>)>,
    },
    Expire(Expiry),
}

impl OpKind {
    /// Whether the op removes something (and so leaves removal history behind).
    pub fn removes(&self) -> bool {
        matches!(
            self,
            OpKind::Del { .. }
                | OpKind::HDel(_)
                | OpKind::SRem(_)
                | OpKind::ZRem(_)
                | OpKind::LRem(_)
                | OpKind::XDel(_)
                | OpKind::XTrim(_)
                | OpKind::XGroupDestroy { .. }
        ) || matches!(self, OpKind::Json(edits) if edits.iter().any(|e| matches!(e, JsonEdit::Remove(_) | JsonEdit::Clear(_))))
    }

    /// The data type the op writes, if it writes one.
    pub fn key_type(&self) -> Option<KeyType> {
        Some(match self {
            OpKind::Set { .. } | OpKind::Incr { .. } => KeyType::String,
            OpKind::HSet(_) | OpKind::HIncr { .. } | OpKind::HDel(_) => KeyType::Hash,
            OpKind::SAdd(_) | OpKind::SRem(_) => KeyType::Set,
            OpKind::ZAdd(_) | OpKind::ZIncr { .. } | OpKind::ZRem(_) => KeyType::ZSet,
            OpKind::LInsert(_) | OpKind::LRem(_) | OpKind::LSet { .. } => KeyType::List,
            OpKind::XAdd { .. }
            | OpKind::XDel(_)
            | OpKind::XTrim(_)
            | OpKind::XSetId { .. }
            | OpKind::XGroupCreate { .. }
            | OpKind::XGroupDestroy { .. }
            | OpKind::XAck { .. } => KeyType::Stream,
            OpKind::PfAdd(_) => KeyType::Hll,
            OpKind::Json(_) => KeyType::Json,
            OpKind::Del { .. } | OpKind::Expire(_) => return None,
        })
    }
}

/// What applying an op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The op was new and took effect.
    Applied,
    /// The op's dot was already covered: a redelivery, filtered.
    Duplicate,
    /// Causal consistency is on and an op its origin had observed is missing: buffered.
    Buffered,
}
