//! A private Pebble ACME server (plus pebble-challtestsrv as its DNS) per test.
//!
//! Debian's pebble 2.4.0 ships no TLS certificate, so each instance gets a throwaway CA and a
//! `localhost` + `127.0.0.1` leaf made with rcgen. Every name resolves to 127.0.0.1 through
//! challtestsrv, so HTTP-01 probes go to 127.0.0.1:`http_port`. The ACME API listens on
//! 127.0.0.1 unless `PebbleOpts::listen_ip` names another address (the leaf then names it too).

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tempfile::TempDir;

use super::net;
use super::{free_port, read_lossy, wait_for};

const PEBBLE: &str = "/usr/bin/pebble";
const CHALLTESTSRV: &str = "/usr/bin/pebble-challtestsrv";
/// Where scripts/fetch-pebble-sid.sh unpacks Debian sid's pebble (2.10+: ARI, profiles).
const PEBBLE_SID_DIR: &str = "/opt/pebble-sid";
/// Overrides `PEBBLE_SID_DIR` (the directory holding `usr/bin/pebble`).
const PEBBLE_SID_ENV: &str = "CERTWRIGHT_PEBBLE_SID_DIR";
/// Seconds of validity of the `default` and `shortlived` profiles of `PebbleOpts::sid`.
pub const PROFILE_DEFAULT_SECS: u64 = 90 * 24 * 3600;
pub const PROFILE_SHORTLIVED_SECS: u64 = 6 * 24 * 3600;
/// How long a starting Pebble may take to answer; a bound, not a speed assertion.
const START_LIMIT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: usize = 5;

/// The EAB key id Pebble knows when `PebbleOpts::eab(true)`.
pub const EAB_KID: &str = "certwright-test-kid";
/// The base64url HMAC key that goes with `EAB_KID` (32 random bytes, fixed for tests).
pub const EAB_HMAC_KEY: &str = "9YDPRsusormLUJ6GYPn4rYweEoSIkgGowP0PkVxySrI";

/// How to start Pebble. `Default` gives deterministic settings: no VA sleep, no nonce
/// rejection, no authorization reuse, no EAB, HTTP-01 probes to a fresh free port.
#[derive(Debug, Clone, Default)]
pub struct PebbleOpts {
    http_port: Option<u16>,
    env: Vec<(String, String)>,
    eab: bool,
    blocklist: Vec<String>,
    listen_ip: Option<IpAddr>,
    dns_server: Option<SocketAddr>,
    /// Run Debian sid's Pebble (see `sid`) instead of Debian 12's.
    sid: bool,
}

impl PebbleOpts {
    /// The port Pebble's VA connects to for HTTP-01 (where the test's responder listens).
    pub fn http_port(mut self, port: u16) -> Self {
        self.http_port = Some(port);
        self
    }

    /// Sets (or overrides a default of) an environment variable for Pebble, e.g.
    /// `PEBBLE_WFE_NONCEREJECT=30`, `PEBBLE_AUTHZREUSE=100`, `PEBBLE_VA_ALWAYS_VALID=1`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Require External Account Binding with `EAB_KID` / `EAB_HMAC_KEY`.
    pub fn eab(mut self, required: bool) -> Self {
        self.eab = required;
        self
    }

    /// Names the CA refuses to issue for (Pebble's `domainBlocklist`; subdomains too).
    pub fn blocklist(mut self, domain: &str) -> Self {
        self.blocklist.push(domain.to_string());
        self
    }

    /// Where the ACME API listens instead of 127.0.0.1 (e.g. a host address that network
    /// namespaces reach); `directory_url` and the TLS certificate then name this address.
    pub fn listen_ip(mut self, ip: IpAddr) -> Self {
        self.listen_ip = Some(ip);
        self
    }

    /// Pebble resolves names (and reads DNS-01 TXT records) at `addr`, e.g. a test's bind9,
    /// instead of challtestsrv (which still runs, unused by Pebble).
    pub fn dns_server(mut self, addr: SocketAddr) -> Self {
        self.dns_server = Some(addr);
        self
    }

