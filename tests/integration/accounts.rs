//! Account lifecycle (`register`, `show_account`, `update_account`, `unregister`), EAB,
//! `revoke` and `delete`, end to end against this test's own Pebble (and nginx).

use std::path::{Path, PathBuf};

use certwright::nginx;

use crate::support::certs::{assert_mode, Lineage};
use crate::support::cli::{dead_server_url, Output};
use crate::support::nginx::NGINX;
use crate::support::pebble::{EAB_HMAC_KEY, EAB_KID};
use crate::support::rig::Rig;
use crate::support::{files_below, free_port, Env, Nginx, PebbleOpts, Snapshot};

/// Account helpers on the shared rig.
impl Rig {
    /// Dir flags, `--server`, `--ca-bundle`, `-n`: what every account command takes.
    fn server_flags(&self, env: &Env) -> Vec<String> {
        let mut flags = env.dir_flags();
        flags.extend([
            "--server".to_string(),
            self.pebble.directory_url(),
            "--ca-bundle".to_string(),
            self.pebble.ca_bundle_path().display().to_string(),
            "-n".to_string(),
        ]);
        flags
    }

    /// `certwright <cmd> <server flags> <extra>` in `env`.
    fn run_in(&self, env: &Env, cmd: &str, extra: &[&str]) -> Output {
        env.cli()
            .arg(cmd)
            .args(self.server_flags(env))
            .args(extra)
            .run()
    }

    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        self.run_in(&self.env, cmd, extra)
    }

    /// `config/accounts/localhost_<port>` of `env`.
    fn accounts_dir(&self, env: &Env) -> PathBuf {
        let url = self.pebble.directory_url();
        let authority = url
            .trim_start_matches("https://")
            .trim_end_matches("/dir")
            .replace(':', "_");
        env.config_dir().join("accounts").join(authority)
    }

    /// The one account stored in `env` (panics unless there is exactly one).
    fn only_account(&self, env: &Env) -> PathBuf {
        let dirs: Vec<PathBuf> = std::fs::read_dir(self.accounts_dir(env))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(dirs.len(), 1, "accounts stored: {dirs:?}");
        dirs.into_iter().next().expect("one account")
    }

    fn meta(&self, env: &Env) -> serde_json::Value {
        let path = self.only_account(env).join("meta.json");
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read meta.json"))
            .expect("meta.json is JSON")
    }
}

/// The value after `label` on the line that has it.
fn field(out: &Output, label: &str) -> String {
    out.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no {label:?} line\n{out}"))
}

/// Copies the accounts tree of `from` into a fresh env (to use a key after it changed).
fn copy_accounts(from: &Env) -> Env {
    let to = Env::new();
    let src = from.config_dir().join("accounts");
    for file in files_below(&src) {
        let rel = file.strip_prefix(&src).expect("below accounts");
        let dest = to.config_dir().join("accounts").join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&file, &dest).expect("copy account file");
    }
    to
}

#[test]
fn register_show_update_and_rollover() {
    let rig = Rig::new();
    let out = rig.run("register", &["-m", "first@example.com", "--agree-tos"]);
    out.assert_success();
    let account = rig.only_account(&rig.env);
    assert_mode(&account.join("credentials.json"), 0o600);
    let url = rig.meta(&rig.env)["url"]
        .as_str()
        .expect("meta.json has the account URL")
        .to_string();
    assert!(out.stdout.contains(&url), "{out}");

    // A second registration for the same server changes nothing.
    let before = Snapshot::of(&rig.env.config_dir());
    let again = rig.run("register", &["-m", "other@example.com", "--agree-tos"]);
    again.assert_success();
    assert!(again.stdout.contains("already registered"), "{again}");
    before.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "second register");

    // Both spellings of the verb work.
    let show = rig.run("show_account", &[]);
    show.assert_success();
    assert_eq!(field(&show, "Account URL:"), url);
    assert_eq!(field(&show, "Email contact:"), "first@example.com");
    let thumbprint = field(&show, "Account thumbprint:");
    assert_eq!(
        thumbprint.len(),
        43,
        "SHA-256 thumbprint, base64url\n{show}"
    );
    let show_dash = rig.run("show-account", &[]);
    show_dash.assert_success();
    assert_eq!(field(&show_dash, "Account thumbprint:"), thumbprint);

    let update = rig.run("update_account", &["-m", "second@example.com"]);
    update.assert_success();
    let show = rig.run("show-account", &[]);
    assert_eq!(field(&show, "Email contact:"), "second@example.com");
    assert_eq!(rig.meta(&rig.env)["contact"], "mailto:second@example.com");

    // Roll the key over; keep a copy of the old key to prove the CA dropped it.
    let old_key_env = copy_accounts(&rig.env);
    let credentials = account.join("credentials.json");
    let old_credentials = std::fs::read(&credentials).expect("read credentials");
    let rolled = rig.run("update-account", &["--rollover-key"]);
    rolled.assert_success();
    let new_credentials = std::fs::read(&credentials).expect("read credentials");
    assert_ne!(
        old_credentials, new_credentials,
        "credentials.json unchanged"
    );
    assert_mode(&credentials, 0o600);
    let show = rig.run("show_account", &[]);
    show.assert_success();
    assert_ne!(field(&show, "Account thumbprint:"), thumbprint, "{show}");
    assert_eq!(field(&show, "Account URL:"), url, "same account, new key");

    // The new key issues, with the same account (no second one registered).
    rig.certonly("rolled.example.com", &[]).assert_success();
    assert_eq!(rig.only_account(&rig.env), account);
    let renewal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rig.env.renewal_conf("rolled.example.com")).expect("renewal"),
    )
    .expect("renewal JSON");
    assert_eq!(
        renewal["account"].as_str(),
        account.file_name().and_then(|n| n.to_str())
    );

    // The old key is refused by the CA.
    let stale = rig.certonly_in(&old_key_env, "stale.example.com", &[]);
    assert_eq!(stale.code, 1, "the old account key still works\n{stale}");
}

