//! certbot's command lines, one row each in tests/fixtures/certbot_command_lines.tsv, run in
//! order against one Pebble (and nginx) with the real binary; each row checks what the run
//! did (files, renewal config, hooks run, nginx, notes), not only its exit code.
//!
//! The rows read as certbot's docs print them: the run-wide settings come from a certbot
//! style `cli.ini` in the config dir (server, ports, nginx paths, Debian's stock
//! `max-log-backups = 0`, the documented `rsa-key-size`) and the CERTWRIGHT_*_DIR
//! variables. Pebble validates every challenge (PEBBLE_VA_ALWAYS_VALID): solving is covered
//! by the other modules; this one covers what each flag does.
//!
//! Columns: the command line (shell words; placeholders `{webroot}`, `{webroot2}`, `{hook}`,
//! `{tmp}`, `{nginx_port}`, `{csr}`), then the checks, `;`-separated:
//! `exit=N` (default 0), `out~TEXT` / `!out~TEXT` (stdout or stderr), `live=NAME` /
//! `!live=NAME`, `conf=NAME~TEXT` / `!conf=NAME~TEXT` (renewal/NAME.json), `versions=NAME:N`,
//! `hook=TEXT` / `!hook=TEXT` (a line of the hook log), `hookorder=A,B` (A's line first), `file=PATH` / `!file=PATH`,
//! `site~TEXT` (nginx's site file), `account~TEXT` (an account's meta.json), `unchanged`
//! (the config and work dirs are byte for byte as before the run).

use std::path::{Path, PathBuf};

use crate::support::cli::Output;
use crate::support::nginx::NGINX;
use crate::support::{free_port, Env, Nginx, Pebble, PebbleOpts, Snapshot};

const TABLE: &str = include_str!("../fixtures/certbot_command_lines.tsv");

