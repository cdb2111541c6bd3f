//! Init time: from just before the runtime is exec'd to the arrival of its
//! first `GET /runtime/invocation/next` at this Runtime API stub (mode
//! `next`), or also to its first `POST .../response` after the stub has
//! answered that `/next` with one event (mode `invoke`: init, then the
//! first invocation, what a cold start costs the first caller), or to the
//! process's exit (mode `exit`, for bare `erl`). The child gets
//! AWS_LAMBDA_RUNTIME_API pointing at the stub, runs in its own process
//! group, and is killed after the first /next (or response). CPU time is
//! recorded too: in modes `next` and `invoke` the run time of the child's
//! threads at each of those moments (schedstat), in mode `exit` the CPU of
//! the waited-for child tree.
//! With `--cgroup DIR` the child joins that cgroup (it writes its own pid to
//! DIR/cgroup.procs between fork and exec), e.g. a cgroup v1 `cpu` group with
//! a 0.3-CPU quota, as Lambda gives a 512 MB function.
//!
//! initbench --label NAME --runs 15 --warmup 2 --mode next|invoke|exit
//!           [--event FILE] [--host 127.0.0.2] [--cgroup DIR] [--out FILE.json]
//!           -- COMMAND ARGS...
//!
//! `--event FILE`: the event of mode `invoke` (default `{"hello":"world","n":1}`).

use bench_tools::{children_cpu_seconds, cpu_seconds, http, json_str, opt, parse_args, stats};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

fn spawn(cmd: &[String], api: &str, cgroup: &str) -> Child {
    let mut command = Command::new(&cmd[0]);
    command
        .args(&cmd[1..])
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if !cgroup.is_empty() {
        let procs = format!("{cgroup}/cgroup.procs");
        // SAFETY: between fork and exec only a write(2) of our own pid
        // through std::fs, which allocates nothing that another thread of
        // this process could hold locked (the path is built before fork).
        unsafe {
            command.pre_exec(move || std::fs::write(&procs, std::process::id().to_string()));
        }
    }
    command.spawn().expect("spawn")
}

fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
}

/// One run in mode `next`: (milliseconds, CPU milliseconds, request line).
fn run_next(
    cmd: &[String],
    listener: &TcpListener,
    cgroup: &str,
) -> Result<(f64, f64, String), String> {
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t0 = Instant::now();
    let mut child = spawn(cmd, &addr.to_string(), cgroup);
    let pid = child.id();
    // Wakes the blocking accept if the child never calls.
    let watchdog = thread::spawn(move || {
        if done_rx.recv_timeout(TIMEOUT).is_err() {
            let _ = TcpStream::connect(addr);
        }
    });
    let result = (|| {
        let (conn, _) = listener.accept().map_err(|e| e.to_string())?;
        conn.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut r = BufReader::new(conn);
        let head = http::read_head(&mut r).map_err(|e| e.to_string())?;
        let elapsed = t0.elapsed().as_secs_f64() * 1e3;
        let cpu = cpu_seconds(pid).map(|c| c * 1e3).unwrap_or(f64::NAN);
        let line = head.map(|h| h.start).unwrap_or_default();
        if !line.contains("/runtime/invocation/next") {
            return Err(format!(
                "first request was not /next: {line:?} (or timeout)"
            ));
        }
        Ok((elapsed, cpu, line))
    })();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    kill_group(&mut child);
    result
}

/// What the stub saw, sent from a connection's thread to the run.
enum Seen {
    Next(Instant, f64),
    Response(Instant, f64),
    Failed(String),
}

