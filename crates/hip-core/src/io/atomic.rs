//! Atomic file output: everything is written to a temporary file in the destination's folder
//! and renamed over the destination only when complete, so a failed or killed writer never
//! leaves a half-written file, and a previous file stays intact until the new one is whole.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A temporary path beside `path` with the same extension (so format-by-extension writers,
/// e.g. image encoders, still work): `DIR/.NAME.tmp-PID.EXT`.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}{ext}", std::process::id()))
}

/// Writes `path` atomically from what `write` puts into the file; on any error the temporary
/// file is removed and `path` is untouched.
pub fn write_with(path: &Path, write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    write_with(path, |f| f.write_all(bytes.as_ref()))
}

/// Produces `path` atomically with a writer that takes a path (e.g. a plotting backend): it
/// writes the temporary path, which is renamed over `path` if it succeeds and removed if not.
pub fn produce<E: std::fmt::Display>(
    path: &Path,
    make: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> Result<()> {
    let tmp = temp_path(path);
    match make(&tmp) {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(path, e)
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::invalid(path.display().to_string(), e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("hip-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("h.npy");
        write(&p, b"old contents").unwrap();
        // an error injected halfway through writing
        let e = write_with(&p, |f| {
            f.write_all(b"half of the new")?;
            Err(std::io::Error::other("injected failure"))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("injected failure") && e.contains("h.npy"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
        let e = produce(&p, |tmp| {
            std::fs::write(tmp, b"partial").unwrap();
            Err("encoder failed")
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("encoder failed"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "temporary files left behind: {left:?}");
        write(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
    }
}
