//! Where a hook's program lives must not be writable by every local user: certwright runs
//! hooks as root, so a world-writable script (or one in a world-writable directory without
//! the sticky bit, where anyone can replace it) is a root shell for whoever writes it first.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, HookError, InputError};

use super::output::Ui;

/// Refuse (exit 2) a hook whose first word resolves, as `sh` would find it on PATH, to a
/// file that is world-writable or has a world-writable, non-sticky directory above it.
/// A first word that resolves to nothing (a shell builtin, a typo) is left to the shell.
pub fn check_hook_location(flag: &str, command: &str) -> Result<(), Error> {
    let Some(program) = first_word(command) else {
        return Ok(());
    };
    let Some(found) = resolve(&program) else {
        return Ok(());
    };
    let mut candidates = vec![found.clone()];
    if let Ok(real) = std::fs::canonicalize(&found) {
        if real != found {
            candidates.push(real);
        }
    }
    for path in &candidates {
        if let Some(reason) = unsafe_location(path) {
            return Err(InputError::Other(format!(
                "{flag} `{command}`: refusing to run {}: {reason}; make it writable only by \
                 root (chmod o-w)",
                path.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// The program a shell command starts with, unquoted; None for an empty command or one
/// starting with a variable assignment or shell syntax we do not resolve.
fn first_word(command: &str) -> Option<String> {
    let word = command.split_whitespace().next()?;
    let word = word.trim_matches(|c| c == '\'' || c == '"');
    if word.is_empty() || word.contains('=') || word.starts_with(['$', '(', '{', '`']) {
        return None;
    }
    Some(word.to_string())
}

/// `program` as `sh` would find it: a path if it has a slash, else the first PATH entry
/// holding a file of that name.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        let p = if p.is_absolute() {
            p
        } else {
            std::env::current_dir().ok()?.join(p)
        };
        return p.exists().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            dir.join(program)
        })
        .find(|p| p.is_file())
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

/// Why `path` could be replaced by any local user, if it can.
fn unsafe_location(path: &Path) -> Option<String> {
    let mode = |p: &Path| std::fs::metadata(p).ok().map(|m| m.permissions().mode());
    if mode(path).is_some_and(|m| m & 0o002 != 0) {
        return Some("it is world-writable".into());
    }
    for dir in path.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        if let Some(m) = mode(dir) {
            if m & 0o002 != 0 && m & 0o1000 == 0 {
                return Some(format!(
                    "{} is world-writable without the sticky bit, so anyone can replace it",
                    dir.display()
                ));
            }
        }
    }
    None
}

/// Run a hook through `sh -c`, as certbot does; its output goes to our stderr.
pub async fn run_hook(
    ui: &Ui,
    kind: &'static str,
    command: &str,
    env: &[(&str, &str)],
) -> Result<(), HookError> {
    ui.note(format!("Running {kind}: {command}"));
    let mut cmd = tokio::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.status().await {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(HookError::Exited {
            kind,
            command: command.to_string(),
            status: s.to_string(),
        }),
        Err(e) => Err(HookError::Spawn {
            kind,
            command: command.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Check every hook flag given: not empty, and not in a place others can write.
pub fn check_hooks(hooks: &[(&str, Option<&str>)]) -> Result<(), Error> {
    for (flag, hook) in hooks {
        let Some(hook) = hook else { continue };
        if hook.trim().is_empty() {
            return Err(InputError::Other(format!("{flag} is empty")).into());
        }
        check_hook_location(flag, hook)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn script(dir: &Path, mode: u32) -> PathBuf {
        let p = dir.join("hook.sh");
        fs::write(&p, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn world_writable_files_and_dirs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let hook = script(&open, 0o755);
        let err = check_hook_location("--pre-hook", &format!("{} arg", hook.display()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&open.display().to_string()), "{err}");

        let sticky = tmp.path().join("sticky");
        fs::create_dir(&sticky).unwrap();
        fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
        let hook = script(&sticky, 0o755);
        check_hook_location("--pre-hook", &hook.display().to_string()).unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o757)).unwrap();
        let err = check_hook_location("--pre-hook", &format!("'{}'", hook.display()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("world-writable"), "{err}");
    }

    #[test]
    fn builtins_and_unknown_programs_are_left_to_the_shell() {
        check_hook_location("--post-hook", "echo done").unwrap();
        check_hook_location("--post-hook", "FOO=1 thing").unwrap();
        check_hook_location("--post-hook", "no-such-program-certwright").unwrap();
    }
}
