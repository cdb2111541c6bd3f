//! Init time of a Lambda runtime, measured from just before its exec: the
//! one cold-start tool of bench/ (bench/run.sh's init, A/B and RSS rows,
//! bench/coldstart/run.sh).
//!
//! Each run starts a Runtime API stub on a fresh port (TCP_NODELAY), then
//! the runtime, in a process group of its own, with AWS_LAMBDA_RUNTIME_API
//! pointing at the stub, and timestamps its first `GET /next` (init done)
//! and, in mode `invoke`, its first `POST .../response` after the stub
//! answered that `/next` with one event (init and the first invocation:
//! what a cold start costs the first caller); mode `exit` times exec to
//! exit (bare `erl`). The runtime is killed after that. CPU: the run time
//! of the runtime's threads at its first `/next` and first response
//! (schedstat, ns); in mode `invoke` also the whole process group's at the
//! first response, with the children its processes reaped (a `bootstrap`
//! script's commands before it execs the VM); in mode `exit` the exited
//! tree's. With `--cgroup DIR` the runtime joins that cgroup between fork
//! and exec (a 0.3-CPU quota, what Lambda gives a 512 MB function).
//!
//!   initbench run --label NAME [--runs 15] [--warmup 2] [--mode next|invoke|exit]
//!                 [COMMON] -- COMMAND ARGS...
//!       medians, percentiles and every sample of `runs` runs after
//!       `warmup` discarded ones
//!   initbench ab --label NAME [--runs 30] [--warmup 2] [COMMON]
//!                [--base-cmd 'COMMAND ARGS' [--base-env K=V ...] [--base-label NAME]]
//!                -- COMMAND ARGS...
//!       a base and the runtime alternately, run after run: bare erl to its
//!       exit, or the --base-cmd runtime (words split on spaces) to its
//!       first response; the ratios of means and of medians (see ab.rs)
//!   initbench rss --label NAME [--invocations 100] [--idle-ms 2000] [COMMON]
//!                 -- COMMAND ARGS...
//!       the resident memory of every process of the runtime's group after
//!       `invocations` events and the idle time
//!
//! COMMON: [--env K=V ...] (added to the runtime's environment)
//!         [--event FILE] (the events' body; default {"hello":"world","n":1})
//!         [--host 127.0.0.2] [--cgroup DIR] (not with rss) [--out FILE.json]
//!
//! Prints one JSON object (and writes it to --out).

mod ab;
mod rss;
mod run;
mod stub;

use bench_tools::{opt, opt_all, parse_args};
use run::{Mode, Setup, Target};
use std::process::exit;
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((what, rest)) = args.split_first() else {
        usage("a command: run, ab or rss")
    };
    let (opts, cmd) = parse_args(rest);
    if cmd.is_empty() {
        usage("the command to start, after --");
    }
    let number = |name: &str, default: &str| -> usize {
        let text = opt(&opts, name, default);
        text.parse()
            .unwrap_or_else(|_| usage(&format!("--{name} as a number, not {text:?}")))
    };
    let ours = Target {
        cmd: cmd.clone(),
        env: pairs(&opt_all(&opts, "env")),
    };
    let event_file = opt(&opts, "event", "");
    let event = if event_file.is_empty() {
        br#"{"hello":"world","n":1}"#.to_vec()
    } else {
        std::fs::read(&event_file)
            .unwrap_or_else(|e| usage(&format!("--event FILE readable ({event_file}: {e})")))
    };
    let setup = Setup {
        host: opt(&opts, "host", "127.0.0.2"),
        cgroup: opt(&opts, "cgroup", ""),
        event: Arc::new(event),
    };
    let label = opt(&opts, "label", &cmd[0]);
    let json = match what.as_str() {
        "run" => {
            let mode = Mode::parse(&opt(&opts, "mode", "next")).unwrap_or_else(|e| usage(&e));
            let counts = (number("warmup", "2"), number("runs", "15"));
            Ok(run::command(&label, mode, &ours, &setup, counts))
        }
        "ab" => {
            let base_cmd = opt(&opts, "base-cmd", "");
            let base = if base_cmd.is_empty() {
                ab::Side {
                    label: opt(&opts, "base-label", "bare erl"),
                    target: ab::bare_erl(),
                    mode: Mode::Exit,
                }
            } else {
                ab::Side {
                    label: opt(&opts, "base-label", &base_cmd),
                    target: Target {
                        cmd: base_cmd.split_whitespace().map(String::from).collect(),
                        env: pairs(&opt_all(&opts, "base-env")),
                    },
                    mode: Mode::Invoke,
                }
            };
            let counts = (number("warmup", "2"), number("runs", "30"));
            ab::command(&label, &base, &ours, &setup, counts)
        }
        "rss" => {
            let idle = Duration::from_millis(number("idle-ms", "2000") as u64);
            let invocations = number("invocations", "100").max(1);
            rss::command(&label, &ours, &setup, invocations, idle)
        }
        other => usage(&format!("run, ab or rss, not {other:?}")),
    };
    let json = json.unwrap_or_else(|e| {
        eprintln!("initbench {what}: {e}");
        exit(1)
    });
    let out = opt(&opts, "out", "");
    if !out.is_empty() {
        if let Err(e) = std::fs::write(&out, format!("{json}\n")) {
            eprintln!("initbench: cannot write {out}: {e}");
            exit(1);
        }
    }
    println!("{json}");
}

/// `K=V` strings as pairs.
fn pairs(list: &[String]) -> Vec<(String, String)> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => usage(&format!("--env K=V, not {kv:?}")),
        })
        .collect()
}

fn usage(expected: &str) -> ! {
    eprintln!(
        "initbench: expected {expected}\n\
         usage: initbench run|ab|rss [--label NAME] [OPTIONS] -- COMMAND ARGS... \
         (the options: bench/tools/src/bin/initbench/main.rs)"
    );
    exit(2)
}
