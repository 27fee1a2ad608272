//! File writes that never leave a half-written file behind.

use std::io::Write;
use std::path::{Path, PathBuf};
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
///
/// The temporary is created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`: never an existing
/// file or a planted symbolic link) and holds a shared advisory lock (flock) while it is
/// written: [`remove_stale_temporaries`] deletes only temporaries that nobody holds, whatever
/// process, pid or PID namespace made them.
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
    let (tmp, file) = create_temporary(dir, &name)?;
    let result = (|| {
        let mut file = std::io::BufWriter::new(file);
        fill(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Persist the rename itself.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        // The lock goes with the file, once it has its final name.
        drop(file);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates `.<name>.tmp.<pid>.<n>` in `dir`, private and locked (shared). A clean-up may
/// delete a temporary between its creation and its lock: then the file it locked has no name
/// any more, and another is made.
fn create_temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempts = 0;
    loop {
        let tmp = dir.join(format!(
            ".{name}.tmp.{}.{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = match options.open(&tmp) {
            Ok(f) => f,
            // A leftover of an earlier process with this pid (a container's pid 1).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 => {
                attempts += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        file.lock_shared()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if file.metadata()?.nlink() == 0 && attempts < 100 {
                attempts += 1;
                continue;
            }
        }
        return Ok((tmp, file));
    }
}

/// An exclusive advisory lock (flock) on `<dir>/.sagemaker-auditor-serve.lock`, held while it
/// lives: one daemon per directory. The kernel releases it when the process dies, whatever
/// its pid namespace.
#[derive(Debug)]
pub struct DirectoryLock {
    _file: std::fs::File,
    pub path: PathBuf,
}

/// Why a directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{path}: another `sagemaker-auditor serve`{holder} holds this directory's lock; one daemon per directory"
    )]
    Held { path: String, holder: String },
    #[error("{path}: cannot lock: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Takes [`DirectoryLock`] on `dir` (created if need be), without waiting.
pub fn lock_directory(dir: &Path) -> Result<DirectoryLock, LockError> {
    let path = dir.join(".sagemaker-auditor-serve.lock");
    let display = path.display().to_string();
    let io = |source| LockError::Io {
        path: display.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = match pid.trim() {
                "" => String::new(),
                pid => format!(" (pid {pid} in its namespace)"),
            };
            return Err(LockError::Held {
                path: display,
                holder,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    // Who holds it, for the message of the next one that tries.
    file.set_len(0).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(DirectoryLock { _file: file, path })
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
/// (`.<name>.tmp.<pid>.<n>`). Returns how many. A temporary is stale when no process holds
/// its lock: a writer holds it until the file has its final name, and the kernel releases it
/// when the writer dies. So a live writer's file is kept even when its pid is invisible here
/// (a sidecar in another PID namespace, `ProtectProc=invisible`), and a crashed run's files
/// are removed even when the new run has the same pid (a container's pid 1). Nothing but
/// regular files with that name pattern is touched.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_str().and_then(temporary_owner).is_none() || !entry.file_type()?.is_file() {
            continue;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = match options.open(entry.path()) {
            Ok(f) => f,
            // Renamed or removed by its writer meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        match file.try_lock() {
            Ok(()) => match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            },
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
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
    fn only_temporaries_nobody_holds_are_removed() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A crashed run's file with this very pid (a container's pid 1 again): removed.
        let own = format!(".latest.json.tmp.{}.3", std::process::id());
        let dead = ".latest.json.tmp.4194304.7";
        // A live writer's (here: a lock held on it, as by a sidecar whose pid is not visible).
        let held = ".report.json.tmp.4194305.1";
        for name in [
            own.as_str(),
            dead,
            held,
            "latest.json",
            ".hidden",
            ".x.tmp.abc.1",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let writer = std::fs::File::open(dir.join(held)).unwrap();
        writer.lock_shared().unwrap();
        // A planted link named like a temporary is not followed.
        let target = dir.join("target.txt");
        std::fs::write(&target, b"keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.join(".a.tmp.1.1")).unwrap();
        assert_eq!(remove_stale_temporaries(&dir).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = vec![
            held.to_string(),
            ".a.tmp.1.1".into(),
            ".hidden".into(),
            ".x.tmp.abc.1".into(),
            "latest.json".into(),
            "target.txt".into(),
        ];
        want.sort();
        assert_eq!(left, want);
        // Once its writer is gone, it goes too.
        drop(writer);
        assert_eq!(remove_stale_temporaries(&dir).unwrap(), 1);
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert_eq!(remove_stale_temporaries(&dir.join("missing")).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_lock_holder_per_directory() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = lock_directory(&dir.join("state")).unwrap();
        let err = lock_directory(&dir.join("state")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(".sagemaker-auditor-serve.lock")
                && text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = lock_directory(&dir.join("state")).unwrap();
        assert!(again.path.ends_with("state/.sagemaker-auditor-serve.lock"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_temporary_is_never_an_existing_file_or_link() {
        let dir = std::env::temp_dir().join(format!("sma-fsutil-excl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Links planted under the next temporary names, pointing at a file to protect.
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let next = SEQUENCE.load(Ordering::Relaxed);
        for n in next..next + 20 {
            let name = format!(".out.json.tmp.{}.{n}", std::process::id());
            std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
        }
        write_atomic(&dir.join("out.json"), b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(dir.join("out.json")).unwrap(), b"new");
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