#[test]
fn unregister_deactivates_at_the_ca_and_removes_the_local_account() {
    let rig = Rig::new();
    rig.run("register", &["-m", "gone@example.com", "--agree-tos"])
        .assert_success();
    let account = rig.only_account(&rig.env);
    let kept = copy_accounts(&rig.env);

    let out = rig.run("unregister", &[]);
    out.assert_success();
    assert!(
        !account.exists(),
        "local account still at {}",
        account.display()
    );

    // certbot's behaviour: the account is gone locally, so a new one needs a contact.
    let flags: Vec<String> = rig
        .env
        .flags(&rig.pebble)
        .into_iter()
        .filter(|f| f != "--register-unsafely-without-email")
        .collect();
    let again = rig
        .env
        .cli()
        .args(["certonly", "--standalone", "--http-01-port"])
        .arg(rig.pebble.http_port().to_string())
        .args(["-d", "after.example.com"])
        .args(&flags)
        .run();
    again.assert_code(2);
    assert!(again.stderr.contains("-m EMAIL"), "{again}");

    // And the CA refuses the deactivated account's key.
    let stale = rig.certonly_in(&kept, "stale.example.com", &[]);
    stale.assert_code(1);
    assert!(
        stale.stderr.to_lowercase().contains("deactivated")
            || stale.stderr.contains("unauthorized"),
        "{stale}"
    );
}

/// Every output and every file under the env's dirs is free of the EAB key, encoded or
/// decoded; the log file must exist so the check is not vacuous.
fn assert_no_eab_secret(env: &Env, outputs: &[&Output]) {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(EAB_HMAC_KEY)
        .expect("test key is base64url");
    let log = env.logs_dir().join("certwright.log");
    assert!(log.is_file(), "no log file at {}", log.display());
    for out in outputs {
        assert!(
            !out.stdout.contains(EAB_HMAC_KEY) && !out.stderr.contains(EAB_HMAC_KEY),
            "the EAB key appears in the output\n{out}"
        );
    }
    let mut files = Vec::new();
    for dir in [env.config_dir(), env.work_dir(), env.logs_dir()] {
        // Regular files only: `live/<name>` is a symlink to a directory scanned anyway.
        files.extend(
            files_below(&dir)
                .into_iter()
                .filter(|f| std::fs::symlink_metadata(f).is_ok_and(|m| m.file_type().is_file())),
        );
    }
    assert!(!files.is_empty());
    for file in files {
        let bytes = std::fs::read(&file).expect("read file");
        let hit = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(
            !hit(EAB_HMAC_KEY.as_bytes()) && !hit(&decoded),
            "the EAB key appears in {}",
            file.display()
        );
    }
}

