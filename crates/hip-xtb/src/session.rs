//! A safe handle on one tblite calculation: context, error handle, structure, GFN2-xTB calculator
//! and results, all freed on drop. Sessions are serialized by a process-wide lock (the library's
//! Fortran runtime is not known to be re-entrant); parallel work runs in separate processes
//! (`hip bench reactions`).
#![allow(unsafe_code)] // calls into ffi::Api; every pointer passed is a live handle or a slice of the stated length

use std::ffi::{c_char, c_int};
use std::sync::{Mutex, MutexGuard};

use crate::ffi::{Api, Handle, api};

static LOCK: Mutex<()> = Mutex::new(());

type CheckFn = unsafe extern "C" fn(Handle) -> c_int;
type GetErrorFn = unsafe extern "C" fn(Handle, *mut c_char, *const c_int);

/// tblite's default mixer damping.
pub const DEFAULT_DAMPING: f64 = 0.4;
/// The mixer damping of the second try of an SCF that did not converge.
pub const RETRY_DAMPING: f64 = 0.1;

/// SCF settings passed to tblite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScfSettings {
    /// tblite's "accuracy" (smaller is tighter; its default 1.0).
    pub accuracy: f64,
    /// Largest number of SCF iterations.
    pub max_iter: i32,
    /// OpenMP threads of one singlepoint. 1 (the default) makes every result bitwise
    /// reproducible; more threads change the summation order (measured: energies differ in the
    /// last digits between runs, and Hessians by up to 1e-3 eV/Å²).
    pub threads: i32,
}

/// Saved results (wavefunction included), used to restart displaced SCFs from a reference.
#[derive(Debug)]
pub struct Snapshot {
    api: &'static Api,
    res: Handle,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // SAFETY: `res` was returned by tblite_copy_result and is freed once.
        unsafe { (self.api.delete_result)(&mut self.res) }
    }
}

/// One molecule's calculation.
#[derive(Debug)]
pub struct Session {
    api: &'static Api,
    ctx: Handle,
    err: Handle,
    mol: Handle,
    calc: Handle,
    res: Handle,
    n: usize,
    threads: i32,
    max_iter: i32,
    /// What the SCFs of this session cost (see [`ScfCounts`]).
    pub counts: ScfCounts,
    _guard: MutexGuard<'static, ()>,
}

/// What SCFs cost: singlepoints, second tries (the first SCF did not converge), failures (the
/// second did not either), and wall seconds in all SCFs and in second tries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScfCounts {
    /// Singlepoints asked for.
    pub singlepoints: usize,
    /// Second tries (damped mixer, 4× the iterations).
    pub retries: usize,
    /// Singlepoints that failed both tries.
    pub failures: usize,
    /// Wall seconds in SCFs.
    pub seconds: f64,
    /// Of which in second tries.
    pub retry_seconds: f64,
}

impl ScfCounts {
    /// The sum of two counts.
    pub fn add(&mut self, o: &ScfCounts) {
        self.singlepoints += o.singlepoints;
        self.retries += o.retries;
        self.failures += o.failures;
        self.seconds += o.seconds;
        self.retry_seconds += o.retry_seconds;
    }
}

fn message(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    let msg = String::from_utf8_lossy(&bytes).split_whitespace().collect::<Vec<_>>().join(" ");
    if msg.is_empty() { "no message from tblite".into() } else { msg }
}

