//! Crash consistency: a run aborted at each named crash point (`CERTWRIGHT_CRASH_AT`, see
//! `src/crash.rs`), runs killed with SIGKILL at random moments, and readers racing renewals.
//! After every interruption `live/<name>` must be a complete, matching pair (the old one if
//! the swap did not happen), and the next run must clean up and succeed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::support::certs::Lineage;
use crate::support::cli::Output;
use crate::support::nginx::NGINX;
use crate::support::rig::Rig;
use crate::support::{free_port, Env, Nginx, Snapshot};

const FILES: [&str; 4] = ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"];

/// Everything named like our temp files (files, symlinks, directories) below `root`.
pub fn temp_leftovers(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(".certwright-tmp-")
            {
                out.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `live/<name>`'s target and the bytes of its four files.
fn live_state(env: &Env, name: &str) -> (PathBuf, Vec<Vec<u8>>) {
    let live = env.live(name);
    let target =
        std::fs::read_link(&live).unwrap_or_else(|e| panic!("live/{name} is not a symlink: {e}"));
    let files = FILES
        .iter()
        .map(|f| {
            std::fs::read(live.join(f)).unwrap_or_else(|e| panic!("read live/{name}/{f}: {e}"))
        })
        .collect();
    (target, files)
}

/// fullchain.pem and privkey.pem under `dir` parse, and the key belongs to the leaf.
fn pair_matches(dir: &Path) -> Result<(), String> {
    let fullchain = std::fs::read_to_string(dir.join("fullchain.pem"))
        .map_err(|e| format!("read fullchain.pem: {e}"))?;
    let key = std::fs::read_to_string(dir.join("privkey.pem"))
        .map_err(|e| format!("read privkey.pem: {e}"))?;
    pair_matches_pem(&fullchain, &key)
}

fn pair_matches_pem(fullchain: &str, key: &str) -> Result<(), String> {
    use rcgen::PublicKeyData;
    use x509_parser::prelude::{FromDer, X509Certificate};
    let pem = x509_parser::pem::Pem::iter_from_buffer(fullchain.as_bytes())
        .next()
        .ok_or("fullchain.pem holds no PEM block")?
        .map_err(|e| format!("fullchain.pem: {e}"))?;
    let (_, leaf) =
        X509Certificate::from_der(&pem.contents).map_err(|e| format!("fullchain.pem: {e}"))?;
    let key = rcgen::KeyPair::from_pem(key).map_err(|e| format!("privkey.pem: {e}"))?;
    if key.subject_public_key_info() == leaf.public_key().raw {
        Ok(())
    } else {
        Err("privkey.pem does not belong to the leaf in fullchain.pem".into())
    }
}

/// Killed by SIGABRT at the named point (not failed some other way before reaching it).
fn assert_crashed_at(out: &Output, point: &str) {
    assert_eq!(out.code, -1, "the run was not aborted\n{out}");
    assert!(
        out.stderr.contains(&format!("crash point {point} reached")),
        "{out}"
    );
}

/// Issue, crash a forced renewal at `point`, check the old version is still served in
/// full, then check the next run cleans up and renews. Returns the rig for extra checks.
fn crash_during_renewal(point: &str, name: &str, check_after_crash: impl FnOnce(&Env)) {
    let rig = Rig::new();
    rig.certonly(name, &[]).assert_success();
    let before = live_state(&rig.env, name);

    let crashed = rig
        .certonly_cli(&rig.env, &["-d", name, "--force-renewal"])
        .env("CERTWRIGHT_CRASH_AT", point)
        .run();
    assert_crashed_at(&crashed, point);

    // All-old: the swap did not happen, so the old version is served, whole and matching.
    let after = live_state(&rig.env, name);
    assert_eq!(after.0, before.0, "live/{name} moved\n{crashed}");
    assert!(after.1 == before.1, "live/{name} files changed\n{crashed}");
    pair_matches(&rig.env.live(name)).unwrap_or_else(|e| panic!("{e}\n{crashed}"));
    check_after_crash(&rig.env);

    let next = rig.certonly(name, &["--force-renewal"]);
    next.assert_success();
    let live = Lineage::at(rig.env.live(name));
    live.assert_valid_for(&[name], &rig.pebble.root_pem_path());
    let (target, files) = live_state(&rig.env, name);
    assert_ne!(target, before.0, "the next run did not renew\n{next}");
    assert!(files != before.1);
    // The link points at the highest version in the archive.
    let highest = std::fs::read_dir(rig.env.archive(name))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .unwrap();
    assert_eq!(
        target,
        PathBuf::from(format!("../archive/{name}/{highest}"))
    );
    for root in [rig.env.config_dir(), rig.env.work_dir()] {
        let left = temp_leftovers(&root);
        assert!(left.is_empty(), "temp files left: {left:?}\n{next}");
    }
}

/// The interrupted version was being built under a temp name in the archive.
fn temp_version_dir_exists(env: &Env, name: &str) {
    let left = temp_leftovers(&env.archive(name));
    assert!(
        left.iter()
            .any(|p| p.parent() == Some(env.archive(name).as_path())),
        "no temp version directory in archive/{name}: {left:?}"
    );
}

#[test]
fn crash_after_cert_write_keeps_the_old_version() {
    let name = "crash-cert.example.com";
    crash_during_renewal("after-cert-write", name, |env| {
        temp_version_dir_exists(env, name);
    });
}

#[test]
fn crash_after_key_write_keeps_the_old_version() {
    let name = "crash-key.example.com";
    crash_during_renewal("after-key-write", name, |env| {
        temp_version_dir_exists(env, name);
    });
}

#[test]
fn crash_after_version_rename_keeps_the_old_version() {
    let name = "crash-rename.example.com";
    crash_during_renewal("after-version-rename", name, |env| {
        // Version 2 is complete in the archive but not live; it is a valid pair itself.
        let v2 = env.archive(name).join("2");
        assert!(v2.is_dir(), "archive/{name}/2 missing");
        pair_matches(&v2).unwrap_or_else(|e| panic!("archive/{name}/2: {e}"));
    });
}

#[test]
fn crash_after_temp_symlink_keeps_the_old_version() {
    let name = "crash-link.example.com";
    crash_during_renewal("after-temp-symlink", name, |env| {
        let left = temp_leftovers(&env.config_dir().join("live"));
        assert_eq!(left.len(), 1, "one temp symlink in live/: {left:?}");
        assert!(std::fs::symlink_metadata(&left[0])
            .unwrap()
            .file_type()
            .is_symlink());
    });
}

/// `reconfigure` writes new settings only after their dry run passed: killed while the dry
/// run writes its throwaway certificate, it leaves the renewal config byte for byte; the
/// next run saves the new settings.
#[test]
fn reconfigure_killed_during_its_dry_run_leaves_the_config_as_it_was() {
    let rig = Rig::new();
    let name = "crash-reconf.example.com";
    rig.certonly(name, &[]).assert_success();
    let conf = rig.env.renewal_conf(name);
    let key_type = || {
        let text = std::fs::read_to_string(&conf).unwrap();
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        config["key_type"]["type"].as_str().unwrap().to_string()
    };
    assert_ne!(key_type(), "rsa");
    let before = std::fs::read(&conf).unwrap();
    // The dry run's throwaway store goes under TMPDIR: kept inside the test's tree.
    let tmp = rig.env.root().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let reconfigure = || {
        rig.env
            .cli()
            .args(["reconfigure", "--cert-name", name, "--key-type", "rsa"])
            .args(rig.env.dir_flags())
            .arg("-n")
            .env("TMPDIR", &tmp)
    };

    let crashed = reconfigure()
        .env("CERTWRIGHT_CRASH_AT", "after-cert-write")
        .run();
    assert_crashed_at(&crashed, "after-cert-write");
    assert!(
        std::fs::read(&conf).unwrap() == before,
        "the renewal config changed\n{crashed}"
    );
    assert!(!rig.env.archive(name).join("2").exists(), "{crashed}");

    let next = reconfigure().run();
    next.assert_success();
    assert_eq!(key_type(), "rsa", "{next}");
    assert!(!rig.env.archive(name).join("2").exists(), "{next}");
}

#[test]
fn an_nginx_install_crashed_between_two_files_is_undone_by_the_next_run() {
    let (a, b) = ("crash-a.example.com", "crash-b.example.com");
    let nginx = Nginx::start(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {a};\n}}\n"
    ));
    let root = nginx.server_root().to_path_buf();
    let port = nginx.port(0);
    std::fs::write(
        root.join("sites-available/two"),
        format!("server {{\n    listen {port};\n    server_name {b};\n}}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        root.join("sites-available/two"),
        root.join("sites-enabled/two"),
    )
    .unwrap();
    assert!(nginx.config_test().status.success(), "nginx -t before");
    let rig = Rig::new();
    let env = &rig.env;
    let issued = env
        .cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &rig.pebble.http_port().to_string()])
        .args(["-d", a, "-d", b])
        .args(env.flags(&rig.pebble))
        .run();
    issued.assert_success();
    let https_port = free_port().to_string();
    let nginx_flags = [
        "--nginx-server-root",
        root.to_str().unwrap(),
        "--nginx-ctl",
        NGINX,
    ];
    let install = || {
        env.cli()
            .args(["install", "--nginx", "--cert-name", a])
            .args([
                "--http-01-port",
                &port.to_string(),
                "--https-port",
                &https_port,
            ])
            .args(nginx_flags)
            .args(env.dir_flags())
    };
    let rollback = || {
        env.cli()
            .args(["rollback", "--checkpoints", "1"])
            .args(nginx_flags)
            .args(env.dir_flags())
            .run()
    };
    let sites = || Snapshot::of(&root.join("sites-available"));
    let original = sites();

    // 1. Crash mid-install, then `rollback`: everything back as it was.
    let crash = || {
        let out = install()
            .env("CERTWRIGHT_CRASH_AT", "nginx-mid-apply")
            .run();
        assert_crashed_at(&out, "nginx-mid-apply");
        let changed = original.diff(&sites());
        assert_eq!(
            changed.len(),
            1,
            "exactly one file patched: {changed:?}\n{out}"
        );
    };
    crash();
    let out = rollback();
    out.assert_success();
    original.assert_unchanged(&sites(), &format!("rollback after a crash\n{out}"));
    assert!(
        nginx.config_test().status.success(),
        "nginx -t after rollback"
    );

    // 2. Crash mid-install, then `install`: both files patched, and one rollback undoes
    //    that install entirely (the crashed half was undone first, not built upon).
    crash();
    let out = install().run();
    out.assert_success();
    let out_test = nginx.config_test();
    assert!(
        out_test.status.success(),
        "nginx -t after install: {}",
        String::from_utf8_lossy(&out_test.stderr)
    );
    let patched = original.diff(&sites());
    assert_eq!(patched.len(), 2, "both files patched: {patched:?}\n{out}");
    let out = rollback();
    out.assert_success();
    original.assert_unchanged(&sites(), &format!("rollback of the install\n{out}"));
    assert!(
        nginx.config_test().status.success(),
        "nginx -t after the last rollback"
    );
    let left = temp_leftovers(&env.work_dir());
    assert!(left.is_empty(), "temp files left: {left:?}");

    // 2b. Crash mid-install, then `install --dry-run`: it changes nothing, and says the diff
    //     is against a half-applied change; `rollback` then undoes the crash.
    crash();
    let crashed = sites();
    let out = install().arg("--dry-run").run();
    out.assert_success();
    assert!(out.stderr.contains("half-applied"), "{out}");
    crashed.assert_unchanged(&sites(), &format!("install --dry-run\n{out}"));
    rollback().assert_success();
    original.assert_unchanged(&sites(), "rollback after the dry run");

    // 3. Crash mid-install, then `delete --uninstall`: the half-applied change is undone
    //    before nginx is read, so nothing is left marked in progress and nginx is as before.
    crash();
    let out = env
        .cli()
        .args(["delete", "--cert-name", a, "--uninstall", "-n"])
        .args(nginx_flags)
        .args(env.dir_flags())
        .run();
    out.assert_success();
    assert!(
        out.stderr.contains("interrupted") || out.stderr.contains("restored"),
        "the recovery is reported\n{out}"
    );
    original.assert_unchanged(
        &sites(),
        &format!("delete --uninstall after a crash\n{out}"),
    );
    let pending: Vec<PathBuf> =
        crate::support::files_below(&env.work_dir().join("nginx-checkpoints"))
            .into_iter()
            .filter(|p| p.ends_with("in-progress"))
            .collect();
    assert!(pending.is_empty(), "left in progress: {pending:?}\n{out}");
    assert!(
        nginx.config_test().status.success(),
        "nginx -t after delete"
    );
    assert!(!env.live(a).exists(), "the lineage was deleted\n{out}");
}