/// Serves one connection of the runtime in mode `invoke`: the first
/// `/next` of the run gets the event, later ones are held (as Lambda holds
/// them between events) until the child is killed; POSTs get a 202.
fn serve(
    conn: TcpStream,
    pid: u32,
    tx: mpsc::Sender<Seen>,
    event: Arc<Vec<u8>>,
    served: Arc<AtomicBool>,
) {
    let _ = conn.set_nodelay(true);
    let Ok(mut w) = conn.try_clone() else { return };
    let mut r = BufReader::with_capacity(1 << 16, conn);
    while let Ok(Some(mut req)) = http::read_head(&mut r) {
        let now = Instant::now();
        let cpu = cpu_seconds(pid).map(|c| c * 1e3).unwrap_or(f64::NAN);
        if req.start.starts_with("GET ") && req.start.contains("/runtime/invocation/next") {
            let _ = tx.send(Seen::Next(now, cpu));
            if served.swap(true, Ordering::SeqCst) {
                // Hold the long poll; the read ends when the child is killed.
                let _ = http::read_head(&mut r);
                return;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or(0);
            let resp = http::Message {
                start: "HTTP/1.1 200 OK".into(),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Lambda-Runtime-Aws-Request-Id".into(), "initbench-1".into()),
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
            };
            if resp.write_to(&mut w).is_err() {
                return;
            }
            continue;
        }
        if http::read_body(&mut r, &mut req, false).is_err() {
            return;
        }
        let done = Instant::now();
        let done_cpu = cpu_seconds(pid).map(|c| c * 1e3).unwrap_or(f64::NAN);
        let line = req.start.clone();
        let seen = if line.contains("/response") {
            Seen::Response(done, done_cpu)
        } else {
            let body = String::from_utf8_lossy(&req.body);
            let excerpt: String = body.chars().take(300).collect();
            Seen::Failed(format!("{line}: {excerpt}"))
        };
        let _ = tx.send(seen);
        let ok = http::Message {
            start: "HTTP/1.1 202 Accepted".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"status":"OK"}"#.to_vec(),
        };
        if ok.write_to(&mut w).is_err() {
            return;
        }
        let _ = w.flush();
    }
}

