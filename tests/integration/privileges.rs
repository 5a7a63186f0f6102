//! Running with less than root: hooks whose program anyone could replace are refused.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::cli::Output;
use crate::support::Env;

/// An executable script at `dir/name` that records it ran in `dir/../ran-<name>`.
fn hook_script(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    let marker = dir.parent().unwrap().join(format!("ran-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn dir_with_mode(env: &Env, name: &str, mode: u32) -> PathBuf {
    let dir = env.root().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

fn renew_with(env: &Env, flag: &str, hook: &str, path_env: Option<&Path>) -> Output {
    let mut cli = env
        .cli()
        .args([
            "renew",
            "--force-renewal",
            "--no-random-sleep-on-renew",
            "-n",
        ])
        .args([flag, hook])
        .args(env.dir_flags());
    if let Some(dir) = path_env {
        cli = cli.env("PATH", format!("{}:/usr/bin:/bin", dir.display()));
    }
    cli.run()
}

#[test]
fn hooks_anyone_could_replace_are_refused_before_anything_runs() {
    let env = Env::new();
    let open_dir = dir_with_mode(&env, "open", 0o777);
    let in_open_dir = hook_script(&open_dir, "in-open-dir", 0o755);
    let safe_dir = dir_with_mode(&env, "safe", 0o755);
    let writable = hook_script(&safe_dir, "writable", 0o777);
    hook_script(&open_dir, "on-path", 0o755);
    let safe = hook_script(&safe_dir, "safe", 0o755);

    let cases: [(&str, String, Option<&Path>, &Path); 3] = [
        (
            "--pre-hook",
            in_open_dir.display().to_string(),
            None,
            &open_dir,
        ),
        (
            "--post-hook",
            format!("{} --flag", writable.display()),
            None,
            &writable,
        ),
        (
            "--deploy-hook",
            "on-path arg".into(),
            Some(&open_dir),
            &open_dir,
        ),
    ];
    for (flag, hook, path_env, named) in cases {
        let out = renew_with(&env, flag, &hook, path_env);
        out.assert_code(2);
        assert!(out.stderr.contains(flag), "{out}");
        assert!(out.stderr.contains(&named.display().to_string()), "{out}");
        assert!(out.stderr.contains("world-writable"), "{out}");
    }
    // Nothing ran and nothing was created: the store was not even prepared.
    assert!(!env.root().join("ran-in-open-dir").exists());
    assert!(!env.root().join("ran-writable").exists());
    assert!(std::fs::read_dir(env.config_dir())
        .unwrap()
        .next()
        .is_none());

    // The same hook from a directory only root can write is accepted.
    renew_with(&env, "--pre-hook", &safe.display().to_string(), None).assert_success();
}
