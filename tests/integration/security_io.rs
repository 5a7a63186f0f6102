//! Issue 24: each finding of the security probe performed as an attack (another uid through
//! `setpriv` or a file it owns, racing symlink swappers, hostile local servers), failing
//! safely with a clear error.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::cli::Output;
use crate::support::rig::Rig;
use crate::support::{block_on, free_port, run_directly, wait_for};

/// `nobody` on Debian: a uid that is not ours and not root.
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

/// A temp dir under /tmp that `nobody` can traverse.
fn open_tmp() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("certwright-attack-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    chmod(dir.path(), 0o755);
    dir
}

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    chmod(path, 0o755);
}

/// Finding 1: the deploy dir belongs to the service user, who races to swap each new
/// version dir for one full of symlinks to a root file. Root never chowns that file; a
/// group-writable deploy dir is refused.
#[test]
fn deploy_dir_owner_racing_symlinks_never_gets_a_root_file() {
    let rig = Rig::new();
    let tmp = open_tmp();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "root's\n").unwrap();
    chmod(&victim, 0o600);
    let deploy = tmp.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    chmod(&deploy, 0o755);
    chown(&deploy, NOBODY);
    let swapper = tmp.path().join("swap.sh");
    script(
        &swapper,
        &format!(
            "cd {d} || exit 1\nwhile :; do for v in .certwright-v*; do case $v in *.x) continue;; esac\n\
             [ -d \"$v\" ] || continue; mv \"$v\" \"$v.x\" 2>/dev/null || continue; mkdir \"$v\" && \
             for f in cert.pem chain.pem fullchain.pem privkey.pem; do ln -s {victim} \"$v/$f\"; done; done; done",
            d = deploy.display(),
            victim = victim.display()
        ),
    );
    let mut racer = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/bin/sh",
        ])
        .arg(&swapper)
        .spawn()
        .expect("setpriv (util-linux)");
    let flags = [
        "--deploy-dir",
        deploy.to_str().unwrap(),
        "--deploy-owner",
        "nobody",
    ];
    rig.certonly("race.example.test", &flags).assert_success();
    for _ in 0..5 {
        rig.env.renew(&["--force-renewal"]).assert_success();
    }
    let _ = racer.kill();
    let _ = racer.wait();
    let meta = std::fs::metadata(&victim).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        meta.uid(),
        0,
        "the service user got root's file chowned to it"
    );
    assert_eq!(meta.mode() & 0o777, 0o600);
    // The observer works: the service user's own files were written and chowned to it.
    let key = std::fs::read_dir(&deploy)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".certwright-v"))
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".x"))
        .filter_map(|e| std::fs::symlink_metadata(e.path().join("privkey.pem")).ok())
        .find(|m| m.file_type().is_file());
    if let Some(key) = key {
        assert_eq!(key.uid(), NOBODY);
    }
    // A deploy dir its group can write is refused before anything is ordered.
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o775);
    let flags = [
        "--deploy-dir",
        shared.to_str().unwrap(),
        "--deploy-owner",
        "nobody",
    ];
    let out = rig.certonly("group.example.test", &flags);
    out.assert_code(2);
    assert!(out.stderr.contains("writable by others"), "{out}");
}

/// A manual journal planted in the work dir.
fn manual_run(rig: &Rig, dir: &Path) -> crate::support::cli::Running {
    rig.env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["--manual", "--preferred-challenges", "dns"])
        .arg("--manual-auth-hook")
        .arg(dir.join("auth.sh"))
        .arg("--manual-cleanup-hook")
        .arg(dir.join("cleanup.sh"))
        .args(["-d", "journal.example.test"])
        .spawn()
}

/// Waits at most 30 s: a FIFO that blocked the read would hang here.
fn finish(mut run: crate::support::cli::Running) -> Output {
    let done = wait_for(Duration::from_secs(30), || run.has_exited().then_some(()));
    match done {
        Some(()) => run.wait(),
        None => panic!("certwright hung\n{}", run.wait_or_kill()),
    }
}

