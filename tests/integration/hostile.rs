//! Hostile input, table-driven: CLI flags, hand-broken renewal configs in a store holding a
//! real lineage from Pebble, broken nginx configs, and a CA that misbehaves. Each case must
//! give its documented exit code, a message on stderr naming the problem, no panic, and
//! leave the config and work dirs (and the nginx dir) exactly as they were.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli::{dead_server_url, Output};
use crate::support::nginx::NGINX;
use crate::support::rig::Rig;
use crate::support::{free_port, Env, Pebble, PebbleOpts, Snapshot};

const NAME: &str = "hostile.example.com";

/// What a case starts from.
#[derive(Clone)]
enum Setup {
    /// Empty config and work dirs.
    Empty,
    /// A copy of the store holding one real lineage (`NAME`), its renewal config replaced
    /// by `renewal` when given.
    Lineage { renewal: Option<Vec<u8>> },
    /// The lineage store, plus an nginx server root whose nginx.conf is `conf`.
    Nginx { conf: String },
}

struct Case {
    what: String,
    /// The problem is reported on stdout (listing commands) rather than stderr.
    on_stdout: bool,
    setup: Setup,
    /// Arguments; `@NGINX_ROOT@` and `@CTL@` are substituted, dir flags are appended.
    args: Vec<String>,
    code: i32,
    /// Substrings stderr must contain (ASCII case-insensitive).
    expect: Vec<String>,
    /// Dirs created by `Store::prepare` are allowed (only files must stay unchanged).
    dirs_may_appear: bool,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A store with one lineage issued by a real Pebble (kept running: renew talks to it).
fn base() -> Rig {
    let rig = Rig::new();
    rig.certonly(NAME, &[]).assert_success();
    rig
}

/// The base lineage's renewal config.
fn renewal_json(base: &Rig) -> String {
    std::fs::read_to_string(base.env.renewal_conf(NAME)).expect("read the renewal config")
}

/// `cp -a` of the base store into a fresh env.
fn copy_store(base: &Env, to: &Env) {
    for (from, dest) in [
        (base.config_dir(), to.config_dir()),
        (base.work_dir(), to.work_dir()),
    ] {
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", from.display()))
            .arg(&dest)
            .status()
            .expect("run cp");
        assert!(status.success(), "cp -a {}", from.display());
    }
}

/// An nginx "binary" that records every call, to prove nginx was never run.
fn recorder(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("ctl-calls.log");
    let ctl = dir.join("nginx-recorder");
    std::fs::write(
        &ctl,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec {NGINX} \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    (ctl, log)
}

fn cli_cases() -> Vec<Case> {
    let dead = dead_server_url();
    let port = free_port().to_string();
    let certonly = |extra: &[&str]| -> Vec<String> {
        let mut v = strings(&["certonly"]);
        if !extra.contains(&"--webroot") {
            v.extend(strings(&["--standalone", "--http-01-port", &port]));
        }
        v.extend(strings(extra));
        if !extra.contains(&"--server") {
            v.extend(strings(&["--server", &dead]));
        }
        v.extend(strings(&["-n", "--agree-tos"]));
        if !extra.contains(&"-m") {
            v.push("--register-unsafely-without-email".into());
        }
        v
    };
    let case = |what: &str, args: Vec<String>, code: i32, expect: &[&str]| Case {
        on_stdout: false,
        what: what.to_string(),
        setup: Setup::Empty,
        args,
        code,
        expect: strings(expect),
        dirs_may_appear: false,
    };
    let long_label = format!("{}.com", "a".repeat(64));
    let long_cert_name = "c".repeat(300);
    vec![
        // Names.
        case(
            "newline in a name",
            certonly(&["-d", "evil.com\ninclude /etc/passwd"]),
            2,
            &["evil.com"],
        ),
        case(
            "brace in a name",
            certonly(&["-d", "evil.com{"]),
            2,
            &["evil.com{"],
        ),
        case("empty name", certonly(&["-d="]), 2, &["domain"]),
        case(
            "label over 63 characters",
            certonly(&["-d", &long_label]),
            2,
            &[&long_label[..20]],
        ),
        case(
            "double wildcard",
            certonly(&["-d", "*.*.example.com"]),
            2,
            &["*.*.example.com"],
        ),
        case(
            "slash in a name",
            certonly(&["-d", "example.com/../../x"]),
            2,
            &["example.com/../../x"],
        ),
        case(
            "percent-encoded name",
            certonly(&["-d", "ex%61mple.com"]),
            2,
            &["ex%61mple.com"],
        ),
        case("no name at all", certonly(&[]), 2, &["-d"]),
        // Cert names.
        case(
            "cert name ..",
            certonly(&["-d", "example.com", "--cert-name", ".."]),
            2,
            &["cert"],
        ),
        case(
            "empty cert name",
            certonly(&["-d", "example.com", "--cert-name="]),
            2,
            &["cert"],
        ),
        case(
            "absolute cert name",
            certonly(&["-d", "example.com", "--cert-name", "/etc/passwd"]),
            2,
            &["/etc/passwd"],
        ),
        case(
            "cert name with a newline",
            certonly(&["-d", "example.com", "--cert-name", "a\nb"]),
            2,
            &["cert"],
        ),
        case(
            "cert name of 300 characters",
            certonly(&["-d", "example.com", "--cert-name", &long_cert_name]),
            2,
            &["cert"],
        ),
        // Emails.
        case(
            "two @ in an email",
            certonly(&["-d", "example.com", "-m", "a@b@example.com"]),
            2,
            &["a@b@example.com"],
        ),
        case(
            "header injection in an email",
            certonly(&["-d", "example.com", "-m", "a@example.com\nBcc: x@evil.com"]),
            2,
            &["email"],
        ),
        case(
            "empty email",
            certonly(&["-d", "example.com", "-m="]),
            2,
            &["email"],
        ),
        case(
            "email with spaces",
            certonly(&["-d", "example.com", "-m", "a b@example.com"]),
            2,
            &["a b@example.com"],
        ),
        // Ports and addresses.
        case(
            "negative port",
            strings(&[
                "certonly",
                "--standalone",
                "--http-01-port=-1",
                "-d",
                "example.com",
            ]),
            2,
            &["-1"],
        ),
        case(
            "port that is not a number",
            strings(&[
                "certonly",
                "--standalone",
                "--http-01-port",
                "http",
                "-d",
                "example.com",
            ]),
            2,
            &["http"],
        ),
        case(
            "port 65536",
            strings(&[
                "certonly",
                "--standalone",
                "--http-01-port",
                "65536",
                "-d",
                "example.com",
            ]),
            2,
            &["65536"],
        ),
        case(
            "HTTPS port 0 for install",
            strings(&[
                "install",
                "--nginx",
                "--cert-name",
                NAME,
                "--https-port",
                "0",
            ]),
            2,
            &["https-port"],
        ),
        case(
            "listen address that is not an IP",
            certonly(&["-d", "example.com", "--http-01-address", "example.com"]),
            2,
            &["example.com"],
        ),
        // Paths.
        case(
            "webroot that is a file",
            certonly(&["--webroot", "-w", "/etc/hostname", "-d", "example.com"]),
            2,
            &["/etc/hostname"],
        ),
        case(
            "relative webroot",
            certonly(&["--webroot", "-w", "relative/dir", "-d", "example.com"]),
            2,
            &["relative/dir"],
        ),
        case(
            "CA bundle that does not exist",
            certonly(&["-d", "example.com", "--ca-bundle", "/nonexistent/ca.pem"]),
            2,
            &["/nonexistent/ca.pem"],
        ),
        case(
            "CA bundle that is not PEM",
            certonly(&["-d", "example.com", "--ca-bundle", "/etc/hostname"]),
            2,
            &["/etc/hostname"],
        ),
        // Servers, keys, flags.
        case(
            "ftp server URL",
            certonly(&["-d", "example.com", "--server", "ftp://example.com/dir"]),
            2,
            &["ftp://example.com/dir"],
        ),
        case(
            "server URL without a host",
            certonly(&["-d", "example.com", "--server", "https://"]),
            2,
            &["https://"],
        ),
        case(
            "absurd RSA key size",
            certonly(&[
                "-d",
                "example.com",
                "--key-type",
                "rsa",
                "--rsa-key-size",
                "1000000",
            ]),
            2,
            &["1000000"],
        ),
        case(
            "unknown key type",
            certonly(&["-d", "example.com", "--key-type", "dsa"]),
            2,
            &["dsa"],
        ),
        case(
            "unknown flag",
            certonly(&["-d", "example.com", "--exec", "id"]),
            2,
            &["--exec"],
        ),
        case(
            "unknown revocation reason",
            strings(&["revoke", "--cert-name", NAME, "--reason", "bogus", "-n"]),
            2,
            &["bogus"],
        ),
        // Hooks and renew flags.
        case(
            "empty pre-hook",
            strings(&[
                "renew",
                "--pre-hook",
                "",
                "--no-random-sleep-on-renew",
                "-n",
            ]),
            2,
            &["--pre-hook"],
        ),
        case(
            "blank deploy hook",
            strings(&[
                "renew",
                "--deploy-hook",
                "   ",
                "--no-random-sleep-on-renew",
                "-n",
            ]),
            2,
            &["--deploy-hook"],
        ),
        case(
            "renew with a traversing cert name",
            strings(&[
                "renew",
                "--cert-name",
                "../../etc",
                "--no-random-sleep-on-renew",
                "-n",
            ]),
            2,
            &["../../etc"],
        ),
        case(
            "renew concurrency 0",
            strings(&[
                "renew",
                "--concurrency",
                "0",
                "--no-random-sleep-on-renew",
                "-n",
            ]),
            2,
            &["concurrency"],
        ),
        case(
            "renew concurrency 65",
            strings(&[
                "renew",
                "--concurrency",
                "65",
                "--no-random-sleep-on-renew",
                "-n",
            ]),
            2,
            &["65"],
        ),
        case(
            "certificates with a slash in the cert name",
            strings(&["certificates", "--cert-name", "a/b"]),
            2,
            &["a/b"],
        ),
        case(
            "delete with a traversing cert name",
            strings(&["delete", "--cert-name", "../../etc", "-n"]),
            2,
            &["../../etc"],
        ),
    ]
}

fn renewal_cases(base: &Rig) -> Vec<Case> {
    let good = renewal_json(base);
    assert!(
        good.contains(&format!("\"cert_name\": \"{NAME}\"")),
        "unexpected renewal config layout:\n{good}"
    );
    let mut broken: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "truncated JSON",
            good.as_bytes()[..good.len() / 2].to_vec(),
            &["EOF"],
        ),
        ("empty file", vec![], &["EOF"]),
        ("binary garbage", vec![0xff, 0xfe, 0x00, 0x7b], &["renewal"]),
        (
            "domains of the wrong type",
            good.replacen(
                &format!("\"domains\": [\n    \"{NAME}\"\n  ]"),
                "\"domains\": 7",
                1,
            )
            .into_bytes(),
            // serde names the position, not the field.
            &["expected a sequence", "line 4"],
        ),
        (
            "unknown field",
            good.replacen('{', "{\n  \"exec\": \"rm -rf /\",", 1)
                .into_bytes(),
            &["exec"],
        ),
        (
            "cert_name traversing out of the store",
            good.replace(
                &format!("\"cert_name\": \"{NAME}\""),
                "\"cert_name\": \"../../etc/passwd\"",
            )
            .into_bytes(),
            &["../../etc/passwd"],
        ),
        (
            "schema 99",
            good.replace("\"schema\": 1", "\"schema\": 99").into_bytes(),
            &["schema 99"],
        ),
        (
            "relative webroot",
            replace_authenticator(
                &good,
                &format!(
                    r#"{{"type": "webroot", "map": [{{"domain": "{NAME}", "path": "var/www"}}]}}"#
                ),
            )
            .into_bytes(),
            &["var/www"],
        ),
        (
            "injection in a domain",
            good.replace(
                &format!("\"domains\": [\n    \"{NAME}\""),
                "\"domains\": [\n    \"evil.com; include /etc/passwd\"",
            )
            .into_bytes(),
            &["evil.com; include /etc/passwd"],
        ),
        (
            "unknown authenticator",
            replace_authenticator(&good, r#"{"type": "exec", "command": "id"}"#).into_bytes(),
            &["exec"],
        ),
        (
            "port out of range",
            replace_authenticator(&good, r#"{"type": "standalone", "http_01_port": 70000}"#)
                .into_bytes(),
            &["70000"],
        ),
        (
            "deeply nested JSON",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            &["invalid type"],
        ),
        (
            "plain-http server",
            good.replace("\"server\": \"https://", "\"server\": \"http://")
                .into_bytes(),
            &["http://"],
        ),
    ];
    let mut cases = Vec::new();
    for (what, bytes, expect) in broken.drain(..) {
        assert_ne!(
            bytes,
            good.as_bytes(),
            "{what}: the replacement did not apply"
        );
        let mut expect = strings(expect);
        expect.push(format!("renewal/{NAME}.json"));
        // renew fails the lineage (exit 1: "renewal failed"); the listing commands finish
        // and show the problem in their report, so one bad file does not hide the others,
        // then exit 3 (a broken renewal config is a config problem nobody should miss).
        for (command, code, on_stdout) in [
            (vec!["renew", "--no-random-sleep-on-renew", "-n"], 1, false),
            (vec!["certificates"], 3, true),
            (vec!["plan"], 3, true),
        ] {
            cases.push(Case {
                on_stdout,
                what: format!("renewal config, {what}: {}", command[0]),
                setup: Setup::Lineage {
                    renewal: Some(bytes.clone()),
                },
                args: strings(&command),
                code,
                expect: expect.clone(),
                dirs_may_appear: false,
            });
        }
    }
    cases
}

fn replace_authenticator(good: &str, with: &str) -> String {
    let start = good
        .find("\"authenticator\":")
        .expect("authenticator in config");
    let open = start + good[start..].find('{').unwrap();
    let close = open + good[open..].find('}').unwrap();
    format!("{}{}{}", &good[..open], with, &good[close + 1..])
}

fn nginx_cases() -> Vec<Case> {
    let install = strings(&[
        "install",
        "--nginx",
        "--cert-name",
        NAME,
        "--nginx-server-root",
        "@NGINX_ROOT@",
        "--nginx-ctl",
        "@CTL@",
        "-n",
    ]);
    let conf = |what: &str, conf: &str, expect: &[&str]| Case {
        on_stdout: false,
        what: format!("nginx config, {what}"),
        setup: Setup::Nginx {
            conf: conf.to_string(),
        },
        args: install.clone(),
        code: 5,
        expect: strings(expect),
        dirs_may_appear: false,
    };
    let mut cases = vec![
        conf(
            "unbalanced open brace",
            "events {}\nhttp {\n  server {\n    server_name hostile.example.com;\n",
            &["nginx.conf"],
        ),
        conf(
            "extra closing brace",
            "events {}\nhttp {\n  server { server_name hostile.example.com; }\n}\n}\n",
            &["nginx.conf"],
        ),
        conf(
            "unterminated quote",
            "events {}\nhttp {\n  server { server_name \"hostile.example.com; }\n}\n",
            &["nginx.conf"],
        ),
        conf("binary garbage", "\u{0}\u{1}{{{{\u{7f}", &["nginx.conf"]),
        conf(
            "include of a missing file",
            "events {}\nhttp {\n  include /nonexistent/certwright/*.conf;\n  include /nonexistent/certwright/site;\n  server { listen 80; server_name hostile.example.com; }\n}\n",
            &["/nonexistent/certwright/site"],
        ),
    ];
    // The injection must be refused as a domain name before nginx is even read.
    let mut inject = conf(
        "name carrying a directive",
        "events {}\nhttp {\n  server { listen 80; server_name evil.com; }\n}\n",
        &["evil.com; include /etc/passwd"],
    );
    inject.code = 2;
    inject.args = strings(&[
        "run",
        "--nginx",
        "-d",
        "evil.com; include /etc/passwd",
        "--nginx-server-root",
        "@NGINX_ROOT@",
        "--nginx-ctl",
        "@CTL@",
        "-n",
        "--agree-tos",
        "--register-unsafely-without-email",
        "--server",
        &dead_server_url(),
    ]);
    cases.push(inject);
    cases
}

fn ca_cases(bad_ca: &Pebble, good: &Pebble) -> Vec<Case> {
    let certonly = |pebble: &Pebble, with_bundle: bool| -> Vec<String> {
        let mut v = strings(&[
            "certonly",
            "--standalone",
            "--http-01-port",
            &pebble.http_port().to_string(),
            "--http-01-address",
            "127.0.0.1",
            "-d",
            "ca-side.example.com",
            "--server",
            &pebble.directory_url(),
            "-n",
            "--agree-tos",
            "--register-unsafely-without-email",
        ]);
        if with_bundle {
            v.push("--ca-bundle".into());
            v.push(pebble.ca_bundle_path().display().to_string());
        }
        v
    };
    vec![
        Case {
            on_stdout: false,
            what: "CA rejecting every nonce".into(),
            setup: Setup::Empty,
            args: certonly(bad_ca, true),
            code: 1,
            expect: strings(&["badNonce"]),
            dirs_may_appear: true,
        },
        Case {
            on_stdout: false,
            what: "CA whose TLS certificate is not trusted".into(),
            setup: Setup::Empty,
            args: certonly(good, false),
            code: 1,
            expect: strings(&["certificate"]),
            dirs_may_appear: true,
        },
    ]
}

/// Runs one case; `Err` says how it went wrong.
fn check(base: &Rig, case: &Case) -> Result<(), String> {
    let env = Env::new();
    let scratch = tempfile::tempdir().unwrap();
    let (ctl, ctl_log) = recorder(scratch.path());
    let nginx_root = scratch.path().join("nginx");
    std::fs::create_dir(&nginx_root).unwrap();
    match &case.setup {
        Setup::Empty => {}
        Setup::Lineage { renewal } => {
            copy_store(&base.env, &env);
            if let Some(bytes) = renewal {
                std::fs::write(env.renewal_conf(NAME), bytes).unwrap();
            }
        }
        Setup::Nginx { conf } => {
            copy_store(&base.env, &env);
            std::fs::write(nginx_root.join("nginx.conf"), conf).unwrap();
        }
    }
    let snap = || {
        (
            Snapshot::of(&env.config_dir()),
            Snapshot::of(&env.work_dir()),
            Snapshot::of(&nginx_root),
        )
    };
    let before = snap();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("@NGINX_ROOT@", &nginx_root.display().to_string())
                .replace("@CTL@", &ctl.display().to_string())
        })
        .collect();
    let out = env.cli().args(&args).args(env.dir_flags()).run();
    let after = snap();

