//! File writes that never leave a half-written file behind.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes concurrent writes from one process.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over the target. Readers see the old content or the new,
/// never a mix; a crash leaves at most a stray temporary file. The file is private (0600):
/// snapshots and reports describe an account's security posture.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for content produced by `fill` (a serializer writing straight to the
/// file, so a large report is never held as one string as well).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("path has no file name"))?
        .to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = std::io::BufWriter::new(options.open(&tmp)?);
        fill(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Persist the rename itself.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Why a text file could not be read.
#[derive(Debug)]
pub enum ReadTextError {
    Io(std::io::Error),
    /// The file is not UTF-8: where its first invalid byte is (1-based line and column).
    NotUtf8 {
        line: usize,
        column: usize,
    },
}

/// Reads a UTF-8 text file; a file that is not names the line of its first bad byte.
pub fn read_text(path: &Path) -> Result<String, ReadTextError> {
    let bytes = std::fs::read(path).map_err(ReadTextError::Io)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        ReadTextError::NotUtf8 {
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
            column: valid.len() - line_start + 1,
        }
    })
}

/// Deletes the temporary files that [`write_atomic`] calls killed mid-write left in `dir`
/// (`.<name>.tmp.<pid>.<n>`), when the process that made them is gone. Returns how many.
/// Nothing else is touched, and a temporary of a live process (another replica writing to
/// the same directory) is kept. Linux tells liveness by /proc; elsewhere nothing is deleted.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<usize> {
    let proc = Path::new("/proc/self");
    if !proc.exists() {
        return Ok(0);
    }
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temporary_owner) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The pid in a temporary's name `.<name>.tmp.<pid>.<n>`, if it is one of ours.
fn temporary_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp.")?;
    let (pid, n) = tail.split_once('.')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.json");
        write_atomic(&target, b"old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("out.json")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let own = format!(".latest.json.tmp.{}.3", std::process::id());
        // pid 4194304 is above Linux's pid_max: never alive.
        let dead = ".latest.json.tmp.4194304.7";
        for name in [own.as_str(), dead, "latest.json", ".hidden", ".x.tmp.abc.1"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&dir).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = vec![
            own,
            ".hidden".into(),
            ".x.tmp.abc.1".into(),
            "latest.json".into(),
        ];
        want.sort();
        assert_eq!(left, want);
        assert_eq!(remove_stale_temporaries(&dir.join("missing")).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn text_that_is_not_utf8_names_its_first_bad_byte() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, b"a = 1\nb = \"x\xff\"\n").unwrap();
        match read_text(&path) {
            Err(ReadTextError::NotUtf8 { line, column }) => assert_eq!((line, column), (2, 7)),
            other => panic!("{other:?}"),
        }
        std::fs::write(&path, "\u{e9}t\u{e9}\n").unwrap();
        assert_eq!(read_text(&path).unwrap(), "\u{e9}t\u{e9}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_keeps_the_old_file() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-missing-{}", std::process::id()));
        let err = write_atomic(&dir.join("nested/out.json"), b"x");
        assert!(err.is_err());
    }
}
