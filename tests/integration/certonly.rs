//! `certwright certonly` and `certwright certificates` end to end: the real binary against
//! this test's own Pebble (and nginx for webroot), checked with parsers, not string matches.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::certs::{assert_mode, KeyKind, Lineage};
use crate::support::cli::Output;
use crate::support::proxy::GatedProxy;
use crate::support::rig::Rig;
use crate::support::{files_below, free_port, mode, Env, Nginx, Pebble, PebbleOpts, Snapshot};

/// `certonly --json` helpers on the shared rig.
impl Rig {
    fn port(&self) -> u16 {
        self.pebble.http_port()
    }

    /// `certonly --standalone` on Pebble's HTTP-01 port for `names`, with `--json`.
    fn certonly_json(&self, names: &[&str], extra: &[&str]) -> Output {
        self.certonly_with(&self.env.flags(&self.pebble), names, extra)
    }

    fn certonly_with(&self, flags: &[String], names: &[&str], extra: &[&str]) -> Output {
        self.env
            .cli()
            .arg("certonly")
            .args(standalone_args(self.port()))
            .args(domain_args(names))
            .args(flags)
            .arg("--json")
            .args(extra)
            .run()
    }

    /// Everything a successful run of version `version` must have left behind.
    fn assert_issued(&self, out: &Output, result: &str, name: &str, names: &[&str], version: u64) {
        let json = out.json();
        assert_eq!(json["schema"], 1, "{out}");
        assert_eq!(json["result"], result, "{out}");
        assert_eq!(json["cert_name"], name, "{out}");
        assert_eq!(json["version"], version, "{out}");
        let mut domains: Vec<&str> = json["domains"]
            .as_array()
            .unwrap_or_else(|| panic!("domains is not an array\n{out}"))
            .iter()
            .map(|d| d.as_str().expect("domain is a string"))
            .collect();
        domains.sort_unstable();
        let mut want = names.to_vec();
        want.sort_unstable();
        assert_eq!(domains, want, "{out}");

        let live = self.env.live(name);
        for file in ["cert", "chain", "fullchain", "privkey"] {
            assert_eq!(
                json["paths"][file].as_str().map(PathBuf::from),
                Some(live.join(format!("{file}.pem"))),
                "paths.{file}\n{out}"
            );
        }
        assert_eq!(
            std::fs::read_link(&live)
                .unwrap_or_else(|e| panic!("live/{name} is not a symlink: {e}\n{out}")),
            PathBuf::from(format!("../archive/{name}/{version}")),
        );

        let lineage = Lineage::at(&live);
        lineage.assert_valid_for(names, &self.pebble.root_pem_path());
        let leaf = lineage.leaf();
        let not_after = json["not_after"]
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
            .unwrap_or_else(|| panic!("not_after is not RFC 3339\n{out}"));
        assert_eq!(not_after.unix_timestamp(), leaf.not_after_unix, "{out}");
        assert_eq!(self.pebble.cert_status(&leaf.serial_hex), "Valid");

        let archive = self.env.archive(name).join(version.to_string());
        assert_mode(&archive.join("privkey.pem"), 0o600);
        assert!(
            self.env.renewal_conf(name).is_file(),
            "no renewal/{name}.json"
        );
        let account_root = self
            .env
            .config_dir()
            .join("accounts")
            .join(format!("localhost_{}", self.pebble_port()));
        assert!(
            !files_below(&account_root).is_empty(),
            "no account stored under {}",
            account_root.display()
        );
    }

    /// The port in Pebble's directory URL (the account directory is named after it).
    fn pebble_port(&self) -> u16 {
        let url = self.pebble.directory_url();
        url.trim_start_matches("https://localhost:")
            .trim_end_matches("/dir")
            .parse()
            .expect("directory URL port")
    }
}

fn standalone_args(port: u16) -> Vec<String> {
    [
        "--standalone",
        "--http-01-port",
        &port.to_string(),
        "--http-01-address",
        "127.0.0.1",
    ]
    .map(String::from)
    .to_vec()
}

fn domain_args(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| ["-d".to_string(), n.to_string()])
        .collect()
}

#[test]
fn standalone_single_name() {
    let rig = Rig::new();
    let out = rig.certonly_json(&["single.example.com"], &[]);
    out.assert_success();
    rig.assert_issued(
        &out,
        "issued",
        "single.example.com",
        &["single.example.com"],
        1,
    );
    assert_eq!(
        rig.env.live("single.example.com").parent(),
        Some(rig.env.config_dir().join("live").as_path())
    );
}

