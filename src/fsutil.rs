//! Crash-safe file primitives shared by `store` and `nginx` (both must never leave a
//! half-written file): write to a temp name in the same directory, fsync, rename, fsync dir.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Prefix of every temp file we create, so a later run can find and remove leftovers.
pub(crate) const TEMP_PREFIX: &str = ".certwright-tmp-";

/// A temp path beside `path`, unique per process and call.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    dir.join(format!("{TEMP_PREFIX}{}-{n}-{name}", std::process::id()))
}

/// Atomically replace `path` with `contents`, with exactly `mode` (the umask does not apply).
///
/// `O_EXCL` on the temp name refuses a pre-planted file or symlink there.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_via(&temp_path_for(path), path, contents, mode)
}

/// `write_atomic` through the caller's temp name `tmp` (in the same directory as `path`):
/// on a directory several hosts share, a pid and a counter do not make a name unique.
pub(crate) fn write_atomic_via(
    tmp: &Path,
    path: &Path,
    contents: &[u8],
    mode: u32,
) -> io::Result<()> {
    let result = (|| {
        write_new(tmp, contents, mode)?;
        fs::rename(tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// Create `path` (refusing any file or symlink already there) with exactly `mode`, write
/// `contents` and fsync it. Not atomic by itself: callers rename or link it into place.
pub(crate) fn write_new(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Point the symlink `link` at `target` atomically: a new link under a temp name is renamed
/// over the old one, so a reader sees either the old target or the new, never neither.
pub(crate) fn swap_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let tmp = temp_path_for(link);
    std::os::unix::fs::symlink(target, &tmp)?;
    crate::crash::crash_point("after-temp-symlink");
    if let Err(e) = fs::rename(&tmp, link) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_parent(link)
}

/// fsync the directory holding `path` so a rename survives a power loss.
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Create `dir` (and parents) and force its mode, whatever the umask. The mode is set
/// through an fd opened with `O_NOFOLLOW`: a symlink planted at `dir` is refused, its
/// target never chmodded.
pub(crate) fn create_dir_with_mode(dir: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let fd = open_dir_nofollow(dir)?;
    rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(mode))?;
    Ok(())
}

/// `dir` itself, refusing a symlink there (ELOOP, reported as such).
fn open_dir_nofollow(dir: &Path) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::open(dir, flags, Mode::empty()).map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            io::Error::other(format!("{} is a symlink; not following it", dir.display()))
        } else {
            io::Error::from(e)
        }
    })
}

/// Open (creating, 0600) `dir/name` to append log lines. The file is opened with
/// `O_NOFOLLOW` and must be a regular file owned by this user; modes are set through fds.
/// `dir` is created 0700; an existing one is narrowed to 0700 only if it is ours and not a
/// symlink (a symlinked logs dir is the admin's choice: followed, never chmodded).
pub(crate) fn open_log(dir: &Path, name: &str) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::fs::MetadataExt;
    let euid = rustix::process::geteuid().as_raw();
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir_with_mode(dir, 0o700)?,
        Err(e) => return Err(e),
        Ok(meta) if meta.is_dir() && meta.uid() == euid && meta.mode() & 0o077 != 0 => {
            create_dir_with_mode(dir, 0o700)?
        }
        Ok(_) => {}
    }
    let dir_fd = rustix::fs::open(
        dir,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let flags = OFlags::WRONLY
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::CLOEXEC;
    let path = dir.join(name);
    let fd = rustix::fs::openat(&dir_fd, name, flags, Mode::from_raw_mode(0o600)).map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            io::Error::other(format!("{} is a symlink; not following it", path.display()))
        } else {
            io::Error::from(e)
        }
    })?;
    let file = File::from(fd);
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.uid() != euid {
        return Err(io::Error::other(format!(
            "{} belongs to uid {}, not to this user (uid {euid}): another user could read it",
            path.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Open the directory `name` (one path component) below the directory `parent` without
/// following any symlink: `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or, on a
/// kernel without it (before 5.6, or a seccomp filter), `openat` with `O_NOFOLLOW`, which
/// for a single component gives the same guarantee.
pub(crate) fn open_dir_beneath(
    parent: &std::os::fd::OwnedFd,
    name: &str,
) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not one path component",
        ));
    }
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
    match rustix::fs::openat2(parent, name, flags, Mode::empty(), resolve) {
        Err(Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG) => {
            Ok(rustix::fs::openat(parent, name, flags, Mode::empty())?)
        }
        other => Ok(other?),
    }
}

/// A directory opened once, without following a symlink, and everything below it made
/// relative to that fd: whoever owns the directory cannot redirect a write or a chown
/// elsewhere by swapping in a symlink (the deploy dir belongs to a service user).
pub(crate) struct DirFd {
    fd: std::os::fd::OwnedFd,
}

impl DirFd {
    pub(crate) fn open(path: &Path) -> io::Result<DirFd> {
        open_dir_nofollow(path).map(|fd| DirFd { fd })
    }

    pub(crate) fn stat(&self) -> io::Result<rustix::fs::Stat> {
        Ok(rustix::fs::fstat(&self.fd)?)
    }