/// One run in mode `invoke`: (ms to /next, CPU ms then, ms to the first
/// response, CPU ms then). A fresh listener per run, so that a connection
/// of an earlier, killed child never reaches this one.
fn run_invoke(
    cmd: &[String],
    host: &str,
    cgroup: &str,
    event: &Arc<Vec<u8>>,
) -> Result<(f64, f64, f64, f64), String> {
    let listener = TcpListener::bind((host, 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel::<Seen>();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut child = spawn(cmd, &addr.to_string(), cgroup);
    let pid = child.id();
    let acceptor = {
        let (stop, event) = (stop.clone(), event.clone());
        thread::spawn(move || {
            while let Ok((conn, _)) = listener.accept() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let (tx, event, served) = (tx.clone(), event.clone(), served.clone());
                thread::spawn(move || serve(conn, pid, tx, event, served));
            }
        })
    };
    let ms = |t: Instant| t.duration_since(t0).as_secs_f64() * 1e3;
    let mut next: Option<(f64, f64)> = None;
    let result = loop {
        let left = TIMEOUT.saturating_sub(t0.elapsed());
        match rx.recv_timeout(left) {
            Ok(Seen::Next(t, cpu)) => {
                next.get_or_insert((ms(t), cpu));
            }
            Ok(Seen::Response(t, cpu)) => match next {
                Some((n, ncpu)) => break Ok((n, ncpu, ms(t), cpu)),
                None => break Err("a response before any /next".to_string()),
            },
            Ok(Seen::Failed(e)) => break Err(e),
            Err(_) => {
                break Err(format!(
                    "no response within {TIMEOUT:?} (first /next {})",
                    if next.is_some() { "seen" } else { "not seen" }
                ))
            }
        }
    };
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(addr); // wakes the acceptor
    let _ = acceptor.join();
    kill_group(&mut child);
    result
}

/// One run in mode `exit`: milliseconds from spawn to exit, and the
/// child's CPU milliseconds (from this process's cutime + cstime).
fn run_exit(cmd: &[String], cgroup: &str) -> Result<(f64, f64), String> {
    let c0 = children_cpu_seconds().unwrap_or(f64::NAN);
    let t0 = Instant::now();
    let mut child = spawn(cmd, "127.0.0.1:9", cgroup);
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = t0.elapsed().as_secs_f64() * 1e3;
    let cpu = (children_cpu_seconds().unwrap_or(f64::NAN) - c0) * 1e3;
    if status.success() {
        Ok((elapsed, cpu))
    } else {
        Err(format!("exit status {status}"))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, cmd) = parse_args(&args);
    assert!(
        !cmd.is_empty(),
        "usage: initbench [opts] -- COMMAND ARGS..."
    );
    let label = opt(&opts, "label", &cmd[0]);
    let runs: usize = opt(&opts, "runs", "15").parse().expect("--runs");
    let warmup: usize = opt(&opts, "warmup", "2").parse().expect("--warmup");
    let mode = opt(&opts, "mode", "next");
    let host = opt(&opts, "host", "127.0.0.2");
    let cgroup = opt(&opts, "cgroup", "");
    assert!(
        ["next", "invoke", "exit"].contains(&mode.as_str()),
        "--mode expects next, invoke or exit, got {mode}"
    );
    let event_file = opt(&opts, "event", "");
    let event = Arc::new(if event_file.is_empty() {
        br#"{"hello":"world","n":1}"#.to_vec()
    } else {
        std::fs::read(&event_file).expect("--event")
    });
    let listener = TcpListener::bind((host.as_str(), 0)).expect("bind the stub");

    let mut ms = Vec::new();
    let mut cpu_ms = Vec::new();
    let mut resp_ms = Vec::new();
    let mut resp_cpu_ms = Vec::new();
    let mut errors = Vec::new();
    for i in 0..warmup + runs {
        let r = match mode.as_str() {
            "exit" => run_exit(&cmd, &cgroup).map(|(t, c)| (t, c, None)),
            "invoke" => run_invoke(&cmd, &host, &cgroup, &event)
                .map(|(t, c, rt, rc)| (t, c, Some((rt, rc)))),
            _ => run_next(&cmd, &listener, &cgroup).map(|(t, c, _)| (t, c, None)),
        };
        match r {
            Ok((t, c, resp)) if i >= warmup => {
                ms.push(t);
                if !c.is_nan() {
                    cpu_ms.push(c);
                }
                if let Some((rt, rc)) = resp {
                    resp_ms.push(rt);
                    if !rc.is_nan() {
                        resp_cpu_ms.push(rc);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let s = stats::summarize(&ms);
    let cpu = median_field("cpu_ms_p50", &cpu_ms);
    // Mode invoke: the first response too.
    let resp = if mode == "invoke" {
        format!(
            ",{},{},\"resp_samples_ms\":[{}],\"resp_cpu_samples_ms\":[{}]",
            stats::summarize(&resp_ms).json_fields("resp_ms_"),
            median_field("resp_cpu_ms_p50", &resp_cpu_ms),
            join(&resp_ms),
            join(&resp_cpu_ms)
        )
    } else {
        String::new()
    };
    let errs: Vec<String> = errors.iter().map(|e| json_str(e)).collect();
    let json = format!(
        "{{\"label\":{},\"mode\":{},\"command\":{},{},{cpu},\"samples_ms\":[{}],\
         \"cpu_samples_ms\":[{}]{resp},\"errors\":[{}]}}",
        json_str(&label),
        json_str(&mode),
        json_str(&cmd.join(" ")),
        s.json_fields("ms_"),
        join(&ms),
        join(&cpu_ms),
        errs.join(",")
    );
    let out = opt(&opts, "out", "");
    if !out.is_empty() {
        std::fs::write(&out, format!("{json}\n")).expect("--out");
    }
    println!("{json}");
}

/// `"NAME":median` of the samples, or `"NAME":null` when there are none.
fn median_field(name: &str, v: &[f64]) -> String {
    if v.is_empty() {
        format!("\"{name}\":null")
    } else {
        format!(
            "\"{name}\":{:.1}",
            stats::percentile(&sorted(v.to_vec()), 50.0)
        )
    }
}

fn join(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
    parts.join(",")
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}