/// Finding 2 (and 3, the same reader): a manual-hook journal someone else wrote, a symlink
/// to /dev/zero, a FIFO: each refused with exit 3 naming it; the cleanup hook never runs
/// with the planted environment (LD_PRELOAD is refused even in a journal of root's).
#[test]
fn planted_manual_journals_are_refused_and_their_hooks_never_run() {
    let rig = Rig::new();
    let tmp = open_tmp();
    let marker = tmp.path().join("cleanup-ran");
    script(&tmp.path().join("auth.sh"), "exit 1");
    script(
        &tmp.path().join("cleanup.sh"),
        &format!("echo \"preload=$LD_PRELOAD\" >> {}", marker.display()),
    );
    std::fs::create_dir_all(rig.env.work_dir()).unwrap();
    let journal = rig.env.work_dir().join("manual-hook-runs.json");
    let planted = serde_json::json!({"runs": [{
        "cleanup_hook": tmp.path().join("cleanup.sh"),
        "env": [["LD_PRELOAD", "/tmp/evil.so"], ["CERTBOT_DOMAIN", "journal.example.test"]],
        "auth_output": "",
    }]});
    std::fs::write(&journal, planted.to_string()).unwrap();
    chmod(&journal, 0o644);
    chown(&journal, NOBODY);
    let out = finish(manual_run(&rig, tmp.path()));
    out.assert_code(3);
    assert!(out.stderr.contains("manual-hook-runs.json"), "{out}");
    assert!(out.stderr.contains(&format!("uid {NOBODY}")), "{out}");
    chown(&journal, 0);
    let out = finish(manual_run(&rig, tmp.path()));
    assert!(out.stderr.contains("LD_PRELOAD"), "{out}");
    let ran = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(
        !ran.contains("evil.so"),
        "the cleanup hook ran with LD_PRELOAD\n{out}"
    );
    // The observer works: this run's own challenge was cleaned up by the same hook.
    assert!(
        ran.contains("preload="),
        "the cleanup hook never ran\n{out}"
    );
    std::fs::remove_file(&journal).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &journal).unwrap();
    let out = finish(manual_run(&rig, tmp.path()));
    out.assert_code(3);
    assert!(out.stderr.contains("symlink"), "{out}");
    std::fs::remove_file(&journal).unwrap();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &journal,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let out = finish(manual_run(&rig, tmp.path()));
    out.assert_code(3);
    assert!(out.stderr.contains("not a regular file"), "{out}");
}

/// Finding 6: an `--nginx-ctl` another user owns is refused (exit 2) and never runs.
#[test]
fn nginx_ctl_another_user_owns_is_refused() {
    let rig = Rig::new();
    let tmp = open_tmp();
    let root = tmp.path().join("nginx");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("nginx.conf"), "events {}\nhttp {}\n").unwrap();
    let marker = tmp.path().join("ctl-ran");
    let ctl = tmp.path().join("ctl.sh");
    script(&ctl, &format!("touch {}", marker.display()));
    chown(&ctl, NOBODY);
    let out = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["-d", "ctl.example.test", "--nginx", "--nginx-server-root"])
        .arg(&root)
        .arg("--nginx-ctl")
        .arg(&ctl)
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("--nginx-ctl"), "{out}");
    assert!(out.stderr.contains(&format!("uid {NOBODY}")), "{out}");
    assert!(!marker.exists(), "the other user's ctl ran");
    // The marker does show a run: the same ctl, run directly, leaves it.
    run_directly(&ctl);
    assert!(marker.exists(), "the ctl left no marker");
}

/// A receiver that answers 500 with an endless chunked body whose first chunk forges a log
/// line and carries terminal escapes; counts the bytes it managed to send.
fn endless_receiver() -> (u16, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve_endless(stream, &counter));
        }
    });
    (port, sent)
}

fn serve_endless(mut stream: std::net::TcpStream, sent: &AtomicU64) {
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
    let head = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n";
    let first = "oops\n2026-12-05T00:00:00Z  INFO FORGED renewal ok\x1b[2J";
    let mut out = format!("{head}{:x}\r\n{first}\r\n", first.len()).into_bytes();
    let chunk = vec![b'A'; 64 << 10];
    loop {
        if stream.write_all(&out).is_err() {
            return;
        }
        sent.fetch_add(out.len() as u64, Ordering::Relaxed);
        out = format!("{:x}\r\n", chunk.len()).into_bytes();
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
    }
}

/// Findings 4 and 12: an endless error body is not read past its start (the receiver could
/// send only what the socket buffers hold), and its newline and escape sequence reach
/// neither the terminal nor the log as such.
#[test]
fn an_endless_webhook_answer_is_cut_and_cannot_forge_lines() {
    let env = crate::support::Env::new();
    let (port, sent) = endless_receiver();
    let out = env
        .cli()
        .args(["notify", "--test", "--notify-webhook"])
        .arg(format!("http://127.0.0.1:{port}/hook"))
        .args(env.dir_flags())
        .run();
    out.assert_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("HTTP 500"), "{out}");
    assert!(
        all.contains("oops\\n2026"),
        "the newline was not escaped: {out}"
    );
    assert!(
        !all.contains('\x1b'),
        "an escape sequence reached the terminal"
    );
    assert!(
        !all.lines().any(|l| l.starts_with("2026-12-05T00:00:00Z")),
        "a forged line: {out}"
    );
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent < 64 << 20, "the body was read on: {sent} bytes sent");
}