    let mut problems = Vec::new();
    if out.code != case.code {
        problems.push(format!("exit code {} (want {})", out.code, case.code));
    }
    let stderr = out.stderr.to_ascii_lowercase();
    let (channel, report) = if case.on_stdout {
        ("stdout", out.stdout.to_ascii_lowercase())
    } else {
        ("stderr", stderr.clone())
    };
    for want in &case.expect {
        if !report.contains(&want.to_ascii_lowercase()) {
            problems.push(format!("{channel} lacks {want:?}"));
        }
    }
    for bad in ["panicked", "rust_backtrace"] {
        if stderr.contains(bad) {
            problems.push(format!("stderr contains {bad:?}"));
        }
    }
    for (label, b, a) in [
        ("config", &before.0, &after.0),
        ("work", &before.1, &after.1),
        ("nginx", &before.2, &after.2),
    ] {
        let diff: Vec<String> = b
            .diff(a)
            .into_iter()
            .filter(|d| {
                !(case.dirs_may_appear && d.starts_with("added:") && d.ends_with("(dir 0700)")
                    || case.dirs_may_appear && d.starts_with("added:") && d.ends_with("(dir 0755)"))
            })
            .collect();
        if !diff.is_empty() {
            problems.push(format!("{label} dir changed: {diff:?}"));
        }
    }
    if args.iter().any(|a| a == "evil.com; include /etc/passwd") {
        problems.extend(nginx_run_problems(&ctl, &ctl_log));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n{}",
            case.what,
            problems.join("; "),
            short(&out)
        ))
    }
}

