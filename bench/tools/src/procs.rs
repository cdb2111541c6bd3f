//! What `/proc` says about a process or a process group: CPU time and
//! resident memory (Linux).

use std::fs;

/// Linux's USER_HZ: `/proc/PID/stat` times are in 1/100 s on every
/// architecture Lambda runs on.
pub const CLK_TCK: f64 = 100.0;

/// CPU time of a process (all its live threads), in seconds: scheduler run
/// time from schedstat where the kernel has it, else utime + stime ticks.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    schedstat_seconds(pid).or_else(|| {
        let f = stat_fields(&pid.to_string())?;
        Some((tick(&f, 11)? + tick(&f, 12)?) / CLK_TCK)
    })
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

/// The fields of /proc/PID/stat after the command name, 0-based: 0 is the
/// state (field 3 of proc(5)), 2 the process group, 3 the session, 11 and
/// 12 utime and stime, 13 and 14 cutime and cstime (in ticks).
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields start after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split(' ').map(str::to_string).collect())
}

fn tick(fields: &[String], i: usize) -> Option<f64> {
    fields.get(i)?.parse().ok()
}

/// cutime + cstime of this process: the CPU time of its children that it
/// has waited for, in seconds.
pub fn children_cpu_seconds() -> Option<f64> {
    let f = stat_fields("self")?;
    Some((tick(&f, 13)? + tick(&f, 14)?) / CLK_TCK)
}

/// The live processes of the process group or session `id` (the pid of
/// its leader, as a runtime started in a group of its own has).
pub fn group_members(id: u32) -> Vec<u32> {
    let id = id.to_string();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            stat_fields(pid).is_some_and(|f| f.get(2) == Some(&id) || f.get(3) == Some(&id))
        })
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// The CPU time of a whole group, in seconds: each live member's threads
/// (`cpu_seconds`) plus the children each member has reaped (cutime +
/// cstime: a shell script's commands before it execs the runtime).
pub fn group_cpu_seconds(id: u32) -> f64 {
    group_members(id)
        .into_iter()
        .filter_map(|pid| {
            let f = stat_fields(&pid.to_string())?;
            let reaped = (tick(&f, 13)? + tick(&f, 14)?) / CLK_TCK;
            Some(cpu_seconds(pid)? + reaped)
        })
        .sum()
}

/// The resident memory (VmRSS) of each live member of group `id`, as
/// (`COMM[PID]`, MiB).
pub fn group_rss_mib(id: u32) -> Vec<(String, f64)> {
    group_members(id)
        .into_iter()
        .filter_map(|pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let kib: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((format!("{}[{pid}]", comm.trim()), kib / 1024.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_memory_and_a_group() {
        let me = std::process::id();
        assert!(cpu_seconds(me).is_some_and(|s| s > 0.0));
        assert!(children_cpu_seconds().is_some());
        let group = stat_fields("self").unwrap()[2].parse::<u32>().unwrap();
        assert!(group_members(group).contains(&me));
        assert!(group_cpu_seconds(group) > 0.0);
        let rss = group_rss_mib(group);
        assert!(rss
            .iter()
            .any(|(name, mib)| name.ends_with(&format!("[{me}]")) && *mib > 0.0));
    }
}