/// Finding 11: DNS credentials another user owns, reached through a symlink, or a FIFO:
/// refused (exit 2) without hanging.
#[test]
fn dns_credentials_of_another_owner_a_symlink_or_a_fifo_are_refused() {
    let rig = Rig::new();
    let tmp = open_tmp();
    let creds = tmp.path().join("pdns.ini");
    std::fs::write(
        &creds,
        "dns_pdns_api_url = http://127.0.0.1:1\ndns_pdns_api_key = k3y-not-shown\ndns_pdns_server_id = localhost\n",
    )
    .unwrap();
    chmod(&creds, 0o600);
    let run = |path: &Path| {
        rig.env
            .cli()
            .arg("certonly")
            .args(rig.env.flags(&rig.pebble))
            .args(["--dns", "pdns", "--dns-credentials"])
            .arg(path)
            .args(["-d", "creds.example.test"])
            .spawn()
    };
    chown(&creds, NOBODY);
    let out = finish(run(&creds));
    out.assert_code(2);
    assert!(out.stderr.contains(&format!("uid {NOBODY}")), "{out}");
    chown(&creds, 0);
    let link = tmp.path().join("link.ini");
    std::os::unix::fs::symlink(&creds, &link).unwrap();
    let out = finish(run(&link));
    out.assert_code(2);
    assert!(out.stderr.contains("symlink"), "{out}");
    let fifo = tmp.path().join("fifo.ini");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let out = finish(run(&fifo));
    out.assert_code(2);
    assert!(out.stderr.contains("not a regular file"), "{out}");
    assert!(!format!("{out}").contains("k3y-not-shown"));
}

/// Finding 10: a password inside `dns_pdns_api_url` never appears in the error, the log or
/// the state the failure leaves.
#[test]
fn a_password_in_an_api_url_is_scrubbed_from_errors_and_logs() {
    let rig = Rig::new();
    let tmp = open_tmp();
    let creds = tmp.path().join("pdns.ini");
    let dead = free_port();
    std::fs::write(
        &creds,
        format!(
            "dns_pdns_api_url = http://admin:Sup3rS3cretPw@127.0.0.1:{dead}\n\
             dns_pdns_api_key = ApiK3yValue9\ndns_pdns_server_id = localhost\n"
        ),
    )
    .unwrap();
    chmod(&creds, 0o600);
    let out = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["--dns", "pdns", "--dns-credentials"])
        .arg(&creds)
        .args(["--dns-resolver", &format!("127.0.0.1:{}", free_port())])
        .args(["-d", "scrub.example.test"])
        .run();
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("127.0.0.1"),
        "the error names no server: {out}"
    );
    crate::support::assert_secret_nowhere("Sup3rS3cretPw", rig.env.root(), &[&out]);
    crate::support::assert_secret_nowhere("ApiK3yValue9", rig.env.root(), &[&out]);
}

/// `slow` connections from 127.0.0.2 that send one byte now and then and never finish.
fn slow_clients(port: u16, slow: usize) -> Vec<tokio::net::TcpStream> {
    block_on(async {
        let mut held = Vec::new();
        for _ in 0..slow {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let to = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            if let Ok(mut s) = socket.connect(to).await {
                use tokio::io::AsyncWriteExt;
                let _ = s.write_all(b"G").await;
                held.push(s);
            }
        }
        held
    })
}

/// Findings 5 and 7: `/metrics` answers from memory, so a textfile swapped for a symlink to
/// a root-only file is never served; 100 slow clients from one address do not starve a
/// scraper from another.
#[test]
fn metrics_listener_serves_from_memory_and_outlasts_slow_clients() {
    use crate::support::net::http_get;
    let rig = Rig::new();
    rig.certonly("metrics.example.test", &[]).assert_success();
    let tmp = open_tmp();
    let textfile_dir = tmp.path().join("textfile");
    std::fs::create_dir(&textfile_dir).unwrap();
    let textfile = textfile_dir.join("certwright.prom");
    let secret = tmp.path().join("shadow");
    std::fs::write(&secret, "root:TOPSECRETHASH:19000\n").unwrap();
    chmod(&secret, 0o600);
    let port = free_port();
    let daemon = rig
        .env
        .cli()
        .args(["daemon", "--schedule", "0 0 1 1 *", "--status-file"])
        .arg(rig.env.root().join("status.json"))
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .arg("--metrics-textfile")
        .arg(&textfile)
        .args(rig.env.dir_flags())
        .spawn();
    let scraped = wait_for(Duration::from_secs(60), || {
        let got = http_get(port, "localhost", "/metrics").ok()?;
        let body = String::from_utf8_lossy(&got.body).into_owned();
        body.contains("certwright_").then_some(body)
    });
    if scraped.is_none() {
        panic!("no metrics served\n{}", daemon.wait_or_kill());
    }
    std::fs::remove_file(&textfile).unwrap();
    std::os::unix::fs::symlink(&secret, &textfile).unwrap();
    let body = http_get(port, "localhost", "/metrics")
        .expect("GET /metrics")
        .body;
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains("TOPSECRET"), "a root-only file was served");
    assert!(body.contains("certwright_"), "{body}");
    let _held = slow_clients(port, 100);
    let got = http_get(port, "localhost", "/metrics");
    let out = daemon.wait_or_kill();
    let got = got.unwrap_or_else(|e| panic!("starved by slow clients: {e}\n{out}"));
    assert_eq!(got.status, 200, "{out}");
}

