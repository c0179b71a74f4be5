//! The part of tblite's C API (`tblite.h`, tblite ≥ 0.4) that a GFN2-xTB singlepoint needs,
//! loaded from a shared library at run time, so that the `hip` binary runs (and says why not) on
//! a machine without it.
//!
//! Why tblite and not Debian's libxtb 6.5.1: that library's analytic gradient is wrong on some
//! atoms (methanol at ASE's g2 geometry: the carbon's x force −0.393 eV/Å against −0.157 eV/Å
//! from central differences of its own energy; xtb issues #492 and #986), while its energies
//! agree with tblite to 1e-8 eV per atom. tblite's gradient matches its energy, and tblite
//! (PyPI `tblite==0.8.0`) is also what made the project's datasets.
//!
//! Where the library is looked up, in order:
//! 1. `$HIP_TBLITE_LIB` (a `libtblite.so`, or the `_libtblite*.so` of the Python wheel);
//! 2. `libtblite.so.0`, `libtblite.so` (a system install);
//! 3. the PyPI wheel of the Python that `python3` runs (`pip install tblite`): its
//!    `site-packages/tblite/_libtblite*.so`. That file is a CPython extension that also exports
//!    tblite's C API; it refers to one data symbol of libpython (`_Py_NoneStruct`), so the
//!    interpreter's `libpython3.X.so` is loaded first for symbol resolution only: no Python code
//!    runs and no interpreter is started.
#![allow(unsafe_code)] // FFI: the unsafe code of the crate, behind the safe wrappers of session.rs

use std::ffi::{c_char, c_double, c_int, c_void};
use std::sync::OnceLock;

use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};

pub type Handle = *mut c_void;

/// Function pointers of tblite.
#[derive(Debug)]
pub struct Api {
    _libs: Vec<Library>,
    /// Where the library was found.
    pub path: String,
    pub get_version: unsafe extern "C" fn() -> c_int,
    pub new_error: unsafe extern "C" fn() -> Handle,
    pub delete_error: unsafe extern "C" fn(*mut Handle),
    pub check_error: unsafe extern "C" fn(Handle) -> c_int,
    pub get_error: unsafe extern "C" fn(Handle, *mut c_char, *const c_int),
    pub new_context: unsafe extern "C" fn() -> Handle,
    pub delete_context: unsafe extern "C" fn(*mut Handle),
    pub check_context: unsafe extern "C" fn(Handle) -> c_int,
    pub get_context_error: unsafe extern "C" fn(Handle, *mut c_char, *const c_int),
    pub set_context_verbosity: unsafe extern "C" fn(Handle, c_int),
    pub new_structure: unsafe extern "C" fn(
        Handle,
        c_int,
        *const c_int,
        *const c_double,
        *const c_double,
        *const c_int,
        *const c_double,
        *const bool,
    ) -> Handle,
    pub delete_structure: unsafe extern "C" fn(*mut Handle),
    pub update_structure_geometry: unsafe extern "C" fn(Handle, Handle, *const c_double, *const c_double),
    pub new_gfn2_calculator: unsafe extern "C" fn(Handle, Handle, *const c_void) -> Handle,
    pub delete_calculator: unsafe extern "C" fn(*mut Handle),
    pub set_calculator_accuracy: unsafe extern "C" fn(Handle, Handle, c_double),
    pub set_calculator_max_iter: unsafe extern "C" fn(Handle, Handle, c_int),
    /// Absent before tblite 0.4 (then an SCF failure is not retried).
    pub set_calculator_mixer_damping: Option<unsafe extern "C" fn(Handle, Handle, c_double)>,
    pub new_result: unsafe extern "C" fn() -> Handle,
    pub copy_result: unsafe extern "C" fn(Handle) -> Handle,
    pub delete_result: unsafe extern "C" fn(*mut Handle),
    pub get_singlepoint: unsafe extern "C" fn(Handle, Handle, Handle, Handle),
    pub get_result_energy: unsafe extern "C" fn(Handle, Handle, *mut c_double),
    pub get_result_gradient: unsafe extern "C" fn(Handle, Handle, *mut c_double),
    /// OpenMP's `omp_set_num_threads` of the runtime tblite was linked with, if it has one.
    pub omp_set_num_threads: Option<unsafe extern "C" fn(c_int)>,
}

// SAFETY: plain function pointers into libraries that stay loaded for the life of the process;
// every call is serialized by `session::LOCK`.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

/// `(libpython path or None, tblite library path)` candidates, in order.
fn candidates() -> Vec<(Option<String>, String)> {
    let mut v: Vec<(Option<String>, String)> = Vec::new();
    if let Ok(p) = std::env::var("HIP_TBLITE_LIB") {
        v.push((python_library(), p));
    }
    v.push((None, "libtblite.so.0".into()));
    v.push((None, "libtblite.so".into()));
    if let Some(p) = wheel_library() {
        v.push((python_library(), p));
    }
    v
}

