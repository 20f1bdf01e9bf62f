//! Real `redis-server` processes for the live tier: started on loopback on a port the kernel
//! chose, each in its own temporary directory, stopped by PID when dropped; and a small RESP
//! client to talk to them. The wall-clock waits here (`Instant`) bound how long a real server
//! may take to answer; they never touch a simulated run, whose time is its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: Debian's `redis-server` package (7.0.15 on Debian 12), which
/// `scripts/test.sh` installs when it is missing.
const BINARY: &str = "redis-server";

/// How long a server may take to answer after it starts, or a replica to get in sync.
const PATIENCE: Duration = Duration::from_secs(30);

/// A reply as Redis sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resp {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

/// A connection speaking RESP.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn open(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(PATIENCE))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Resp {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer
            .write_all(&out)
            .expect("the server takes the command");
        self.read().expect("the server answers")
    }

    /// Sends `n` commands already encoded in `wire` at once (a pipeline) and reads their
    /// replies, each of which must be `+OK`.
    pub fn send_raw(&mut self, wire: &[u8], n: usize) {
        self.writer
            .write_all(wire)
            .expect("the server takes the commands");
        for i in 0..n {
            let r = self.read().expect("the server answers");
            assert_eq!(r, Resp::Status("OK".into()), "reply {i} of {n}");
        }
    }

    pub fn cmd(&mut self, line: &str) -> Resp {
        let args: Vec<&str> = line.split_whitespace().collect();
        self.call(&args)
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        self.reader.read_line(&mut l)?;
        if !l.ends_with("\r\n") {
            return Err(std::io::Error::other(format!("truncated reply line {l:?}")));
        }
        l.truncate(l.len() - 2);
        Ok(l)
    }

    fn read(&mut self) -> std::io::Result<Resp> {
        let l = self.line()?;
        let (kind, rest) = l.split_at(1);
        let num = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| std::io::Error::other(format!("bad number {s:?}")))
        };
        Ok(match kind {
            "+" => Resp::Status(rest.to_string()),
            "-" => Resp::Error(rest.to_string()),
            ":" => Resp::Int(num(rest)?),
            "$" => match num(rest)? {
                -1 => Resp::Bulk(None),
                n => {
                    let mut b = vec![0; n as usize + 2];
                    self.reader.read_exact(&mut b)?;
                    b.truncate(n as usize);
                    Resp::Bulk(Some(b))
                }
            },
            "*" => match num(rest)? {
                -1 => Resp::Array(None),
                n => Resp::Array(Some((0..n).map(|_| self.read()).collect::<Result<_, _>>()?)),
            },
            _ => return Err(std::io::Error::other(format!("unknown reply {l:?}"))),
        })
    }

    /// A field of `INFO <section>`.
    pub fn info(&mut self, section: &str, field: &str) -> Option<String> {
        let Resp::Bulk(Some(text)) = self.call(&["INFO", section]) else {
            return None;
        };
        String::from_utf8_lossy(&text).lines().find_map(|l| {
            l.strip_prefix(field)
                .and_then(|r| r.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
    }

    pub fn info_u64(&mut self, section: &str, field: &str) -> u64 {
        self.info(section, field)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("INFO {section} has no numeric {field}"))
    }
}

/// One `redis-server`, stopped (killed by PID) and its directory removed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts a server with the given extra arguments (`--name value` pairs). Panics with the
    /// reason when `redis-server` is not installed: the live tier is part of the suite.
    pub fn start(extra: &[&str]) -> Server {
        let mut last_error = String::new();
        for _ in 0..5 {
            // A port the kernel chose: bound, read and released, then given to the server.
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a loopback port")
                .port();
            let dir =
                std::env::temp_dir().join(format!("geosim-live-{}-{port}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            let spawned = Command::new(BINARY)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--protected-mode", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match spawned {
                Ok(c) => c,
                Err(e) => panic!(
                    "cannot start {BINARY} ({e}): the live-Redis tests need it; \
                     ./scripts/test.sh installs it (apt-get install redis-server)"
                ),
            };
            let mut server = Server { child, port, dir };
            let deadline = Instant::now() + PATIENCE;
            while Instant::now() < deadline {
                if let Ok(mut c) = Conn::open(port)
                    && c.cmd("PING") == Resp::Status("PONG".into())
                {
                    return server;
                }
                if let Ok(Some(status)) = server.child.try_wait() {
                    last_error = format!("{BINARY} exited with {status} on port {port}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            server.stop();
        }
        panic!("no redis-server would start: {last_error}");
    }

    pub fn conn(&self) -> Conn {
        Conn::open(self.port).expect("connect to the server")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A primary and its replica, the replica in sync: the primary then keeps a replication
/// backlog and counts `master_repl_offset`, the stream bytes of every write.
pub struct Pair {
    pub primary: Server,
    pub replica: Server,
}

impl Pair {
    /// A primary started with `primary_args` and a replica of it, connected directly.
    pub fn start(primary_args: &[&str]) -> Pair {
        let primary = Server::start(primary_args);
        let replica = Server::start(&["--replicaof", "127.0.0.1", &primary.port.to_string()]);
        let pair = Pair { primary, replica };
        pair.wait_synced();
        pair
    }

    /// A primary and a replica connected through `proxy` (started for the primary).
    pub fn through_proxy(primary_args: &[&str]) -> (Pair, Proxy) {
        let primary = Server::start(primary_args);
        let proxy = Proxy::start(primary.port);
        let replica = Server::start(&["--replicaof", "127.0.0.1", &proxy.port.to_string()]);
        let pair = Pair { primary, replica };
        pair.wait_synced();
        (pair, proxy)
    }

    /// Waits until the replica's link is up and it has applied everything.
    pub fn wait_synced(&self) {
        let (mut p, mut r) = (self.primary.conn(), self.replica.conn());
        let deadline = Instant::now() + PATIENCE;
        loop {
            let up = r.info("replication", "master_link_status").as_deref() == Some("up");
            if up {
                let m = p.info_u64("replication", "master_repl_offset");
                let s = r.info_u64("replication", "slave_repl_offset");
                if m == s {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the replica never got in sync");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A TCP proxy on loopback that can be cut: a partition closes both halves of every
/// connection it carries and refuses new ones until healed (as `shared/validation/`'s harness
/// cut its replicas off).
pub struct Proxy {
    pub port: u16,
    state: std::sync::Arc<std::sync::Mutex<ProxyState>>,
}

#[derive(Default)]
struct ProxyState {
    cut: bool,
    open: Vec<TcpStream>,
    stopped: bool,
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let state = std::sync::Arc::new(std::sync::Mutex::new(ProxyState::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { continue };
                let mut st = shared.lock().expect("proxy state");
                if st.stopped {
                    return;
                }
                if st.cut {
                    let _ = down.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = down.shutdown(std::net::Shutdown::Both);
                    continue;
                };
                for (from, to) in [(&down, &up), (&up, &down)] {
                    let (mut r, mut w) = (
                        from.try_clone().expect("a socket"),
                        to.try_clone().expect("a socket"),
                    );
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut r, &mut w);
                        let _ = w.shutdown(std::net::Shutdown::Both);
                        let _ = r.shutdown(std::net::Shutdown::Both);
                    });
                }
                st.open.push(down);
                st.open.push(up);
            }
        });
        Proxy { port, state }
    }

    /// Cuts every connection and refuses new ones.
    pub fn partition(&self) {
        let mut st = self.state.lock().expect("proxy state");
        st.cut = true;
        for s in st.open.drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn heal(&self) {
        self.state.lock().expect("proxy state").cut = false;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.partition();
        self.state.lock().expect("proxy state").stopped = true;
        // Wake the accept loop so that it sees `stopped` and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
