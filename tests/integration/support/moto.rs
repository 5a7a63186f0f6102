//! moto's server (PyPI `moto[server]`, installed by scripts/install-moto.sh) as the Route53
//! API on 127.0.0.1:FREEPORT, and a bridge (a boto3 script in the same venv) that creates a
//! hosted zone there and copies its `_acme-challenge` TXT records into a bind9 zone with
//! `nsupdate`, since moto serves no DNS: Pebble and the propagation check read bind9.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::bind::{Bind, KEY_ALGORITHM, KEY_NAME, NSUPDATE};
use super::pebble::kill_group;
use super::{free_port, read_lossy, wait_for};

const START_LIMIT: Duration = Duration::from_secs(60);

/// moto's venv, installing it first if this machine has none yet (the script takes a lock).
pub fn moto_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| super::pip_venv("moto", "CERTWRIGHT_MOTO_VENV"))
        .clone()
}

/// A running moto_server and its bridge into `bind` for `zone`; both killed on drop.
pub struct Moto {
    dir: tempfile::TempDir,
    server: Child,
    bridge: Child,
    port: u16,
}

const BRIDGE: &str = r#"
import subprocess, sys, time
import boto3
url, zone, bind_port, key = sys.argv[1:5]
r53 = boto3.client("route53", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="bridge", aws_secret_access_key="bridge")
zone_id = r53.create_hosted_zone(Name=zone + ".", CallerReference="certwright-test")["HostedZone"]["Id"]
print(zone_id, flush=True)
synced = {}
while True:
    now = {}
    for rr in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
        if rr["Type"] == "TXT" and rr["Name"].startswith("_acme-challenge"):
            now[rr["Name"]] = sorted(v["Value"].strip('"') for v in rr.get("ResourceRecords", []))
    script = ""
    for name in set(now) | set(synced):
        if now.get(name) != synced.get(name):
            script += "update delete %s TXT\n" % name
            for v in now.get(name, []):
                script += 'update add %s 60 TXT "%s"\n' % (name, v)
    if script:
        subprocess.run([sys.argv[5], "-y", key], check=True,
                       input="server 127.0.0.1 %s\n%ssend\n" % (bind_port, script), text=True)
        synced = now
    time.sleep(0.1)
"#;

/// moto_server, with one fidelity fix: AWS's ListHostedZonesByName answer always carries
/// IsTruncated and MaxItems (API reference), moto 5.2's leaves them out, and dns-update's
/// parser requires them.
const SERVER: &str = r#"
import sys
from moto.core.responses import ActionResult
from moto.route53.responses import Route53

def list_hosted_zones_by_name(self):
    dnsname, zones = self.backend.list_hosted_zones_by_name(self._get_param("DNSName"))
    return ActionResult({"DNSName": dnsname, "HostedZones": zones,
                         "IsTruncated": False, "MaxItems": "100"})

Route53.list_hosted_zones_by_name = list_hosted_zones_by_name
from moto.server import main
main(sys.argv[1:])
"#;

impl Moto {
    /// Starts moto_server, then the bridge, which creates hosted zone `zone` in moto and
    /// mirrors it into `bind` until dropped.
    pub fn start(bind: &Bind, zone: &str) -> Moto {
        let venv = moto_venv();
        let dir = tempfile::Builder::new()
            .prefix("certwright-moto-")
            .tempdir()
            .expect("moto temp dir");
        let port = free_port();
        let server_script = dir.path().join("server.py");
        std::fs::write(&server_script, SERVER).expect("write server");
        let server = spawn_logged(
            Command::new(venv.join("bin/python3"))
                .arg(&server_script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()]),
            &dir.path().join("moto.log"),
        );
        let up = wait_for(START_LIMIT, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let script = dir.path().join("bridge.py");
        std::fs::write(&script, BRIDGE).expect("write bridge");
        let key = format!("{KEY_ALGORITHM}:{KEY_NAME}:{}", bind.secret());
        let bridge = spawn_logged(
            Command::new(venv.join("bin/python3"))
                .arg(&script)
                .arg(format!("http://127.0.0.1:{port}"))
                .arg(zone)
                .arg(bind.port().to_string())
                .arg(key)
                .arg(NSUPDATE),
            &dir.path().join("bridge.log"),
        );
        let moto = Moto {
            dir,
            server,
            bridge,
            port,
        };
        assert!(up.is_some(), "moto_server did not start:\n{}", moto.logs());
        let zone_made = wait_for(START_LIMIT, || {
            read_lossy(&moto.dir.path().join("bridge.log"))
                .contains("/hostedzone/")
                .then_some(())
        });
        assert!(
            zone_made.is_some(),
            "the bridge did not start:\n{}",
            moto.logs()
        );
        moto
    }

    /// The Route53 endpoint (AWS_ENDPOINT_URL_ROUTE_53).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        format!(
            "--- moto ---\n{}\n--- bridge ---\n{}",
            read_lossy(&self.dir.path().join("moto.log")),
            read_lossy(&self.dir.path().join("bridge.log"))
        )
    }

    /// Every request moto logged (its werkzeug access log).
    pub fn requests(&self) -> String {
        read_lossy(&self.dir.path().join("moto.log"))
    }
}

fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let file = std::fs::File::create(log).expect("create log");
    cmd.stdin(Stdio::null())
        .stdout(file.try_clone().expect("clone log"))
        .stderr(file)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

impl Drop for Moto {
    fn drop(&mut self) {
        kill_group(&mut self.bridge);
        kill_group(&mut self.server);
    }
}