#[test]
fn standalone_five_name_san_with_comma_and_repeated_flags() {
    let rig = Rig::new();
    let out = rig
        .env
        .cli()
        .arg("certonly")
        .args(standalone_args(rig.port()))
        .args([
            "-d",
            "san1.example.com,san2.example.com",
            "-d",
            "san3.example.com",
            "-d",
            "san4.example.com,san5.example.com",
        ])
        .args(rig.env.flags(&rig.pebble))
        .arg("--json")
        .run();
    out.assert_success();
    let names = [
        "san1.example.com",
        "san2.example.com",
        "san3.example.com",
        "san4.example.com",
        "san5.example.com",
    ];
    // The default certificate name is the first -d name.
    rig.assert_issued(&out, "issued", "san1.example.com", &names, 1);
}

#[test]
fn rsa_2048_key() {
    let rig = Rig::new();
    let out = rig.certonly_json(
        &["rsa.example.com"],
        &["--key-type", "rsa", "--rsa-key-size", "2048"],
    );
    out.assert_success();
    rig.assert_issued(&out, "issued", "rsa.example.com", &["rsa.example.com"], 1);
    let lineage = Lineage::at(rig.env.live("rsa.example.com"));
    assert_eq!(lineage.leaf().key_kind, KeyKind::Rsa(2048));
    assert_eq!(lineage.private_key_kind(), KeyKind::Rsa(2048));
}

#[test]
fn ecdsa_secp384r1_key() {
    let rig = Rig::new();
    let out = rig.certonly_json(
        &["p384.example.com"],
        &["--key-type", "ecdsa", "--elliptic-curve", "secp384r1"],
    );
    out.assert_success();
    rig.assert_issued(&out, "issued", "p384.example.com", &["p384.example.com"], 1);
    let lineage = Lineage::at(rig.env.live("p384.example.com"));
    assert_eq!(lineage.leaf().key_kind, KeyKind::Ecdsa("secp384r1".into()));
    assert_eq!(
        lineage.private_key_kind(),
        KeyKind::Ecdsa("secp384r1".into())
    );
}

#[test]
fn webroot_served_by_real_nginx() {
    let webroot = tempfile::tempdir().expect("webroot dir");
    let nginx = Nginx::start(&format!(
        "server {{\n    listen 127.0.0.1:@PORT0@ default_server;\n    server_name _;\n    root {};\n}}\n",
        webroot.path().display()
    ));
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let rig = Rig {
        pebble,
        env: Env::new(),
    };
    let out = rig
        .env
        .cli()
        .args(["certonly", "--webroot", "-w"])
        .arg(webroot.path())
        .args(["-d", "webroot.example.com"])
        .args(rig.env.flags(&rig.pebble))
        .arg("--json")
        .run();
    assert_eq!(
        out.code,
        0,
        "{out}\n--- nginx access.log ---\n{}",
        nginx.access_log()
    );
    rig.assert_issued(
        &out,
        "issued",
        "webroot.example.com",
        &["webroot.example.com"],
        1,
    );

    // Pebble fetched the token from nginx, and certwright cleaned up after itself.
    let served: Vec<String> = nginx
        .access_log()
        .lines()
        .filter(|l| l.contains("/.well-known/acme-challenge/") && l.contains("\" 200 "))
        .map(String::from)
        .collect();
    assert!(
        !served.is_empty(),
        "nginx served no challenge:\n{}",
        nginx.access_log()
    );
    let left = files_below(&webroot.path().join(".well-known/acme-challenge"));
    assert!(left.is_empty(), "challenge files left behind: {left:?}");
}