/// Seed for the random kill delays: `CERTWRIGHT_TEST_SEED` or a fixed default, printed so a
/// failure can be replayed.
fn seed() -> u64 {
    let seed = std::env::var("CERTWRIGHT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0de);
    println!("seed: {seed} (set CERTWRIGHT_TEST_SEED to replay)");
    seed
}

#[test]
fn sigkill_at_random_moments_over_50_renewals_never_breaks_live() {
    let rig = Rig::new();
    let name = "sigkill.example.com";
    rig.certonly(name, &[]).assert_success();
    // Delays spread over one and a half times one run's length, so some runs finish and the rest
    // die at every stage. The spread adapts to the machine; nothing asserts on speed.
    let probe = Instant::now();
    rig.certonly(name, &["--force-renewal"]).assert_success();
    let spread_ms = (probe.elapsed().as_millis() as u64 * 3 / 2).clamp(20, 4000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed());
    let (mut killed, mut finished) = (0, 0);
    for i in 0..50 {
        let delay = Duration::from_millis(rng.random_range(0..spread_ms));
        let mut run = rig
            .certonly_cli(&rig.env, &["-d", name, "--force-renewal"])
            .spawn();
        // The scenario itself: the kill lands wherever the run got to after `delay`.
        std::thread::sleep(delay);
        let out = if run.has_exited() {
            run.wait()
        } else {
            run.wait_or_kill()
        };
        match out.code {
            0 => finished += 1,
            -1 => killed += 1,
            _ => panic!("run {i} failed on its own\n{out}"),
        }
        pair_matches(&rig.env.live(name))
            .unwrap_or_else(|e| panic!("after run {i} ({delay:?}): live/{name}: {e}\n{out}"));
    }
    println!("50 runs: {killed} killed, {finished} finished (spread {spread_ms} ms)");
    let out = rig.certonly(name, &["--force-renewal"]);
    out.assert_success();
    Lineage::at(rig.env.live(name)).assert_valid_for(&[name], &rig.pebble.root_pem_path());
    for root in [rig.env.config_dir(), rig.env.work_dir()] {
        let left = temp_leftovers(&root);
        assert!(left.is_empty(), "temp files left: {left:?}");
    }
}

/// Counts of what a reader saw.
#[derive(Default, Debug)]
struct Reads {
    total: u64,
    mismatched: u64,
    first_error: Option<String>,
}

/// Reads `live/<name>`'s pair in a loop until `stop`. `resolve_once`: as nginx loads a
/// config, resolve the link once and read both files from that version directory; else
/// naively open each file through the link.
fn reader(
    live: PathBuf,
    stop: Arc<AtomicBool>,
    resolve_once: bool,
) -> std::thread::JoinHandle<Reads> {
    std::thread::spawn(move || {
        let mut reads = Reads::default();
        while !stop.load(Ordering::Relaxed) {
            let dir = if resolve_once {
                match std::fs::read_link(&live) {
                    Ok(target) => live.parent().unwrap().join(target),
                    Err(e) => {
                        reads.mismatched += 1;
                        reads.first_error.get_or_insert(format!("readlink: {e}"));
                        continue;
                    }
                }
            } else {
                live.clone()
            };
            let result = (|| {
                let fullchain = std::fs::read_to_string(dir.join("fullchain.pem"))
                    .map_err(|e| format!("read fullchain.pem: {e}"))?;
                let key = std::fs::read_to_string(dir.join("privkey.pem"))
                    .map_err(|e| format!("read privkey.pem: {e}"))?;
                pair_matches_pem(&fullchain, &key)
            })();
            reads.total += 1;
            if let Err(e) = result {
                reads.mismatched += 1;
                reads.first_error.get_or_insert(e);
            }
        }
        reads
    })
}

#[test]
fn readers_never_see_a_mismatched_pair_during_30_renewals() {
    let rig = Rig::new();
    let name = "readers.example.com";
    rig.certonly(name, &[]).assert_success();
    let stop = Arc::new(AtomicBool::new(false));
    let resolved = reader(rig.env.live(name), stop.clone(), true);
    let naive = reader(rig.env.live(name), stop.clone(), false);
    let mut renewals = 0;
    for _ in 0..30 {
        let out = rig.certonly(name, &["--force-renewal"]);
        if out.code != 0 {
            stop.store(true, Ordering::Relaxed);
            panic!("renewal failed\n{out}");
        }
        renewals += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let resolved = resolved.join().expect("resolving reader");
    let naive = naive.join().expect("naive reader");
    println!(
        "{renewals} renewals; resolve-once reader: {} reads, {} mismatched; \
         naive reader (two opens through the link): {} reads, {} mismatched ({:?})",
        resolved.total, resolved.mismatched, naive.total, naive.mismatched, naive.first_error
    );
    assert!(resolved.total > 0, "the reader never read");
    assert_eq!(
        resolved.mismatched, 0,
        "a reader resolving live/{name} once saw a bad pair: {:?}",
        resolved.first_error
    );
}