impl Session {
    /// A GFN2-xTB calculation of `numbers` at `pos_bohr` (3N, Bohr) with total `charge` and
    /// `uhf` unpaired electrons.
    pub fn new(numbers: &[u8], pos_bohr: &[f64], charge: f64, uhf: i32, scf: &ScfSettings) -> Result<Self, String> {
        let api = api()?;
        let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let n = numbers.len();
        if pos_bohr.len() != 3 * n {
            return Err(format!("{} coordinates for {n} atoms", pos_bohr.len()));
        }
        let z: Vec<c_int> = numbers.iter().map(|&z| c_int::from(z)).collect();
        // SAFETY: constructors without pointer arguments; the handles are freed in Drop (also on
        // the early returns below, since `s` owns them from here on).
        let mut s = unsafe {
            Session {
                api,
                ctx: (api.new_context)(),
                err: (api.new_error)(),
                mol: std::ptr::null_mut(),
                calc: std::ptr::null_mut(),
                res: (api.new_result)(),
                n,
                threads: scf.threads,
                max_iter: scf.max_iter,
                counts: ScfCounts::default(),
                _guard: guard,
            }
        };
        // SAFETY: `z` and `pos_bohr` hold n and 3n values; a null lattice and periodicity mean a
        // molecule.
        unsafe {
            (api.set_context_verbosity)(s.ctx, 0);
            s.mol = (api.new_structure)(
                s.err,
                n as c_int,
                z.as_ptr(),
                pos_bohr.as_ptr(),
                &charge,
                &uhf,
                std::ptr::null(),
                std::ptr::null(),
            );
        }
        s.check_error("setting up the molecule")?;
        // SAFETY: live handles; a null configuration selects the defaults.
        s.calc = unsafe { (api.new_gfn2_calculator)(s.ctx, s.mol, std::ptr::null()) };
        s.check_context("loading GFN2-xTB")?;
        if s.calc.is_null() {
            return Err("GFN2-xTB: tblite returned no calculator".into());
        }
        // SAFETY: live handles, plain values.
        unsafe {
            (api.set_calculator_accuracy)(s.ctx, s.calc, scf.accuracy);
            (api.set_calculator_max_iter)(s.ctx, s.calc, scf.max_iter);
        }
        s.check_context("setting the SCF options")?;
        Ok(s)
    }

    fn check_error(&self, what: &str) -> Result<(), String> {
        self.check(what, self.err, self.api.check_error, self.api.get_error)
    }

    fn check_context(&self, what: &str) -> Result<(), String> {
        self.check(what, self.ctx, self.api.check_context, self.api.get_context_error)
    }

    /// The error held by `handle` (tblite's error or context object), if `check` says there is one.
    fn check(&self, what: &str, handle: Handle, check: CheckFn, get: GetErrorFn) -> Result<(), String> {
        // SAFETY: `handle` is this session's live error or context handle, matching `check`.
        if unsafe { check(handle) } == 0 {
            return Ok(());
        }
        let mut buf = vec![0 as c_char; 1024];
        let len = buf.len() as c_int;
        // SAFETY: the buffer holds `len` bytes.
        unsafe { get(handle, buf.as_mut_ptr(), &len) };
        Err(format!("GFN2-xTB {what} failed: {}", message(&buf)))
    }

    /// Moves the atoms (3N, Bohr).
    pub fn set_positions(&mut self, pos_bohr: &[f64]) -> Result<(), String> {
        if pos_bohr.len() != 3 * self.n {
            return Err(format!("{} coordinates for {} atoms", pos_bohr.len(), self.n));
        }
        // SAFETY: live handles, a slice of 3n values, no lattice.
        unsafe { (self.api.update_structure_geometry)(self.err, self.mol, pos_bohr.as_ptr(), std::ptr::null()) };
        self.check_error("moving the atoms")
    }

    /// Energy (Hartree) and gradient (3N, Hartree/Bohr) at the current positions, the SCF
    /// restarted from the results held (if any). An SCF that does not converge is run once more
    /// from a fresh guess with a damped mixer ([`RETRY_DAMPING`], 4× the iterations), which
    /// converges where the default mixer oscillates (stretched bonds along a band) to the same
    /// state (measured: the same energy to 1e-9 eV on a stretched HCN that fails with the
    /// default); the error names both tries.
    pub fn singlepoint(&mut self) -> Result<(f64, Vec<f64>), String> {
        let t0 = std::time::Instant::now();
        self.counts.singlepoints += 1;
        let r = self.singlepoint_with_retry();
        self.counts.seconds += t0.elapsed().as_secs_f64();
        r
    }