#[test]
fn certificates_lists_lineages_as_text_and_json() {
    let rig = Rig::new();
    rig.certonly_json(
        &["one.example.com", "www.one.example.com"],
        &["--key-type", "ecdsa"],
    )
    .assert_success();
    rig.certonly_json(
        &["two.example.com"],
        &["--key-type", "rsa", "--rsa-key-size", "2048"],
    )
    .assert_success();
    let one = Lineage::at(rig.env.live("one.example.com")).leaf();
    let two = Lineage::at(rig.env.live("two.example.com")).leaf();

    let text = rig
        .env
        .cli()
        .arg("certificates")
        .args(["--config-dir"])
        .arg(rig.env.config_dir())
        .run();
    text.assert_success();
    let plain = text.stdout.to_ascii_lowercase().replace(':', "");
    for (name, leaf, key) in [
        ("one.example.com", &one, "ecdsa"),
        ("two.example.com", &two, "rsa"),
    ] {
        for domain in &leaf.dns_names {
            assert!(
                text.stdout.contains(domain.as_str()),
                "{domain} missing\n{text}"
            );
        }
        assert!(
            plain.contains(&leaf.serial_hex),
            "serial of {name} missing\n{text}"
        );
        let date = leaf.not_after().date().to_string(); // YYYY-MM-DD
        assert!(
            text.stdout.contains(&date),
            "expiry {date} of {name} missing\n{text}"
        );
        let days = days_left(leaf.not_after());
        assert!(
            [days - 1, days, days + 1]
                .iter()
                .any(|d| text.stdout.contains(&d.to_string())),
            "days left (~{days}) of {name} missing\n{text}"
        );
        assert!(
            plain.contains(key),
            "key type {key} of {name} missing\n{text}"
        );
        for file in ["fullchain.pem", "privkey.pem"] {
            let path = rig.env.live(name).join(file);
            assert!(
                text.stdout.contains(&path.display().to_string()),
                "{} missing\n{text}",
                path.display()
            );
        }
    }

    let out = rig
        .env
        .cli()
        .args(["certificates", "--json", "--config-dir"])
        .arg(rig.env.config_dir())
        .run();
    out.assert_success();
    let json = out.json();
    assert_eq!(json["schema"], 1, "{out}");
    let certs = json["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("certificates is not an array\n{out}"));
    assert_eq!(certs.len(), 2, "{out}");
    for (name, leaf, key) in [
        ("one.example.com", &one, "ecdsa"),
        ("two.example.com", &two, "rsa"),
    ] {
        let entry = certs
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed\n{out}"));
        assert_certificate_entry(&rig.env, entry, name, leaf, key, &out);
    }

    let only = rig
        .env
        .cli()
        .args([
            "certificates",
            "--json",
            "--cert-name",
            "two.example.com",
            "--config-dir",
        ])
        .arg(rig.env.config_dir())
        .run();
    only.assert_success();
    let only_json = only.json();
    let listed: Vec<&Value> = only_json["certificates"]
        .as_array()
        .map(|a| a.iter().map(|c| &c["name"]).collect())
        .unwrap_or_default();
    assert_eq!(listed, vec!["two.example.com"], "{only}");
}

fn assert_certificate_entry(
    env: &Env,
    entry: &Value,
    name: &str,
    leaf: &crate::support::certs::LeafInfo,
    key: &str,
    out: &Output,
) {
    let mut domains: Vec<String> = entry["domains"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    domains.sort();
    assert_eq!(domains, leaf.dns_names, "{name}\n{out}");
    let not_after = entry["not_after"]
        .as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .unwrap_or_else(|| panic!("{name}: not_after is not RFC 3339\n{out}"));
    assert_eq!(
        not_after.unix_timestamp(),
        leaf.not_after_unix,
        "{name}\n{out}"
    );
    let days = entry["days_left"]
        .as_i64()
        .unwrap_or_else(|| panic!("{name}: days_left is not an integer\n{out}"));
    assert!(
        (days - days_left(leaf.not_after())).abs() <= 1,
        "{name}: days_left {days}\n{out}"
    );
    let key_type = entry["key_type"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        key_type.contains(key),
        "{name}: key_type {key_type:?}\n{out}"
    );
    let serial = entry["serial"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace(':', "");
    assert_eq!(
        serial.trim_start_matches('0'),
        leaf.serial_hex,
        "{name}\n{out}"
    );
    assert_eq!(entry["version"], 1, "{name}\n{out}");
    assert_eq!(entry["valid"], true, "{name}\n{out}");
    assert_eq!(entry["key_matches"], true, "{name}\n{out}");
    for file in ["cert", "chain", "fullchain", "privkey"] {
        assert_eq!(
            entry["paths"][file].as_str().map(PathBuf::from),
            Some(env.live(name).join(format!("{file}.pem"))),
            "{name}: paths.{file}\n{out}"
        );
    }
}

fn days_left(not_after: OffsetDateTime) -> i64 {
    (not_after - OffsetDateTime::now_utc()).whole_days()
}

#[test]
fn certificates_reports_a_key_that_does_not_match() {
    let rig = Rig::new();
    rig.certonly_json(&["mismatch.example.com"], &[])
        .assert_success();
    let privkey = rig
        .env
        .archive("mismatch.example.com")
        .join("1/privkey.pem");
    std::fs::write(
        &privkey,
        rcgen::KeyPair::generate().expect("key").serialize_pem(),
    )
    .expect("replace privkey.pem");
    let out = rig
        .env
        .cli()
        .args(["certificates", "--json", "--config-dir"])
        .arg(rig.env.config_dir())
        .run();
    let json = out.json();
    let entry = json["certificates"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "mismatch.example.com"))
        .unwrap_or_else(|| panic!("lineage not listed\n{out}"));
    assert_eq!(entry["key_matches"], false, "{out}");
}

#[test]
fn rerun_far_from_expiry_is_a_no_op() {
    let rig = Rig::new();
    let names = ["noop.example.com", "www.noop.example.com"];
    rig.certonly_json(&names, &[]).assert_success();
    let before = Snapshot::of(&rig.env.config_dir());

    let out = rig.certonly_json(&names, &[]);
    out.assert_success();
    let json = out.json();
    assert_eq!(json["result"], "not_due", "{out}");
    assert_eq!(json["version"], 1, "{out}");
    assert_eq!(json["cert_name"], "noop.example.com", "{out}");
    before.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "not-due run");
}

#[test]
fn force_renewal_makes_version_2_and_live_follows() {
    let rig = Rig::new();
    let name = "force.example.com";
    rig.certonly_json(&[name], &[]).assert_success();
    let v1_dir = rig.env.archive(name).join("1");
    let v1 = Snapshot::of(&v1_dir);
    let v1_serial = Lineage::at(&v1_dir).leaf().serial_hex;

    let out = rig.certonly_json(&[name], &["--force-renewal"]);
    out.assert_success();
    rig.assert_issued(&out, "renewed", name, &[name], 2);
    let v2_serial = Lineage::at(rig.env.live(name)).leaf().serial_hex;
    assert_ne!(v1_serial, v2_serial, "version 2 must be a new certificate");
    v1.assert_unchanged(&Snapshot::of(&v1_dir), "archive version 1 after renewal");
    assert_eq!(Lineage::at(&v1_dir).leaf().serial_hex, v1_serial);
}

#[test]
fn adding_a_name_needs_expand() {
    let rig = Rig::new();
    rig.certonly_json(&["grow.example.com"], &[])
        .assert_success();
    let before = Snapshot::of(&rig.env.config_dir());

    let names = ["grow.example.com", "more.grow.example.com"];
    let out = rig.certonly_json(&names, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("--expand"), "{out}");
    before.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "refused expansion");

    let out = rig.certonly_json(&names, &["--expand"]);
    out.assert_success();
    assert_eq!(out.json()["version"], 2, "{out}");
    assert_eq!(
        std::fs::read_link(rig.env.live("grow.example.com")).expect("live symlink"),
        PathBuf::from("../archive/grow.example.com/2")
    );
    Lineage::at(rig.env.live("grow.example.com"))
        .assert_valid_for(&names, &rig.pebble.root_pem_path());
}

