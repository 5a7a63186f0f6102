//! A private bind9 (`named`, Debian package `bind9`) per test, authoritative for a few zones
//! that accept TSIG-signed updates, on 127.0.0.1:FREEPORT (UDP and TCP) and a temp dir.
//!
//! Zones (every one updatable with `KEY_NAME` for TXT records below it):
//! - `example.test`: NS `ns1.example.test` (glue 127.0.0.1), `www` A 127.0.0.1, a TXT `"unrelated"` at
//!   `_acme-challenge.keep.example.test`, and `_acme-challenge.alias.example.test` as a CNAME
//!   to `alias.acme.delegated.test` (the acme-dns pattern);
//! - `sub.example.test`: a child zone delegated from `example.test`, so zone discovery has to
//!   pick the most specific zone;
//! - `delegated.test`: where the CNAME points.
//!
//! `start_zones` serves zone files a test writes itself instead (read-only: CAA, dangling
//! CNAMEs, a signed zone), and `start_validating_resolver` forwards to one with DNSSEC
//! validation below the trust anchors it is given.
//!
//! named runs in the foreground (`-g`) as the current user (root in CI: no `-u`), with its
//! working directory, pid file and journals in the temp dir.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use tempfile::TempDir;

use super::pebble::kill_group;
use super::{free_port, read_lossy, wait_for};

pub const NAMED: &str = "/usr/sbin/named";
pub const NSUPDATE: &str = "/usr/bin/nsupdate";
/// The TSIG key the zones accept updates from.
pub const KEY_NAME: &str = "certwright-test";
pub const KEY_ALGORITHM: &str = "hmac-sha256";
pub const ZONES: [&str; 3] = ["example.test", "sub.example.test", "delegated.test"];
const START_LIMIT: Duration = Duration::from_secs(30);
const START_ATTEMPTS: usize = 5;

/// A running named; its process group is killed on drop.
pub struct Bind {
    dir: TempDir,
    child: Child,
    port: u16,
    secret: String,
    /// A forwarding resolver (`start_resolver`), not the authoritative server.
    recursive: bool,
    /// The zones whose SOA readiness waits for.
    zones: Vec<String>,
}

impl Bind {
    /// Starts named with the zones above and waits until it answers SOA queries over UDP
    /// and TCP. Panics with named's output if it does not come up.
    pub fn start() -> Bind {
        Bind::start_as(None)
    }

    /// A second named that resolves recursively by forwarding everything to `upstream`: what
    /// a CA's resolver does with a CNAME into another zone (the authoritative named, with
    /// recursion off, answers only the CNAME). Pebble's `-dnsserver` points here.
    pub fn start_resolver(upstream: &Bind) -> Bind {
        Bind::start_as(Some(upstream.addr()))
    }

    fn start_as(upstream: Option<SocketAddr>) -> Bind {
        let dir = tempfile::Builder::new()
            .prefix("certwright-bind-")
            .tempdir()
            .expect("create bind temp dir");
        write_zones(dir.path());
        let zones: Vec<String> = ZONES.iter().map(|z| z.to_string()).collect();
        let kind = match upstream {
            None => Kind::Authoritative,
            Some(up) => Kind::Resolver {
                upstream: up,
                anchors: String::new(),
            },
        };
        Bind::launch(dir, zones, kind)
    }

    /// An authoritative named serving exactly `zones`: (name, whole zone file text), no
    /// updates. For zones a test writes itself (CAA, dangling CNAMEs, a signed zone).
    pub fn start_zones(zones: &[(String, String)]) -> Bind {
        let dir = tempfile::Builder::new()
            .prefix("certwright-bind-")
            .tempdir()
            .expect("create bind temp dir");
        for (zone, text) in zones {
            std::fs::write(dir.path().join(format!("{zone}.zone")), text).expect("write zone");
        }
        let names = zones.iter().map(|(z, _)| z.clone()).collect();
        Bind::launch(dir, names, Kind::Custom)
    }

    /// A forwarding resolver to `upstream` that validates DNSSEC below the given
    /// `trust-anchors` statement body (`ZONE static-key 257 3 13 "KEY";`).
    pub fn start_validating_resolver(upstream: &Bind, anchors: &str) -> Bind {
        let dir = tempfile::Builder::new()
            .prefix("certwright-bind-")
            .tempdir()
            .expect("create bind temp dir");
        let kind = Kind::Resolver {
            upstream: upstream.addr(),
            anchors: anchors.to_string(),
        };
        Bind::launch(dir, upstream.zones.clone(), kind)
    }

