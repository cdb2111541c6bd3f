//! One timed start of a runtime, in each mode, and the `run` command: many
//! of them, summarised.

use crate::stub::{Seen, Stub};
use bench_tools::{children_cpu_seconds, json_str, procs, stats};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a run may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Where a run's clock stops.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first `GET /next` (init done).
    Next,
    /// The first `POST .../response` after the stub answered that `/next`
    /// with one event (init, then the first invocation: what a cold start
    /// costs the first caller).
    Invoke,
    /// The process's exit (bare `erl ... halt().`).
    Exit,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, String> {
        match text {
            "next" => Ok(Mode::Next),
            "invoke" => Ok(Mode::Invoke),
            "exit" => Ok(Mode::Exit),
            other => Err(format!("--mode expects next, invoke or exit, got {other}")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Next => "next",
            Mode::Invoke => "invoke",
            Mode::Exit => "exit",
        }
    }
}

/// What is started: a command and the variables added to this process's
/// environment for it.
pub struct Target {
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Where and how every run starts.
pub struct Setup {
    pub host: String,
    /// A cgroup directory the runtime joins (empty: none).
    pub cgroup: String,
    /// The body of the events the stub serves.
    pub event: Arc<Vec<u8>>,
}

/// One run, in milliseconds.
pub struct Sample {
    /// Exec to the first `/next` (modes next and invoke) or to the exit.
    pub first_ms: f64,
    /// The runtime's threads' CPU then (mode exit: the waited-for tree's).
    pub first_cpu_ms: f64,
    /// Mode invoke: exec to the first response, and the threads' CPU then.
    pub resp: Option<(f64, f64)>,
    /// Mode invoke: the CPU of the runtime's whole process group at the
    /// first response, with the children its processes reaped.
    pub group_cpu_ms: Option<f64>,
}

/// Starts `target` in a process group of its own, with
/// `AWS_LAMBDA_RUNTIME_API=api`, joining `cgroup` between fork and exec.
pub fn spawn(target: &Target, api: &str, cgroup: &str) -> Result<Child, String> {
    let mut command = Command::new(&target.cmd[0]);
    command
        .args(&target.cmd[1..])
        .envs(target.env.iter().map(|(k, v)| (k, v)))
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
    command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", target.cmd[0]))
}

/// Kills the runtime's whole process group and reaps it.
pub fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
}

/// One run of `target` in `mode`.
pub fn once(mode: Mode, target: &Target, setup: &Setup) -> Result<Sample, String> {
    if mode == Mode::Exit {
        return run_exit(target, &setup.cgroup);
    }
    let stub = Stub::bind(&setup.host)?;
    let t0 = Instant::now();
    let mut child = spawn(target, &stub.api(), &setup.cgroup)?;
    let pid = child.id();
    let events = if mode == Mode::Next { 0 } else { 1 };
    let serving = stub.serve(pid, setup.event.clone(), events);
    let ms = |t: Instant| t.duration_since(t0).as_secs_f64() * 1e3;
    let mut next: Option<(f64, f64)> = None;
    let result = loop {
        let left = TIMEOUT.saturating_sub(t0.elapsed());
        match serving.seen.recv_timeout(left) {
            Ok(Seen::Next(t, cpu)) if mode == Mode::Next => {
                break Ok(sample((ms(t), cpu), None, None))
            }
            Ok(Seen::Next(t, cpu)) => {
                next.get_or_insert((ms(t), cpu));
            }
            Ok(Seen::Response(t, cpu)) => match next {
                Some(n) => {
                    let group = procs::group_cpu_seconds(pid) * 1e3;
                    break Ok(sample(n, Some((ms(t), cpu)), Some(group)));
                }
                None => break Err("a response before any /next".to_string()),
            },
            Ok(Seen::Failed(e)) => break Err(e),
            Err(_) => {
                let seen = if next.is_some() { "seen" } else { "not seen" };
                break Err(format!("no answer within {TIMEOUT:?} (first /next {seen})"));
            }
        }
    };
    serving.stop();
    kill_group(&mut child);
    result
}

fn sample(first: (f64, f64), resp: Option<(f64, f64)>, group: Option<f64>) -> Sample {
    Sample {
        first_ms: first.0,
        first_cpu_ms: first.1,
        resp,
        group_cpu_ms: group,
    }
}

/// Mode exit: exec to exit, and the CPU of the child and whatever it
/// waited for (this process's cutime + cstime before and after).
fn run_exit(target: &Target, cgroup: &str) -> Result<Sample, String> {
    let c0 = children_cpu_seconds().unwrap_or(f64::NAN);
    let t0 = Instant::now();
    let mut child = spawn(target, "127.0.0.1:9", cgroup)?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = t0.elapsed().as_secs_f64() * 1e3;
    let cpu = (children_cpu_seconds().unwrap_or(f64::NAN) - c0) * 1e3;
    if status.success() {
        Ok(sample((elapsed, cpu), None, None))
    } else {
        Err(format!("exit status {status}"))
    }
}

/// The `run` command: `warmup` discarded runs, then `runs` runs; the
/// medians and every sample as one JSON object.
pub fn command(
    label: &str,
    mode: Mode,
    target: &Target,
    setup: &Setup,
    (warmup, runs): (usize, usize),
) -> String {
    let mut kept: Vec<Sample> = Vec::new();
    let mut errors = Vec::new();
    for i in 0..warmup + runs {
        match once(mode, target, setup) {
            Ok(s) if i >= warmup => kept.push(s),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let first: Vec<f64> = kept.iter().map(|s| s.first_ms).collect();
    let cpu = finite(kept.iter().map(|s| s.first_cpu_ms));
    let resp = if mode == Mode::Invoke {
        let ms: Vec<f64> = kept.iter().filter_map(|s| s.resp.map(|r| r.0)).collect();
        let cpu = finite(kept.iter().filter_map(|s| s.resp.map(|r| r.1)));
        let group = finite(kept.iter().filter_map(|s| s.group_cpu_ms));
        format!(
            ",{},{},{},\"resp_samples_ms\":[{}],\"resp_cpu_samples_ms\":[{}],\
             \"group_cpu_samples_ms\":[{}]",
            stats::summarize(&ms).json_fields("resp_ms_"),
            median_field("resp_cpu_ms_p50", &cpu),
            median_field("group_cpu_ms_p50", &group),
            join(&ms),
            join(&cpu),
            join(&group)
        )
    } else {
        String::new()
    };
    let errs: Vec<String> = errors.iter().map(|e| json_str(e)).collect();
    format!(
        "{{\"label\":{},\"mode\":{},\"command\":{},\"cgroup\":{},{},{},\"samples_ms\":[{}],\
         \"cpu_samples_ms\":[{}]{resp},\"errors\":[{}]}}",
        json_str(label),
        json_str(mode.name()),
        json_str(&target.cmd.join(" ")),
        json_str(&setup.cgroup),
        stats::summarize(&first).json_fields("ms_"),
        median_field("cpu_ms_p50", &cpu),
        join(&first),
        join(&cpu),
        errs.join(",")
    )
}

fn finite(v: impl Iterator<Item = f64>) -> Vec<f64> {
    v.filter(|x| !x.is_nan()).collect()
}

/// `"NAME":median` of the samples, or `"NAME":null` when there are none.
fn median_field(name: &str, v: &[f64]) -> String {
    if v.is_empty() {
        format!("\"{name}\":null")
    } else {
        format!("\"{name}\":{:.1}", stats::summarize(v).p50)
    }
}

fn join(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
    parts.join(",")
}
