//! A private PowerDNS Authoritative server (Debian `pdns-server` + `pdns-backend-sqlite3`) per
//! test: an SQLite database in a temp dir holding zone `example.test`, DNS on
//! 127.0.0.1:FREEPORT and the built-in HTTP API on another free port with a random key.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::bind::{dig_at, txt_values};
use super::pebble::kill_group;
use super::{free_port, read_lossy, wait_for};

const PDNS_SERVER: &str = "/usr/sbin/pdns_server";
const PDNSUTIL: &str = "/usr/bin/pdnsutil";
const SCHEMA: &str = "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql";
pub const ZONE: &str = "example.test";
const START_LIMIT: Duration = Duration::from_secs(30);

pub struct Pdns {
    dir: TempDir,
    child: Child,
    dns_port: u16,
    api_port: u16,
    api_key: String,
}

impl Pdns {
    /// Creates the database and zone, starts pdns_server and waits until DNS and the API
    /// answer. Panics with its output otherwise.
    pub fn start() -> Pdns {
        let dir = tempfile::Builder::new()
            .prefix("certwright-pdns-")
            .tempdir()
            .expect("create pdns temp dir");
        let api_key = format!("{:032x}", rand::random::<u128>());
        let db = dir.path().join("pdns.sqlite3");
        let schema = std::fs::read_to_string(SCHEMA)
            .unwrap_or_else(|e| panic!("{SCHEMA}: {e} (apt-get install pdns-backend-sqlite3)"));
        run(Command::new("sqlite3").arg(&db).arg(schema));
        let (dns_port, api_port) = (free_port(), free_port());
        std::fs::write(
            dir.path().join("pdns.conf"),
            conf(dir.path(), dns_port, api_port, &api_key),
        )
        .expect("write pdns.conf");
        let config_dir = format!("--config-dir={}", dir.path().display());
        run(Command::new(PDNSUTIL).args([&config_dir, "create-zone", ZONE, "ns1.example.test"]));
        let log = std::fs::File::create(dir.path().join("pdns.log")).expect("create log");
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(PDNS_SERVER)
                .arg(&config_dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("spawn {PDNS_SERVER}: {e} (apt-get install pdns-server)")
                })
        };
        let mut pdns = Pdns {
            dir,
            child,
            dns_port,
            api_port,
            api_key,
        };
        let ready = wait_for(START_LIMIT, || {
            if let Ok(Some(status)) = pdns.child.try_wait() {
                return Some(Err(status.to_string()));
            }
            let api = std::net::TcpStream::connect(("127.0.0.1", pdns.api_port)).is_ok();
            let dns = pdns
                .dig(ZONE, "SOA")
                .iter()
                .any(|l| l.contains("hostmaster"));
            (api && dns).then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => pdns,
            other => panic!(
                "pdns_server did not start ({other:?}):\n{}",
                read_lossy(&pdns.dir.path().join("pdns.log"))
            ),
        }
    }

    pub fn dns_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dns_port))
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// `dig +short` lines from this server.
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        dig_at(self.dns_port, name, rtype)
    }

    /// The TXT values at `name` (sorted, unquoted).
    pub fn txt(&self, name: &str) -> Vec<String> {
        txt_values(&self.dig(name, "TXT"))
    }
}

impl Drop for Pdns {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

fn conf(dir: &Path, dns_port: u16, api_port: u16, key: &str) -> String {
    let d = dir.display();
    format!(
        "launch=gsqlite3\n\
         gsqlite3-database={d}/pdns.sqlite3\n\
         socket-dir={d}\n\
         guardian=no\n\
         daemon=no\n\
         disable-syslog=yes\n\
         write-pid=no\n\
         local-address=127.0.0.1\n\
         local-port={dns_port}\n\
         api=yes\n\
         api-key={key}\n\
         webserver=yes\n\
         webserver-address=127.0.0.1\n\
         webserver-port={api_port}\n\
         webserver-allow-from=127.0.0.1/32\n\
         cache-ttl=0\n\
         negquery-cache-ttl=0\n\
         query-cache-ttl=0\n"
    )
}
