//! Bad input is refused with exit 2, a message naming the problem, and nothing written.
//! Validation must happen before network I/O: `--server` points at a port nothing listens
//! on (on 127.0.0.1, so a message echoing the URL cannot satisfy a "localhost" check), and a
//! run that went on anyway would fail later with another code.

use crate::support::cli::dead_server_url;
use crate::support::{free_port, Env, Snapshot};

struct Case {
    /// What is wrong, for the failure report.
    what: &'static str,
    /// Arguments after `certonly` (the env's dir flags, `--server`, `-n`, `--agree-tos` and,
    /// unless the case gives `-m`, `--register-unsafely-without-email` are added).
    args: Vec<String>,
    /// Substrings stderr must contain (ASCII case-insensitive).
    expect: Vec<String>,
}

fn case(what: &'static str, args: &[&str], expect: &[&str]) -> Case {
    Case {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        expect: expect.iter().map(|s| s.to_string()).collect(),
    }
}

fn cases() -> Vec<Case> {
    let port = free_port().to_string();
    let standalone = |domains: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["--standalone", "--http-01-port", &port]
            .map(String::from)
            .to_vec();
        for d in domains {
            v.push("-d".into());
            v.push(d.to_string());
        }
        v
    };
    let with = |base: Vec<String>, extra: &[&str]| -> Vec<String> {
        base.into_iter()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let long_name = format!("{}.com", vec!["a".repeat(59); 5].join("."));
    assert!(long_name.len() > 253);

    let mut cases = vec![
        case("URL instead of a name", &[], &["http://example.com"]),
        case("space in a name", &[], &["exa mple.com"]),
        case("empty label", &[], &["a..b.com"]),
        case("single-label name", &[], &["localhost"]),
        case("leading hyphen", &[], &["-example.com"]),
        case("name with a port", &[], &["example.com:443"]),
        case("IP address as a name", &[], &["1.2.3.4"]),
    ];
    // Every case above takes its one bad name as a -d value.
    for c in &mut cases {
        let bad = c.expect[0].clone();
        // `-d=VALUE` so a value starting with '-' is not read as a flag.
        c.args = with(standalone(&[]), &[&format!("-d={bad}")]);
    }
    let mut long = case("name over 253 characters", &[], &[&long_name[..60]]);
    long.args = with(standalone(&[]), &["-d", &long_name]);
    cases.push(long);
    cases.extend([
        Case {
            what: "wildcard with standalone (needs DNS-01)",
            args: standalone(&["*.example.com"]),
            expect: vec!["*.example.com".into(), "dns".into()],
        },
        Case {
            what: "cert name escaping the store",
            args: with(standalone(&["example.com"]), &["--cert-name", "../etc"]),
            expect: vec!["../etc".into()],
        },
        Case {
            what: "cert name with a slash",
            args: with(standalone(&["example.com"]), &["--cert-name", "a/b"]),
            expect: vec!["a/b".into()],
        },
        Case {
            what: "email without @",
            args: with(standalone(&["example.com"]), &["-m", "admin"]),
            expect: vec!["admin".into(), "email".into()],
        },
        Case {
            what: "email with an unqualified domain",
            args: with(standalone(&["example.com"]), &["-m", "a@b"]),
            expect: vec!["a@b".into()],
        },
        Case {
            what: "RSA key too small",
            args: with(
                standalone(&["example.com"]),
                &["--key-type", "rsa", "--rsa-key-size", "1024"],
            ),
            expect: vec!["1024".into()],
        },
        Case {
            what: "unsupported curve",
            args: with(
                standalone(&["example.com"]),
                &["--key-type", "ecdsa", "--elliptic-curve", "secp224r1"],
            ),
            expect: vec!["secp224r1".into()],
        },
        Case {
            what: "HTTP-01 port 0",
            args: ["--standalone", "--http-01-port", "0", "-d", "example.com"]
                .map(String::from)
                .to_vec(),
            expect: vec!["http-01-port".into()],
        },
        Case {
            what: "HTTP-01 port above 65535",
            args: [
                "--standalone",
                "--http-01-port",
                "70000",
                "-d",
                "example.com",
            ]
            .map(String::from)
            .to_vec(),
            expect: vec!["70000".into()],
        },
        Case {
            what: "webroot that does not exist",
            args: ["--webroot", "-w", "/nonexistent/dir", "-d", "example.com"]
                .map(String::from)
                .to_vec(),
            expect: vec!["/nonexistent/dir".into()],
        },
    ]);
    cases
}

/// Runs one case; `Err` describes how it failed.
fn check(case: &Case) -> Result<(), String> {
    let env = Env::new();
    let before = Snapshot::of(&env.config_dir());
    assert!(before.is_empty());
    let has_email = case.args.iter().any(|a| a == "-m");
    let mut cli = env
        .cli()
        .arg("certonly")
        .args(&case.args)
        .args(env.dir_flags())
        .args(["--server", &dead_server_url(), "-n", "--agree-tos"]);
    if !has_email {
        cli = cli.arg("--register-unsafely-without-email");
    }
    let out = cli.run();
    report(case, &env, &before, &out)
}

fn report(
    case: &Case,
    env: &Env,
    before: &Snapshot,
    out: &crate::support::cli::Output,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if out.code != 2 {
        problems.push(format!("exit code {} (want 2)", out.code));
    }
    let stderr = out.stderr.to_ascii_lowercase();
    for want in &case.expect {
        if !stderr.contains(&want.to_ascii_lowercase()) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    let diff = before.diff(&Snapshot::of(&env.config_dir()));
    if !diff.is_empty() {
        problems.push(format!("config dir changed: {diff:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}\n{out}", case.what, problems.join("; ")))
    }
}

#[test]
fn bad_input_is_refused_before_anything_happens() {
    let cases = cases();
    assert!(cases.len() >= 15, "the table shrank to {}", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not refused properly:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn plain_http_server_url_is_refused() {
    let env = Env::new();
    let out = env
        .cli()
        .arg("certonly")
        .args(["--standalone", "--http-01-port", &free_port().to_string()])
        .args(["-d", "example.com"])
        .args(env.dir_flags())
        .args([
            "--server",
            "http://insecure.example/dir",
            "-n",
            "--agree-tos",
            "--register-unsafely-without-email",
        ])
        .run();
    let case = case(
        "plain-http ACME server",
        &[],
        &["http://insecure.example/dir"],
    );
    if let Err(e) = report(&case, &env, &Snapshot::default(), &out) {
        panic!("{e}");
    }
}