/// Why the recorder shows nginx was run, or cannot show it: it must not have logged a
/// call, and must log one when run directly (so that the first check can fail).
fn nginx_run_problems(ctl: &Path, ctl_log: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if ctl_log.exists() {
        problems.push(format!(
            "nginx was run: {}",
            std::fs::read_to_string(ctl_log).unwrap_or_default()
        ));
    }
    let direct = Command::new(ctl).arg("-v").output();
    if !direct.is_ok_and(|o| o.status.success()) || !ctl_log.exists() {
        problems.push("the nginx recorder logs nothing when run".into());
    }
    problems
}

fn short(out: &Output) -> String {
    let mut s = out.to_string();
    if s.len() > 3000 {
        s.truncate(3000);
        s.push_str("...");
    }
    s
}

#[test]
fn hostile_input_is_refused_cleanly() {
    let base = base();
    let bad_ca = Pebble::start(
        PebbleOpts::default()
            .http_port(free_port())
            .env("PEBBLE_WFE_NONCEREJECT", "100"),
    );
    let mut cases = cli_cases();
    cases.extend(renewal_cases(&base));
    cases.extend(nginx_cases());
    cases.extend(ca_cases(&bad_ca, &base.pebble));
    assert!(cases.len() >= 40, "the table shrank to {}", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(&base, c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs were not handled properly:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