    /// A new directory `name` (refused if anything is there), opened the same way.
    pub(crate) fn create_dir(&self, name: &str, mode: u32) -> io::Result<DirFd> {
        rustix::fs::mkdirat(&self.fd, name, rustix::fs::Mode::from_raw_mode(mode))?;
        let fd = open_dir_beneath(&self.fd, name)?;
        rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(mode))?;
        Ok(DirFd { fd })
    }

    /// A new file `name` with exactly `mode`, chowned through its fd, fsynced.
    pub(crate) fn write_new(
        &self,
        name: &str,
        contents: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> io::Result<()> {
        use rustix::fs::{Mode, OFlags};
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        chown_fd(&fd, owner)?;
        let mut file = File::from(fd);
        file.write_all(contents)?;
        file.sync_all()
    }

    pub(crate) fn chown(&self, owner: (u32, u32)) -> io::Result<()> {
        chown_fd(&self.fd, owner)
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        Ok(rustix::fs::fsync(&self.fd)?)
    }

    /// Where the symlink `name` points, if it is one.
    pub(crate) fn read_link(&self, name: &str) -> Option<PathBuf> {
        rustix::fs::readlinkat(&self.fd, name, Vec::new())
            .ok()
            .map(|t| PathBuf::from(std::ffi::OsString::from_vec(t.into_bytes())))
    }

    /// Point the symlink `name` at `target` atomically (a temp link renamed over it).
    pub(crate) fn swap_symlink(&self, target: &Path, name: &str) -> io::Result<()> {
        let tmp = temp_path_for(Path::new(name));
        let tmp = tmp.file_name().unwrap_or_default();
        rustix::fs::symlinkat(target, &self.fd, tmp)?;
        if let Err(e) = rustix::fs::renameat(&self.fd, tmp, &self.fd, name) {
            let _ = rustix::fs::unlinkat(&self.fd, tmp, rustix::fs::AtFlags::empty());
            return Err(e.into());
        }
        self.sync()
    }
}

fn chown_fd(fd: &std::os::fd::OwnedFd, (uid, gid): (u32, u32)) -> io::Result<()> {
    use rustix::fs::{Gid, Uid};
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    Ok(rustix::fs::fchown(fd, Some(uid), Some(gid))?)
}

/// Environment variables that carry secrets certwright reads (the EAB key, the Redis
/// password): removed from every child's environment (hooks, nginx), which needs none of them.
pub(crate) const SECRET_ENV_VARS: &[&str] = &[
    "CERTWRIGHT_EAB_HMAC_KEY",
    "CERTWRIGHT_STORE_PASSWORD",
    "REDISCLI_AUTH",
    // Webhook URLs carry their token in the path.
    "CERTWRIGHT_NOTIFY_WEBHOOK",
    // --dns-route53's credentials (the key id too: half a pair would only confuse a hook's
    // own AWS tooling, which falls back to the instance role without it).
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Clear `SECRET_ENV_VARS` (and `CERTWRIGHT_STORE` when its URL holds credentials) from a
/// child's environment. (Not a file primitive, but shared by the same two leaves.)
pub(crate) fn scrub_secret_env(cmd: &mut std::process::Command) {
    for var in SECRET_ENV_VARS {
        cmd.env_remove(var);
    }
    if std::env::var("CERTWRIGHT_STORE").is_ok_and(|url| url.contains('@')) {
        cmd.env_remove("CERTWRIGHT_STORE");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_sets_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key.pem");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn log_file_and_dir_symlinks_are_not_followed_or_chmodded() {
        let dir = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        fs::set_permissions(target.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let logs = dir.path().join("logs");
        let mut f = open_log(&logs, "c.log").unwrap();
        f.write_all(b"line\n").unwrap();
        assert_eq!(
            fs::metadata(&logs).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let log = logs.join("c.log");
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A log file pre-created readable by others is narrowed through the fd.
        fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
        open_log(&logs, "c.log").unwrap();
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A log file another user made is refused; a symlink is not followed.
        std::os::unix::fs::chown(&log, Some(65534), None).unwrap();
        assert!(open_log(&logs, "c.log")
            .unwrap_err()
            .to_string()
            .contains("uid 65534"));
        fs::remove_file(&log).unwrap();
        let victim = target.path().join("victim");
        fs::write(&victim, b"").unwrap();
        std::os::unix::fs::symlink(&victim, &log).unwrap();
        assert!(open_log(&logs, "c.log")
            .unwrap_err()
            .to_string()
            .contains("symlink"));
        assert_eq!(fs::read(&victim).unwrap(), b"");
        // A symlinked dir: followed for the admin's sake, never chmodded; and
        // create_dir_with_mode refuses it outright.
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(target.path(), &linked).unwrap();
        open_log(&linked, "c.log").unwrap();
        assert!(create_dir_with_mode(&linked, 0o700).is_err());
        assert_eq!(
            fs::metadata(target.path()).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[test]
    fn swap_symlink_replaces_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("live");
        swap_symlink(Path::new("v1"), &link).unwrap();
        swap_symlink(Path::new("v2"), &link).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("v2"));
    }
}
