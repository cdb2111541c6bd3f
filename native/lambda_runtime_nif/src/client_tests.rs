//! The client against a scripted HTTP server on loopback: what it sends, and
//! how it reads odd answers.

use std::net::TcpListener;
use std::thread;

use crate::client::{Client, Next};
use crate::error_report::ErrorReport;
use crate::test_server::serve;
use crate::wire::{Reply, TransportKind};

fn report(
    header_type: &str,
    error_type: &str,
    message: &str,
    xray_cause: Option<&str>,
) -> ErrorReport {
    ErrorReport {
        header_type: header_type.into(),
        error_message: message.into(),
        error_type: error_type.into(),
        stack_trace: vec![],
        xray_cause: xray_cause.map(String::from),
    }
}

#[test]
fn next_reads_headers_in_any_case_and_body_without_content_type() {
    let (addr, server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: r1\r\nLAMBDA-RUNTIME-DEADLINE-MS: 1700000000000\r\nLambda-Runtime-Invocation-Id: inv-1\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
    ]);
    let client = Client::new(&addr).unwrap();
    let Next {
        status,
        invocation,
        body,
        body_error,
    } = client.next::<Vec<u8>>().unwrap();
    assert!(body_error.is_none());
    assert_eq!(status, 200);
    assert_eq!(invocation.request_id.as_deref(), Some("r1"));
    assert_eq!(invocation.deadline_ms, Some(1_700_000_000_000));
    assert_eq!(invocation.invocation_id.as_deref(), Some("inv-1"));
    assert_eq!(body, b"{\"a\":1}");
    let seen = server.join().unwrap();
    assert!(seen[0]
        .head
        .starts_with("GET /2018-06-01/runtime/invocation/next HTTP/1.1"));
}

