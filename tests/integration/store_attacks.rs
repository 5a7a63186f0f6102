//! Attacks on, and accidents to, the store: planted symlinks, a read-only store, a full
//! disk, a lock holder killed by SIGKILL, and two renewals at once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::cli::{dead_server_url, Output};
use crate::support::rig::Rig;
use crate::support::{files_below, free_port, wait_for, Env, Snapshot};

fn assert_no_panic(out: &Output) {
    let lower = out.stderr.to_ascii_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("rust_backtrace"),
        "{out}"
    );
}

/// Regular files and symlinks named like our temp files, anywhere below `dir`.
fn temp_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = files_below(dir)
        .into_iter()
        .filter(|p| {
            p.components().any(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .starts_with(".certwright-tmp-")
            })
        })
        .collect();
    // Temp version directories too.
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(".certwright-tmp-")
                {
                    out.push(p.clone());
                }
                stack.push(p);
            }
        }
    }
    out
}

#[test]
fn planted_archive_symlink_is_refused_and_its_target_untouched() {
    let rig = Rig::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep"), b"precious").unwrap();
    let before = Snapshot::of(outside.path());
    std::fs::create_dir_all(rig.env.config_dir().join("archive")).unwrap();
    std::os::unix::fs::symlink(outside.path(), rig.env.archive("planted.example.com")).unwrap();
    let out = rig.certonly("planted.example.com", &[]);
    assert_no_panic(&out);
    out.assert_code(3);
    assert!(out.stderr.contains("symlink"), "{out}");
    assert!(
        !out.stderr.contains("Creating order"),
        "refused only after spending an order\n{out}"
    );
    before.assert_unchanged(&Snapshot::of(outside.path()), "the symlink's target");
    assert!(
        !rig.env.live("planted.example.com").exists(),
        "live/ was created through a refused archive"
    );
}

#[test]
fn planted_live_symlink_is_refused_and_its_target_untouched() {
    let rig = Rig::new();
    let outside = tempfile::tempdir().unwrap();
    for f in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"] {
        std::fs::write(outside.path().join(f), b"attacker's file").unwrap();
    }
    let before = Snapshot::of(outside.path());
    std::fs::create_dir_all(rig.env.config_dir().join("live")).unwrap();
    let live = rig.env.live("planted-live.example.com");
    std::os::unix::fs::symlink(outside.path(), &live).unwrap();
    let out = rig.certonly("planted-live.example.com", &[]);
    assert_no_panic(&out);
    out.assert_code(3);
    assert!(
        out.stderr.contains("live/planted-live.example.com"),
        "{out}"
    );
    assert!(
        !out.stderr.contains("Creating order"),
        "refused only after spending an order\n{out}"
    );
    before.assert_unchanged(&Snapshot::of(outside.path()), "the symlink's target");
    assert_eq!(std::fs::read_link(&live).unwrap(), outside.path());
}

#[test]
fn live_link_of_an_existing_lineage_redirected_outside_is_refused_on_renew() {
    let rig = Rig::new();
    let name = "redirected.example.com";
    rig.certonly(name, &[]).assert_success();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("fullchain.pem"), b"attacker's chain").unwrap();
    let before = Snapshot::of(outside.path());
    let live = rig.env.live(name);
    std::fs::remove_file(&live).unwrap();
    std::os::unix::fs::symlink(outside.path(), &live).unwrap();
    let out = rig.env.renew(&["--force-renewal", "-n"]);
    assert_no_panic(&out);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains(&format!("live/{name}")), "{out}");
    before.assert_unchanged(&Snapshot::of(outside.path()), "the symlink's target");
    assert_eq!(std::fs::read_link(&live).unwrap(), outside.path());
}

