//! `--manual --preferred-challenges dns` with auth and cleanup hooks that write to a real
//! bind9 with `nsupdate`, Pebble reading the records from it: certbot's hook environment,
//! propagation checked before the CA is asked, cleanup on success, on a failed hook and on
//! SIGTERM, and `renew` reusing the saved hooks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::bind::{Bind, KEY_ALGORITHM, KEY_NAME, NSUPDATE};
use crate::support::certs::Lineage;
use crate::support::cli::Cli;
use crate::support::rig::Rig;
use crate::support::{children, wait_for, PebbleOpts};

const JOURNAL: &str = "manual-hook-runs.json";

/// Hook scripts in a private temp dir, each recording its CERTBOT_* environment to a file.
struct Hooks {
    dir: tempfile::TempDir,
}

impl Hooks {
    /// `auth.sh` adds `_acme-challenge.$CERTBOT_DOMAIN` TXT `$CERTBOT_VALIDATION` (unless
    /// `skip_last` and it is the last challenge) and prints `added-VALUE`, then exits with
    /// `auth_exit`; `cleanup.sh` deletes that value.
    fn new(bind: &Bind, auth_exit: u8, skip_last: bool) -> Hooks {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        std::fs::create_dir(&log).expect("log dir");
        let nsupdate = |op: &str| {
            format!(
                "printf 'server 127.0.0.1 {port}\\nupdate {op} _acme-challenge.%s. 60 TXT \"%s\"\\nsend\\n' \
                 \"$CERTBOT_DOMAIN\" \"$CERTBOT_VALIDATION\" | {NSUPDATE} -y {KEY_ALGORITHM}:{KEY_NAME}:{secret}",
                port = bind.port(),
                secret = bind.secret(),
            )
        };
        let skip = if skip_last {
            format!(
                "if [ \"$CERTBOT_REMAINING_CHALLENGES\" = 0 ]; then touch {}/last; exit 0; fi\n",
                log.display()
            )
        } else {
            String::new()
        };
        let auth = format!(
            "#!/bin/sh\nset -e\nenv | grep '^CERTBOT_' | sort > {log}/auth-$CERTBOT_VALIDATION\n\
             {skip}{add}\necho added-$CERTBOT_VALIDATION\nexit {auth_exit}\n",
            log = log.display(),
            add = nsupdate("add"),
        );
        let cleanup = format!(
            "#!/bin/sh\nset -e\nenv | grep '^CERTBOT_' | sort > {log}/cleanup-$CERTBOT_VALIDATION\n{del}\n",
            log = log.display(),
            del = nsupdate("delete"),
        );
        write_scripts(dir.path(), &[("auth.sh", auth), ("cleanup.sh", cleanup)]);
        Hooks { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Each recorded run of `kind` ("auth" or "cleanup"): its CERTBOT_* variables.
    fn runs(&self, kind: &str) -> Vec<BTreeMap<String, String>> {
        let mut out = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(self.path("log"))
            .expect("log dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| file_name(p).starts_with(&format!("{kind}-")))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).expect("env file");
            out.push(
                text.lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
        }
        out
    }
}

/// Hook scripts (mode 0700, as a root-owned hook must be) in `dir`.
fn write_scripts(dir: &Path, scripts: &[(&str, String)]) {
    use std::os::unix::fs::PermissionsExt;
    for (name, text) in scripts {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write hook");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .expect("chmod hook");
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn bind_and_pebble() -> (Bind, Rig) {
    let bind = Bind::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    (bind, rig)
}

fn manual_cli(rig: &Rig, bind: &Bind, hooks: &Hooks, names: &[&str]) -> Cli {
    let mut cli = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["--manual", "--preferred-challenges", "dns"])
        .arg("--manual-auth-hook")
        .arg(hooks.path("auth.sh"))
        .arg("--manual-cleanup-hook")
        .arg(hooks.path("cleanup.sh"))
        .arg("--dns-resolver")
        .arg(bind.addr().to_string());
    for n in names {
        cli = cli.args(["-d", n]);
    }
    cli
}

#[test]
fn manual_dns_hooks_issue_a_wildcard_with_certbots_environment_and_renew_reuses_them() {
    let (bind, rig) = bind_and_pebble();
    let hooks = Hooks::new(&bind, 0, false);
    let out = manual_cli(&rig, &bind, &hooks, &["*.example.test", "example.test"]).run();
    out.assert_success();
    Lineage::at(rig.env.live("example.test")).assert_valid_for(
        &["*.example.test", "example.test"],
        &rig.pebble.root_pem_path(),
    );
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.work_dir().join(JOURNAL).exists());

    let auth = hooks.runs("auth");
    assert_eq!(auth.len(), 2, "{auth:?}");
    let mut remaining: Vec<&str> = Vec::new();
    for env in &auth {
        assert_eq!(env["CERTBOT_DOMAIN"], "example.test", "{env:?}");
        assert_eq!(env["CERTBOT_ALL_DOMAINS"], "example.test,example.test");
        assert_eq!(env["CERTBOT_VALIDATION"].len(), 43, "{env:?}");
        assert!(!env.contains_key("CERTBOT_TOKEN"), "http-01 only: {env:?}");
        assert!(!env.contains_key("CERTBOT_AUTH_OUTPUT"), "{env:?}");
        remaining.push(&env["CERTBOT_REMAINING_CHALLENGES"]);
    }
    remaining.sort();
    assert_eq!(remaining, ["0", "1"]);
    let cleanup = hooks.runs("cleanup");
    assert_eq!(cleanup.len(), 2, "{cleanup:?}");
    for env in &cleanup {
        assert_eq!(
            env["CERTBOT_AUTH_OUTPUT"],
            format!("added-{}", env["CERTBOT_VALIDATION"])
        );
    }

    let conf = std::fs::read_to_string(rig.env.renewal_conf("example.test")).expect("conf");
    assert!(
        conf.contains("\"manual\"") && conf.contains("dns-01") && conf.contains("cleanup.sh"),
        "{conf}"
    );
    let out = rig.env.renew(&["--dry-run"]);
    out.assert_success();
    assert_eq!(hooks.runs("auth").len(), 4, "renew ran the saved auth hook");
    assert_eq!(hooks.runs("cleanup").len(), 4);
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
}

#[test]
fn a_failing_auth_hook_exits_1_naming_it_and_the_cleanup_hook_still_runs() {
    let (bind, rig) = bind_and_pebble();
    let hooks = Hooks::new(&bind, 3, false);
    let out = manual_cli(&rig, &bind, &hooks, &["example.test"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("manual auth hook")
            && out.stderr.contains("exit status: 3")
            && out.stderr.contains("the CA was not asked"),
        "{out:?}"
    );
    assert_eq!(hooks.runs("cleanup").len(), 1, "cleanup ran: {out:?}");
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.live("example.test").exists());
    assert!(!rig.env.work_dir().join(JOURNAL).exists());
}

#[test]
fn sigterm_while_waiting_for_propagation_runs_the_cleanup_hook_for_every_challenge() {
    let (bind, rig) = bind_and_pebble();
    // The last value is never published: the run waits for it until stopped.
    let hooks = Hooks::new(&bind, 0, true);
    let running = manual_cli(&rig, &bind, &hooks, &["*.example.test", "example.test"]).spawn();
    // The last auth hook ran and returned (the run has no child left): the run is past
    // its hooks, waiting for the values to be served.
    let started = wait_for(Duration::from_secs(30), || {
        (hooks.path("log/last").exists() && children(running.pid()).is_empty()).then_some(())
    });
    assert!(started.is_some(), "{:?}", running.wait_or_kill());
    assert_eq!(bind.txt("_acme-challenge.example.test").len(), 1);
    let out = running.terminate();
    out.assert_code(1);
    assert!(out.stderr.contains("stopped by SIGTERM"), "{out:?}");
    assert_eq!(hooks.runs("cleanup").len(), 2, "{out:?}");
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.work_dir().join(JOURNAL).exists());
}

#[test]
fn manual_input_errors_exit_2() {
    let (bind, rig) = bind_and_pebble();
    let hooks = Hooks::new(&bind, 0, false);
    let bad = manual_cli(&rig, &bind, &hooks, &["example.test"])
        .args(["--preferred-challenges", "tls-alpn-01"])
        .run();
    bad.assert_code(2);
    assert!(bad.stderr.contains("tls-alpn-01"), "{bad:?}");
    let out = rig.certonly("example.test", &["--preferred-challenges", "dns"]);
    out.assert_code(2);
    assert!(out.stderr.contains("does not list http-01"), "{out:?}");
    assert!(hooks.runs("auth").is_empty());
    // The hook log does record a run: the auth hook, run directly, shows in it.
    let ran = std::process::Command::new(hooks.path("auth.sh"))
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "direct")
        .env("CERTBOT_REMAINING_CHALLENGES", "0")
        .status()
        .expect("run auth.sh");
    assert!(ran.success());
    assert_eq!(hooks.runs("auth").len(), 1);
}

/// A plain web server (python3's http.server) on `port` serving `dir`; killed on drop.
struct WebServer(std::process::Child);

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn manual_http_01_with_certbots_list_spelling_puts_the_file_and_removes_it() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("www");
    let challenge_dir = root.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenge_dir).expect("webroot");
    let server = WebServer(
        std::process::Command::new("python3")
            .args(["-m", "http.server", &rig.pebble.http_port().to_string()])
            .args(["--bind", "127.0.0.1", "--directory"])
            .arg(&root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server"),
    );
    let up = wait_for(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", rig.pebble.http_port())).ok()
    });
    assert!(up.is_some(), "http.server did not start");
    let log = dir.path().join("log");
    let hooks = [
        (
            "auth.sh",
            format!(
                "#!/bin/sh\nenv | grep '^CERTBOT_' | sort > {log}-auth\n\
                 printf %s \"$CERTBOT_VALIDATION\" > {dir}/\"$CERTBOT_TOKEN\"\necho wrote\n",
                log = log.display(),
                dir = challenge_dir.display()
            ),
        ),
        (
            "cleanup.sh",
            format!(
                "#!/bin/sh\nenv | grep '^CERTBOT_' | sort > {log}-cleanup\n\
                 rm {dir}/\"$CERTBOT_TOKEN\"\n",
                log = log.display(),
                dir = challenge_dir.display()
            ),
        ),
    ];
    write_scripts(dir.path(), &hooks);
    let out = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["--manual", "--preferred-challenges", "http-01,dns-01"])
        .arg("--manual-auth-hook")
        .arg(dir.path().join("auth.sh"))
        .arg("--manual-cleanup-hook")
        .arg(dir.path().join("cleanup.sh"))
        .args(["-d", "web.example.test"])
        .run();
    out.assert_success();
    drop(server);
    Lineage::at(rig.env.live("web.example.test"))
        .assert_valid_for(&["web.example.test"], &rig.pebble.root_pem_path());
    let auth = std::fs::read_to_string(format!("{}-auth", log.display())).expect("auth env");
    let token = auth
        .lines()
        .find_map(|l| l.strip_prefix("CERTBOT_TOKEN="))
        .expect("CERTBOT_TOKEN for http-01");
    assert!(
        auth.contains(&format!("CERTBOT_VALIDATION={token}.")),
        "the key authorization: {auth}"
    );
    assert!(auth.contains("CERTBOT_DOMAIN=web.example.test"), "{auth}");
    let cleanup = std::fs::read_to_string(format!("{}-cleanup", log.display())).expect("cleanup");
    assert!(cleanup.contains("CERTBOT_AUTH_OUTPUT=wrote"), "{cleanup}");
    assert_eq!(std::fs::read_dir(&challenge_dir).expect("dir").count(), 0);
    let conf = std::fs::read_to_string(rig.env.renewal_conf("web.example.test")).expect("conf");
    assert!(conf.contains("http-01"), "{conf}");
}