struct Rig {
    pebble: Pebble,
    nginx: Nginx,
    env: Env,
    tmp: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let nginx = Nginx::start(
            "server {\n    listen @PORT0@;\n    server_name nx.example.com;\n    root @PREFIX@;\n}\n\
             server {\n    listen @PORT0@;\n    server_name ny.example.com;\n    root @PREFIX@;\n}\n\
             server {\n    listen @PORT0@;\n    server_name nz.example.com;\n    root @PREFIX@;\n}\n",
        );
        let pebble = Pebble::start(
            PebbleOpts::default()
                .http_port(free_port())
                .env("PEBBLE_VA_ALWAYS_VALID", "1"),
        );
        let env = Env::new();
        let tmp = tempfile::Builder::new()
            .prefix("certwright-certbot-cli-")
            .tempdir()
            .expect("temp dir");
        let rig = Rig {
            pebble,
            nginx,
            env,
            tmp,
        };
        rig.write_files();
        rig
    }

    /// cli.ini, the webroots, the hook script and a CSR.
    fn write_files(&self) {
        use std::os::unix::fs::PermissionsExt;
        let ini = format!(
            "# certbot-style defaults (Debian's stock line, then certbot's documented example)\n\
             max-log-backups = 0\nrsa-key-size = 4096\nserver = {}\nagree-tos = True\n\
             non-interactive = True\nhttp-01-port = {}\nhttp-01-address = 127.0.0.1\n\
             nginx-server-root = {}\nnginx-ctl = {NGINX}\nhttps-port = {}\n\
             no-random-sleep-on-renew = True\n",
            self.pebble.directory_url(),
            self.pebble.http_port(),
            self.nginx.server_root().display(),
            free_port(),
        );
        std::fs::write(self.env.config_dir().join("cli.ini"), ini).expect("write cli.ini");
        let example = format!(
            "# certbot's documented example\nrsa-key-size = 4096\nemail = ini@example.com\n\
             authenticator = standalone\nagree-tos = True\nserver = {}\nhttp-01-port = {}\n\
             http-01-address = 127.0.0.1\nnon-interactive = True\n",
            self.pebble.directory_url(),
            self.pebble.http_port(),
        );
        std::fs::write(self.tmp.path().join("example.ini"), example).expect("write example.ini");
        // certbot's hook directories: two executables each, run in name order.
        for kind in ["pre", "deploy", "post"] {
            let dir = self.env.config_dir().join("renewal-hooks").join(kind);
            std::fs::create_dir_all(&dir).expect("hook dir");
            for n in ["01", "02"] {
                let file = dir.join(format!("{n}-{kind}"));
                let body = format!(
                    "#!/bin/sh\necho dir{kind}-{n} >> {}\n",
                    self.hook_log().display()
                );
                std::fs::write(&file, body).expect("write dir hook");
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
            // Not executable: skipped, as certbot skips it.
            std::fs::write(dir.join("03-disabled"), "#!/bin/sh\nexit 1\n").expect("write");
        }
        for dir in ["webroot", "webroot2"] {
            std::fs::create_dir(self.tmp.path().join(dir)).expect("webroot");
        }
        let hook = self.tmp.path().join("hook.sh");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho \"$1 ${{RENEWED_LINEAGE:-}} ${{RENEWED_DOMAINS:-}}\" >> {}\n",
                self.hook_log().display()
            ),
        )
        .expect("write hook");
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-subj", "/CN=csr.example.com", "-keyout"])
            .arg(self.tmp.path().join("csr.key"))
            .arg("-out")
            .arg(self.tmp.path().join("csr.pem"))
            .args(["-addext", "subjectAltName=DNS:csr.example.com"])
            .output()
            .expect("run openssl");
        assert!(status.status.success(), "openssl req: {status:?}");
    }

    fn hook_log(&self) -> PathBuf {
        self.tmp.path().join("hooks.log")
    }

    fn expand(&self, text: &str) -> String {
        let tmp = self.tmp.path().display().to_string();
        text.replace("{webroot}", &format!("{tmp}/webroot"))
            .replace("{webroot2}", &format!("{tmp}/webroot2"))
            .replace("{hook}", &format!("{tmp}/hook.sh"))
            .replace("{csr}", &format!("{tmp}/csr.pem"))
            .replace("{nginx_port}", &self.nginx.port(0).to_string())
            .replace("{config}", &self.env.config_dir().display().to_string())
            .replace("{tmp}", &tmp)
    }

    fn run(&self, line: &str) -> Output {
        let words = shlex::split(&self.expand(line))
            .unwrap_or_else(|| panic!("row {line:?}: unbalanced quotes"));
        let _ = std::fs::remove_file(self.hook_log());
        self.env
            .cli()
            .env("CERTWRIGHT_CONFIG_DIR", self.env.config_dir())
            .env("CERTWRIGHT_WORK_DIR", self.env.work_dir())
            .env("CERTWRIGHT_LOGS_DIR", self.env.logs_dir())
            .env("CERTWRIGHT_CA_BUNDLE", self.pebble.ca_bundle_path())
            .args(
                words
                    .iter()
                    .skip(usize::from(words.first().is_some_and(|w| w == "certbot"))),
            )
            .run()
    }

    /// The config and work dirs together (`unchanged`: a run that must write nothing).
    fn snapshot(&self) -> [Snapshot; 2] {
        [
            Snapshot::of(&self.env.config_dir()),
            Snapshot::of(&self.env.work_dir()),
        ]
    }

    /// The first failed check of `checks` on `out`, if any.
    fn failed_check(&self, checks: &str, out: &Output) -> Option<String> {
        let mut want_exit = 0;
        for check in checks.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let check = self.expand(check);
            let (negated, check) = match check.strip_prefix('!') {
                Some(rest) => (true, rest.to_string()),
                None => (false, check.clone()),
            };
            if check == "unchanged" {
                continue;
            }
            if let Some(code) = check.strip_prefix("exit=") {
                want_exit = code.parse().expect("exit=N");
                continue;
            }
            if self.holds(&check, out) == negated {
                return Some(format!("{}{check}", if negated { "!" } else { "" }));
            }
        }
        (out.code != want_exit).then(|| format!("exit={want_exit}"))
    }

    fn holds(&self, check: &str, out: &Output) -> bool {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        if let Some(text) = check.strip_prefix("out~") {
            return out.stdout.contains(text) || out.stderr.contains(text);
        }
        if let Some(name) = check.strip_prefix("live=") {
            return self.env.live(name).join("fullchain.pem").is_file();
        }
        if let Some(rest) = check.strip_prefix("conf=") {
            let (name, text) = rest.split_once('~').expect("conf=NAME~TEXT");
            return read(&self.env.renewal_conf(name)).contains(text);
        }
        if let Some(rest) = check.strip_prefix("versions=") {
            let (name, n) = rest.split_once(':').expect("versions=NAME:N");
            let count = std::fs::read_dir(self.env.archive(name))
                .map(|d| d.filter(|e| e.is_ok()).count())
                .unwrap_or(0);
            return count.to_string() == n;
        }
        if let Some(pair) = check.strip_prefix("hookorder=") {
            let (first, second) = pair.split_once(',').expect("hookorder=A,B");
            let log = read(&self.hook_log());
            let at = |t: &str| log.lines().position(|l| l.contains(t));
            return matches!((at(first), at(second)), (Some(a), Some(b)) if a < b);
        }
        if let Some(text) = check.strip_prefix("hook=") {
            return read(&self.hook_log()).lines().any(|l| l.contains(text));
        }
        if let Some(path) = check.strip_prefix("file=") {
            return Path::new(path).exists();
        }
        if let Some(text) = check.strip_prefix("site~") {
            return read(&self.nginx.site_path()).contains(text);
        }
        if let Some(text) = check.strip_prefix("account~") {
            return crate::support::files_below(&self.env.config_dir().join("accounts"))
                .iter()
                .filter(|p| p.ends_with("meta.json"))
                .any(|p| read(p).contains(text));
        }
        panic!("unknown check {check:?}");
    }
}

