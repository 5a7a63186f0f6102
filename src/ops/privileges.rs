//! `--user NAME`: bind the standalone ports as root, then run everything else as NAME.
//!
//! Linux keeps uids per thread and the safe API (rustix) changes only the calling thread,
//! so the drop happens while the process is still single-threaded (checked), before the
//! async runtime starts: every thread created later inherits the new identity. The store
//! must already belong to NAME; root-owned leftovers would make the run fail half-way, so
//! they are refused up front (exit 3) with the `chown` that fixes them.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::process::{Gid, Uid};

use crate::challenge;
use crate::error::{Error, InputError, StoreError};

use super::obtain::{bind_error, ListenAt, Prebound};
use super::Ctx;

/// The account to run as, from /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Look `name` up in a passwd file's text.
pub fn lookup_in(passwd: &str, name: &str) -> Option<TargetUser> {
    let line = passwd.lines().find(|l| l.split(':').next() == Some(name))?;
    let mut f = line.split(':').skip(2);
    Some(TargetUser {
        name: name.to_string(),
        uid: f.next()?.parse().ok()?,
        gid: f.next()?.parse().ok()?,
    })
}

/// With `--user`: check the store belongs to the user, bind `ports`, drop privileges, and
/// return the bound ports for the session. Without it: nothing bound, nothing changed.
pub fn bind_then_drop(ctx: &Ctx, ports: &[ListenAt]) -> Result<Prebound, Error> {
    let prebound = Prebound::default();
    let Some(name) = ctx.global.user.as_deref() else {
        return Ok(prebound);
    };
    let passwd = fs::read_to_string("/etc/passwd")
        .map_err(|e| StoreError::Other(format!("cannot read /etc/passwd: {e}")))?;
    let user = lookup_in(&passwd, name)
        .ok_or_else(|| InputError::Other(format!("--user {name}: no such user")))?;
    if !rustix::process::geteuid().is_root() {
        if rustix::process::geteuid().as_raw() == user.uid {
            return Ok(prebound);
        }
        return Err(InputError::Other(format!(
            "--user {name} needs certwright to start as root (it binds the ports, then switches)"
        ))
        .into());
    }
    for dir in [
        &ctx.global.config_dir,
        &ctx.global.work_dir,
        &ctx.global.logs_dir,
    ] {
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
    fn passwd_lookup() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ncertwright:x:998:997::/var/lib/certwright:/usr/sbin/nologin\nbroken:x:notanumber:1::/:/bin/sh\n";
        assert_eq!(
            lookup_in(passwd, "certwright"),
            Some(TargetUser {
                name: "certwright".into(),
                uid: 998,
                gid: 997
            })
        );
        assert_eq!(lookup_in(passwd, "nobody-here"), None);
        assert_eq!(lookup_in(passwd, "broken"), None);
        assert_eq!(lookup_in(passwd, "root").map(|u| u.uid), Some(0));
    }
}
