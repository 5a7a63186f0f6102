//! Fleet mode behind nginx: `daemon --nginx` gives the node's nginx a managed location
//! passing `/.well-known/acme-challenge/` to the daemon's responder, which answers every
//! token any node put in the shared Redis. Real nginx, Pebble and redis-server.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};
use tempfile::TempDir;

use crate::support::cli::{Output, Running};
use crate::support::nginx::NGINX;
use crate::support::{free_port, net, read_lossy, wait_for, Env, Nginx, Pebble, PebbleOpts};

const NAME: &str = "fleet.example.com";
const MARKER: &str = "# managed by certwright";
const PROXY_HEAD: &str = "location ^~ /.well-known/acme-challenge/";
/// Bounds on waiting, far above what these steps take: not speed assertions.
const START_LIMIT: Duration = Duration::from_secs(60);
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// A throwaway redis-server on a free port, no persistence; killed on drop. Private to this
/// module: small on purpose (a shared starter lives elsewhere).
struct Redis {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    fn start() -> Redis {
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("certwright-redis-")
                .tempdir()
                .expect("create redis temp dir");
            let port = free_port();
            let log_path = dir.path().join("redis.log");
            let log = File::create(&log_path).expect("create redis.log");
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .spawn()
                .expect("spawn redis-server");
            let up = wait_for(START_LIMIT, || match child.try_wait() {
                Ok(Some(_)) => Some(false),
                _ => net::port_answers(port).then_some(true),
            });
            if up == Some(true) {
                return Redis {
                    child,
                    port,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last = read_lossy(&log_path);
            if !last.contains("Address already in use") {
                break;
            }
        }
        panic!("redis-server did not start:\n{last}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Node A (nginx + daemon), the shared store, Pebble probing A's nginx, and the fleet key.
struct Rig {
    redis: Redis,
    nginx: Nginx,
    pebble: Pebble,
    a: Env,
    /// A's daemon responder port, behind nginx.
    daemon_port: u16,
    key: PathBuf,
}

impl Rig {
    fn new() -> Rig {
        let redis = Redis::start();
        let nginx = Nginx::start(&format!(
            "server {{\n    listen @PORT0@;\n    server_name {NAME};\n    root @PREFIX@;\n\n    location / {{\n        try_files $uri =404;\n    }}\n}}\n"
        ));
        let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
        let a = Env::new();
        let key = a.root().join("fleet.key");
        write_fleet_key(&key);
        Rig {
            redis,
            nginx,
            pebble,
            a,
            daemon_port: free_port(),
            key,
        }
    }

    fn store_flags(&self, node: &str) -> Vec<String> {
        vec![
            "--store".into(),
            self.redis.url(),
            "--store-key-file".into(),
            self.key.display().to_string(),
            "--node-id".into(),
            node.into(),
        ]
    }

    /// `certwright daemon` for node A with the proxy, using `nginx_ctl` as the nginx binary.
    fn daemon(&self, nginx_ctl: &Path) -> crate::support::Cli {
        self.a
            .cli()
            .arg("daemon")
            .args(self.store_flags("a"))
            .args(["--http-01-port", &self.daemon_port.to_string()])
            .args(["--http-01-address", "127.0.0.1", "--nginx"])
            .arg("--nginx-server-root")
            .arg(self.nginx.server_root())
            .arg("--nginx-ctl")
            .arg(nginx_ctl)
            .args(["--nginx-http-01-port", &self.nginx.port(0).to_string()])
            .args(["--schedule", "0 0 1 1 *", "--status-file"])
            .arg(self.status_path())
            .args(self.a.dir_flags())
    }

    fn status_path(&self) -> PathBuf {
        self.a.root().join("status.json")
    }

    /// Start A's daemon and wait until its first pass is done (the responder is serving).
    fn start_daemon(&self) -> Running {
        let _ = std::fs::remove_file(self.status_path());
        let mut daemon = self.daemon(Path::new(NGINX)).spawn();
        let ready = wait_for(START_LIMIT, || {
            if daemon.has_exited() {
                return Some(false);
            }
            self.status_path().exists().then_some(true)
        });
        if ready != Some(true) {
            panic!("daemon did not come up\n{}", daemon.wait_or_kill());
        }
        daemon
    }

    fn site(&self) -> String {
        std::fs::read_to_string(self.nginx.site_path()).expect("read site")
    }

    fn assert_nginx_t_passes(&self) {
        let t = self.nginx.config_test();
        assert!(
            t.status.success(),
            "nginx -t fails:\n{}\n--- site ---\n{}",
            String::from_utf8_lossy(&t.stderr),
            self.site()
        );
    }
}

/// 32 random bytes, base64, mode 0600: what `openssl rand -base64 32 > K` makes.
fn write_fleet_key(path: &Path) {
    use base64::Engine;
    let key: [u8; 32] = rand::random();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create key file");
    writeln!(
        f,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
    .expect("write key file");
}

/// SIGTERM, then the daemon's output once it exited 0.
fn stop(mut daemon: Running) -> Output {
    let pid = Pid::from_raw(daemon.pid() as i32).expect("pid");
    kill_process(pid, Signal::TERM).expect("signal the daemon");
    if wait_for(STOP_LIMIT, || daemon.has_exited().then_some(())).is_none() {
        panic!(
            "daemon still running after SIGTERM\n{}",
            daemon.wait_or_kill()
        );
    }
    let out = daemon.wait();
    out.assert_success();
    out
}

/// A node with no nginx orders through the fleet while Pebble probes node A's nginx: the
/// order succeeds only because A's nginx passed the probe to A's daemon, which answered
/// from Redis. A second start changes nothing; `rollback` undoes the location; a failing
/// `nginx -t` after the patch leaves the config byte-identical (exit 5).
#[test]
fn nginx_passes_the_fleets_probes_to_the_daemon() {
    let rig = Rig::new();
    let original = rig.site();

    let daemon = rig.start_daemon();
    let patched = rig.site();
    assert_eq!(
        patched.matches(PROXY_HEAD).count(),
        1,
        "one managed location:\n{patched}"
    );
    assert!(
        patched.contains(&format!(
            "    {PROXY_HEAD} {{ proxy_pass http://127.0.0.1:{}; proxy_set_header Host $http_host; }} {MARKER}\n",
            rig.daemon_port
        )),
        "{patched}"
    );
    assert_eq!(
        patched.lines().filter(|l| !original.contains(*l)).count(),
        1,
        "only the location was added:\n{patched}"
    );
    rig.assert_nginx_t_passes();

    // Node B: its own dirs, no nginx, a standalone responder Pebble never reaches.
    let b = Env::new();
    let b_port = free_port();
    let out = b
        .cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &b_port.to_string(), "-d", NAME])
        .args(rig.store_flags("b"))
        .args(b.flags(&rig.pebble))
        .run();
    let daemon_out = if out.code == 0 {
        stop(daemon)
    } else {
        daemon.wait_or_kill()
    };
    assert_eq!(
        out.code, 0,
        "{out}\n--- daemon A ---\n{daemon_out}\n--- nginx access.log ---\n{}\n--- error.log ---\n{}",
        rig.nginx.access_log(),
        rig.nginx.error_log()
    );
    assert!(b.live(NAME).join("fullchain.pem").exists());
    assert!(
        daemon_out.stderr.contains("nginx now passes"),
        "{daemon_out}"
    );
    let log = rig.nginx.access_log();
    assert!(
        log.lines()
            .any(|l| l.contains("GET /.well-known/acme-challenge/") && l.contains("\" 200 ")),
        "nginx answered no challenge with 200:\n{log}"
    );

    // A second start finds the location in place and changes nothing.
    let again = stop(rig.start_daemon());
    assert!(again.stderr.contains("nothing changed"), "{again}");
    assert_eq!(rig.site(), patched, "second daemon start");
    rig.assert_nginx_t_passes();

    // The change is a checkpoint like install's: rollback restores the site byte for byte.
    rig.a
        .cli()
        .args(["rollback", "--nginx-server-root"])
        .arg(rig.nginx.server_root())
        .args(["--nginx-ctl", NGINX])
        .args(rig.a.dir_flags())
        .run()
        .assert_success();
    assert_eq!(rig.site(), original, "after rollback");

    // `nginx -t` failing once certwright's line is in: restored byte for byte, exit 5.
    let wrapper = rig.a.root().join("nginx-failing-after-patch");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = \"-t\" ] && grep -rqs 'managed by certwright' {}/sites-available; then\n  echo 'nginx: [emerg] injected failure' >&2; exit 1\nfi\nexec {NGINX} \"$@\"\n",
            rig.nginx.server_root().display()
        ),
    )
    .expect("write wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod wrapper");
    let site_bytes = std::fs::read(rig.nginx.site_path()).expect("read site");
    let failed = rig.daemon(&wrapper).run();
    failed.assert_code(5);
    assert!(failed.stderr.contains("injected failure"), "{failed}");
    assert_eq!(
        std::fs::read(rig.nginx.site_path()).expect("read site"),
        site_bytes,
        "restored after the failed nginx -t"
    );
    rig.assert_nginx_t_passes();
}
