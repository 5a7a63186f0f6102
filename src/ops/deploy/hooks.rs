//! What a hook runs must not be replaceable by another local user: certwright runs hooks
//! as root, so a script someone else can write is a root shell for them.
//!
//! Checked, before anything else happens (exit 2), and again by `safe::run` before each
//! run, for each file the hook names:
//! - the program: its first word (after `VAR=value` assignments), resolved as `sh` would
//!   (a path, or the first match on PATH), and its symlink target;
//! - for a shell or interpreter (`sh`, `bash`, `python3`, `perl`, ...) given a script, that
//!   script (`sh /path/h.sh`); for `sh -c 'CMD'` and `env [VAR=value]... CMD`, CMD is
//!   checked the same way.
//!
//! Each file must exist (a path that does not is refused), belong to root or to this user,
//! and be writable by neither group nor others; each directory above it must belong to root
//! or this user and be writable by group or others only with the sticky bit (/tmp).
//! Not checked: later commands in the line (`a; b`, `a && b`), files those programs open, a
//! first word that is a shell builtin or a variable, and anything found on PATH at run time
//! that was not there at check time. With `--user`, hooks run as that user but are checked
//! as the starting user: keep them root's.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, HookError, InputError};

use crate::ops::output::Ui;

/// How long a hook may run: long enough to restart a slow service, short enough that one
/// hung hook cannot stop the daemon for good.
const HOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Refuse (exit 2) a hook that runs a file another local user could replace (see
/// `safe::run` for exactly what is checked).
pub(crate) fn check_hook_location(flag: &str, command: &str) -> Result<(), Error> {
    crate::safe::run::check_command(command).map_err(|what| {
        InputError::UnsafeHook {
            flag: flag.to_string(),
            command: command.to_string(),
            what,
        }
        .into()
    })
}

/// Run a hook through `sh -c`, as certbot does; its output goes to our stderr.
pub(crate) async fn run_hook(
    ui: &Ui,
    kind: &'static str,
    command: &str,
    env: &[(&str, &str)],
) -> Result<(), HookError> {
    spawn_hook(ui, kind, command, env, false).await.map(drop)
}

/// Like `run_hook`, but the hook's stdout is returned (certbot's CERTBOT_AUTH_OUTPUT, trimmed
/// as certbot does) instead of printed; its stderr still goes to ours.
pub(crate) async fn run_hook_capturing(
    ui: &Ui,
    kind: &'static str,
    command: &str,
    env: &[(&str, &str)],
) -> Result<String, HookError> {
    spawn_hook(ui, kind, command, env, true).await
}

async fn spawn_hook(
    ui: &Ui,
    kind: &'static str,
    command: &str,
    env: &[(&str, &str)],
    capture: bool,
) -> Result<String, HookError> {
    use crate::safe::run::{run, RunError, Spec};
    ui.note(format!("Running {kind}: {command}"));
    let spec = Spec::shell(command, HOOK_TIMEOUT).with_env(env);
    let done = run(&spec).await.map_err(|e| match e {
        RunError::TimedOut(_) => HookError::Exited {
            kind,
            command: command.to_string(),
            status: e.to_string(),
        },
        e => HookError::Spawn {
            kind,
            command: command.to_string(),
            reason: e.to_string(),
        },
    })?;
    if !capture {
        ui.output(&done.stdout);
    }
    ui.output(&done.stderr);
    if done.status.success() {
        Ok(done.stdout.trim().to_string())
    } else {
        Err(HookError::Exited {
            kind,
            command: command.to_string(),
            status: done.status.to_string(),
        })
    }
}

/// The directory under the config dir whose `pre/`, `deploy/` and `post/` hold executables
/// run around renewals, as certbot's `renewal-hooks`.
pub(crate) const HOOK_DIR: &str = "renewal-hooks";
/// In [`HOOK_DIR`]: more hook directories to run after ours, one per line (`import-certbot`
/// writes certbot's there).
pub(crate) const MORE_HOOK_DIRS: &str = "more-hook-dirs";

/// The executables of `<config-dir>/renewal-hooks/<kind>/` (then of the directories listed
/// in `more-hook-dirs`), each directory in name order, as certbot runs them. Backup files
/// (`~`) and non-executables are skipped; one that fails the owner and write checks is
/// skipped with a warning.
pub(crate) fn directory_hooks(ui: &Ui, config_dir: &Path, kind: &str) -> Vec<String> {
    let ours = config_dir.join(HOOK_DIR);
    let mut roots = vec![ours.clone()];
    let policy = crate::safe::file::Policy::CONFIG.limited(64 * 1024);
    if let Ok(Some(text)) = crate::safe::file::read_text(&ours.join(MORE_HOOK_DIRS), policy) {
        roots.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(PathBuf::from),
        );
    }
    let mut hooks = Vec::new();
    for dir in roots.iter().map(|r| r.join(kind)) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_executable(p) && !p.to_string_lossy().ends_with('~'))
            .collect();
        files.sort();
        for file in files {
            let command = shlex::try_quote(&file.to_string_lossy())
                .map(|q| q.into_owned())
                .unwrap_or_default();
            match check_hook_location(&format!("{kind} hook"), &command) {
                Ok(()) if !command.is_empty() => hooks.push(command),
                Ok(()) => {}
                Err(e) => ui.warn(e.to_string()),
            }
        }
    }
    hooks
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// Run a saved hook after checking it again: its file may have changed since it was saved.
pub(crate) async fn run_checked_hook(
    ui: &Ui,
    kind: &'static str,
    command: &str,
    env: &[(&str, &str)],
) -> Result<(), HookError> {
    if let Err(e) = check_hook_location(kind, command) {
        return Err(HookError::Spawn {
            kind,
            command: command.to_string(),
            reason: e.to_string(),
        });
    }
    run_hook(ui, kind, command, env).await
}

