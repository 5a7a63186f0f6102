//! What a hook runs must not be replaceable by another local user: certwright runs hooks
//! as root, so a script someone else can write is a root shell for them.
//!
//! Checked, before anything else happens (exit 2), for each file the hook names:
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

/// Programs that run the file named by their first non-option argument.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "busybox", "python", "python3", "perl", "ruby", "php",
    "node", "lua", "awk", "tclsh",
];
/// How deep `sh -c 'sh -c ...'` is followed.
const MAX_NESTING: usize = 3;

/// Refuse (exit 2) a hook that runs a file another local user could replace (see the
/// module comment for exactly what is checked).
pub(crate) fn check_hook_location(flag: &str, command: &str) -> Result<(), Error> {
    let refuse = |what: String| -> Error {
        InputError::Other(format!(
            "{flag} `{command}`: refusing to run {what}; make it and its directories writable only by root"
        ))
        .into()
    };
    for found in files_run(command, 0).map_err(refuse)? {
        let mut candidates = vec![found.clone()];
        if let Ok(real) = std::fs::canonicalize(&found) {
            if real != found {
                candidates.push(real);
            }
        }
        for path in &candidates {
            if let Some(reason) = unsafe_location(path) {
                return Err(refuse(format!("{}: {reason}", path.display())));
            }
        }
    }
    Ok(())
}

/// The files `command` runs that can be known without running it: its program and, for
/// an interpreter, its script (or, for `-c`, what that command runs).
fn files_run(command: &str, depth: usize) -> Result<Vec<PathBuf>, String> {
    // Unbalanced quotes: the shell will refuse it too; nothing to resolve.
    let Some(words) = shlex::split(command) else {
        return Ok(Vec::new());
    };
    let mut words = words.into_iter().skip_while(|w| is_assignment(w));
    let Some(program) = words.next() else {
        return Ok(Vec::new());
    };
    if program.starts_with(['$', '(', '{', '`']) {
        return Ok(Vec::new());
    }
    let Some(found) = resolve(&program)? else {
        return Ok(Vec::new());
    };
    let mut files = vec![found];
    let name = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "env" && depth < MAX_NESTING {
        // `env [-i] [VAR=value]... PROGRAM ARGS`: PROGRAM is what runs.
        let rest: Vec<String> = words.skip_while(|w| w.starts_with('-')).collect();
        let rest = shlex::try_join(rest.iter().map(String::as_str)).unwrap_or_default();
        files.extend(files_run(&rest, depth + 1)?);
        return Ok(files);
    }
    if !INTERPRETERS.contains(&name.as_str()) {
        return Ok(files);
    }
    while let Some(arg) = words.next() {
        if arg == "-c" {
            if let (Some(inner), true) = (words.next(), depth < MAX_NESTING) {
                files.extend(files_run(&inner, depth + 1)?);
            }
            break;
        }
        if arg.starts_with('-') || arg.starts_with('+') {
            continue;
        }
        match resolve_path(&arg)? {
            Some(script) => files.push(script),
            None => return Err(format!("{arg}: no such file")),
        }
        break;
    }
    Ok(files)
}

/// `NAME=value` before the program, as `sh` takes it.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `program` as `sh` would find it: a path if it has a slash (refused if missing), else
/// the first PATH entry holding a file of that name (`None`: a builtin or a typo, left to
/// the shell).
fn resolve(program: &str) -> Result<Option<PathBuf>, String> {
    if program.contains('/') {
        return match resolve_path(program)? {
            Some(p) => Ok(Some(p)),
            None => Err(format!("{program}: no such file")),
        };
    }
    let Some(path) = std::env::var_os("PATH") else {
        return Ok(None);
    };
    Ok(std::env::split_paths(&path)
        .map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            dir.join(program)
        })
        .find(|p| p.is_file())
        .map(|p| std::path::absolute(&p).unwrap_or(p)))
}

/// An absolute form of `path` if something is there.
fn resolve_path(path: &str) -> Result<Option<PathBuf>, String> {
    let p = std::path::absolute(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(p.exists().then_some(p))
}

/// Why `path` could be replaced by another local user, if it can.
fn unsafe_location(path: &Path) -> Option<String> {
    let euid = rustix::process::geteuid().as_raw();
    let meta = std::fs::metadata(path).ok()?;
    if meta.uid() != 0 && meta.uid() != euid {
        return Some(format!(
            "it belongs to uid {}, not to root or this user",
            meta.uid()
        ));
    }
    if meta.mode() & 0o002 != 0 {
        return Some("it is world-writable".into());
    }
    if meta.mode() & 0o020 != 0 {
        return Some("it is group-writable".into());
    }
    for dir in path.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let Ok(m) = std::fs::metadata(dir) else {
            continue;
        };
        let shown = dir.display();
        if m.uid() != 0 && m.uid() != euid {
            return Some(format!(
                "{shown} belongs to uid {}, who can replace what is in it",
                m.uid()
            ));
        }
        if m.mode() & 0o1000 == 0 {
            if m.mode() & 0o002 != 0 {
                return Some(format!(
                    "{shown} is world-writable without the sticky bit, so anyone can replace it"
                ));
            }
            if m.mode() & 0o020 != 0 {
                return Some(format!(
                    "{shown} is group-writable without the sticky bit, so its group can replace it"
                ));
            }
        }
    }
    None
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
    use std::process::Stdio;
    ui.note(format!("Running {kind}: {command}"));
    let mut cmd = tokio::process::Command::new("/bin/sh");
    crate::fsutil::scrub_secret_env(cmd.as_std_mut());
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output().await {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(HookError::Exited {
            kind,
            command: command.to_string(),
            status: out.status.to_string(),
        }),
        Err(e) => Err(HookError::Spawn {
            kind,
            command: command.to_string(),
            reason: e.to_string(),
        }),
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
    if let Ok(Some(text)) = crate::fsutil::read_owned(&ours.join(MORE_HOOK_DIRS), 64 * 1024) {
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
    use std::os::unix::fs::PermissionsExt;

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
