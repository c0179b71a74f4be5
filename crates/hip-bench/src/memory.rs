//! Peak resident memory of one Hessian call, each measured in its own process: the high-water
//! mark is reset just before the call (`5` written to `/proc/self/clear_refs` sets `VmHWM` to the
//! current `VmRSS`), so the footprint is `VmHWM` after the call minus `VmRSS` before it — small
//! footprints are measured, not hidden under the peak reached while loading the model. Anything
//! that cannot be read is an error, never a silent 0.

fn status_kb(key: &str) -> Result<u64, String> {
    let s = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("/proc/self/status has no {key} line"))
}

/// Current `VmHWM` (peak resident set) in kB.
pub fn vm_hwm_kb() -> Result<u64, String> {
    status_kb("VmHWM:")
}

/// Current `VmRSS` in kB.
pub fn vm_rss_kb() -> Result<u64, String> {
    status_kb("VmRSS:")
}

/// Resets the high-water mark to the current resident set; returns that resident set, kB.
pub fn reset_high_water_mark() -> Result<u64, String> {
    std::fs::write("/proc/self/clear_refs", "5")
        .map_err(|e| format!("cannot reset the memory high-water mark (/proc/self/clear_refs): {e}"))?;
    let (rss, hwm) = (vm_rss_kb()?, vm_hwm_kb()?);
    // the reset sets VmHWM to VmRSS; a kernel that ignores it would leave an older, higher peak
    if hwm > rss + 1024 {
        return Err(format!("the high-water mark did not reset (VmHWM {hwm} kB, VmRSS {rss} kB)"));
    }
    Ok(rss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_after_the_reset_is_measured() {
        let before = reset_high_water_mark().unwrap();
        let v = vec![1u8; 64 << 20]; // 64 MB, touched
        let peak = vm_hwm_kb().unwrap();
        assert!(v.iter().map(|&x| x as u64).sum::<u64>() == 64 << 20);
        let mb = (peak - before) as f64 / 1024.0;
        assert!((60.0..100.0).contains(&mb), "measured {mb} MB for a 64 MB buffer");
    }
}