#[test]
fn eab_is_required_and_the_key_is_never_written() {
    let rig = Rig::with(PebbleOpts::default().eab(true));
    let register = |env: &Env, extra: &[&str]| -> Output {
        env.cli()
            .arg("register")
            .args(rig.server_flags(env))
            .args(["-m", "eab@example.com", "--agree-tos"])
            .args(extra)
            .run()
    };

    let without = register(&rig.env, &[]);
    without.assert_code(2);
    assert!(
        without.stderr.contains("External Account Binding"),
        "{without}"
    );
    assert!(files_below(&rig.accounts_dir(&rig.env)).is_empty());

    // From a file (with a trailing newline, as editors leave it).
    let key_file = rig.env.root().join("eab.key");
    std::fs::write(&key_file, format!("{EAB_HMAC_KEY}\n")).expect("write key file");
    // A secret file: only its owner may read it (issue 24).
    let owner_only = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
    std::fs::set_permissions(&key_file, owner_only).expect("chmod key file");
    let from_file = register(
        &rig.env,
        &[
            "--eab-kid",
            EAB_KID,
            "--eab-hmac-key-file",
            key_file.to_str().expect("utf-8 path"),
        ],
    );
    from_file.assert_success();
    rig.only_account(&rig.env);
    // The key file is the user's: it stays where it was, it is just not below our dirs.
    assert_no_eab_secret(&rig.env, &[&without, &from_file]);

    // From the environment, padded.
    let env2 = Env::new();
    let padded = format!("{EAB_HMAC_KEY}=");
    let from_env = env2
        .cli()
        .arg("register")
        .args(rig.server_flags(&env2))
        .args(["-m", "eab@example.com", "--agree-tos", "--eab-kid", EAB_KID])
        .env("CERTWRIGHT_EAB_HMAC_KEY", &padded)
        .run();
    from_env.assert_success();
    rig.only_account(&env2);
    assert_no_eab_secret(&env2, &[&from_env]);

    // On the command line: works, with a warning about `ps`.
    let env3 = Env::new();
    let from_argv = register(
        &env3,
        &["--eab-kid", EAB_KID, "--eab-hmac-key", EAB_HMAC_KEY],
    );
    from_argv.assert_success();
    assert!(from_argv.stderr.contains("ps"), "{from_argv}");
    rig.only_account(&env3);
    assert_no_eab_secret(&env3, &[&from_argv]);

    // A key the CA does not know for this kid is refused by the CA.
    let env4 = Env::new();
    let wrong = register(
        &env4,
        &[
            "--eab-kid",
            EAB_KID,
            "--eab-hmac-key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ],
    );
    wrong.assert_code(1);
    assert!(files_below(&rig.accounts_dir(&env4)).is_empty());

    // certonly registers with EAB too, and without it names what is missing.
    let env5 = Env::new();
    let refused = rig.certonly_in(&env5, "eab-refused.example.com", &[]);
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("External Account Binding"),
        "{refused}"
    );
    let no_key = rig.certonly_in(&env5, "eab.example.com", &["--eab-kid", EAB_KID]);
    assert_eq!(no_key.code, 2, "--eab-kid without a key\n{no_key}");
    let issued = env5
        .cli()
        .arg("certonly")
        .args([
            "--standalone",
            "--http-01-port",
            &rig.pebble.http_port().to_string(),
            "--http-01-address",
            "127.0.0.1",
            "-d",
            "eab.example.com",
            "--eab-kid",
            EAB_KID,
        ])
        .args(env5.flags(&rig.pebble))
        .env("CERTWRIGHT_EAB_HMAC_KEY", EAB_HMAC_KEY)
        .run();
    issued.assert_success();
    assert!(env5.live("eab.example.com").join("fullchain.pem").is_file());
    assert_no_eab_secret(&env5, &[&refused, &issued]);
}

#[test]
fn revoke_by_name_and_by_path() {
    let rig = Rig::new();
    let no_nginx = tempfile::tempdir().expect("temp dir");
    let no_nginx = no_nginx.path().to_str().expect("utf-8").to_string();

    rig.certonly("revoke-a.example.com", &[]).assert_success();
    let leaf = Lineage::at(rig.env.live("revoke-a.example.com")).leaf();
    assert_eq!(rig.pebble.cert_status(&leaf.serial_hex), "Valid");
    let out = rig
        .env
        .cli()
        .arg("revoke")
        .args(rig.env.dir_flags())
        .args([
            "-n",
            "--cert-name",
            "revoke-a.example.com",
            "--reason",
            "keycompromise",
        ])
        .run();
    out.assert_success();
    assert_eq!(rig.pebble.cert_status(&leaf.serial_hex), "Revoked");
    // Non-interactive default: the files stay.
    assert!(rig.env.renewal_conf("revoke-a.example.com").is_file());
    assert!(rig
        .env
        .live("revoke-a.example.com")
        .join("cert.pem")
        .is_file());

    // By path, with deletion afterwards.
    rig.certonly("revoke-b.example.com", &[]).assert_success();
    let lineage = Lineage::at(rig.env.live("revoke-b.example.com"));
    let leaf = lineage.leaf();
    let out = rig
        .env
        .cli()
        .arg("revoke")
        .args(rig.env.dir_flags())
        .arg("-n")
        .arg("--cert-path")
        .arg(lineage.cert_path())
        .args(["--delete-after-revoke", "--nginx-server-root", &no_nginx])
        .run();
    out.assert_success();
    assert_eq!(rig.pebble.cert_status(&leaf.serial_hex), "Revoked");
    assert!(!rig.env.renewal_conf("revoke-b.example.com").exists());
    assert!(std::fs::symlink_metadata(rig.env.live("revoke-b.example.com")).is_err());
    assert!(!rig.env.archive("revoke-b.example.com").exists());
    // The other lineage is untouched.
    assert!(rig.env.renewal_conf("revoke-a.example.com").is_file());
}

