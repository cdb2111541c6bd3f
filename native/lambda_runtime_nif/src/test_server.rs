//! A scripted HTTP server on loopback for the unit tests: it answers each
//! request with the next canned answer and records what it was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

/// One request as the server saw it, and on which connection (0, 1, ...).
#[derive(Debug)]
pub struct Seen {
    pub conn: usize,
    pub head: String,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// Serves each canned answer to one request, on one keep-alive connection,
/// and returns what it was sent.
pub fn serve(answers: Vec<&'static [u8]>) -> (String, thread::JoinHandle<Vec<Seen>>) {
    serve_connections(vec![answers], Watch::default())
}

/// Ways for a test to follow or hold up the server.
#[derive(Default)]
pub struct Watch {
    /// Gets each request's head as soon as it is read.
    pub tap: Option<mpsc::Sender<String>>,
    /// Before reading any request but a connection's first, the server
    /// waits for a message here (so that a client's writes can fill the
    /// socket buffers meanwhile).
    pub gate: Option<mpsc::Receiver<()>>,
    /// Before answering any request but a connection's first, the server
    /// waits for a message here (so that the client's call stays in
    /// progress meanwhile).
    pub hold: Option<mpsc::Receiver<()>>,
}

/// Accepts one connection per list of answers, in turn, and serves each
/// its answers; a connection is closed after its last answer.
pub fn serve_connections(
    connections: Vec<Vec<&'static [u8]>>,
    watch: Watch,
) -> (String, thread::JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        for (conn, answers) in connections.into_iter().enumerate() {
            let (stream, _) = listener.accept().unwrap();
            serve_one(stream, conn, answers, &watch, &mut seen);
        }
        seen
    });
    (addr, handle)
}

fn serve_one(
    stream: TcpStream,
    conn: usize,
    answers: Vec<&[u8]>,
    watch: &Watch,
    seen: &mut Vec<Seen>,
) {
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for (i, answer) in answers.into_iter().enumerate() {
        if let (Some(gate), true) = (&watch.gate, i > 0) {
            gate.recv().unwrap();
        }
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        if let Some(tap) = &watch.tap {
            let _ = tap.send(head.clone());
        }
        let mut s = Seen {
            conn,
            head,
            body: Vec::new(),
        };
        if let Some(n) = s.header("content-length") {
            let mut body = vec![0; n.parse().unwrap()];
            reader.read_exact(&mut body).unwrap();
            s.body = body;
        }
        seen.push(s);
        if let (Some(hold), true) = (&watch.hold, i > 0) {
            hold.recv().unwrap();
        }
        writer.write_all(answer).unwrap();
    }
}
