//! Webroot: challenge files under `<dir>/.well-known/acme-challenge/`, removed again when
//! the value is dropped, so a failed order leaves nothing behind.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{is_valid_key_authorization, is_valid_token};

/// The files (and directories) this run created; all removed on drop.
#[derive(Default)]
pub struct WebrootFiles {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
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
        let mut dir = webroot.to_path_buf();
        for part in [".well-known", "acme-challenge"] {
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
                    self.dirs.push(dir.clone());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&dir)?.is_dir() {
                        return Err(io::Error::other(format!(
                            "{} exists and is not a directory",
                            dir.display()
                        )));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let path = dir.join(token);
        crate::fsutil::write_atomic(&path, key_auth.as_bytes(), 0o644)?;
        self.files.push(path.clone());
        Ok(path)
    }

    /// Remove everything published; directories only if we created them and they are empty.
    pub fn cleanup(&mut self) {
        for f in self.files.drain(..) {
            let _ = fs::remove_file(f);
        }
        for d in self.dirs.drain(..).rev() {
            let _ = fs::remove_dir(d);
        }
    }
}

impl Drop for WebrootFiles {
    fn drop(&mut self) {
        self.cleanup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