    fn launch(mut dir: TempDir, zones: Vec<String>, kind: Kind) -> Bind {
        let secret = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
        let upstream = match &kind {
            Kind::Resolver { upstream, .. } => Some(*upstream),
            _ => None,
        };
        let mut last = String::new();
        for attempt in 0..START_ATTEMPTS {
            let port = free_port();
            let conf = dir.path().join("named.conf");
            let text = match &kind {
                Kind::Authoritative => named_conf(dir.path(), port, &secret),
                Kind::Custom => custom_conf(dir.path(), port, &zones),
                Kind::Resolver { upstream, anchors } => {
                    resolver_conf(dir.path(), port, *upstream, anchors)
                }
            };
            std::fs::write(&conf, text).expect("write named.conf");
            let log = dir.path().join(format!("named-{attempt}.log"));
            let child = spawn_named(&conf, &log);
            let mut bind = Bind {
                dir,
                child,
                port,
                secret: secret.clone(),
                recursive: upstream.is_some(),
                zones: zones.clone(),
            };
            match bind.wait_ready() {
                Ok(()) => return bind,
                Err(output) if output.contains("address in use") => {
                    last = output;
                    kill_group(&mut bind.child);
                    dir = bind.take_dir();
                }
                Err(output) => panic!("named did not start:\n{output}"),
            }
        }
        panic!("named could not bind a free port in {START_ATTEMPTS} attempts:\n{last}");
    }

    /// Where named answers (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base64 TSIG secret of `KEY_NAME`.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// A certbot-style RFC 2136 credentials file (mode 0600) for this server in `dir`.
    pub fn write_credentials(&self, dir: &Path, secret: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("rfc2136.ini");
        let text = format!(
            "# certbot-dns-rfc2136 credentials\n\
             dns_rfc2136_server = 127.0.0.1\n\
             dns_rfc2136_port = {}\n\
             dns_rfc2136_name = {KEY_NAME}.\n\
             dns_rfc2136_secret = {secret}\n\
             dns_rfc2136_algorithm = HMAC-SHA256\n",
            self.port
        );
        std::fs::write(&path, text).expect("write credentials");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod credentials");
        path
    }

    /// The TXT values at `name`, asked of this server over TCP with `dig` (sorted, unquoted).
    pub fn txt(&self, name: &str) -> Vec<String> {
        txt_values(&self.dig(name, "TXT"))
    }