/// Asks `python3` (never imports tblite) where its site-packages and libpython are.
fn python_query() -> Option<(String, String)> {
    const SCRIPT: &str = "import glob, os, sysconfig\n\
        lib = os.path.join(sysconfig.get_config_var('LIBDIR') or '', sysconfig.get_config_var('INSTSONAME') or '')\n\
        so = [p for k in ('platlib', 'purelib') for p in glob.glob(os.path.join(sysconfig.get_paths()[k], 'tblite', '_libtblite*.so'))]\n\
        print(lib); print(so[0] if so else '')";
    static Q: OnceLock<Option<(String, String)>> = OnceLock::new();
    Q.get_or_init(|| {
        let python = std::env::var("HIP_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = std::process::Command::new(python).args(["-c", SCRIPT]).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        let mut lines = text.lines();
        Some((lines.next()?.trim().to_string(), lines.next()?.trim().to_string()))
    })
    .clone()
}

fn python_library() -> Option<String> {
    python_query().map(|(lib, _)| lib).filter(|l| std::path::Path::new(l).is_file())
}

fn wheel_library() -> Option<String> {
    python_query().map(|(_, so)| so).filter(|s| !s.is_empty())
}

fn open(path: &str) -> Result<Library, libloading::Error> {
    // SAFETY: loading runs the library's initializers: for tblite (and libpython, loaded for
    // symbol resolution only) these set up static data and start no thread or interpreter.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }
}

fn load() -> Result<Api, String> {
    let mut errors = Vec::new();
    for (python, path) in candidates() {
        let mut libs = Vec::new();
        if let Some(py) = &python {
            match open(py) {
                Ok(l) => libs.push(l),
                Err(e) => {
                    errors.push(format!("{py}: {e}"));
                    continue;
                }
            }
        }
        match open(&path).and_then(|l| {
            libs.push(l);
            bind(libs, path.clone())
        }) {
            Ok(api) => return Ok(api),
            Err(e) => errors.push(format!("{path}: {e}")),
        }
    }
    Err(format!(
        "GFN2-xTB needs tblite's shared library: `pip install tblite==0.8.0` (./scripts/setup.sh does), \
         or HIP_TBLITE_LIB=/path/libtblite.so; tried {}",
        errors.join("; ")
    ))
}

fn bind(libs: Vec<Library>, path: String) -> Result<Api, libloading::Error> {
    let lib = libs.last().expect("the tblite library was pushed last");
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the symbol's type is the one declared in tblite's C headers.
            *unsafe { lib.get($name)? }
        };
    }
    Ok(Api {
        get_version: sym!(b"tblite_get_version\0"),
        new_error: sym!(b"tblite_new_error\0"),
        delete_error: sym!(b"tblite_delete_error\0"),
        check_error: sym!(b"tblite_check_error\0"),
        get_error: sym!(b"tblite_get_error\0"),
        new_context: sym!(b"tblite_new_context\0"),
        delete_context: sym!(b"tblite_delete_context\0"),
        check_context: sym!(b"tblite_check_context\0"),
        get_context_error: sym!(b"tblite_get_context_error\0"),
        set_context_verbosity: sym!(b"tblite_set_context_verbosity\0"),
        new_structure: sym!(b"tblite_new_structure\0"),
        delete_structure: sym!(b"tblite_delete_structure\0"),
        update_structure_geometry: sym!(b"tblite_update_structure_geometry\0"),
        new_gfn2_calculator: sym!(b"tblite_new_gfn2_calculator\0"),
        delete_calculator: sym!(b"tblite_delete_calculator\0"),
        set_calculator_accuracy: sym!(b"tblite_set_calculator_accuracy\0"),
        set_calculator_max_iter: sym!(b"tblite_set_calculator_max_iter\0"),
        // SAFETY: `void tblite_set_calculator_mixer_damping(tblite_context, tblite_calculator, double)`.
        set_calculator_mixer_damping: unsafe { lib.get(b"tblite_set_calculator_mixer_damping\0").ok().map(|s| *s) },
        new_result: sym!(b"tblite_new_result\0"),
        copy_result: sym!(b"tblite_copy_result\0"),
        delete_result: sym!(b"tblite_delete_result\0"),
        get_singlepoint: sym!(b"tblite_get_singlepoint\0"),
        get_result_energy: sym!(b"tblite_get_result_energy\0"),
        get_result_gradient: sym!(b"tblite_get_result_gradient\0"),
        // SAFETY: OpenMP's `void omp_set_num_threads(int)`, resolved through tblite's own
        // dependencies (libgomp).
        omp_set_num_threads: unsafe { lib.get(b"omp_set_num_threads\0").ok().map(|s| *s) },
        path,
        _libs: libs,
    })
}

/// The library, loaded once per process (the error, if any, is kept and repeated).
pub fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(Clone::clone)
}
