//! The `ab` command: a base and a runtime started alternately, run after
//! run, so that both see the same machine and, under a CPU quota, the same
//! lottery of where in the CFS period each boot starts (a boot that needs
//! one more period costs ~100 ms of wall time at 0.3 CPU, so medians of
//! small samples jump; means of alternating runs compare better).
//!
//! The base is bare `erl` timed to its exit, unless another runtime is
//! given (then to its first response). The runtime is timed to its first
//! response. CPU is the process group's (`procs::group_cpu_seconds`) at
//! the first response, or the exited tree's.

use crate::run::{once, Mode, Sample, Setup, Target};
use bench_tools::{json_str, stats::Spread};

/// Bare `erl`, the default base.
pub fn bare_erl() -> Target {
    Target {
        cmd: ["erl", "-noshell", "-eval", "halt()."]
            .map(String::from)
            .to_vec(),
        env: Vec::new(),
    }
}

pub struct Side {
    pub label: String,
    pub target: Target,
    pub mode: Mode,
}

/// Runs `warmup` discarded pairs, then `runs` pairs (base, then ours); a
/// pair with a failed run is dropped and its error kept. Returns the JSON
/// object, or an error when no pair succeeded.
pub fn command(
    label: &str,
    base: &Side,
    ours: &Target,
    setup: &Setup,
    (warmup, runs): (usize, usize),
) -> Result<String, String> {
    let mut pairs: Vec<(Sample, Sample)> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for i in 0..warmup + runs {
        let b = once(base.mode, &base.target, setup);
        let o = once(Mode::Invoke, ours, setup);
        match (b, o) {
            (Ok(b), Ok(o)) if i >= warmup => pairs.push((b, o)),
            (Ok(_), Ok(_)) => {}
            (b, o) => errors.extend(b.err().into_iter().chain(o.err())),
        }
    }
    if pairs.is_empty() {
        return Err(format!("{label}: no pair of runs succeeded: {errors:?}"));
    }
    let side = |f: &dyn Fn(&(Sample, Sample)) -> f64| -> Spread {
        Spread::of(&pairs.iter().map(f).collect::<Vec<_>>())
    };
    // Ours, always to the first response (CPU: the group's then).
    let o_next = side(&|p| p.1.first_ms);
    let o_resp = side(&|p| p.1.resp.map_or(f64::NAN, |r| r.0));
    let o_cpu = side(&|p| p.1.group_cpu_ms.unwrap_or(f64::NAN));
    // The base: to its exit, or to its first /next and first response.
    let b_first = side(&|p| p.0.first_ms);
    let (b_end, b_cpu, base_json) = match base.mode {
        Mode::Exit => {
            let cpu = side(&|p| p.0.first_cpu_ms);
            let json = format!(
                "{{\"exit_ms\":{},\"cpu_ms\":{}}}",
                b_first.json(),
                cpu.json()
            );
            (b_first.clone(), cpu, json)
        }
        _ => {
            let resp = side(&|p| p.0.resp.map_or(f64::NAN, |r| r.0));
            let cpu = side(&|p| p.0.group_cpu_ms.unwrap_or(f64::NAN));
            let json = format!(
                "{{\"next_ms\":{},\"resp_ms\":{},\"cpu_ms\":{}}}",
                b_first.json(),
                resp.json(),
                cpu.json()
            );
            (resp, cpu, json)
        }
    };
    let ratio = |a: f64, b: f64| ((a / b) * 1000.0).round() / 1000.0;
    let errs: Vec<String> = errors.iter().map(|e| json_str(e)).collect();
    Ok(format!(
        "{{\"label\":{},\"cgroup\":{},\"runs\":{},\"base_label\":{},\"base_mode\":{},\
         \"ratio_of_means\":{},\"ratio_of_medians\":{},\"next_ratio_of_means\":{},\
         \"next_ratio_of_medians\":{},\"cpu_ratio_of_means\":{},\"base\":{base_json},\
         \"ours\":{{\"next_ms\":{},\"resp_ms\":{},\"cpu_ms\":{}}},\"errors\":[{}]}}",
        json_str(label),
        json_str(&setup.cgroup),
        pairs.len(),
        json_str(&base.label),
        json_str(if base.mode == Mode::Exit {
            "exit"
        } else {
            "invoke"
        }),
        ratio(o_resp.mean, b_end.mean),
        ratio(o_resp.median, b_end.median),
        ratio(o_next.mean, b_first.mean),
        ratio(o_next.median, b_first.median),
        ratio(o_cpu.mean, b_cpu.mean),
        o_next.json(),
        o_resp.json(),
        o_cpu.json(),
        errs.join(",")
    ))
}