    /// `dig +short` lines for `name` and `rtype` from this server (no recursion).
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        dig_at(self.port, name, rtype)
    }

    /// Runs `nsupdate` (TSIG-signed) with `commands` (e.g. `update add N 60 TXT "v"`).
    pub fn nsupdate(&self, commands: &str) {
        use std::io::Write;
        let mut child = Command::new(NSUPDATE)
            .arg("-y")
            .arg(format!("{KEY_ALGORITHM}:{KEY_NAME}:{}", self.secret))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nsupdate");
        let script = format!("server 127.0.0.1 {}\n{commands}\nsend\n", self.port);
        child
            .stdin
            .take()
            .expect("nsupdate stdin")
            .write_all(script.as_bytes())
            .expect("write to nsupdate");
        let out = child.wait_with_output().expect("wait for nsupdate");
        assert!(out.status.success(), "nsupdate failed: {out:?}");
    }

    /// named's output so far (for failure messages).
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for attempt in 0..START_ATTEMPTS {
            let log = self.dir.path().join(format!("named-{attempt}.log"));
            if log.exists() {
                out.push_str(&read_lossy(&log));
            }
        }
        out
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let port = self.port;
        let recursive = self.recursive;
        let zones = self.zones.clone();
        let ready = wait_for(START_LIMIT, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(Err(format!("named exited early: {status}")));
            }
            soa_answers(port, recursive, &zones).then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(format!("{e}\n{}", self.logs())),
            None => Err(format!("not ready after {START_LIMIT:?}\n{}", self.logs())),
        }
    }

    fn take_dir(mut self) -> TempDir {
        let placeholder = tempfile::tempdir().expect("placeholder temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// `dig +tcp +short +norecurse` lines for `name` and `rtype` from 127.0.0.1:`port`.
pub fn dig_at(port: u16, name: &str, rtype: &str) -> Vec<String> {
    let out = Command::new("dig")
        .args(["+tcp", "+short", "+norecurse", "+time=1", "+tries=1", "-p"])
        .arg(port.to_string())
        .args(["@127.0.0.1", name, rtype])
        .output()
        .expect("run dig");
    // No assertion: readiness polls call this before the server is up; a failure shows up
    // as dig's error text where values were expected.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The TXT values in `dig +short` lines: sorted, unquoted, split strings joined.
pub fn txt_values(lines: &[String]) -> Vec<String> {
    let mut values: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with('"'))
        .map(|l| l.trim().trim_matches('"').replace("\" \"", ""))
        .collect();
    values.sort();
    values
}

/// Whether named serves every zone's SOA over TCP (UDP comes up with it).
fn soa_answers(port: u16, recursive: bool, zones: &[String]) -> bool {
    let recursion = if recursive { "+recurse" } else { "+norecurse" };
    zones.iter().all(|zone| {
        Command::new("dig")
            .args(["+tcp", "+short", recursion, "+time=1", "+tries=1", "-p"])
            .arg(port.to_string())
            .arg("@127.0.0.1")
            .arg(zone)
            .arg("SOA")
            .output()
            .map(|o| o.status.success() && !o.stdout.is_empty())
            .unwrap_or(false)
    })
}

fn spawn_named(conf: &Path, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(log).expect("create named log");
    let err = out.try_clone().expect("clone log handle");
    Command::new(NAMED)
        .arg("-g")
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {NAMED}: {e} (apt-get install bind9)"))
}

/// named.conf's `options` and `controls`: paths in `dir`, 127.0.0.1:`port` only, plus `extra`
/// option lines.
fn options(dir: &Path, port: u16, extra: &str) -> String {
    let d = dir.display();
    format!(
        "options {{\n\
         \tdirectory \"{d}\";\n\
         \tpid-file \"{d}/named.pid\";\n\
         \tsession-keyfile \"{d}/session.key\";\n\
         \tmanaged-keys-directory \"{d}\";\n\
         \tlisten-on port {port} {{ 127.0.0.1; }};\n\
         \tlisten-on-v6 {{ none; }};\n\
         \tdnssec-validation no;\n\
         {extra}\
         }};\n\
         controls {{ }};\n"
    )
}

fn resolver_conf(dir: &Path, port: u16, upstream: SocketAddr, anchors: &str) -> String {
    let text = options(
        dir,
        port,
        &format!(
            "\trecursion yes;\n\
             \tallow-recursion {{ 127.0.0.1; }};\n\
             \tmax-cache-ttl 0;\n\
             \tmax-ncache-ttl 0;\n\
             \tforward only;\n\
             \tforwarders {{ {} port {}; }};\n",
            upstream.ip(),
            upstream.port()
        ),
    );
    if anchors.is_empty() {
        return text;
    }
    text.replace("dnssec-validation no;", "dnssec-validation yes;")
        + &format!("trust-anchors {{ {anchors} }};\n")
}

/// Which named.conf `launch` writes.
enum Kind {
    /// The updatable test zones of `ZONES`.
    Authoritative,
    /// Zones a test wrote (`start_zones`), read-only.
    Custom,
    Resolver {
        upstream: SocketAddr,
        anchors: String,
    },
}

fn custom_conf(dir: &Path, port: u16, zones: &[String]) -> String {
    let d = dir.display();
    let mut conf = options(
        dir,
        port,
        "\trecursion no;\n\tnotify no;\n\tallow-query { any; };\n",
    );
    for zone in zones {
        conf.push_str(&format!(
            "zone \"{zone}\" {{ type primary; file \"{d}/{zone}.zone\"; }};\n"
        ));
    }
    conf
}

fn named_conf(dir: &Path, port: u16, secret: &str) -> String {
    let d = dir.display();
    let mut conf = options(
        dir,
        port,
        "\trecursion no;\n\tnotify no;\n\tallow-query { any; };\n",
    );
    conf.push_str(&format!(
        "key \"{KEY_NAME}.\" {{ algorithm {KEY_ALGORITHM}; secret \"{secret}\"; }};\n"
    ));
    for zone in ZONES {
        conf.push_str(&format!(
            "zone \"{zone}\" {{\n\
             \ttype primary;\n\
             \tfile \"{d}/{zone}.zone\";\n\
             \tupdate-policy {{ grant {KEY_NAME}. subdomain {zone}. TXT; }};\n\
             }};\n"
        ));
    }
    conf
}

fn write_zones(dir: &Path) {
    for zone in ZONES {
        let mut text = format!(
            "$TTL 60\n\
             @ IN SOA ns1.example.test. hostmaster.{zone}. 1 3600 600 86400 60\n\
             @ IN NS ns1.example.test.\n"
        );
        match zone {
            "example.test" => text.push_str(
                "ns1 IN A 127.0.0.1\n\
                 www IN A 127.0.0.1\n\
                 sub IN NS ns1.example.test.\n\
                 _acme-challenge.keep IN TXT \"unrelated\"\n\
                 _acme-challenge.alias IN CNAME alias.acme.delegated.test.\n",
            ),
            "delegated.test" => text.push_str("acme IN TXT \"zone apex of the acme names\"\n"),
            _ => {}
        }
        std::fs::write(dir.join(format!("{zone}.zone")), text).expect("write zone file");
    }
}