#[test]
fn survives_thirty_percent_nonce_rejection() {
    let rig = Rig::with(PebbleOpts::default().env("PEBBLE_WFE_NONCEREJECT", "30"));
    let names = [
        "nonce.example.com",
        "www.nonce.example.com",
        "api.nonce.example.com",
    ];
    let out = rig.certonly_json(&names, &[]);
    assert_eq!(out.code, 0, "{out}\n--- pebble ---\n{}", rig.pebble.logs());
    rig.assert_issued(&out, "issued", "nonce.example.com", &names, 1);
}

/// instant-acme retries a bad nonce only 3 times; at 50 % rejection that alone fails most
/// issuances, so this proves certwright's own bounded retries of whole steps.
#[test]
fn survives_fifty_percent_nonce_rejection() {
    let rig = Rig::with(PebbleOpts::default().env("PEBBLE_WFE_NONCEREJECT", "50"));
    let names = ["half.example.com", "www.half.example.com"];
    let out = rig.certonly_json(&names, &[]);
    assert_eq!(out.code, 0, "{out}\n--- pebble ---\n{}", rig.pebble.logs());
    rig.assert_issued(&out, "issued", "half.example.com", &names, 1);
}

#[test]
fn untrusted_ca_fails_with_a_tls_message() {
    let rig = Rig::new();
    let flags = rig.env.flags_without_ca_bundle(&rig.pebble);
    let out = rig.certonly_with(&flags, &["untrusted.example.com"], &[]);
    out.assert_code(1);
    let stderr = out.stderr.to_ascii_lowercase();
    assert!(
        stderr.contains("tls") || stderr.contains("certificate"),
        "stderr should say the CA's TLS certificate is not trusted\n{out}"
    );
    let written = Snapshot::of(&rig.env.config_dir());
    assert!(
        written.non_dirs().is_empty(),
        "nothing may be stored when the CA cannot be reached: {:?}",
        written.non_dirs()
    );
}

