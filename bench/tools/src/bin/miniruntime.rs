//! A minimal echo runtime on the Runtime API (std only): the emulator's
//! ceiling (it only parses and echoes), and the cost of sending each POST's
//! head and body in one write (`--writes 1`, as the NIF client does) or in
//! two (`--writes 2`, as ureq does), against the same emulator. One
//! keep-alive connection with TCP_NODELAY for `/next` and the POSTs alike.
//!
//! AWS_LAMBDA_RUNTIME_API=http://HOST:PORT/PREFIX miniruntime --writes 1|2

use bench_tools::{http, opt, parse_args};
use std::io::{BufReader, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, _) = parse_args(&args);
    let writes: u8 = opt(&opts, "writes", "1").parse().expect("--writes");
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let api = api.trim_start_matches("http://");
    let (addr, prefix) = match api.split_once('/') {
        Some((a, p)) => (a.to_string(), format!("/{p}")),
        None => (api.to_string(), String::new()),
    };
    let base = format!("{prefix}/2018-06-01/runtime/invocation");
    let stream = TcpStream::connect(&addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::with_capacity(1 << 16, stream);
    loop {
        let next = format!("GET {base}/next HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        w.write_all(next.as_bytes()).expect("write /next");
        let event = http::read_message(&mut r, true)
            .expect("read /next")
            .expect("closed");
        let id = event
            .header("lambda-runtime-aws-request-id")
            .unwrap_or("")
            .to_string();
        let head = format!(
            "POST {base}/{id}/response HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            event.body.len()
        );
        if writes == 2 {
            w.write_all(head.as_bytes()).expect("write head");
            w.write_all(&event.body).expect("write body");
        } else {
            let mut buf = head.into_bytes();
            buf.extend_from_slice(&event.body);
            w.write_all(&buf).expect("write");
        }
        http::read_message(&mut r, true)
            .expect("read response")
            .expect("closed");
    }
}