/// A site for `name` on @PORT0@ naming the lineage's files in lines a person wrote.
fn hand_written_tls_site(name: &str, live: &Path) -> String {
    format!(
        "server {{\n    listen 127.0.0.1:@PORT0@ ssl;\n    server_name {name};\n    \
         ssl_certificate {live}/fullchain.pem;\n    ssl_certificate_key {live}/privkey.pem;\n}}\n",
        live = live.display()
    )
}

fn delete_cmd(env: &Env, nginx: &Nginx, name: &str, extra: &[&str]) -> Output {
    env.cli()
        .arg("delete")
        .args(env.dir_flags())
        .args(["-n", "--cert-name", name, "--nginx-server-root"])
        .arg(nginx.server_root())
        .args(["--nginx-ctl", NGINX])
        .args(extra)
        .run()
}

#[test]
fn delete_is_refused_while_nginx_uses_the_certificate() {
    let rig = Rig::new();
    let name = "in-use.example.com";
    rig.certonly(name, &[]).assert_success();
    let nginx = Nginx::start(&hand_written_tls_site(name, &rig.env.live(name)));
    let site = std::fs::canonicalize(nginx.site_path()).expect("site path");
    let config_before = Snapshot::of(&rig.env.config_dir());
    let nginx_before = Snapshot::of(nginx.server_root());
    // Also no checkpoint: nothing was applied.
    let checkpoints = rig.env.work_dir().join("nginx-checkpoints");

    for extra in [&[][..], &["--uninstall"][..]] {
        let out = delete_cmd(&rig.env, &nginx, name, extra);
        out.assert_code(5);
        for line in [4, 5] {
            let at = format!("{}:{line}:", site.display());
            assert!(out.stderr.contains(&at), "no {at} in\n{out}");
        }
        config_before.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "refused delete");
        assert!(files_below(&checkpoints).is_empty());
    }
    // --uninstall never edits lines certwright did not write.
    let config_only = |mut s: Snapshot| {
        s.0.retain(|p, _| !["logs", "temp", "run"].iter().any(|d| p.starts_with(d)));
        s
    };
    config_only(nginx_before).assert_unchanged(
        &config_only(Snapshot::of(nginx.server_root())),
        "nginx config after refused delete",
    );
}

#[test]
fn delete_with_uninstall_removes_certwrights_nginx_lines_first() {
    let rig = Rig::new();
    let name = "managed.example.com";
    rig.certonly(name, &[]).assert_success();
    // A plain HTTP site; the install adds a TLS listener on another free port.
    let https_port = free_port();
    let nginx = Nginx::start(&format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name {name};\n    \
         return 204;\n}}\n"
    ));
    let site_before = std::fs::read_to_string(nginx.site_path()).expect("read site");

    // Install as certwright's installer does, through the library.
    let ctl = nginx::Ctl {
        binary: NGINX.into(),
        conf: nginx.conf_path(),
        path_map: Default::default(),
    };
    let config = nginx::load(&nginx.conf_path()).expect("load nginx config");
    let live = rig.env.live(name);
    let edits = nginx::plan_install(
        &config,
        &nginx::InstallRequest {
            names: vec![name.parse().expect("domain")],
            fullchain: live.join("fullchain.pem"),
            privkey: live.join("privkey.pem"),
            http_port: nginx.port(0),
            https_port,
            redirect: false,
            hsts: false,
        },
    )
    .expect("plan install");
    assert!(!edits.is_empty());
    let checkpoints = rig.env.root().join("install-checkpoints");
    nginx::apply(&edits, &checkpoints, &ctl).expect("apply install");
    ctl.reload().expect("reload");
    let installed = std::fs::read_to_string(nginx.site_path()).expect("read site");
    assert!(installed.contains(nginx::MARKER));

    let refused = delete_cmd(&rig.env, &nginx, name, &[]);
    refused.assert_code(5);
    assert!(refused.stderr.contains("--uninstall"), "{refused}");
    assert!(rig.env.renewal_conf(name).is_file());

    let out = delete_cmd(&rig.env, &nginx, name, &["--uninstall"]);
    out.assert_success();
    let after = std::fs::read_to_string(nginx.site_path()).expect("read site");
    assert_eq!(after, site_before, "the site is back to what it was");
    let test = nginx.config_test();
    assert!(test.status.success(), "nginx -t fails after delete");
    let pid = nginx.read_pid().expect("nginx still runs");
    assert!(crate::support::nginx::process_alive(pid));
    assert!(!rig.env.renewal_conf(name).exists());
    assert!(std::fs::symlink_metadata(rig.env.live(name)).is_err());
    assert!(!rig.env.archive(name).exists());
}

