//! Webroot: challenge files under `<dir>/.well-known/acme-challenge/`, removed again when
//! the value is dropped, so a failed order leaves nothing behind.
//!
//! The webroot often belongs to another user (the web server's), who can swap a directory
//! below it for a symlink at any moment. So everything below the webroot is reached through
//! directory fds, one component at a time, never following a symlink (`openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or `O_NOFOLLOW` where the kernel lacks it), and
//! written, renamed and removed relative to those fds.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::{is_valid_key_authorization, is_valid_token};
use crate::fsutil;

/// The files (and directories) this run created, each as (directory fd, name): all
/// removed on drop, through the same fds.
#[derive(Default)]
pub struct WebrootFiles {
    files: Vec<(Arc<OwnedFd>, String)>,
    dirs: Vec<(Arc<OwnedFd>, String)>,
}

impl WebrootFiles {
    /// Write one challenge file (0644; created directories 0755).
    pub fn publish(&mut self, webroot: &Path, token: &str, key_auth: &str) -> io::Result<PathBuf> {
        if !is_valid_token(token) || !is_valid_key_authorization(key_auth) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the CA sent a token that is not base64url",
            ));
        }
        // The webroot itself is the user's own setting: a symlink there is theirs to make.
        let root = rustix::fs::open(
            webroot,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| with_path(e.into(), webroot))?;
        let mut dir = Arc::new(root);
        let mut shown = webroot.to_path_buf();
        for part in [".well-known", "acme-challenge"] {
            shown.push(part);
            dir = Arc::new(self.subdir(&dir, part, &shown)?);
        }
        write_beneath(&dir, token, key_auth.as_bytes()).map_err(|e| with_path(e, &shown))?;
        self.files.push((dir, token.to_string()));
        Ok(shown.join(token))
    }

    /// `name` below `parent`, created (0755) if missing; a symlink or file there is refused.
    fn subdir(&mut self, parent: &Arc<OwnedFd>, name: &str, shown: &Path) -> io::Result<OwnedFd> {
        match fsutil::open_dir_beneath(parent, name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if is_not_a_dir(&e) => {
                return Err(io::Error::other(format!(
                    "{} exists and is not a directory (symlinks are not followed)",
                    shown.display()
                )))
            }
            other => return other.map_err(|e| with_path(e, shown)),
        }
        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                let fd = fsutil::open_dir_beneath(parent, name).map_err(|e| with_path(e, shown))?;
                rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o755))?;
                self.dirs.push((parent.clone(), name.to_string()));
                Ok(fd)
            }
            // Made meanwhile (by another run, or swapped in): opened as any existing one.
            Err(Errno::EXIST) => {
                fsutil::open_dir_beneath(parent, name).map_err(|e| with_path(e, shown))
            }
            Err(e) => Err(with_path(e.into(), shown)),
        }
    }

    /// Remove everything published; directories only if we created them and they are empty.
    pub fn cleanup(&mut self) {
        for (dir, name) in self.files.drain(..) {
            let _ = rustix::fs::unlinkat(&*dir, name.as_str(), AtFlags::empty());
        }
        for (parent, name) in self.dirs.drain(..).rev() {
            let _ = rustix::fs::unlinkat(&*parent, name.as_str(), AtFlags::REMOVEDIR);
        }
    }
}

impl Drop for WebrootFiles {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Write `name` in `dir` whole: a temp file (`O_EXCL | O_NOFOLLOW`), fsync, rename, fsync.
fn write_beneath(dir: &OwnedFd, name: &str, contents: &[u8]) -> io::Result<()> {
    let tmp = format!(
        "{}{}-{:016x}-{name}",
        fsutil::TEMP_PREFIX,
        std::process::id(),
        rand::random::<u64>()
    );
    let result = (|| -> io::Result<()> {
        let fd = rustix::fs::openat(
            dir,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o644))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(contents)?;
        file.sync_all()?;
        rustix::fs::renameat(dir, tmp.as_str(), dir, name)?;
        rustix::fs::fsync(dir)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    }
    result
}

/// ELOOP (a symlink, refused) or ENOTDIR (a file).
fn is_not_a_dir(e: &io::Error) -> bool {
    [Errno::LOOP, Errno::NOTDIR, Errno::XDEV]
        .iter()
        .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()))
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn publish_and_cleanup() {
        let root = tempfile::tempdir().unwrap();
        let mut files = WebrootFiles::default();
        let p = files.publish(root.path(), "tok", "tok.thumb").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "tok.thumb");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        drop(files);
        assert!(!p.exists());
        assert!(!root.path().join(".well-known").exists());
    }

    #[test]
    fn existing_dirs_are_kept() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join(".well-known")).unwrap();
        let mut files = WebrootFiles::default();
        files.publish(root.path(), "tok", "tok.thumb").unwrap();
        files.cleanup();
        assert!(root.path().join(".well-known").exists());
        assert!(!root.path().join(".well-known/acme-challenge").exists());
    }

    #[test]
    fn bad_tokens_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let mut files = WebrootFiles::default();
        assert!(files.publish(root.path(), "../../etc", "a.b").is_err());
    }

    #[test]
    fn a_planted_symlink_below_the_webroot_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join(".well-known")).unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path(),
            root.path().join(".well-known/acme-challenge"),
        )
        .unwrap();
        let mut files = WebrootFiles::default();
        let err = files.publish(root.path(), "tok", "tok.thumb").unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    /// Issue 16, finding 6: a swapper flips `acme-challenge` between a real directory and
    /// a symlink to a "root-only" directory while challenges are published: nothing may
    /// ever land there. Bounded: 3,000 publishes (well under a second).
    #[test]
    fn a_racing_symlink_swapper_never_redirects_a_write() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let root = tempfile::tempdir().unwrap();
        let protected = tempfile::tempdir().unwrap();
        let wk = root.path().join(".well-known");
        fs::create_dir(&wk).unwrap();
        let (real, aside, link) = (wk.join("acme-challenge"), wk.join("aside"), wk.join("link"));
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(protected.path(), &link).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let stop = stop.clone();
            let (real, aside, link) = (real.clone(), aside.clone(), link.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // real -> aside, link -> real; then back.
                    let _ = fs::rename(&real, &aside);
                    let _ = fs::rename(&link, &real);
                    let _ = fs::rename(&real, &link);
                    let _ = fs::rename(&aside, &real);
                }
            })
        };
        let mut landed_safely = 0;
        for i in 0..3000 {
            let mut files = WebrootFiles::default();
            if files.publish(root.path(), &format!("t{i}"), "t.k").is_ok() {
                landed_safely += 1;
            }
            files.cleanup();
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        let leaked: Vec<_> = fs::read_dir(protected.path()).unwrap().collect();
        assert!(
            leaked.is_empty(),
            "{} writes followed the symlink",
            leaked.len()
        );
        assert!(landed_safely > 0, "no publish succeeded at all");
    }
}
