//! The reader for every file certwright acts on with privilege: configs, work and logs
//! dirs, journals, credentials, password files, the metrics textfile.
//!
//! Guarantees, each checked on the one open fd (nothing can be swapped in between): no
//! symlink followed (`O_NOFOLLOW`), nothing but a regular file (a FIFO or device is
//! refused, never waited on: `O_NONBLOCK`), owned by this user or root, writable by
//! neither group nor others, at most `limit` bytes read. A secret must also be unreadable
//! by group and others.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What kind of file is read, and so which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Refused when larger: no file of this kind is.
    pub limit: u64,
    /// Holds a secret: group and others may not read it either.
    pub secret: bool,
    /// Its contents decide what certwright runs or writes: owned by this user or root,
    /// writable by no one else.
    pub trusted: bool,
    /// A symlink is followed (the checks then apply to the file it leads to).
    pub follow: bool,
}

impl Policy {
    /// Renewal configs, state, journals, status: a few KiB each.
    pub(crate) const CONFIG: Policy = Policy {
        limit: 1 << 20,
        secret: false,
        trusted: true,
        follow: false,
    };
    /// Credentials, password files, keys.
    pub(crate) const SECRET: Policy = Policy {
        limit: 64 << 10,
        secret: true,
        trusted: true,
        follow: false,
    };
    /// Files of certwright's own store reached through the `live/` symlinks it made: owned
    /// by this user or root and writable by no one else, wherever the link leads.
    pub(crate) const STORE: Policy = Policy {
        limit: 1 << 20,
        secret: false,
        trusted: true,
        follow: true,
    };
    /// Public data a user names on the command line (a CSR, a certificate, a CA bundle) or
    /// a tree certwright reads as its owner laid it out (certbot's `live/` symlinks, nginx's
    /// `sites-enabled/`): any owner, symlinks followed, still a bounded regular file.
    pub(crate) const PUBLIC: Policy = Policy {
        limit: 4 << 20,
        secret: false,
        trusted: false,
        follow: true,
    };

    pub(crate) const fn limited(self, limit: u64) -> Policy {
        Policy { limit, ..self }
    }

    /// The same checks on whatever a symlink leads to.
    pub(crate) const fn followed(self) -> Policy {
        Policy {
            follow: true,
            ..self
        }
    }
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("{0}")]
    Io(io::Error),
    /// Someone else could have written (or read) it: what to tell the user.
    #[error("refusing to read it: {0}")]
    Untrusted(String),
}

/// The bytes of `path`, or `None` when nothing is there.
pub(crate) fn read(path: &Path, policy: Policy) -> Result<Option<Vec<u8>>, ReadError> {
    let Some(file) = open(path, policy.follow)? else {
        return Ok(None);
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::Untrusted("it is not a regular file".into()));
    }
    if policy.trusted {
        trusted(&meta, policy.secret).map_err(ReadError::Untrusted)?;
    }
    if meta.len() > policy.limit {
        return Err(too_large(policy.limit));
    }
    let mut bytes = Vec::new();
    file.take(policy.limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > policy.limit {
        return Err(too_large(policy.limit));
    }
    Ok(Some(bytes))
}

/// `read` as UTF-8 text.
pub(crate) fn read_text(path: &Path, policy: Policy) -> Result<Option<String>, ReadError> {
    match read(path, policy)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
            ReadError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "it is not UTF-8 text",
            ))
        }),
    }
}

/// `read_text` for a file that must exist (credentials, password files).
pub(crate) fn read_required(path: &Path, policy: Policy) -> Result<String, ReadError> {
    read_text(path, policy)?.ok_or_else(|| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::NotFound,
            "No such file or directory",
        ))
    })
}

fn too_large(limit: u64) -> ReadError {
    ReadError::Untrusted(format!(
        "it is larger than the {limit} bytes a file of this kind may have"
    ))
}

fn open(path: &Path, follow: bool) -> Result<Option<File>, ReadError> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(File::from(fd))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(rustix::io::Errno::LOOP) => Err(ReadError::Untrusted("it is a symlink".into())),
        Err(e) => Err(ReadError::Io(e.into())),
    }
}

/// A regular file owned by this user or root that only its owner can write (and, for a
/// secret, read).
pub(crate) fn trusted(meta: &std::fs::Metadata, secret: bool) -> Result<(), String> {
    if !meta.file_type().is_file() {
        return Err("it is not a regular file".into());
    }
    let euid = rustix::process::geteuid().as_raw();
    if meta.uid() != euid && meta.uid() != 0 {
        return Err(format!(
            "it belongs to uid {}, not to this user (uid {euid}) or root; whoever owns it \
             could make certwright run their programs (chown it, or remove it)",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "group or others can write it (mode {:o}); chmod go-w it",
            meta.mode() & 0o7777
        ));
    }
    if secret && meta.mode() & 0o077 != 0 {
        return Err(format!(
            "it holds a secret but group or others can access it (mode {:04o}); chmod 600 it",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn refused(p: &Path, policy: Policy) -> String {
        match read(p, policy) {
            Err(ReadError::Untrusted(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_others_could_have_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        assert!(read(&p, Policy::CONFIG).unwrap().is_none());
        crate::fsutil::write_atomic(&p, b"{}", 0o644).unwrap();
        assert_eq!(
            read_text(&p, Policy::CONFIG).unwrap().as_deref(),
            Some("{}")
        );
        assert!(refused(&p, Policy::CONFIG.limited(1)).contains("larger than"));
        assert!(refused(&p, Policy::SECRET).contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert!(refused(&p, Policy::CONFIG).contains("chmod go-w"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&p, Policy::SECRET).unwrap().is_some());
        std::os::unix::fs::chown(&p, Some(65534), None).unwrap();
        assert!(refused(&p, Policy::CONFIG).contains("uid 65534"));
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(refused(&link, Policy::CONFIG).contains("symlink"));
        assert!(refused(dir.path(), Policy::CONFIG).contains("regular"));
        // Followed: the target's checks apply; /dev/zero is no regular file.
        assert!(refused(&link, Policy::PUBLIC).contains("regular"));
        let good = dir.path().join("good.pem");
        std::os::unix::fs::symlink(&p, &good).unwrap();
        assert!(read(&good, Policy::PUBLIC).unwrap().is_some());
        assert!(refused(&good, Policy::CONFIG.followed()).contains("uid 65534"));
    }

    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &p, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        assert!(refused(&p, Policy::CONFIG).contains("regular"));
    }
}
