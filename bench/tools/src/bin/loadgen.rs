//! Sequential invokes (one in flight, as Lambda serves one environment)
//! against the emulator's invoke endpoint over one keep-alive connection
//! with TCP_NODELAY. Measures per-invoke latency and, with `--pid`, the
//! runtime process's CPU time over the measured invokes.
//!
//! Every response is checked: by default it must echo the payload (compared
//! with `compact`); with `--expect FILE` it must be exactly FILE's bytes
//! (a handler that computes its answer, e.g. bench/echo_ex's Heavy).
//!
//! loadgen --addr HOST:PORT --n 5000 --warmup 500 [--payload FILE]
//!         [--expect FILE] [--pid PID] [--label NAME] [--out FILE.json]

use bench_tools::{cpu_seconds, http, json_str, opt, parse_args, stats};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PATH: &str = "/2015-03-31/functions/_/invocations";

fn invoke(
    w: &mut TcpStream,
    r: &mut BufReader<TcpStream>,
    addr: &str,
    payload: &[u8],
) -> std::io::Result<http::Message> {
    let req = http::Message {
        start: format!("POST {PATH} HTTP/1.1"),
        headers: vec![
            ("Host".into(), addr.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: payload.to_vec(),
    };
    req.write_to(w)?;
    http::read_message(r, true)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"))
}

/// The document's bytes without ASCII whitespace, sorted: a cheap echo
/// check that ignores what runtimes may legitimately change, JSON spacing
/// (awslambdaric writes `{"a": 1}`) and key order (jiffy). The benchmark
/// payloads have no spaces inside strings.
fn compact(doc: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = doc
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    v.sort_unstable();
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, _) = parse_args(&args);
    let addr = opt(&opts, "addr", "127.0.0.1:9000");
    let n: usize = opt(&opts, "n", "2000").parse().expect("--n");
    let warmup: usize = opt(&opts, "warmup", "200").parse().expect("--warmup");
    let label = opt(&opts, "label", "run");
    let pid: Option<u32> = opt(&opts, "pid", "").parse().ok();
    let payload_file = opt(&opts, "payload", "");
    let payload = if payload_file.is_empty() {
        br#"{"hello":"world","n":1}"#.to_vec()
    } else {
        std::fs::read(&payload_file).expect("--payload")
    };
    let expect_file = opt(&opts, "expect", "");
    // What a right answer looks like: the expected bytes as they are, or
    // the echoed payload compacted.
    let (expected, echo) = if expect_file.is_empty() {
        (compact(&payload), true)
    } else {
        (std::fs::read(&expect_file).expect("--expect"), false)
    };
    let matches = |body: &[u8]| {
        if echo {
            compact(body) == expected
        } else {
            body == expected.as_slice()
        }
    };

    let stream = TcpStream::connect(&addr).expect("connect to the emulator");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::with_capacity(1 << 16, stream);

    let mut errors = 0usize;
    let mut mismatches = 0usize;
    let mut response_bytes = 0usize;
    for _ in 0..warmup {
        let resp = invoke(&mut w, &mut r, &addr, &payload).expect("warm-up invoke");
        if resp.status() != 200 {
            errors += 1;
        } else if !matches(&resp.body) {
            mismatches += 1;
        }
        response_bytes = resp.body.len();
    }
    let cpu0 = pid.and_then(cpu_seconds);
    let mut lat_us = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        let resp = invoke(&mut w, &mut r, &addr, &payload).expect("invoke");
        lat_us.push(t0.elapsed().as_secs_f64() * 1e6);
        response_bytes = resp.body.len();
        if resp.status() != 200 {
            errors += 1;
        } else if !matches(&resp.body) {
            mismatches += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu1 = pid.and_then(cpu_seconds);
    let cpu_per_invoke_us = match (cpu0, cpu1) {
        (Some(a), Some(b)) => format!("{:.1}", (b - a) / n as f64 * 1e6),
        _ => "null".into(),
    };
    let s = stats::summarize(&lat_us);
    let stalls = lat_us.iter().filter(|&&v| v >= 30_000.0).count();
    let json = format!(
        "{{\"label\":{},\"addr\":{},\"payload_bytes\":{},\"response_bytes\":{response_bytes},\
         \"check\":{},\"warmup\":{warmup},\
         \"elapsed_s\":{elapsed:.3},\"invokes_per_s\":{:.1},{},\
         \"stalls_over_30ms\":{stalls},\"errors\":{errors},\"echo_mismatches\":{mismatches},\
         \"cpu_us_per_invoke\":{cpu_per_invoke_us}}}",
        json_str(&label),
        json_str(&addr),
        payload.len(),
        json_str(if echo { "echo" } else { "expect" }),
        n as f64 / elapsed,
        s.json_fields("lat_us_"),
    );
    let out = opt(&opts, "out", "");
    if out.is_empty() {
        println!("{json}");
    } else {
        let mut f = std::fs::File::create(&out).expect("--out");
        writeln!(f, "{json}").expect("write");
        println!("{json}");
    }
}
