//! Deploy targets end to end: a PKCS#12 keystore opened by the real `keytool` and `openssl
//! pkcs12`, a combined PEM a real HAProxy serves over TLS, and a directory an unprivileged
//! user reads through `setpriv`; all rewritten by `renew`, refused when unsafe.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::certs::assert_mode;
use crate::support::cli::Output;
use crate::support::net::port_answers;
use crate::support::rig::Rig;
use crate::support::{free_port, wait_for};

const NAME: &str = "app.example.test";
const PASSWORD: &str = "correct horse battery";

/// A directory others can traverse (the env's own temp dir is 0700), for the service user.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("certwright-deploy-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run ({e}): is it installed?"))
}

fn text(out: &std::process::Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct Targets {
    _dir: tempfile::TempDir,
    password_file: PathBuf,
    pkcs12: PathBuf,
    combined: PathBuf,
    service_dir: PathBuf,
}

impl Targets {
    fn new() -> Targets {
        let dir = open_dir();
        let password_file = dir.path().join("keystore.pass");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write password");
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        Targets {
            pkcs12: dir.path().join("app.p12"),
            combined: dir.path().join("haproxy.pem"),
            service_dir: dir.path().join("service"),
            password_file,
            _dir: dir,
        }
    }

    fn flags(&self) -> Vec<String> {
        [
            "--deploy-pkcs12",
            path_str(&self.pkcs12),
            "--deploy-pkcs12-password-file",
            path_str(&self.password_file),
            "--deploy-combined",
            path_str(&self.combined),
            "--deploy-dir",
            path_str(&self.service_dir),
            "--deploy-owner",
            "nobody:nogroup",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The keystore as Java 17 and OpenSSL 3 read it: one private key entry named after the
/// lineage, encrypted with PBES2/AES-256-CBC and an HMAC-SHA256 MAC.
fn assert_keystore(t: &Targets) {
    assert_mode(&t.pkcs12, 0o600);
    let out = run(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            path_str(&t.pkcs12),
            "-storepass",
            PASSWORD,
        ],
    );
    let listing = text(&out);
    assert!(out.status.success(), "{listing}");
    assert!(
        listing.contains(&format!("Alias name: {NAME}")),
        "{listing}"
    );
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");
    assert!(listing.contains("Certificate chain length: 2"), "{listing}");
    let pass = format!("file:{}", path_str(&t.password_file));
    let out = pkcs12_info(t, &["-nokeys"], &pass);
    let info = text(&out);
    assert!(out.status.success(), "{info}");
    assert!(info.contains("MAC: sha256"), "{info}");
    assert!(info.contains("PBES2, PBKDF2, AES-256-CBC"), "{info}");
    // The key bag carries the lineage name (keytool's alias); the certificate bags their subject.
    let out = pkcs12_info(t, &["-nocerts", "-nodes"], &pass);
    let keys = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(keys.contains(&format!("friendlyName: {NAME}")), "{keys}");
    assert!(keys.contains("BEGIN PRIVATE KEY"), "no key in the keystore");
    let wrong = pkcs12_info(t, &["-nokeys"], "pass:wrong");
    assert!(
        !wrong.status.success(),
        "a wrong password opened it\n{}",
        text(&wrong)
    );
}

/// `openssl pkcs12 -info` on the keystore with `args` and the password source `passin`.
fn pkcs12_info(t: &Targets, args: &[&str], passin: &str) -> std::process::Output {
    let mut all = vec![
        "pkcs12",
        "-info",
        "-in",
        path_str(&t.pkcs12),
        "-passin",
        passin,
    ];
    all.extend_from_slice(args);
    run("openssl", &all)
}

/// A real HAProxy loading the combined file, and a verified TLS handshake with it.
struct Haproxy {
    child: Child,
    port: u16,
}

impl Haproxy {
    fn start(dir: &Path, combined: &Path) -> Haproxy {
        let port = free_port();
        let conf = dir.join("haproxy.cfg");
        std::fs::write(
            &conf,
            format!(
                "global\n  maxconn 50\ndefaults\n  mode http\n  timeout connect 5s\n  \
                 timeout client 5s\n  timeout server 5s\nfrontend tls\n  \
                 bind 127.0.0.1:{port} ssl crt {}\n  \
                 http-request return status 200 content-type text/plain string ok\n",
                combined.display()
            ),
        )
        .expect("write haproxy.cfg");
        let child = Command::new("/usr/sbin/haproxy")
            .args(["-db", "-f", path_str(&conf)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy could not start: is it installed?");
        let mut h = Haproxy { child, port };
        let up = wait_for(Duration::from_secs(10), || port_answers(port).then_some(()));
        if up.is_none() {
            let _ = h.child.kill();
            let out = run("/usr/sbin/haproxy", &["-c", "-f", path_str(&conf)]);
            panic!("haproxy did not listen on {port}\n{}", text(&out));
        }
        h.child.try_wait().expect("wait");
        h
    }

    /// `openssl s_client` verifying the served chain against `root` for NAME; the leaf.
    fn handshake(&self, root: &Path) -> String {
        let connect = format!("127.0.0.1:{}", self.port);
        let out = run(
            "openssl",
            &[
                "s_client",
                "-connect",
                &connect,
                "-servername",
                NAME,
                "-verify_hostname",
                NAME,
                "-CAfile",
                path_str(root),
                "-verify_return_error",
            ],
        );
        let t = text(&out);
        assert!(
            out.status.success(),
            "TLS handshake with haproxy failed\n{t}"
        );
        assert!(t.contains("Verify return code: 0 (ok)"), "{t}");
        t
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cat` as the unprivileged user `user:group` (setpriv drops every privilege first).
fn read_as(uid: &str, gid: &str, file: &Path) -> std::process::Output {
    run(
        "setpriv",
        &[
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "cat",
            path_str(file),
        ],
    )
}

/// The service user reads all four files; another unprivileged user cannot read the key.
fn assert_service_dir(t: &Targets, live: &Path) {
    for file in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"] {
        let out = read_as("nobody", "nogroup", &t.service_dir.join(file));
        assert!(
            out.status.success(),
            "nobody cannot read {file}\n{}",
            text(&out)
        );
        let want = std::fs::read(live.join(file)).expect("live file");
        assert_eq!(out.stdout, want, "{file} differs from live/");
    }
    let stranger = read_as("54321", "54321", &t.service_dir.join("privkey.pem"));
    assert!(!stranger.status.success(), "another user read the key");
    let key = std::fs::canonicalize(t.service_dir.join("privkey.pem")).expect("resolve");
    assert_mode(&key, 0o640);
}

fn assert_combined(t: &Targets, live: &Path) {
    assert_mode(&t.combined, 0o600);
    let mut want = std::fs::read(live.join("fullchain.pem")).expect("fullchain");
    want.extend(std::fs::read(live.join("privkey.pem")).expect("privkey"));
    assert_eq!(std::fs::read(&t.combined).expect("combined"), want);
}

fn renew(rig: &Rig, extra: &[&str]) -> Output {
    rig.env.renew(extra)
}

#[test]
fn keystore_combined_pem_and_service_dir_are_read_by_real_programs_and_renewed() {
    let rig = Rig::new();
    let t = Targets::new();
    rig.certonly(
        NAME,
        &t.flags().iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .assert_success();
    let live = rig.env.live(NAME);
    assert_keystore(&t);
    assert_combined(&t, &live);
    assert_service_dir(&t, &live);
    let root = rig.pebble.root_pem_path();
    let first_leaf = std::fs::read_to_string(live.join("cert.pem")).expect("cert");
    {
        let haproxy = Haproxy::start(t._dir.path(), &t.combined);
        haproxy.handshake(&root);
    }

    let saved = std::fs::read_to_string(rig.env.renewal_conf(NAME)).expect("renewal conf");
    assert!(saved.contains("keystore.pass"), "{saved}");
    assert!(!saved.contains(PASSWORD), "the password was saved\n{saved}");
    let list = rig
        .env
        .cli()
        .arg("certificates")
        .args(rig.env.dir_flags())
        .arg("--json")
        .run();
    list.assert_success();
    let targets = &list.json()["certificates"][0]["deploy_targets"];
    assert_eq!(targets["combined"], path_str(&t.combined), "{list}");
    assert_eq!(targets["dir"]["owner"], "nobody", "{list}");
    assert_eq!(
        targets["pkcs12"]["password_file"],
        path_str(&t.password_file),
        "{list}"
    );

    // A renewal rewrites every target from the new files, with no deploy flags given.
    renew(&rig, &["--force-renewal"]).assert_success();
    let second_leaf = std::fs::read_to_string(live.join("cert.pem")).expect("cert");
    assert_ne!(first_leaf, second_leaf, "renew did not renew");
    assert_keystore(&t);
    assert_combined(&t, &live);
    assert_service_dir(&t, &live);
    let versions = std::fs::read_dir(&t.service_dir)
        .expect("service dir")
        .filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().starts_with(".certwright-v"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(versions, 1, "old version directories were left behind");
    let haproxy = Haproxy::start(t._dir.path(), &t.combined);
    let served = haproxy.handshake(&root);
    assert!(
        served.contains(second_leaf.trim()),
        "haproxy serves another leaf\n{served}"
    );

    // A target that cannot be written fails the lineage's renewal (exit 1), not silently.
    std::fs::set_permissions(&t.password_file, std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let failed = renew(&rig, &["--force-renewal"]);
    failed.assert_code(1);
    let all = format!("{}{}", failed.stdout, failed.stderr);
    assert!(
        all.contains("keystore.pass") && all.contains("chmod 600"),
        "{failed}"
    );
    assert!(!all.contains(PASSWORD), "{failed}");
}

#[test]
fn unsafe_deploy_targets_are_refused_before_anything_is_sent() {
    let rig = Rig::new();
    let t = Targets::new();
    let flags = t.flags();
    let with = |replace: &str, by: &str| -> Output {
        let args: Vec<&str> = flags
            .iter()
            .map(|f| if f == replace { by } else { f.as_str() })
            .collect();
        rig.certonly(NAME, &args)
    };
    let out = with("nobody:nogroup", "no-such-user-certwright");
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("user no-such-user-certwright does not exist"),
        "{out}"
    );
    std::fs::set_permissions(&t.password_file, std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    let out = with("", "");
    out.assert_code(2);
    assert!(out.stderr.contains("chmod 600"), "{out}");
    std::fs::set_permissions(&t.password_file, std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    std::fs::create_dir(&t.service_dir).expect("mkdir");
    std::fs::set_permissions(&t.service_dir, std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = with("", "");
    out.assert_code(2);
    assert!(out.stderr.contains("writable by others"), "{out}");
    let out = rig.certonly(
        NAME,
        &[
            "--deploy-dir",
            path_str(&t.service_dir),
            "--deploy-owner",
            "nobody",
            "--deploy-mode",
            "0644",
        ],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("more than 0640"), "{out}");
    assert!(!rig.env.live(NAME).exists(), "a certificate was obtained");
}

#[test]
fn reconfigure_adds_a_target_and_writes_it_at_once() {
    let rig = Rig::new();
    let t = Targets::new();
    rig.certonly(NAME, &[]).assert_success();
    assert!(!t.combined.exists());
    let out = rig
        .env
        .cli()
        .args(["reconfigure", "--cert-name", NAME, "--deploy-combined"])
        .arg(&t.combined)
        .args(rig.env.dir_flags())
        .run();
    out.assert_success();
    assert_combined(&t, &rig.env.live(NAME));
    let saved = std::fs::read_to_string(rig.env.renewal_conf(NAME)).expect("renewal conf");
    assert!(saved.contains(path_str(&t.combined)), "{saved}");
}