    /// Debian sid's Pebble 2.10+ (ARI, `profiles` `default` 90 days and `shortlived` 6 days,
    /// management `POST /set-renewal-info/`). Panics if scripts/fetch-pebble-sid.sh did not run.
    pub fn sid(mut self) -> Self {
        self.sid = true;
        self
    }

    /// (pebble, pebble-challtestsrv) binaries for these options. sid's challtestsrv has other
    /// flags; Debian 12's serves as the DNS for both.
    fn binaries(&self) -> (PathBuf, PathBuf) {
        if !self.sid {
            return (PEBBLE.into(), CHALLTESTSRV.into());
        }
        let dir = std::env::var_os(PEBBLE_SID_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(PEBBLE_SID_DIR));
        let pebble = dir.join("usr/bin/pebble");
        assert!(
            pebble.is_file(),
            "Debian sid's pebble is missing: no {} (${PEBBLE_SID_ENV} or {PEBBLE_SID_DIR}); \
             run scripts/fetch-pebble-sid.sh",
            pebble.display()
        );
        (pebble, CHALLTESTSRV.into())
    }

    fn full_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("PEBBLE_VA_NOSLEEP", "1"),
            ("PEBBLE_WFE_NONCEREJECT", "0"),
            ("PEBBLE_AUTHZREUSE", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in &self.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }
}

/// A running Pebble and challtestsrv; both process groups are killed on drop.
pub struct Pebble {
    dir: TempDir,
    pebble: Child,
    challtestsrv: Child,
    listen_port: u16,
    management_port: u16,
    dns_port: u16,
    challtestsrv_management_port: u16,
    http_port: u16,
    /// Where the ACME API listens.
    listen_ip: IpAddr,
    ca_pem: String,
    /// Pebble's environment, for `restart`.
    env: Vec<(String, String)>,
    /// `-dnsserver` when not challtestsrv (`PebbleOpts::dns_server`).
    dns_server: Option<SocketAddr>,
    /// The pebble binary, for `restart`.
    pebble_bin: PathBuf,
}

#[derive(Debug)]
enum StartError {
    /// A port we picked was taken in the meantime: pick new ones.
    PortTaken(String),
    Fatal(String),
}

impl Pebble {
    /// Starts Pebble with default options (a fresh, unused HTTP-01 port).
    pub fn start_default() -> Pebble {
        Pebble::start(PebbleOpts::default())
    }

    /// Starts Pebble and its DNS, waits until the directory answers over TLS and the DNS
    /// resolves names. Panics with both children's output if they do not come up.
    pub fn start(opts: PebbleOpts) -> Pebble {
        let mut dir = tempfile::Builder::new()
            .prefix("certwright-pebble-")
            .tempdir()
            .expect("create Pebble temp dir");
        let listen_ip = opts.listen_ip.unwrap_or(Ipv4Addr::LOCALHOST.into());
        let (ca_pem, leaf_pem, leaf_key_pem) = throwaway_tls_identity(listen_ip);
        let ca_path = dir.path().join("ca.pem");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&ca_path, &ca_pem).expect("write ca.pem");
        std::fs::write(&cert_path, &leaf_pem).expect("write cert.pem");
        std::fs::write(&key_path, &leaf_key_pem).expect("write key.pem");
        let http_port = opts.http_port.unwrap_or_else(free_port);
        let (pebble_bin, challtestsrv_bin) = opts.binaries();

