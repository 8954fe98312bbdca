//! Key files handed to DUT processes (`{pskfile}`): readable by this user only, in a
//! private directory with an unpredictable name, removed when dropped, and swept up at
//! the next start when a kill -9 left one behind.
//!
//! Why each piece: a predictable name in the shared, world-writable temp folder can be
//! pre-created by another user as a link to somewhere else (we would write the key there)
//! or simply read (0644). So every key file lives in its own directory made by
//! [`tempfile`] (random suffix, mode 0700), is created 0600 with `O_EXCL | O_NOFOLLOW` (never
//! an existing path, never through a link), and the directory goes away with the
//! [`SecretFile`] value. Drop does not run after SIGKILL: the directory's name carries the
//! owner's pid (`dicetest-keys-<pid>-XXXXXX`), and [`sweep_stale_once`] removes, once per
//! process, every such directory of ours whose pid is no longer alive.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What every key directory's name starts with; the owner's pid and a random suffix follow.
pub const PREFIX: &str = "dicetest-keys-";

/// A file holding a secret, in a private directory of its own; both are removed on drop.
#[derive(Debug)]
pub struct SecretFile {
    path: PathBuf,
    // Declared after `path` only for clarity: dropping it removes the directory and file.
    dir: tempfile::TempDir,
}

impl SecretFile {
    /// Writes `contents` to a new key file under the system's temp folder.
    pub fn create(name: &str, contents: &[u8]) -> std::io::Result<SecretFile> {
        Self::create_in(&std::env::temp_dir(), name, contents)
    }

    /// Writes `contents` to `base/dicetest-keys-<pid>-XXXXXX/name`.
    pub fn create_in(base: &Path, name: &str, contents: &[u8]) -> std::io::Result<SecretFile> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .rand_bytes(12)
            .tempdir_in(base)?;
        private_dir(dir.path())?;
        let path = dir.path().join(name);
        let mut f = create_private_file(&path)?;
        f.write_all(contents)?;
        f.sync_all()?;
        Ok(SecretFile { path, dir })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The private directory holding it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // tempfile makes it 0700 already; say so here rather than rely on it.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        // O_CREAT | O_EXCL: fails on anything already there, a link included.
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// The pid a key directory's name carries, if `name` is one of ours.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, suffix) = rest.split_once('-')?;
    if suffix.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` exists; `None` where this cannot be told (no /proc).
fn alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new("/proc").join(pid.to_string()).exists())
}

/// Removes, under `base`, every key directory owned by this user whose owner process is
/// gone (left by a dicetest killed with SIGKILL). Returns the directories removed.
pub fn sweep_stale_in(base: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(base) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if pid == std::process::id() || alive(pid) != Some(false) {
            continue;
        }
        let path = e.path();
        // symlink_metadata: a link named like ours is not followed, and not ours to remove.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || !owned_by_us(&meta) {
            continue;
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(unix)]
fn owned_by_us(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions and cannot fail.
    meta.uid() == unsafe { libc::getuid() }
}

#[cfg(not(unix))]
fn owned_by_us(_meta: &std::fs::Metadata) -> bool {
    false
}

/// [`sweep_stale_in`] on the temp folder, the first time it is called in this process.
pub fn sweep_stale_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        sweep_stale_in(&std::env::temp_dir());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "dicetest-secret-file-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A pid no process has right now.
    fn dead_pid() -> u32 {
        let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(32768);
        (2..max)
            .rev()
            .find(|p| !Path::new(&format!("/proc/{p}")).exists())
            .unwrap()
    }

    #[test]
    fn names_are_recognised_only_in_our_form() {
        assert_eq!(owner_pid("dicetest-keys-1234-aB3xYz"), Some(1234));
        assert_eq!(owner_pid("dicetest-keys-1234-"), None);
        assert_eq!(owner_pid("dicetest-keys-12x4-aB3xYz"), None);
        assert_eq!(owner_pid("dicetest-keys--aB3xYz"), None);
        assert_eq!(owner_pid("dicetest-psk-1234-5684"), None);
        assert_eq!(owner_pid("other-1234-abc"), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_unpredictable_and_gone_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let b = base("private");
        let a = SecretFile::create_in(&b, "psk", b"id:0102\n").unwrap();
        let c = SecretFile::create_in(&b, "psk", b"id:0102\n").unwrap();
        assert_ne!(a.dir(), c.dir(), "two key directories with one name");
        let name = a.dir().file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(owner_pid(&name), Some(std::process::id()), "{name}");
        assert!(name.len() >= PREFIX.len() + 12, "{name}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(a.dir()), 0o700);
        assert_eq!(mode(a.path()), 0o600);
        assert_eq!(std::fs::read(a.path()).unwrap(), b"id:0102\n");
        let (file, dir) = (a.path().to_path_buf(), a.dir().to_path_buf());
        drop(a);
        assert!(!file.exists() && !dir.exists());
        drop(c);
        let _ = std::fs::remove_dir_all(b);
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_path_or_link_is_never_written_through() {
        let b = base("link");
        let target = b.join("target");
        std::fs::write(&target, b"untouched").unwrap();
        let link = b.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_private_file(&link).is_err());
        assert!(create_private_file(&target).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"untouched");
        let _ = std::fs::remove_dir_all(b);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_directories_of_dead_owners_are_swept_and_no_others() {
        let b = base("stale");
        let dead = b.join(format!("{PREFIX}{}-Qx81kf", dead_pid()));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("psk"), b"id:0102\n").unwrap();
        // Alive owners: this process, and pid 1.
        let ours = SecretFile::create_in(&b, "psk", b"x").unwrap();
        let init = b.join(format!("{PREFIX}1-Zz0aa1"));
        std::fs::create_dir(&init).unwrap();
        // Named like ours but not of our form, or a link: left alone.
        let other = b.join("dicetest-keys-notapid-x");
        std::fs::create_dir(&other).unwrap();
        let elsewhere = base("stale-elsewhere");
        let link = b.join(format!("{PREFIX}{}-link00", dead_pid()));
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();

        let removed = sweep_stale_in(&b);
        assert_eq!(removed, vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(ours.path().exists() && init.exists() && other.exists());
        assert!(std::fs::symlink_metadata(&link).is_ok() && elsewhere.exists());
        drop(ours);
        let _ = std::fs::remove_dir_all(b);
        let _ = std::fs::remove_dir_all(elsewhere);
    }
}
