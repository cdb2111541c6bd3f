//! Shared pieces of the benchmark tools: a minimal HTTP/1.1 message reader,
//! `/proc` CPU time and memory, statistics and JSON output. Standard
//! library only.

pub mod http;
pub mod procs;
pub mod stats;

pub use procs::{children_cpu_seconds, cpu_seconds};

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

/// Every value of option `name` (one that may be given more than once), in order.
pub fn opt_all(opts: &[(String, String)], name: &str) -> Vec<String> {
    opts.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
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