/// Check every hook flag given: not empty, and not in a place others can write.
pub(crate) fn check_hooks(hooks: &[(&str, Option<&str>)]) -> Result<(), Error> {
    for (flag, hook) in hooks {
        let Some(hook) = hook else { continue };
        if hook.trim().is_empty() {
            return Err(InputError::EmptyHook {
                flag: flag.to_string(),
            }
            .into());
        }
        check_hook_location(flag, hook)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    fn script(dir: &Path, mode: u32) -> PathBuf {
        let p = dir.join("hook.sh");
        fs::write(&p, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    fn dir_with_mode(parent: &Path, name: &str, mode: u32) -> PathBuf {
        let dir = parent.join(name);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    #[test]
    fn world_writable_files_and_dirs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = dir_with_mode(tmp.path(), "open", 0o777);
        let hook = script(&open, 0o755);
        let err = check_hook_location("--pre-hook", &format!("{} arg", hook.display()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&open.display().to_string()), "{err}");

        let sticky = dir_with_mode(tmp.path(), "sticky", 0o1777);
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

    /// Issue 16, finding 9: scripts run through an interpreter or `sh -c`, other owners,
    /// group write and missing paths.
    #[test]
    fn interpreter_scripts_owners_group_write_and_missing_hooks_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = dir_with_mode(tmp.path(), "ww", 0o777);
        let bad = script(&open, 0o755);
        let refused = |hook: &str| {
            check_hook_location("--deploy-hook", hook)
                .unwrap_err()
                .to_string()
        };
        for hook in [
            format!("sh {}", bad.display()),
            format!("/bin/sh -e {} arg", bad.display()),
            format!("/bin/sh -c '{} x'", bad.display()),
            format!("FOO=1 bash -c \"sh {}\"", bad.display()),
            format!("env -i A=1 {} x", bad.display()),
        ] {
            let err = refused(&hook);
            assert!(err.contains(&open.display().to_string()), "{hook}: {err}");
        }
        let safe_dir = dir_with_mode(tmp.path(), "safe", 0o755);
        let hook = script(&safe_dir, 0o775);
        assert!(refused(&hook.display().to_string()).contains("group-writable"));
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
        check_hook_location("--deploy-hook", &format!("sh {}", hook.display())).unwrap();
        std::os::unix::fs::chown(&hook, Some(65534), None).unwrap();
        assert!(refused(&hook.display().to_string()).contains("uid 65534"));
        let missing = safe_dir.join("missing.sh");
        assert!(refused(&missing.display().to_string()).contains("no such file"));
        assert!(refused(&format!("sh {}", missing.display())).contains("no such file"));
    }
}