#[test]
fn delete_without_references_removes_every_file_of_the_lineage() {
    let rig = Rig::new();
    let name = "plain.example.com";
    let keep = "keep.example.com";
    rig.certonly(name, &[]).assert_success();
    rig.certonly(keep, &[]).assert_success();
    // `renew` keeps per-lineage bookkeeping here; plant it rather than depend on a renewal.
    let state = rig
        .env
        .work_dir()
        .join("state")
        .join(format!("{name}.json"));
    std::fs::write(&state, "{}\n").expect("write state file");
    // An nginx that does not mention the certificate.
    let nginx = Nginx::start(
        "server {\n    listen 127.0.0.1:@PORT0@;\n    server_name other.example.com;\n}\n",
    );

    let out = delete_cmd(&rig.env, &nginx, name, &[]);
    out.assert_success();
    assert!(!rig.env.renewal_conf(name).exists());
    assert!(std::fs::symlink_metadata(rig.env.live(name)).is_err());
    assert!(!rig.env.archive(name).exists());
    assert!(!state.exists());
    // The other lineage and the account are untouched.
    Lineage::at(rig.env.live(keep)).assert_key_matches();
    assert!(rig.env.renewal_conf(keep).is_file());
    rig.only_account(&rig.env);

    // Deleting it again: no such certificate.
    let again = delete_cmd(&rig.env, &nginx, name, &[]);
    again.assert_code(3);
}

#[test]
fn bad_account_revoke_and_delete_input_is_refused_before_any_io() {
    let env = Env::new();
    let server = dead_server_url();
    let dirs = env.dir_flags();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "update_account without a change",
            vec!["update_account"],
            "--email",
        ),
        (
            "revoke without a certificate",
            vec!["revoke", "-n"],
            "--cert-name",
        ),
        (
            "--eab-kid without a key",
            vec![
                "register",
                "-m",
                "a@example.com",
                "--agree-tos",
                "--eab-kid",
                "kid",
            ],
            "CERTWRIGHT_EAB_HMAC_KEY",
        ),
        (
            "--eab-hmac-key-file without --eab-kid",
            vec![
                "register",
                "-m",
                "a@example.com",
                "--eab-hmac-key-file",
                "/dev/null",
            ],
            "--eab-kid",
        ),
        (
            "EAB key that is not base64url",
            vec![
                "register",
                "-m",
                "a@example.com",
                "--eab-kid",
                "kid",
                "--eab-hmac-key",
                "not+base64/url",
            ],
            "base64url",
        ),
        ("register without a contact", vec!["register"], "-m EMAIL"),
        (
            "unregister with nobody to confirm",
            vec!["unregister"],
            "-n",
        ),
        (
            "delete with nobody to confirm",
            vec!["delete", "--cert-name", "x.example.com"],
            "-n",
        ),
        (
            "delete with a bad name",
            vec!["delete", "-n", "--cert-name", "../x"],
            "../x",
        ),
    ];
    for (what, args, expect) in cases {
        // `delete` talks to no server and has no --server.
        let server_flags = if args[0] == "delete" {
            vec![]
        } else {
            vec!["--server", server.as_str()]
        };
        let out = env.cli().args(&args).args(&dirs).args(&server_flags).run();
        assert_eq!(out.code, 2, "{what}\n{out}");
        assert!(out.stderr.contains(expect), "{what}: no {expect:?}\n{out}");
        assert!(
            !out.stderr.contains("not+base64/url"),
            "{what}: the key is echoed\n{out}"
        );
        for dir in [env.config_dir(), env.work_dir(), env.logs_dir()] {
            let snapshot = Snapshot::of(&dir);
            assert!(
                snapshot.non_dirs().is_empty(),
                "{what}: wrote {:?}",
                snapshot.non_dirs()
            );
        }
    }
}
