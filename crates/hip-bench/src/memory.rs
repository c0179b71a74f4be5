//! Peak resident memory of one Hessian, each measured in its own process (`/proc/self/status`
//! VmHWM), minus the high-water mark reached before the Hessian (model loaded, molecule built).

/// Current `VmHWM` (peak resident set) in kB, if the platform exposes it.
pub fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}
