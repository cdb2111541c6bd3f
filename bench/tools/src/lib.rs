//! Shared pieces of the benchmark tools: a minimal HTTP/1.1 message reader,
//! `/proc` CPU time, statistics and JSON output. Standard library only.

pub mod http;
pub mod stats;

use std::fs;

/// Linux's USER_HZ: `/proc/PID/stat` times are in 1/100 s on every
/// architecture Lambda runs on.
pub const CLK_TCK: f64 = 100.0;

/// CPU time of a process (all its live threads), in seconds: scheduler run
/// time from schedstat where the kernel has it, else utime + stime ticks.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    schedstat_seconds(pid).or_else(|| stat_seconds(pid))
}

/// The run time of every live thread of `pid`, from
/// /proc/PID/task/TID/schedstat (nanoseconds; 10 ms ticks are too coarse
/// for a ~100 ms boot).
fn schedstat_seconds(pid: u32) -> Option<f64> {
    let mut ns: u64 = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = fs::read_to_string(path).ok()?;
        ns += text.split(' ').next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 / 1e9)
}

/// utime + stime of `pid` in clock ticks, as seconds.
fn stat_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields start after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the name: state is field 3, utime 14, stime 15 (1-based).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLK_TCK)
}

/// cutime + cstime of this process: the CPU time of its children that it
/// has waited for, in seconds.
pub fn children_cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some((cutime + cstime) / CLK_TCK)
}

/// Parses `--name value` pairs; a bare `--` ends them and the rest is returned.
pub fn parse_args(args: &[String]) -> (Vec<(String, String)>, Vec<String>) {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--" {
            return (opts, args[i + 1..].to_vec());
        }
        let name = args[i].trim_start_matches("--").to_string();
        let value = args.get(i + 1).cloned().unwrap_or_default();
        opts.push((name, value));
        i += 2;
    }
    (opts, Vec::new())
}

/// The value of option `name`, or `default`.
pub fn opt(opts: &[(String, String)], name: &str, default: &str) -> String {
    opts.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| default.to_string())
}

/// Escapes a string for a JSON document.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
