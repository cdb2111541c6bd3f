//! Init time: from just before the runtime is exec'd to the arrival of its
//! first `GET /runtime/invocation/next` at this Runtime API stub (mode
//! `next`), or to the process's exit (mode `exit`, for bare `erl`). The
//! child gets AWS_LAMBDA_RUNTIME_API pointing at the stub, runs in its own
//! process group, and is killed after the first /next. CPU time is recorded
//! too: in mode `next` the run time of the child's threads at that moment
//! (schedstat), in mode `exit` the CPU of the waited-for child tree.
//! With `--cgroup DIR` the child joins that cgroup (it writes its own pid to
//! DIR/cgroup.procs between fork and exec), e.g. a cgroup v1 `cpu` group with
//! a 0.3-CPU quota, as Lambda gives a 512 MB function.
//!
//! initbench --label NAME --runs 15 --warmup 2 --mode next|exit
//!           [--host 127.0.0.2] [--cgroup DIR] [--out FILE.json] -- COMMAND ARGS...

use bench_tools::{children_cpu_seconds, cpu_seconds, http, json_str, opt, parse_args, stats};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
    let listener = TcpListener::bind((host.as_str(), 0)).expect("bind the stub");

    let mut ms = Vec::new();
    let mut cpu_ms = Vec::new();
    let mut errors = Vec::new();
    for i in 0..warmup + runs {
        let r = if mode == "exit" {
            run_exit(&cmd, &cgroup).map(|(t, c)| (t, c, String::new()))
        } else {
            run_next(&cmd, &listener, &cgroup)
        };
        match r {
            Ok((t, c, _)) if i >= warmup => {
                ms.push(t);
                if !c.is_nan() {
                    cpu_ms.push(c);
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let s = stats::summarize(&ms);
    let cpu = if cpu_ms.is_empty() {
        "\"cpu_ms_p50\":null".to_string()
    } else {
        format!(
            "\"cpu_ms_p50\":{:.1}",
            stats::percentile(&sorted(cpu_ms.clone()), 50.0)
        )
    };
    let errs: Vec<String> = errors.iter().map(|e| json_str(e)).collect();
    let json = format!(
        "{{\"label\":{},\"mode\":{},\"command\":{},{},{cpu},\"samples_ms\":[{}],\
         \"cpu_samples_ms\":[{}],\"errors\":[{}]}}",
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

fn join(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
    parts.join(",")
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}