    fn singlepoint_with_retry(&mut self) -> Result<(f64, Vec<f64>), String> {
        let first = match self.try_singlepoint() {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        let Some(damping) = self.api.set_calculator_mixer_damping else {
            return Err(first);
        };
        // SAFETY: live handles, plain values; the results are replaced by a fresh object.
        unsafe {
            damping(self.ctx, self.calc, RETRY_DAMPING);
            (self.api.set_calculator_max_iter)(self.ctx, self.calc, 4 * self.max_iter);
            (self.api.delete_result)(&mut self.res);
            self.res = (self.api.new_result)();
        }
        let t1 = std::time::Instant::now();
        let second = self.try_singlepoint();
        self.counts.retries += 1;
        self.counts.retry_seconds += t1.elapsed().as_secs_f64();
        self.counts.failures += usize::from(second.is_err());
        // SAFETY: as above; back to the settings of the session.
        unsafe {
            damping(self.ctx, self.calc, DEFAULT_DAMPING);
            (self.api.set_calculator_max_iter)(self.ctx, self.calc, self.max_iter);
        }
        second.map_err(|e| {
            format!(
                "{first}; again from a fresh guess with mixer damping {RETRY_DAMPING} and {} iterations: {e}",
                4 * self.max_iter
            )
        })
    }

    fn try_singlepoint(&mut self) -> Result<(f64, Vec<f64>), String> {
        let mut e = 0.0;
        let mut g = vec![0.0; 3 * self.n];
        // SAFETY: live handles; the thread count is a plain value, set on the calling thread
        // (OpenMP's setting is per thread) before every singlepoint.
        unsafe {
            if let Some(set) = self.api.omp_set_num_threads {
                set(self.threads.max(1));
            }
            (self.api.get_singlepoint)(self.ctx, self.mol, self.calc, self.res);
        }
        self.check_context("SCF")?;
        // SAFETY: live handles; `g` holds 3n values, as tblite writes.
        unsafe {
            (self.api.get_result_energy)(self.err, self.res, &mut e);
            (self.api.get_result_gradient)(self.err, self.res, g.as_mut_ptr());
        }
        self.check_error("reading the results")?;
        if !e.is_finite() || g.iter().any(|x| !x.is_finite()) {
            return Err("GFN2-xTB returned a non-finite energy or gradient".into());
        }
        Ok((e, g))
    }

    /// A copy of the results held (the converged wavefunction among them).
    pub fn snapshot(&self) -> Snapshot {
        // SAFETY: live results handle; the copy is owned by the snapshot.
        Snapshot { api: self.api, res: unsafe { (self.api.copy_result)(self.res) } }
    }

    /// Replaces the results held by a copy of `snap` (the next SCF restarts from it).
    pub fn restore(&mut self, snap: &Snapshot) {
        // SAFETY: the old handle is freed once and replaced by a fresh copy.
        unsafe {
            (self.api.delete_result)(&mut self.res);
            self.res = (self.api.copy_result)(snap.res);
        }
    }

    /// tblite's version (10000 × major + 100 × minor + patch) and where the library was found.
    pub fn library() -> Result<(i32, String), String> {
        let api = api()?;
        // SAFETY: no arguments.
        Ok((unsafe { (api.get_version)() }, api.path.clone()))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: each handle was created in `new` and is freed once; tblite's delete functions
        // accept null handles.
        unsafe {
            (self.api.delete_result)(&mut self.res);
            (self.api.delete_calculator)(&mut self.calc);
            (self.api.delete_structure)(&mut self.mol);
            (self.api.delete_error)(&mut self.err);
            (self.api.delete_context)(&mut self.ctx);
        }
    }
}