/// A tmpfs mounted for one test, unmounted on drop.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// `mount -t tmpfs -o OPTIONS tmpfs DIR`, or why it is not possible here.
    fn tmpfs(dir: &Path, options: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Mount {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(format!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn read_only_store_fails_before_any_acme_request() {
    let env = Env::new();
    let mount = match Mount::tmpfs(&env.config_dir(), "ro,size=1m") {
        Ok(m) => m,
        Err(why) => {
            // Mounting needs CAP_SYS_ADMIN; the unit test of Store::prepare covers the
            // unwritable-dir path without it.
            println!("SKIPPED read_only_store_fails_before_any_acme_request: {why}");
            return;
        }
    };
    let out = env
        .cli()
        .arg("certonly")
        .args([
            "--standalone",
            "--http-01-port",
            &free_port().to_string(),
            "-d",
            "readonly.example.com",
        ])
        .args(env.dir_flags())
        // Nothing listens there: an ACME request would fail with "connection refused" and
        // exit 1, not with the store's exit 3.
        .args([
            "--server",
            &dead_server_url(),
            "-n",
            "--agree-tos",
            "--register-unsafely-without-email",
        ])
        .run();
    drop(mount);
    assert_no_panic(&out);
    out.assert_code(3);
    assert!(out.stderr.contains("Read-only file system"), "{out}");
    assert!(out.stderr.contains("config"), "{out}");
    assert!(!out.stderr.contains("could not reach"), "{out}");
}

#[test]
fn full_disk_keeps_live_files_and_leaves_no_temp_files() {
    let rig = Rig::new();
    let name = "fulldisk.example.com";
    let store = Env::new();
    let mount = match Mount::tmpfs(&store.config_dir(), "size=256k") {
        Ok(m) => m,
        Err(why) => {
            println!("SKIPPED full_disk_keeps_live_files_and_leaves_no_temp_files: {why}");
            return;
        }
    };
    rig.certonly_in(&store, name, &[]).assert_success();
    let live = store.live(name);
    let read_live = || -> Vec<(String, Vec<u8>)> {
        ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read(live.join(f)).expect("read live file"),
                )
            })
            .collect()
    };
    let live_before = read_live();
    let link_before = std::fs::read_link(&live).unwrap();
    // Fill what is left of the tmpfs.
    let filler = store.config_dir().join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k", "count=1000"])
        .arg(format!("of={}", filler.display()))
        .output();
    let out = rig.certonly_in(&store, name, &["--force-renewal"]);
    let leftovers = temp_leftovers(&store.config_dir());
    let live_after = read_live();
    let link_after = std::fs::read_link(&live).unwrap();
    drop(mount);
    assert_no_panic(&out);
    assert_eq!(out.code, 3, "{out}");
    assert!(out.stderr.contains("No space left on device"), "{out}");
    assert_eq!(link_after, link_before, "live/ was swapped\n{out}");
    assert!(live_before == live_after, "live files changed\n{out}");
    assert!(
        leftovers.is_empty(),
        "temp files left: {leftovers:?}\n{out}"
    );
}

/// A `renew --force-renewal` whose pre-hook records its pid and sleeps: while the hook runs,
/// the run holds the lock.
struct LockHolder {
    run: Option<crate::support::cli::Running>,
    hook_pid_file: PathBuf,
}

impl LockHolder {
    fn start(env: &Env) -> LockHolder {
        let hook_pid_file = env.root().join("hook.pid");
        let run = env
            .renew_cli(&["--force-renewal", "-n"])
            .arg("--pre-hook")
            // Its output goes elsewhere: an orphaned sleep must not hold our pipes open.
            .arg(format!(
                "echo $$ > '{}'; exec sleep 60 </dev/null >/dev/null 2>&1",
                hook_pid_file.display()
            ))
            .spawn();
        let started = wait_for(Duration::from_secs(60), || {
            std::fs::read_to_string(&hook_pid_file)
                .ok()
                .filter(|s| s.ends_with('\n'))
        });
        assert!(started.is_some(), "the pre-hook never ran");
        LockHolder {
            run: Some(run),
            hook_pid_file,
        }
    }

    fn pid(&self) -> u32 {
        self.run.as_ref().map_or(0, |r| r.pid())
    }

    /// SIGKILL the certwright run (not its hook) and collect its output.
    fn kill(&mut self) -> Output {
        self.run.take().expect("still running").wait_or_kill()
    }

    fn hook_pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.hook_pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // The hook's sleep is ours too: end it by its pid.
        if let Some(pid) = self.hook_pid() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

#[test]
fn a_second_renew_is_refused_naming_the_holder() {
    let rig = Rig::new();
    rig.certonly("locked.example.com", &[]).assert_success();
    let holder = LockHolder::start(&rig.env);
    let pid = holder.pid();
    let out = rig.env.renew(&["-n"]);
    assert_no_panic(&out);
    out.assert_code(4);
    assert!(out.stderr.contains(&format!("pid {pid}")), "{out}");
    drop(holder);
}

#[test]
fn a_lock_holder_killed_by_sigkill_does_not_block_the_next_run() {
    let rig = Rig::new();
    let name = "killed.example.com";
    rig.certonly(name, &[]).assert_success();
    let mut holder = LockHolder::start(&rig.env);
    // SIGKILL; the hook's `sleep` lives on (it must not have inherited the lock).
    let killed = holder.kill();
    assert!(killed.stderr.contains("killed by signal 9"), "{killed}");
    let out = rig.env.renew(&["-n"]);
    drop(holder);
    assert_no_panic(&out);
    out.assert_success();
    // The interrupted run left the lineage as it was.
    rig.env
        .cli()
        .args(["certificates", "--json"])
        .args(rig.env.dir_flags())
        .run()
        .assert_success();
}