#[test]
fn response_and_error_share_one_connection_and_echo_the_invocation_id() {
    let (addr, server) = serve(vec![
        b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 5\r\n\r\nlarge",
    ]);
    let client = Client::new(&format!("http://{addr}/.rt")).unwrap();
    assert_eq!(client.base_url(), format!("http://{addr}/.rt/2018-06-01"));
    let r: Reply<Vec<u8>> = client.response("r1", Some("inv-1"), b"\"hi\"").unwrap();
    assert_eq!(r.status, 202);
    let mut e = report(
        "Function.RuntimeError",
        "RuntimeError",
        "boom",
        Some(r#"{"exceptions":[]}"#),
    );
    e.stack_trace = vec!["lib/a.ex:3: A.f/1".into()];
    let r: Reply<Vec<u8>> = client.error("r/2", None, &e).unwrap();
    assert_eq!(r.status, 202);
    let r: Reply<Vec<u8>> = client.response("r3", None, b"{}").unwrap();
    assert_eq!((r.status, r.body), (413, b"large".to_vec()));

    let seen = server.join().unwrap();
    assert!(seen[0]
        .head
        .starts_with("POST /.rt/2018-06-01/runtime/invocation/r1/response HTTP/1.1"));
    assert_eq!(
        seen[0].header("lambda-runtime-invocation-id").as_deref(),
        Some("inv-1")
    );
    assert_eq!(seen[0].body, b"\"hi\"");
    assert!(seen[1]
        .head
        .starts_with("POST /.rt/2018-06-01/runtime/invocation/r%2F2/error HTTP/1.1"));
    assert_eq!(
        seen[1].header("content-type").as_deref(),
        Some("application/vnd.aws.lambda.error+json")
    );
    assert_eq!(
        seen[1]
            .header("lambda-runtime-function-error-type")
            .as_deref(),
        Some("Function.RuntimeError")
    );
    assert_eq!(seen[1].header("lambda-runtime-invocation-id"), None);
    assert_eq!(
        seen[1]
            .header("lambda-runtime-function-xray-error-cause")
            .as_deref(),
        Some(r#"{"exceptions":[]}"#)
    );
    assert_eq!(
        seen[1].body,
        br#"{"errorMessage":"boom","errorType":"RuntimeError","stackTrace":["lib/a.ex:3: A.f/1"]}"#
    );
}

#[test]
fn init_error_goes_to_its_own_path() {
    let (addr, server) = serve(vec![b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"]);
    let client = Client::new(&addr).unwrap();
    let e = report(
        "Runtime.HandlerNotFound",
        "Runtime.HandlerNotFound",
        "no such module",
        None,
    );
    let r: Reply<Vec<u8>> = client.init_error(&e).unwrap();
    assert_eq!(r.status, 202);
    let seen = server.join().unwrap();
    assert!(seen[0]
        .head
        .starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1"));
    assert_eq!(
        seen[0]
            .header("lambda-runtime-function-error-type")
            .as_deref(),
        Some("Runtime.HandlerNotFound")
    );
}

#[test]
fn transport_failures_are_classified() {
    // Nothing listens on a port we just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(&format!("127.0.0.1:{port}")).unwrap();
    let refused = client.next::<Vec<u8>>().unwrap_err();
    assert_eq!(refused.kind, TransportKind::Refused);
    assert!(!refused.message.is_empty());

    let (addr, server) = serve(vec![b"garbage\r\n\r\n"]);
    let client = Client::new(&addr).unwrap();
    assert_eq!(
        client.next::<Vec<u8>>().unwrap_err().kind,
        TransportKind::Protocol
    );
    server.join().unwrap();

    let (addr, server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"trunc",
    ]);
    let client = Client::new(&addr).unwrap();
    let handle = thread::spawn(move || client.next::<Vec<u8>>().map(|_| ()));
    server.join().unwrap(); // closes the connection mid-body
    assert_eq!(
        handle.join().unwrap().unwrap_err().kind,
        TransportKind::Closed
    );
}

// #14.15: Lambda's heads are a few KiB; one over ureq's default 64 KiB
// used to be a transport error that ended the runtime.
#[test]
fn next_reads_a_head_over_64_kib() {
    let big = "x".repeat(100 * 1024);
    let answer = format!(
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: big-head\r\nX-Big: {big}\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let (addr, server) = serve(vec![Box::leak(answer.into_bytes().into_boxed_slice())]);
    let client = Client::new(&addr).unwrap();
    let next = client.next::<Vec<u8>>().unwrap();
    assert_eq!(next.invocation.request_id.as_deref(), Some("big-head"));
    assert_eq!(next.body, b"{}");
    server.join().unwrap();
}

#[test]
fn next_with_a_head_past_the_limit_is_too_large_not_fatal_kind() {
    let big = "x".repeat(crate::client::NEXT_HEAD_LIMIT + 1024);
    let answer = format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 2\r\n\r\n{{}}");
    let (addr, _server) = serve(vec![Box::leak(answer.into_bytes().into_boxed_slice())]);
    let client = Client::new(&addr).unwrap();
    let err = client.next::<Vec<u8>>().unwrap_err();
    assert_eq!(err.kind, TransportKind::TooLarge, "{}", err.message);
}

// #14.16: a POST whose answer never comes returns within its bound.
#[test]
fn a_post_without_an_answer_times_out_within_its_bound() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let silent = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        // Holds the connection open, never answers.
        thread::sleep(std::time::Duration::from_secs(1));
        drop(sock);
    });
    let client = Client::with_timeout(&addr, std::time::Duration::from_millis(200)).unwrap();
    assert_eq!(client.post_timeout(), std::time::Duration::from_millis(200));
    let err = client
        .response::<Vec<u8>>("r1", None, b"\"hi\"")
        .unwrap_err();
    assert_eq!(err.kind, TransportKind::Timeout);
    let err = client
        .init_error::<Vec<u8>>(&report("Runtime.InitError", "Runtime.InitError", "m", None))
        .unwrap_err();
    // The listener accepted only one connection; the init error's own
    // connection waits in the backlog and gets no answer either.
    assert_eq!(err.kind, TransportKind::Timeout);
    silent.join().unwrap();
}
