//! Reading this process's memory use from `/proc/self/status`.

/// Resident memory of this process, read in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Resident now (`VmRSS`), bytes.
    pub current: u64,
    /// Peak resident so far (`VmHWM`), bytes.
    pub peak: u64,
}

/// This process's memory use, if the system reports it (Linux does).
pub fn memory_usage() -> Option<MemoryUsage> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
    };
    Some(MemoryUsage {
        current: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// Peak resident memory (`VmHWM`) in bytes, if the system reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    memory_usage().map(|m| m.peak)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_is_at_least_current_and_nonzero_on_linux() {
        let m = super::memory_usage().expect("VmRSS and VmHWM on Linux");
        assert!(m.current > 0 && m.peak >= m.current, "{m:?}");
    }
}
