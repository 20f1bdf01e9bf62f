//! `SET` of an HLL-encoded value keeps the key a HyperLogLog in Active-Active [HLL]: geosim
//! decodes Redis's own encoding. A live Redis builds HyperLogLogs of 0 to 20,000 elements
//! (sparse, and dense past Redis's sparse limit or a register over 32); geosim, given the
//! bytes Redis's `GET` returns, must count what Redis counts.

use geosim::crdt::stream::XaddIdMode;
use geosim::crdt::{InstanceId, Keyspace};
use geosim::redis::{Command, ExecContext, Reply, execute};

use super::server::{Resp, Server};

fn run(ks: &mut Keyspace, args: &[Vec<u8>]) -> Reply {
    let cx = ExecContext {
        origin: InstanceId(0),
        now_ms: 1_000,
        xadd_mode: XaddIdMode::Strict,
        annotation: 0,
    };
    execute(ks, &Command::from_args(args).expect("a command"), &cx).reply
}

#[test]
fn set_of_an_hll_encoded_value_counts_as_redis_counts() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let (mut sparse, mut dense) = (0, 0);
    for (trial, n) in [0usize, 1, 3, 40, 200, 900, 2_000, 20_000]
        .into_iter()
        .enumerate()
    {
        let key = format!("h{trial}");
        let mut add = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
        add.extend((0..n).map(|i| format!("e{trial}-{i}").into_bytes()));
        assert!(matches!(c.call(&add), Resp::Int(_)));
        let Resp::Bulk(Some(bytes)) = c.call(&[b"GET".to_vec(), key.clone().into_bytes()]) else {
            panic!("GET of an HLL");
        };
        if bytes[4] == 1 {
            sparse += 1;
        } else {
            dense += 1;
        }
        let Resp::Int(redis_count) = c.cmd(&format!("PFCOUNT {key}")) else {
            panic!("PFCOUNT");
        };
        let mut ks = Keyspace::new(1);
        let set = run(&mut ks, &[b"SET".to_vec(), b"k".to_vec(), bytes.clone()]);
        assert_eq!(set, Reply::Status("OK"));
        assert_eq!(
            run(&mut ks, &[b"PFCOUNT".to_vec(), b"k".to_vec()]),
            Reply::Int(redis_count),
            "{n} elements"
        );
        // It is an HLL: PFADD works on it, and a plain string stays a string.
        assert!(
            !run(
                &mut ks,
                &[b"PFADD".to_vec(), b"k".to_vec(), b"new".to_vec()]
            )
            .is_error()
        );
        let mut broken = bytes.clone();
        broken[0] = b'X';
        run(&mut ks, &[b"SET".to_vec(), b"s".to_vec(), broken]);
        assert_eq!(
            run(&mut ks, &[b"PFCOUNT".to_vec(), b"s".to_vec()]),
            Reply::err("WRONGTYPE Key is not a valid HyperLogLog string value.")
        );
    }
    assert!(sparse >= 3 && dense >= 1, "sparse {sparse}, dense {dense}");
}