#[test]
fn non_interactive_without_agree_tos_refuses() {
    let rig = Rig::new();
    let mut flags = rig.env.dir_flags();
    flags.extend(
        [
            "--server",
            &rig.pebble.directory_url(),
            "--ca-bundle",
            &rig.pebble.ca_bundle_path().display().to_string(),
            "-n",
            "--register-unsafely-without-email",
        ]
        .map(String::from),
    );
    let out = rig.certonly_with(&flags, &["tos.example.com"], &[]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.to_ascii_lowercase().contains("terms"), "{out}");
    let accounts = files_below(&rig.env.config_dir().join("accounts"));
    assert!(accounts.is_empty(), "an account was stored: {accounts:?}");
    assert!(!rig.env.live("tos.example.com").exists());
}

/// Run A holds the lock while Pebble's probe for it is parked in a gated relay; run B on the
/// same config dir (another HTTP port) must then exit 4 naming A's pid; A then completes.
#[test]
fn concurrent_runs_one_wins_the_lock() {
    let pebble_http = free_port();
    let a_port = free_port();
    let b_port = free_port();
    let rig = Rig {
        pebble: Pebble::start(PebbleOpts::default().http_port(pebble_http)),
        env: Env::new(),
    };
    let proxy = GatedProxy::start(pebble_http, a_port).expect("bind the gated relay");
    let flags = rig.env.flags(&rig.pebble);
    let run = |port: u16| {
        rig.env
            .cli()
            .arg("certonly")
            .args(standalone_args(port))
            .args(domain_args(&["lock.example.com"]))
            .args(&flags)
            .arg("--json")
    };

    let mut a = run(a_port).spawn();
    let a_pid = a.pid();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !proxy.wait_for_connection(Duration::from_millis(200)) {
        if a.has_exited() || Instant::now() > deadline {
            panic!("run A never got a validation probe\n{}", a.wait_or_kill());
        }
    }
    let b = run(b_port).run();
    proxy.open();
    let a = a.wait();

    a.assert_success();
    b.assert_code(4);
    assert!(
        b.stderr.contains(&a_pid.to_string()),
        "the loser must name the lock holder's pid {a_pid}\n{b}"
    );
    rig.assert_issued(&a, "issued", "lock.example.com", &["lock.example.com"], 1);
}

#[test]
fn file_modes_hold_under_umask_000() {
    let rig = Rig::new();
    let name = "umask.example.com";
    let out = rig
        .env
        .cli()
        .umask(0o000)
        .arg("certonly")
        .args(standalone_args(rig.port()))
        .args(domain_args(&[name]))
        .args(rig.env.flags(&rig.pebble))
        .arg("--json")
        .run();
    out.assert_success();
    let config = rig.env.config_dir();
    assert_mode(&config.join("archive"), 0o700);
    assert_mode(&config.join("accounts"), 0o700);
    assert_mode(&rig.env.archive(name).join("1/privkey.pem"), 0o600);
    // Resolved through live/ too: the file a server is configured with.
    let live_key = std::fs::canonicalize(rig.env.live(name).join("privkey.pem")).expect("live key");
    assert_mode(&live_key, 0o600);
    for path in files_below(&config.join("accounts")) {
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} readable by others",
            path.display()
        );
    }
    assert_nothing_world_writable(&config);
}

fn assert_nothing_world_writable(root: &Path) {
    for (rel, entry) in Snapshot::of(root).0 {
        let mode = match entry {
            crate::support::snapshot::Entry::Dir { mode } => mode,
            crate::support::snapshot::Entry::File { mode, .. } => mode,
            crate::support::snapshot::Entry::Symlink { .. } => continue,
        };
        assert_eq!(
            mode & 0o002,
            0,
            "{} is world-writable ({mode:04o})",
            rel.display()
        );
    }
}
