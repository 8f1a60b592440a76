//! What Linux's /proc says about this process and the machine.

use std::path::Path;

fn field(file: &str, name: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Bytes this process sent to the block layer (dirtied pages), and those
/// cancelled again because their file was truncated or deleted first.
pub fn write_bytes() -> (u64, u64) {
    (
        field("/proc/self/io", "write_bytes"),
        field("/proc/self/io", "cancelled_write_bytes"),
    )
}

pub fn rss_kib() -> u64 {
    field("/proc/self/status", "VmRSS")
}

pub fn peak_rss_kib() -> u64 {
    field("/proc/self/status", "VmHWM")
}

/// User plus system CPU seconds of this process, all threads.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// The machine's (stolen, total) CPU time so far, in ticks (1/100 s),
/// summed over CPUs.
pub fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice;
    // guest time is already in user.
    (v.get(7).copied().unwrap_or(0), v.iter().take(8).sum())
}

pub fn steal_ticks() -> u64 {
    cpu_ticks().0
}

/// The 1, 5 and 15 minute load averages, as the kernel prints them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// (allocated bytes as `du` counts them, sum of file lengths).
pub fn dir_size(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut alloc = 0;
    let mut len = 0;
    let Ok(entries) = std::fs::read_dir(path) else {
        return (0, 0);
    };
    for e in entries.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            let (a, l) = dir_size(&e.path());
            alloc += a;
            len += l;
        } else {
            alloc += m.blocks() * 512;
            len += m.len();
        }
    }
    (alloc, len)
}