        let mut last_error = String::new();
        for attempt in 0..START_ATTEMPTS {
            let ports = Ports {
                listen: free_port(),
                management: free_port(),
                tls: free_port(),
                dns: free_port(),
                challtestsrv_management: free_port(),
                http: http_port,
            };
            let config_path = dir.path().join("pebble-config.json");
            let config = pebble_config(&ports, listen_ip, &cert_path, &key_path, &opts);
            std::fs::write(&config_path, config).expect("write pebble config");

            let challtestsrv = spawn_logged(
                Command::new(&challtestsrv_bin).args([
                    "-dns01",
                    &format!("127.0.0.1:{}", ports.dns),
                    "-http01",
                    "",
                    "-https01",
                    "",
                    "-tlsalpn01",
                    "",
                    "-management",
                    &format!("127.0.0.1:{}", ports.challtestsrv_management),
                    "-defaultIPv4",
                    "127.0.0.1",
                    "-defaultIPv6",
                    "",
                ]),
                &dir.path().join(format!("challtestsrv-{attempt}.log")),
            );
            let mut pebble_cmd = Command::new(&pebble_bin);
            pebble_cmd
                .arg("-config")
                .arg(&config_path)
                .arg("-dnsserver")
                .arg(
                    opts.dns_server
                        .map_or(format!("127.0.0.1:{}", ports.dns), |a| a.to_string()),
                );
            for (k, v) in opts.full_env() {
                pebble_cmd.env(k, v);
            }
            let pebble = spawn_logged(
                &mut pebble_cmd,
                &dir.path().join(format!("pebble-{attempt}.log")),
            );
            let mut started = Pebble {
                pebble,
                challtestsrv,
                listen_port: ports.listen,
                management_port: ports.management,
                dns_port: ports.dns,
                challtestsrv_management_port: ports.challtestsrv_management,
                http_port,
                listen_ip,
                ca_pem: ca_pem.clone(),
                env: opts.full_env(),
                dns_server: opts.dns_server,
                pebble_bin: pebble_bin.clone(),
                dir,
            };
            match started.wait_ready(attempt) {
                Ok(()) => return started,
                Err(StartError::PortTaken(log)) => {
                    last_error = log;
                    dir = started.take_dir();
                }
                Err(StartError::Fatal(log)) => {
                    panic!("Pebble did not start (attempt {attempt}):\n{log}")
                }
            }
        }
        panic!("Pebble could not bind free ports in {START_ATTEMPTS} attempts:\n{last_error}");
    }

    /// SIGKILL Pebble (not its DNS) and start it again on the same ports and config. Pebble
    /// keeps everything in memory: accounts, orders and its issuing CA are new afterwards.
    pub fn restart(&mut self) {
        kill_group(&mut self.pebble);
        let config_path = self.dir.path().join("pebble-config.json");
        let mut cmd = Command::new(PEBBLE);
        cmd.arg("-config").arg(&config_path).arg("-dnsserver").arg(
            self.dns_server
                .map_or(format!("127.0.0.1:{}", self.dns_port), |a| a.to_string()),
        );
        let mut cmd = Command::new(&self.pebble_bin);
        cmd.arg("-config")
            .arg(&config_path)
            .arg("-dnsserver")
            .arg(format!("127.0.0.1:{}", self.dns_port));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.pebble = spawn_logged(&mut cmd, &self.dir.path().join("pebble-restarted.log"));
        if let Err(e) = self.wait_ready(99) {
            panic!("Pebble did not come back after a restart: {e:?}");
        }
    }

    /// The ACME API's port, and the TLS certificate and key it serves (for a proxy in front).
    pub fn api(&self) -> (u16, PathBuf, PathBuf) {
        let dir = self.dir.path();
        (self.listen_port, dir.join("cert.pem"), dir.join("key.pem"))
    }

    /// `https://localhost:PORT/dir`, or `https://IP:PORT/dir` with `PebbleOpts::listen_ip`.
    pub fn directory_url(&self) -> String {
        if self.listen_ip == IpAddr::from(Ipv4Addr::LOCALHOST) {
            format!("https://localhost:{}/dir", self.listen_port)
        } else {
            format!(
                "https://{}/dir",
                SocketAddr::new(self.listen_ip, self.listen_port)
            )
        }
    }

    /// PEM of the throwaway CA that signed Pebble's own TLS certificate (for `--ca-bundle`).
    pub fn ca_bundle_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The port Pebble's VA probes for HTTP-01.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// Where challtestsrv answers DNS (UDP and TCP).
    pub fn dns_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dns_port))
    }

    /// The root that issued certificates chain to, from the management API `/roots/0`.
    pub fn root_pem(&self) -> String {
        self.management_get("/roots/0")
    }

    /// `root_pem()` written to a file in Pebble's temp dir (for `openssl verify -CAfile`).
    pub fn root_pem_path(&self) -> PathBuf {
        let path = self.dir.path().join("issuing-root.pem");
        std::fs::write(&path, self.root_pem()).expect("write issuing-root.pem");
        path
    }

    /// Make `host` resolve to `ip` (challtestsrv's `/add-a`), e.g. an address where nothing
    /// answers, so that name's HTTP-01 validation fails.
    pub fn resolve_to(&self, host: &str, ip: &str) {
        let body = serde_json::json!({"host": host, "addresses": [ip]});
        self.challtestsrv_post("/add-a", &body);
    }

    /// Undo `resolve_to`: `host` resolves to 127.0.0.1 again (challtestsrv's `/clear-a`).
    pub fn clear_resolution(&self, host: &str) {
        self.challtestsrv_post("/clear-a", &serde_json::json!({ "host": host }));
    }

    fn challtestsrv_post(&self, path: &str, body: &serde_json::Value) {
        use std::io::{Read, Write};
        let body = body.to_string();
        let mut sock =
            std::net::TcpStream::connect(("127.0.0.1", self.challtestsrv_management_port))
                .expect("connect to challtestsrv management");
        write!(
            sock,
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write to challtestsrv");
        let mut answer = String::new();
        let _ = sock.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{path}: {answer}"
        );
    }

    /// Root number `n` from the management API (`PEBBLE_ALTERNATE_ROOTS` adds roots 1..).
    pub fn root_pem_n(&self, n: usize) -> String {
        self.management_get(&format!("/roots/{n}"))
    }

    /// The intermediate that signs leaves, from `/intermediates/0`.
    pub fn intermediate_pem(&self) -> String {
        self.management_get("/intermediates/0")
    }

    /// Pebble's view of a certificate by hex serial: "Valid" or "Revoked".
    pub fn cert_status(&self, serial_hex: &str) -> String {
        let body = self.management_get(&format!("/cert-status-by-serial/{serial_hex}"));
        let json: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("cert-status-by-serial is not JSON ({e}): {body}"));
        json["Status"]
            .as_str()
            .unwrap_or_else(|| panic!("cert-status-by-serial has no Status: {body}"))
            .to_string()
    }

    /// Pebble's and challtestsrv's output so far (for failure messages).
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension() == Some("log".as_ref()))
        {
            out.push_str(&format!(
                "==> {} <==\n{}\n",
                path.display(),
                read_lossy(path)
            ));
        }
        out
    }

    /// Where Pebble's management API listens (HTTPS, trusting `ca_bundle_path`).
    pub fn management_port(&self) -> u16 {
        self.management_port
    }

    /// Overrides the ARI answer for `cert_pem` (sid's Pebble only): `ari_response` is the
    /// JSON text Pebble then serves, e.g. a `suggestedWindow` in the past.
    pub fn set_renewal_info(&self, cert_pem: &str, ari_response: &str) {
        let body = serde_json::json!({"Certificate": cert_pem, "ARIResponse": ari_response});
        let response = net::https_post(
            "localhost",
            self.management_port,
            "/set-renewal-info/",
            &body.to_string(),
            &self.ca_pem,
        )
        .unwrap_or_else(|e| panic!("POST /set-renewal-info/ on Pebble's management API: {e}"));
        assert_eq!(
            response.status,
            200,
            "POST /set-renewal-info/: {}",
            response.text()
        );
    }

    fn management_get(&self, path: &str) -> String {
        let response = net::https_get("localhost", self.management_port, path, &self.ca_pem)
            .unwrap_or_else(|e| panic!("GET {path} on Pebble's management API: {e}"));
        assert_eq!(
            response.status,
            200,
            "GET {path} on Pebble's management API: {}",
            response.text()
        );
        response.text()
    }

    fn wait_ready(&mut self, attempt: usize) -> Result<(), StartError> {
        let dns = self.dns_addr();
        let ready = wait_for(START_LIMIT, || {
            if let Some(exited) = self.exited() {
                return Some(Err(exited));
            }
            let dir_ok = net::https_get_at(
                self.listen_ip,
                "localhost",
                self.listen_port,
                "/dir",
                &self.ca_pem,
            )
            .map(|r| r.status == 200 && r.text().contains("newNonce"))
            .unwrap_or(false);
            let mgmt_ok = net::port_answers(self.management_port);
            let dns_ok = net::resolve_a(dns, "ready.certwright.test")
                .map(|ips| !ips.is_empty())
                .unwrap_or(false);
            (dir_ok && mgmt_ok && dns_ok).then_some(Ok(()))
        });
        let logs = || format!("attempt {attempt}\n{}", self.logs());
        match ready {
            Some(Ok(())) => Ok(()),
            Some(Err(exited)) => {
                let log = format!("{exited}\n{}", logs());
                self.kill();
                if log.contains("address already in use") {
                    Err(StartError::PortTaken(log))
                } else {
                    Err(StartError::Fatal(log))
                }
            }
            None => {
                let log = format!("not ready after {START_LIMIT:?}\n{}", logs());
                self.kill();
                Err(StartError::Fatal(log))
            }
        }
    }

    fn exited(&mut self) -> Option<String> {
        for (name, child) in [
            ("pebble", &mut self.pebble),
            ("pebble-challtestsrv", &mut self.challtestsrv),
        ] {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(format!("{name} exited early: {status}"));
            }
        }
        None
    }

    fn kill(&mut self) {
        for child in [&mut self.pebble, &mut self.challtestsrv] {
            kill_group(child);
        }
    }

    /// Hands the temp dir to the next start attempt (this instance is dead already).
    fn take_dir(mut self) -> TempDir {
        self.kill();
        let placeholder = tempfile::tempdir().expect("placeholder temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Ports {
    listen: u16,
    management: u16,
    tls: u16,
    dns: u16,
    challtestsrv_management: u16,
    http: u16,
}

fn pebble_config(
    ports: &Ports,
    listen_ip: IpAddr,
    cert: &Path,
    key: &Path,
    opts: &PebbleOpts,
) -> String {
    let eab = opts.eab;
    let mut pebble = serde_json::json!({
        "listenAddress": SocketAddr::new(listen_ip, ports.listen).to_string(),
        "managementListenAddress": format!("127.0.0.1:{}", ports.management),
        "certificate": cert,
        "privateKey": key,
        "httpPort": ports.http,
        "tlsPort": ports.tls,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": eab,
    });
    if !opts.blocklist.is_empty() {
        pebble["domainBlocklist"] = serde_json::json!(opts.blocklist);
    }
    if opts.sid {
        pebble["profiles"] = sid_profiles();
    }
    if eab {
        pebble["externalAccountMACKeys"] = serde_json::json!({ EAB_KID: EAB_HMAC_KEY });
    }
    serde_json::to_string_pretty(&serde_json::json!({ "pebble": pebble }))
        .expect("serialise pebble config")
}

/// The `profiles` of `PebbleOpts::sid`: `default` (90 days) and `shortlived` (6 days).
fn sid_profiles() -> serde_json::Value {
    serde_json::json!({
        "default": {"description": "90 days", "validityPeriod": PROFILE_DEFAULT_SECS},
        "shortlived": {"description": "6 days", "validityPeriod": PROFILE_SHORTLIVED_SECS},
    })
}

/// (CA PEM, leaf PEM, leaf key PEM): a CA and a `localhost` + `IP:127.0.0.1` (+ `IP:listen_ip`)
/// leaf it signed.
fn throwaway_tls_identity(listen_ip: IpAddr) -> (String, String, String) {
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "certwright test Pebble TLS CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("generate CA key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-sign CA");

    let leaf_key = KeyPair::generate().expect("generate leaf key");
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !names.contains(&listen_ip.to_string()) {
        names.push(listen_ip.to_string());
    }
    let mut leaf_params = CertificateParams::new(names).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca)
        .expect("sign leaf with CA");
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

/// Spawns `cmd` in its own process group with stdout and stderr appended to `log`
/// (a file, not a pipe, so a chatty child never blocks on a full pipe).
fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let out = File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
    let err = out.try_clone().expect("clone log file handle");
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()))
}

/// SIGKILL the child's whole process group, then reap the child.
pub(crate) fn kill_group(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    let _ = child.kill();
    let _ = child.wait();
}
