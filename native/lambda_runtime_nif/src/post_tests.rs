//! Responses sent ahead (`Client::response_ahead`, then `response_sent`):
//! written at once without blocking, finished and answered later, and
//! never leaving an unread answer in front of the next request.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::test_server::{serve_connections, Watch};
use crate::wire::{Reply, TransportKind};

const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn a_response_sent_ahead_is_on_the_wire_before_its_answer_is_read() {
    let (tap, heads) = mpsc::channel();
    let watch = Watch {
        tap: Some(tap),
        ..Watch::default()
    };
    let (addr, server) = serve_connections(vec![vec![ACCEPTED, ACCEPTED]], watch);
    let client = Client::new(&format!("http://{addr}/.rt")).unwrap();
    // The first response opens the kept-alive connection.
    let r: Reply<Vec<u8>> = client.response("r1", None, b"1").unwrap();
    assert_eq!(r.status, 202);
    heads.recv().unwrap();

    assert!(client.response_ahead("r2", Some("inv-2"), br#"{"a":1}"#));
    let head = heads.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("POST /.rt/2018-06-01/runtime/invocation/r2/response HTTP/1.1"));
    let r: Reply<Vec<u8>> = client.response_sent().unwrap();
    assert_eq!((r.status, r.body), (202, b"ok".to_vec()));

    let seen = server.join().unwrap();
    assert_eq!(seen[1].conn, 0, "the kept-alive connection was used");
    assert_eq!(
        seen[1].header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        seen[1].header("lambda-runtime-invocation-id").as_deref(),
        Some("inv-2")
    );
    assert_eq!(seen[1].body, br#"{"a":1}"#);
}

#[test]
fn with_no_connection_open_yet_response_sent_sends_it_whole() {
    let (addr, server) = serve_connections(vec![vec![ACCEPTED]], Watch::default());
    let client = Client::new(&addr).unwrap();
    client.response_ahead("r1", None, b"[1,2]");
    let r: Reply<Vec<u8>> = client.response_sent().unwrap();
    assert_eq!(r.status, 202);
    let seen = server.join().unwrap();
    assert!(seen[0]
        .head
        .starts_with("POST /2018-06-01/runtime/invocation/r1/response"));
    assert_eq!(seen[0].body, b"[1,2]");
}

#[test]
fn a_body_the_socket_cannot_take_at_once_does_not_block_and_is_finished_later() {
    let (open_gate, gate) = mpsc::channel();
    let watch = Watch {
        gate: Some(gate),
        ..Watch::default()
    };
    let (addr, server) = serve_connections(vec![vec![ACCEPTED, ACCEPTED]], watch);
    let client = Client::new(&addr).unwrap();
    let _: Reply<Vec<u8>> = client.response("r1", None, b"1").unwrap();

    // The server reads nothing more until the gate opens: 16 MiB cannot
    // fit in the socket buffers, and a blocking write would hang here.
    let body: Vec<u8> = (0..16 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    // A watchdog opens the gate after 5 s anyway, so that a write that
    // blocks fails the assertion below instead of hanging the test.
    let (returned, watchdog) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = watchdog.recv_timeout(Duration::from_secs(5));
        let _ = open_gate.send(());
    });
    let started = Instant::now();
    client.response_ahead("r2", None, &body);
    assert!(started.elapsed() < Duration::from_secs(4));
    returned.send(()).unwrap();

    let r: Reply<Vec<u8>> = client.response_sent().unwrap();
    assert_eq!(r.status, 202);
    let seen = server.join().unwrap();
    assert_eq!((seen[1].conn, seen[1].body.len()), (0, body.len()));
    assert!(seen[1].body == body, "the body arrived intact");
}

#[test]
fn a_response_sent_ahead_but_never_finished_costs_its_connection_not_the_next_answer() {
    let stale: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nstale";
    let (addr, server) = serve_connections(
        vec![vec![ACCEPTED, stale], vec![ACCEPTED]],
        Watch::default(),
    );
    let client = Client::new(&addr).unwrap();
    let _: Reply<Vec<u8>> = client.response("r1", None, b"1").unwrap();
    client.response_ahead("r2", None, b"2");
    // Its caller went away: the next request must get its own answer.
    let r: Reply<Vec<u8>> = client.response("r3", None, b"3").unwrap();
    assert_eq!((r.status, r.body), (202, b"ok".to_vec()));
    let seen = server.join().unwrap();
    let ids: Vec<(usize, &[u8])> = seen.iter().map(|s| (s.conn, &s.body[..])).collect();
    assert_eq!(ids, vec![(0, &b"1"[..]), (0, &b"2"[..]), (1, &b"3"[..])]);
}

#[test]
fn a_kept_connection_the_server_closed_gets_the_response_again_on_a_fresh_one() {
    // The first connection is closed after its one answer, although that
    // answer let the client keep it.
    let (addr, server) = serve_connections(vec![vec![ACCEPTED], vec![ACCEPTED]], Watch::default());
    let client = Client::new(&addr).unwrap();
    let _: Reply<Vec<u8>> = client.response("r1", None, b"1").unwrap();
    std::thread::sleep(Duration::from_millis(50)); // the server has closed it
    client.response_ahead("r2", None, b"2");
    let r: Reply<Vec<u8>> = client.response_sent().unwrap();
    assert_eq!(r.status, 202);
    let seen = server.join().unwrap();
    assert_eq!((seen[1].conn, &seen[1].body[..]), (1, &b"2"[..]));
}

#[test]
fn response_sent_without_a_response_sent_ahead_is_an_error() {
    let client = Client::new("127.0.0.1:9").unwrap();
    let err = client.response_sent::<Vec<u8>>().unwrap_err();
    assert_eq!(err.kind, TransportKind::Other);
    assert!(err.message.contains("no request was sent ahead"));
}

#[test]
fn while_another_call_holds_the_connection_nothing_is_sent_ahead_and_nothing_waits() {
    let (tap, heads) = mpsc::channel();
    let (release, hold) = mpsc::channel();
    let watch = Watch {
        tap: Some(tap),
        hold: Some(hold),
        ..Watch::default()
    };
    let (addr, server) = serve_connections(vec![vec![ACCEPTED, ACCEPTED]], watch);
    let client = Arc::new(Client::new(&addr).unwrap());
    let _: Reply<Vec<u8>> = client.response("r1", None, b"1").unwrap();
    heads.recv().unwrap();

    // Another caller's POST is in progress: its answer is held back.
    let other = Arc::clone(&client);
    let in_progress = std::thread::spawn(move || other.response::<Vec<u8>>("r2", None, b"2"));
    heads.recv_timeout(Duration::from_secs(5)).unwrap();

    // A watchdog releases the answer after 3 s anyway, so that a call that
    // waits for the connection fails the assertions instead of hanging.
    let (returned, watchdog) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = watchdog.recv_timeout(Duration::from_secs(3));
        let _ = release.send(());
    });
    let started = Instant::now();
    let taken = client.response_ahead("r3", None, b"3");
    assert!(started.elapsed() < Duration::from_secs(2), "it waited");
    assert!(!taken, "busy: not taken");
    returned.send(()).unwrap();
    assert_eq!(in_progress.join().unwrap().unwrap().status, 202);
    server.join().unwrap();
}