/// Finding 3: a DNS-01 journal another user planted, listing a record certwright never made
/// (the zone's SPF), is refused with exit 3 and the record stays.
#[test]
fn a_planted_dns_journal_is_refused_and_deletes_nothing() {
    use crate::support::bind::Bind;
    use crate::support::pebble::PebbleOpts;
    let bind = Bind::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let tmp = open_tmp();
    let creds = bind.write_credentials(tmp.path(), bind.secret());
    bind.nsupdate("update add example.test. 300 TXT \"v=spf1 -all\"\nsend\n");
    assert_eq!(
        bind.txt("example.test"),
        ["v=spf1 -all"],
        "the observer works"
    );
    std::fs::create_dir_all(rig.env.work_dir()).unwrap();
    let journal = rig.env.work_dir().join("dns-01-records.json");
    let planted = serde_json::json!({"records": [{
        "writer": format!("rfc2136 127.0.0.1:{} key {}.", bind.port(), crate::support::bind::KEY_NAME),
        "zone": "example.test", "name": "example.test", "value": "v=spf1 -all",
    }]});
    std::fs::write(&journal, planted.to_string()).unwrap();
    chmod(&journal, 0o644);
    chown(&journal, NOBODY);
    let out = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(["--dns-rfc2136", "--dns-rfc2136-credentials"])
        .arg(&creds)
        .args(["--dns-resolver", &bind.addr().to_string()])
        .args(["-d", "example.test"])
        .run();
    out.assert_code(3);
    assert!(out.stderr.contains("dns-01-records.json"), "{out}");
    assert_eq!(bind.txt("example.test"), ["v=spf1 -all"], "{out}");
}

/// Finding 8: while a run waits on a hung alert receiver, the run lock is free: a second
/// run starts and finishes at once instead of exiting 4.
#[test]
fn a_hung_alert_receiver_never_holds_the_run_lock() {
    use crate::support::webhook::{Behaviour, Receiver};
    let rig = Rig::new();
    let name = "hung.example.test";
    rig.certonly(name, &[]).assert_success();
    let hung = Receiver::start(Behaviour::Hang);
    rig.pebble.resolve_to(name, "127.0.0.2");
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let mut first = rig
        .env
        .renew_cli(&["--force-renewal"])
        .args(["--notify-webhook", &hung.url("/hook")])
        .spawn();
    let sending = wait_for(Duration::from_secs(60), || {
        (!hung.received().is_empty()).then_some(())
    });
    if sending.is_none() {
        panic!("no alert was sent\n{}", first.wait_or_kill());
    }
    let second = rig.env.renew(&[]);
    let first_still_sending = !first.has_exited();
    let first = first.wait();
    second.assert_success();
    assert!(first_still_sending, "the observer saw nothing: {first}");
    first.assert_code(1);
}

/// Finding 9: renewal configs are read (to learn the ports to bind) before the owner check:
/// a FIFO there no longer blocks the run and a symlink to /dev/zero is not read; both are
/// then refused with exit 3 naming them.
#[test]
fn a_fifo_or_dev_zero_among_renewal_configs_is_refused_at_once() {
    let rig = Rig::new();
    rig.certonly("fine.example.test", &[]).assert_success();
    let renewal = rig.env.config_dir().join("renewal");
    let fifo = renewal.join("fifo.example.test.json");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let run = || rig.env.renew_cli(&[]).spawn();
    let out = finish(run());
    out.assert_code(3);
    assert!(out.stderr.contains("fifo.example.test.json"), "{out}");
    std::fs::remove_file(&fifo).unwrap();
    let zero = renewal.join("zero.example.test.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let out = finish(run());
    out.assert_code(3);
    assert!(out.stderr.contains("zero.example.test.json"), "{out}");
    std::fs::remove_file(&zero).unwrap();
    rig.env.renew(&[]).assert_success();
}