/// Each row in order; all failures are reported together, each with its run.
#[test]
fn certbot_command_lines_do_what_certbot_does() {
    let rig = Rig::new();
    let rows: Vec<(usize, &str, &str)> = TABLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let (line, checks) = l.split_once('\t').unwrap_or((l, ""));
            (i + 1, line, checks)
        })
        .collect();
    assert!(rows.len() >= 120, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for (number, line, checks) in &rows {
        let before = checks.contains("unchanged").then(|| rig.snapshot());
        let out = rig.run(line);
        let changed: Vec<String> = match before {
            Some(before) => {
                let after = rig.snapshot();
                (0..2).flat_map(|i| before[i].diff(&after[i])).collect()
            }
            None => Vec::new(),
        };
        if !changed.is_empty() {
            failures.push(format!(
                "row {number}: `{line}`: changed {changed:?}\n{out}"
            ));
        } else if let Some(check) = rig.failed_check(checks, &out) {
            failures.push(format!("row {number}: `{line}`: failed {check}\n{out}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

/// certbot's prompts at a terminal (run under `script`, which gives the binary a pty):
/// the email for a new account, and `delete` without --cert-name choosing from a list.
/// Without a terminal (or with -n) the same command lines fail with what to pass.
#[test]
fn at_a_terminal_it_asks_as_certbot_does() {
    let rig =
        crate::support::rig::Rig::with(PebbleOpts::default().env("PEBBLE_VA_ALWAYS_VALID", "1"));
    let env = &rig.env;
    let at_terminal = |args: &[String], input: &str| -> Output {
        let mut words = vec![crate::support::cli::BIN.to_string()];
        words.extend(args.iter().cloned());
        let line = shlex::try_join(words.iter().map(String::as_str)).expect("quote");
        let out = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(env.root())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .expect("run script");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            command: line,
        }
    };
    let port = rig.pebble.http_port().to_string();
    let mut certonly: Vec<String> = ["certonly", "--standalone", "--http-01-address", "127.0.0.1"]
        .map(String::from)
        .to_vec();
    certonly.extend(["--http-01-port".into(), port]);
    let mut server = env.dir_flags();
    server.extend([
        "--server".into(),
        rig.pebble.directory_url(),
        "--ca-bundle".into(),
        rig.pebble.ca_bundle_path().display().to_string(),
    ]);
    certonly.extend(server.iter().cloned());
    certonly.push("--agree-tos".into());

    // No terminal: the missing email is an error, nothing is asked.
    let mut plain = certonly.clone();
    plain.extend(["-d".into(), "asked.example.com".into()]);
    let out = env.cli().args(&plain).run();
    out.assert_code(2);
    assert!(out.stderr.contains("-m EMAIL"), "{out}");

    let out = at_terminal(&plain, "me@example.com\n");
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("Enter email address"), "{out}");
    let metas: Vec<String> = crate::support::files_below(&env.config_dir().join("accounts"))
        .iter()
        .filter(|p| p.ends_with("meta.json"))
        .map(|p| std::fs::read_to_string(p).expect("meta.json"))
        .collect();
    assert!(
        metas.iter().any(|m| m.contains("mailto:me@example.com")),
        "{metas:?}"
    );
    let mut second = certonly.clone();
    second.extend(["-n".into(), "-d".into(), "second.example.com".into()]);
    env.cli().args(&second).run().assert_success();

    let mut delete: Vec<String> = vec!["delete".into()];
    delete.extend(env.dir_flags());
    let mut no_terminal = delete.clone();
    no_terminal.push("-n".into());
    let out = env.cli().args(&no_terminal).run();
    out.assert_code(2);
    assert!(out.stderr.contains("--cert-name"), "{out}");

    // An interactive --manual: the file to create is shown, Enter continues.
    let mut manual: Vec<String> = ["certonly", "--manual", "-d", "manual.example.com"]
        .map(String::from)
        .to_vec();
    manual.extend(server.iter().cloned());
    let out = env.cli().args(&manual).arg("-n").run();
    out.assert_code(2);
    assert!(out.stderr.contains("--manual-auth-hook"), "{out}");
    let out = at_terminal(&manual, "\n");
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout
            .contains("Create a file containing just this data"),
        "{out}"
    );
    assert!(out.stdout.contains("/.well-known/acme-challenge/"), "{out}");
    assert!(env.live("manual.example.com").exists(), "{out}");

    // The chooser lists the lineages in name order; 3 is second.example.com.
    let out = at_terminal(&delete, "3\ny\n");
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("1: asked.example.com"), "{out}");
    assert!(out.stdout.contains("3: second.example.com"), "{out}");
    assert!(!env.live("second.example.com").exists(), "{out}");
    assert!(env.live("asked.example.com").exists(), "{out}");
}
