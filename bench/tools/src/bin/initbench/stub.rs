//! The Runtime API stub a run starts before the runtime: it serves a given
//! number of events, timestamps every `/next` and every POST (with the
//! runtime's CPU time at that moment), and holds any later `/next` open,
//! as Lambda holds it between events, until the runtime is killed.

use bench_tools::{cpu_seconds, http};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the stub saw, with the runtime's CPU milliseconds (its threads',
/// schedstat) at that moment.
pub enum Seen {
    Next(Instant, f64),
    Response(Instant, f64),
    /// A POST that was not a response (an `/error`, `/init/error`), with
    /// the start of its body.
    Failed(String),
}

/// A bound stub, not serving yet: its address goes into the runtime's
/// environment before the runtime is started.
pub struct Stub {
    listener: TcpListener,
    addr: SocketAddr,
}

/// A stub serving one runtime.
pub struct Serving {
    pub seen: Receiver<Seen>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: JoinHandle<()>,
}

impl Stub {
    /// Listens on `host`, on a fresh port (so that a connection of an
    /// earlier, killed runtime never reaches this one).
    pub fn bind(host: &str) -> Result<Stub, String> {
        let listener = TcpListener::bind((host, 0)).map_err(|e| format!("bind {host}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        Ok(Stub { listener, addr })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    /// Serves the runtime `pid`: the first `events` `/next` calls get
    /// `event`, later ones are held.
    pub fn serve(self, pid: u32, event: Arc<Vec<u8>>, events: usize) -> Serving {
        let (tx, seen) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let stop = stop.clone();
            let listener = self.listener;
            thread::spawn(move || {
                while let Ok((conn, _)) = listener.accept() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let (tx, event, served) = (tx.clone(), event.clone(), served.clone());
                    thread::spawn(move || serve(conn, pid, tx, &event, &served, events));
                }
            })
        };
        Serving {
            seen,
            addr: self.addr,
            stop,
            acceptor,
        }
    }
}

impl Serving {
    /// Stops accepting (connections already open end when the runtime is
    /// killed).
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the acceptor
        let _ = self.acceptor.join();
    }
}

fn cpu_ms(pid: u32) -> f64 {
    cpu_seconds(pid).map(|c| c * 1e3).unwrap_or(f64::NAN)
}

/// Serves one connection of the runtime: `/next` gets the event while any
/// are left (else it is held), POSTs get a 202.
fn serve(
    conn: TcpStream,
    pid: u32,
    tx: Sender<Seen>,
    event: &[u8],
    served: &AtomicUsize,
    events: usize,
) {
    let _ = conn.set_nodelay(true);
    let Ok(mut w) = conn.try_clone() else { return };
    let mut r = BufReader::with_capacity(1 << 16, conn);
    while let Ok(Some(mut req)) = http::read_head(&mut r) {
        let now = Instant::now();
        let cpu = cpu_ms(pid);
        if req.start.starts_with("GET ") && req.start.contains("/runtime/invocation/next") {
            let _ = tx.send(Seen::Next(now, cpu));
            let n = served.fetch_add(1, Ordering::SeqCst);
            if n >= events {
                // Hold the long poll; the read ends when the runtime is killed.
                let _ = http::read_head(&mut r);
                return;
            }
            if event_message(n + 1, event).write_to(&mut w).is_err() {
                return;
            }
            continue;
        }
        if http::read_body(&mut r, &mut req, false).is_err() {
            return;
        }
        let (done, done_cpu) = (Instant::now(), cpu_ms(pid));
        let seen = if req.start.contains("/response") {
            Seen::Response(done, done_cpu)
        } else {
            let body = String::from_utf8_lossy(&req.body);
            let excerpt: String = body.chars().take(300).collect();
            Seen::Failed(format!("{}: {excerpt}", req.start))
        };
        let _ = tx.send(seen);
        let accepted = http::Message {
            start: "HTTP/1.1 202 Accepted".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"status":"OK"}"#.to_vec(),
        };
        if accepted.write_to(&mut w).is_err() {
            return;
        }
        let _ = w.flush();
    }
}

/// The `/next` answer carrying event number `n`: Lambda's headers, a
/// deadline 30 s ahead.
fn event_message(n: usize, event: &[u8]) -> http::Message {
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or(0);
    http::Message {
        start: "HTTP/1.1 200 OK".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            (
                "Lambda-Runtime-Aws-Request-Id".into(),
                format!("initbench-{n}"),
            ),
            ("Lambda-Runtime-Deadline-Ms".into(), deadline.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn".into(),
                "arn:aws:lambda:eu-west-1:123456789012:function:bench".into(),
            ),
            (
                "Lambda-Runtime-Trace-Id".into(),
                "Root=1-00000000-000000000000000000000000".into(),
            ),
        ],
        body: event.to_vec(),
    }
}
