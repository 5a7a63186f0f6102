//! Running with less than root: hooks whose program anyone could replace are refused, and
//! `--user` binds as root then runs as that user.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::cli::Output;
use crate::support::{run_directly, Env};

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
    let mut cli = env.renew_cli(&["--force-renewal", "-n"]).args([flag, hook]);
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
    // The markers checked above do show a run: each refused script, run directly, leaves one.
    run_directly(&in_open_dir);
    run_directly(&writable);
    assert!(env.root().join("ran-in-open-dir").exists());
    assert!(env.root().join("ran-writable").exists());
}

/// A system user for `--user` tests, created when missing (CI runs as root). Returns its uid.
fn test_user(name: &str) -> u32 {
    let id = |n: &str| {
        std::process::Command::new("id")
            .args(["-u", n])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            })
    };
    if let Some(uid) = id(name) {
        return uid;
    }
    let out = std::process::Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ])
        .output()
        .expect("run useradd");
    // A parallel test may have created it meanwhile.
    id(name).unwrap_or_else(|| panic!("useradd {name}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn chown_tree(path: &Path, uid: u32) {
    let status = std::process::Command::new("chown")
        .args(["-R", &uid.to_string()])
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown {}", path.display());
}

/// The `certwright-test` user (its uid), a Pebble answering HTTP-01 on the returned port,
/// and an `Env` whose store belongs to that user.
fn user_setup() -> (u32, u16, crate::support::Pebble, Env) {
    let uid = test_user("certwright-test");
    let port = crate::support::free_port();
    let pebble =
        crate::support::Pebble::start(crate::support::PebbleOpts::default().http_port(port));
    let env = Env::new();
    // The user must reach Pebble's CA file and own the store.
    let ca_dir = pebble.ca_bundle_path().parent().unwrap().to_path_buf();
    std::fs::set_permissions(&ca_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for dir in [env.config_dir(), env.work_dir(), env.logs_dir()] {
        std::fs::create_dir_all(&dir).unwrap();
        chown_tree(&dir, uid);
    }
    (uid, port, pebble, env)
}

/// `certonly --standalone` for `name` on `port`, as `--user certwright-test`, not yet run.
fn user_certonly(
    env: &Env,
    pebble: &crate::support::Pebble,
    port: u16,
    name: &str,
) -> crate::support::Cli {
    env.cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &port.to_string(), "-d", name])
        .args(["--user", "certwright-test"])
        .args(env.flags(pebble))
}

#[test]
fn user_flag_binds_as_root_then_runs_as_that_user() {
    use std::os::unix::fs::MetadataExt;
    let (uid, port, pebble, env) = user_setup();
    let run = |extra: &[&str]| {
        user_certonly(&env, &pebble, port, "dropped.example.com")
            .args(extra)
            .run()
    };
    let out = run(&[]);
    out.assert_success();
    let live = env.live("dropped.example.com");
    for file in ["fullchain.pem", "privkey.pem"] {
        let meta = std::fs::metadata(live.join(file)).unwrap();
        assert_eq!(
            meta.uid(),
            uid,
            "{file} must be written as the dropped user"
        );
    }
    let key = std::fs::metadata(live.join("privkey.pem")).unwrap();
    assert_eq!(key.mode() & 0o777, 0o600);
    let log = std::fs::metadata(env.logs_dir().join("certwright.log")).unwrap();
    assert_eq!(log.uid(), uid, "the log is written after the drop");

    // A root-owned file in the store is refused before anything happens, naming the fix.
    std::fs::write(env.config_dir().join("root-owned"), b"x").unwrap();
    let out = run(&["--force-renewal"]);
    out.assert_code(3);
    assert!(out.stderr.contains("chown -R certwright-test"), "{out}");
}

/// With `--store`, the shared store's key file is read with root's rights (here it is
/// root's alone) and the store is first contacted after the switch: a `file://` store's
/// blocking file work starts a thread, and `--user` switches only while there is no other.
#[test]
fn user_flag_with_a_fleet_store_switches_before_contacting_the_store() {
    use crate::support::fleet::{random_store_key, write_key_file};
    use std::os::unix::fs::MetadataExt;
    let (uid, port, pebble, env) = user_setup();
    let shared = env.root().join("fleet-store");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
    chown_tree(&shared, uid);
    let key = env.root().join("store.key");
    write_key_file(&key, random_store_key().as_bytes(), 0o600);
    let name = "fleet-dropped.example.com";
    let out = user_certonly(&env, &pebble, port, name)
        .arg("--store")
        .arg(format!("file://{}", shared.display()))
        .arg("--store-key-file")
        .arg(&key)
        .run();
    out.assert_success();
    let privkey = std::fs::metadata(env.live(name).join("privkey.pem")).unwrap();
    assert_eq!(privkey.uid(), uid, "written as the dropped user\n{out}");
    // Published to the fleet's directory, as that user too.
    let published = crate::support::files_below(&shared)
        .into_iter()
        .find(|f| f.ends_with(format!("certs/{name}.json")))
        .unwrap_or_else(|| panic!("not published to the fleet's store\n{out}"));
    assert_eq!(std::fs::metadata(&published).unwrap().uid(), uid, "{out}");
}

/// Issue 16, finding 9: a script another user wrote (via `setpriv` as `nobody`), run
/// directly, through `sh FILE` or `sh -c`, a group-writable hook and a missing one are all
/// refused with exit 2 before anything runs.
#[test]
fn hooks_owned_by_another_user_or_run_through_an_interpreter_are_checked() {
    let env = Env::new();
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let theirs = shared.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let marker = shared.path().join("ran");
    let script = theirs.join("h.sh");
    let written = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(format!(
            "printf '#!/bin/sh\\ntouch {}\\n' > {s} && chmod 755 {s}",
            marker.display(),
            s = script.display()
        ))
        .status()
        .expect("run setpriv");
    assert!(written.success(), "nobody could not write the script");
    // In a subdirectory, so that its marker is `shared/ran-gw.sh`, the one checked below.
    let gw_dir = shared.path().join("gw");
    std::fs::create_dir(&gw_dir).unwrap();
    std::fs::set_permissions(&gw_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let group_writable = hook_script(&gw_dir, "gw.sh", 0o775);
    let s = script.display();
    let cases = [
        (s.to_string(), "uid 65534"),
        (format!("sh {s}"), "uid 65534"),
        (format!("/bin/sh -c '{s} now'"), "uid 65534"),
        (format!("bash -e {s}"), "uid 65534"),
        (group_writable.display().to_string(), "group-writable"),
        (
            format!("sh {}", shared.path().join("missing.sh").display()),
            "no such file",
        ),
    ];
    for (hook, why) in cases {
        let out = renew_with(&env, "--deploy-hook", &hook, None);
        out.assert_code(2);
        assert!(out.stderr.contains(why), "{hook}: {out}");
    }
    assert!(!marker.exists(), "a refused hook ran");
    assert!(
        !shared.path().join("ran-gw.sh").exists(),
        "a refused hook ran"
    );
    // The markers do show a run: each script, run directly, leaves its own.
    run_directly(&script);
    run_directly(&group_writable);
    assert!(marker.exists() && shared.path().join("ran-gw.sh").exists());
}
