//! `--user NAME`: bind the standalone ports as root, then run everything else as NAME.
//!
//! Linux keeps uids per thread and the safe API (rustix) changes only the calling thread,
//! so the drop happens while the process is still single-threaded (checked): on the one
//! current-thread runtime, before any work has needed a blocking thread (the shared store
//! is contacted only after it). Every thread created later inherits the new identity. The
//! store must already belong to NAME; root-owned leftovers would make the run fail
//! half-way, so they are refused up front (exit 3) with the `chown` that fixes them.

use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::process::{Gid, Uid};

use crate::challenge;
use crate::error::{Error, InputError, StoreError};

use crate::ops::Settings;

/// Where a standalone responder listens.
pub(crate) type ListenAt = (Option<IpAddr>, u16);

/// Ports bound before the run dropped root (`--user`), handed to the session that serves
/// challenges on them. Shared and taken once.
#[derive(Clone, Default, Debug)]
pub(crate) struct Prebound(
    std::sync::Arc<std::sync::Mutex<HashMap<ListenAt, Vec<std::net::TcpListener>>>>,
);

impl Prebound {
    pub(crate) fn insert(&self, at: ListenAt, listeners: Vec<std::net::TcpListener>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(at, listeners);
        }
    }

    /// Nothing was bound (no `--user`, or no standalone lineage).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().map(|m| m.is_empty()).unwrap_or(true)
    }

    /// Duplicates of the bound sockets: a session closes its copies when it ends, the
    /// originals stay bound for the next pass (the daemon keeps its port for its lifetime).
    pub(crate) fn take(&self, at: &ListenAt) -> Option<Vec<std::net::TcpListener>> {
        let map = self.0.lock().ok()?;
        map.get(at)?.iter().map(|l| l.try_clone().ok()).collect()
    }
}

pub(crate) fn bind_error(err: std::io::Error, address: Option<IpAddr>, port: u16) -> Error {
    let at = match address {
        Some(a) => format!("{a}:{port}"),
        None => format!("port {port}"),
    };
    let message = match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            let owner = challenge::port_owner(port)
                .map(|o| format!(", held by {o}"))
                .unwrap_or_default();
            format!(
                "cannot listen on {at}: address already in use{owner}. Stop that server for the \
                 duration, or let it serve the challenge: --webroot -w <its document root>, or --nginx"
            )
        }
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {at}: permission denied. Ports below 1024 need root or \
             CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep $(command -v certwright)`); \
             or use --webroot"
        ),
        _ => format!("cannot listen on {at}: {err}"),
    };
    Error::Challenge(message)
}

/// The account to run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Look `name` up through NSS (getpwnam_r), as login and sudo do: local files, LDAP and
/// sssd users alike.
fn lookup(name: &str) -> Result<Option<TargetUser>, Error> {
    let found = nix::unistd::User::from_name(name)
        .map_err(|e| StoreError::Other(format!("cannot look up user {name}: {e}")))?;
    Ok(found.map(|u| TargetUser {
        name: name.to_string(),
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
    }))
}

/// With `--user`: check the store belongs to the user, bind `ports`, drop privileges, and
/// return the bound ports for the session. Without it: nothing bound, nothing changed.
pub(crate) fn bind_then_drop(settings: &Settings, ports: &[ListenAt]) -> Result<Prebound, Error> {
    let prebound = Prebound::default();
    let Some(name) = settings.user.as_deref() else {
        return Ok(prebound);
    };
    let user = lookup(name)?.ok_or_else(|| InputError::NoSuchUser { name: name.into() })?;
    if !rustix::process::geteuid().is_root() {
        if rustix::process::geteuid().as_raw() == user.uid {
            return Ok(prebound);
        }
        return Err(InputError::Needs {
            what: format!("--user {name}"),
            needs: "certwright to start as root (it binds the ports, then switches)".into(),
        }
        .into());
    }
    for dir in [&settings.config_dir, &settings.work_dir, &settings.logs_dir] {
        check_owned(dir, &user)?;
    }
    for &(address, port) in ports {
        let listeners =
            challenge::bind_std(address, port).map_err(|e| bind_error(e, address, port))?;
        prebound.insert((address, port), listeners);
    }
    drop_to(&user)?;
    Ok(prebound)
}

/// Every existing path below `dir` must belong to the user (a missing dir is created by the
/// run itself, as the user, so its parent must allow that: checked by the run).
fn check_owned(dir: &Path, user: &TargetUser) -> Result<(), Error> {
    let hint = |path: &Path| StoreError::Unsafe {
        path: path.to_path_buf(),
        reason: format!(
            "--user {} needs it to belong to that user: chown -R {}: {}",
            user.name,
            user.name,
            dir.display()
        ),
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == dir => {
                return Err(StoreError::Unsafe {
                    path: path.clone(),
                    reason: format!(
                        "--user {}: create it first: install -d -o {} {}",
                        user.name,
                        user.name,
                        path.display()
                    ),
                }
                .into())
            }
            Err(e) => {
                return Err(StoreError::Io {
                    action: "cannot read",
                    path: path.clone(),
                    source: e,
                }
                .into())
            }
        };
        if meta.uid() != user.uid {
            return Err(hint(&path).into());
        }
        if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    Ok(())
}

fn drop_to(user: &TargetUser) -> Result<(), Error> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .map(str::trim)
        .unwrap_or("");
    if threads != "1" {
        return Err(Error::Config(format!(
            "cannot switch to --user {} safely: the process has {threads} threads",
            user.name
        )));
    }
    let fail = |what: &str, e: rustix::io::Errno| {
        Error::Config(format!(
            "cannot switch to --user {} ({what}): {e}",
            user.name
        ))
    };
    let gid = Gid::from_raw(user.gid);
    let uid = Uid::from_raw(user.uid);
    rustix::thread::set_thread_groups(&[gid]).map_err(|e| fail("groups", e))?;
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(|e| fail("gid", e))?;
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(|e| fail("uid", e))?;
    // Saved ids included: there is no way back to root.
    if rustix::process::geteuid() != uid || rustix::process::getuid() != uid {
        return Err(Error::Config(format!(
            "switching to --user {} did not take effect",
            user.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_looked_up_through_nss() {
        let root = lookup("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        // "nobody" exists on every Debian system, with its own ids.
        let nobody = lookup("nobody").unwrap().unwrap();
        assert_eq!(nobody.uid, 65534);
        assert_eq!(lookup("no-such-user-certwright").unwrap(), None);
    }
}
