//! One run per output folder: a second run into the same `--out` would interleave its
//! journal with the first's, and the last to finish would silently win. The lock is a file
//! created exclusively, naming the holder's pid; a lock whose holder is gone (kill -9) is
//! taken over, saying so.

use std::io::Write;
use std::path::{Path, PathBuf};

const NAME: &str = ".dicetest.lock";

/// Held while the run writes into the folder; removed when dropped.
#[derive(Debug)]
pub struct OutLock {
    path: PathBuf,
}

impl OutLock {
    /// Takes the folder (creating it), or says which process holds it.
    pub fn take(out: &Path) -> Result<OutLock, String> {
        std::fs::create_dir_all(out)
            .map_err(|e| format!("cannot create the output folder {}: {e}", out.display()))?;
        let path = out.join(NAME);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(OutLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if alive(pid) => {
                            return Err(format!(
                                "{} is in use by another dicetest run (pid {pid}); wait for it, or choose another --out",
                                out.display()
                            ))
                        }
                        _ => {
                            eprintln!(
                                "note: {} was left locked by a run that is gone{}; taking it over",
                                out.display(),
                                holder.map(|p| format!(" (pid {p})")).unwrap_or_default()
                            );
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
        Err(format!(
            "cannot lock {}: another run keeps taking it",
            path.display()
        ))
    }
}

impl Drop for OutLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_and_a_dead_holder_is_replaced() {
        let dir = std::env::temp_dir().join(format!("dicetest-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = OutLock::take(&dir).expect("first run takes the folder");
        let err = OutLock::take(&dir).expect_err("second run is refused");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(!dir.join(NAME).exists(), "the lock goes with its run");
        // A holder that is gone: a pid above the kernel's maximum cannot exist.
        std::fs::write(dir.join(NAME), "4194305\n").unwrap();
        let taken = OutLock::take(&dir).expect("a dead holder's lock is taken over");
        drop(taken);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
