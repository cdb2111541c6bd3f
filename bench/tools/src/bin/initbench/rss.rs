//! The `rss` command: a runtime serves `invocations` events back to back,
//! then sits idle; its memory is read after the idle time: the resident
//! memory (VmRSS) of every process of its group.

use crate::run::{kill_group, spawn, Setup, Target, TIMEOUT};
use crate::stub::{Seen, Stub};
use bench_tools::{json_str, procs, stats::round1};
use std::time::{Duration, Instant};

pub fn command(
    label: &str,
    target: &Target,
    setup: &Setup,
    invocations: usize,
    idle: Duration,
) -> Result<String, String> {
    let stub = Stub::bind(&setup.host)?;
    let mut child = spawn(target, &stub.api(), &setup.cgroup)?;
    let pid = child.id();
    let serving = stub.serve(pid, setup.event.clone(), invocations);
    let result = (|| {
        // The whole run may take the single-run bound per invocation.
        let deadline = Instant::now() + TIMEOUT * invocations.max(4) as u32;
        let (mut first, mut last, mut done) = (None, None, 0);
        while done < invocations {
            let left = deadline.saturating_duration_since(Instant::now());
            match serving.seen.recv_timeout(left) {
                Ok(Seen::Response(t, _)) => {
                    first.get_or_insert(t);
                    last = Some(t);
                    done += 1;
                }
                Ok(Seen::Next(..)) => {}
                Ok(Seen::Failed(e)) => return Err(format!("invocation {}: {e}", done + 1)),
                Err(_) => return Err(format!("only {done} of {invocations} responses")),
            }
        }
        let elapsed = match (first, last) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        std::thread::sleep(idle);
        Ok((elapsed, procs::group_rss_mib(pid)))
    })();
    serving.stop();
    kill_group(&mut child);
    let (elapsed, rss) = result?;
    let per_s = if elapsed > 0.0 {
        round1((invocations - 1) as f64 / elapsed).to_string()
    } else {
        "null".to_string()
    };
    let rows: Vec<String> = rss
        .iter()
        .map(|(name, mib)| format!("{}:{}", json_str(name), round1(*mib)))
        .collect();
    let total: f64 = rss.iter().map(|(_, mib)| mib).sum();
    Ok(format!(
        "{{\"label\":{},\"invocations\":{invocations},\"warm_invokes_per_s\":{per_s},\
         \"rss_mib\":{{{}}},\"rss_total_mib\":{}}}",
        json_str(label),
        rows.join(","),
        round1(total)
    ))
}
