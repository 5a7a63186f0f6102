//! `certwright doctor` against real bind9 zones, a real nginx, a real Pebble and cron/systemd
//! files in a temp dir: each finding names its record, file:line or address, and a healthy
//! name passes. Everything on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::support::bind::Bind;
use super::support::{Cli, Env, Nginx, Pebble, PebbleOpts};

const ZONE: &str = "doctor.test";

/// A zone file: SOA, NS and `records` (relative names).
fn zone_text(zone: &str, records: &str) -> String {
    format!(
        "$TTL 60\n@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 60\n@ IN NS ns1.{zone}.\nns1 IN A 127.0.0.1\n{records}"
    )
}

/// The names of the main scenario, each with what is wrong with it.
const RECORDS: &str = "\
ok IN A 127.0.0.1
v6broken IN A 127.0.0.1
v6broken IN AAAA ::1
forbidden IN A 127.0.0.1
forbidden IN CAA 0 issue \";\"
dangling IN CNAME gone.doctor.test.
blocked IN A 127.0.0.1
redirect IN A 127.0.0.1
stray IN A 127.0.0.1
";

/// nginx on 127.0.0.1 only (so ::1 refuses): a catch-all first, then the blocks.
const SITE: &str = "\
server {
    listen 127.0.0.1:@PORT0@ default_server;
    server_name _;
    return 404;
}
server {
    listen 127.0.0.1:@PORT0@;
    server_name ok.doctor.test v6broken.doctor.test forbidden.doctor.test;
    root @PREFIX@/www;
}
server {
    listen 127.0.0.1:@PORT0@;
    server_name blocked.doctor.test;
    root @PREFIX@/www;
    location /.well-known/ { deny all; }
}
server {
    listen 127.0.0.1:@PORT0@;
    server_name redirect.doctor.test;
    return 301 http://$host:@PORT1@$request_uri;
}
server {
    listen 127.0.0.1:@PORT1@;
    server_name redirect.doctor.test;
    root @PREFIX@/www;
}
";

struct Scene {
    bind: Bind,
    nginx: Nginx,
    pebble: Pebble,
    env: Env,
    /// An empty system root: no cron, no systemd.
    system: tempfile::TempDir,
}

impl Scene {
    fn start() -> Scene {
        let bind = Bind::start_zones(&[(ZONE.to_string(), zone_text(ZONE, RECORDS))]);
        let nginx = Nginx::start(SITE);
        std::fs::create_dir_all(nginx.server_root().join("www")).expect("create webroot");
        Scene {
            bind,
            nginx,
            pebble: Pebble::start(PebbleOpts::default()),
            env: Env::new(),
            system: tempfile::tempdir().expect("system root"),
        }
    }

    fn webroot(&self) -> PathBuf {
        self.nginx.server_root().join("www")
    }

    /// `doctor --webroot` for `names` through the scene's nginx, bind and Pebble.
    fn doctor(&self, names: &[&str], extra: &[&str]) -> super::support::cli::Output {
        let webroot = self.webroot().display().to_string();
        self.doctor_with(&["--webroot", "-w", &webroot], names, extra)
    }

    /// `doctor` with the solver flags `solver`.
    fn doctor_with(
        &self,
        solver: &[&str],
        names: &[&str],
        extra: &[&str],
    ) -> super::support::cli::Output {
        let mut cli = self
            .env
            .cli()
            .arg("doctor")
            .args(self.env.dir_flags())
            .args(["--server", &self.pebble.directory_url()])
            .arg("--ca-bundle")
            .arg(self.pebble.ca_bundle_path())
            .arg("--dns-resolver")
            .arg(self.bind.addr().to_string())
            .arg("--http-01-port")
            .arg(self.nginx.port(0).to_string())
            .arg("--nginx-server-root")
            .arg(self.nginx.server_root())
            .env("CERTWRIGHT_SYSTEM_ROOT", self.system.path())
            .args(solver);
        for n in names {
            cli = cli.args(["-d", &format!("{n}.{ZONE}")]);
        }
        cli.args(extra).run()
    }
}

/// The findings of one name in a `--json` report.
fn findings<'a>(report: &'a Value, name: &str) -> &'a Vec<Value> {
    let full = format!("{name}.{ZONE}");
    report["names"]
        .as_array()
        .and_then(|names| names.iter().find(|n| n["name"] == full.as_str()))
        .and_then(|n| n["findings"].as_array())
        .unwrap_or_else(|| panic!("no report for {full}: {report:#}"))
}

/// The one finding of `check` for `name`, as "what | where".
fn finding(report: &Value, name: &str, check: &str) -> String {
    let all = findings(report, name);
    let f = all
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("{name}: no {check} finding in {all:#?}"));
    assert_eq!(f["severity"], "error", "{f:#}");
    assert!(!f["fix"].as_str().unwrap_or_default().is_empty(), "{f:#}");
    format!(
        "{} | {}",
        f["what"].as_str().unwrap_or_default(),
        f["where"].as_str().unwrap_or_default()
    )
}

/// The 1-based line of the first line of `path` containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read site");
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", path.display()))
}

#[test]
fn each_broken_name_is_explained_and_the_healthy_one_passes() {
    let s = Scene::start();
    let names = [
        "ok",
        "v6broken",
        "forbidden",
        "dangling",
        "blocked",
        "redirect",
        "stray",
        "missing",
    ];
    let out = s.doctor(&names, &["--json"]);
    out.assert_code(7);
    let report = out.json();
    let site = s.nginx.site_path();
    // nginx reads the site through its sites-enabled link: findings name that path.
    let site_shown = s
        .nginx
        .server_root()
        .join("sites-enabled/default")
        .display()
        .to_string();

    assert!(findings(&report, "ok").is_empty(), "{report:#}");
    let v6 = finding(&report, "v6broken", "http");
    assert!(
        v6.contains("IPv6 address ::1") && v6.contains("while IPv4 works"),
        "{v6}"
    );
    let caa = finding(&report, "forbidden", "caa");
    assert!(
        caa.contains("forbidden.doctor.test CAA 0 issue \";\""),
        "{caa}"
    );
    let dangling = finding(&report, "dangling", "dns");
    assert!(
        dangling.contains("dangling.doctor.test CNAME gone.doctor.test"),
        "{dangling}"
    );
    let blocked = finding(&report, "blocked", "nginx");
    let deny_line = line_of(&site, "location /.well-known/ { deny all; }");
    assert!(blocked.contains("403"), "{blocked}");
    assert!(
        blocked.contains(&format!("{site_shown}:{deny_line}")),
        "{blocked}"
    );
    assert!(
        blocked.contains("(`location /.well-known/ { deny all; }`)"),
        "{blocked}"
    );
    let redirect = finding(&report, "redirect", "http");
    let other = s.nginx.port(1);
    let return_line = line_of(&site, "return 301");
    assert!(redirect.contains(&format!("to port {other}")), "{redirect}");
    assert!(
        redirect.contains(&format!("{site_shown}:{return_line}")),
        "{redirect}"
    );
    let stray = finding(&report, "stray", "nginx");
    assert!(
        stray.contains("catch-all") && stray.contains(&format!("{site_shown}:1")),
        "{stray}"
    );
    let missing = finding(&report, "missing", "dns");
    assert!(missing.contains("NXDOMAIN"), "{missing}");

    // The text form says the same, with where and the fix.
    let text = s.doctor(&["blocked", "redirect", "v6broken"], &[]);
    text.assert_code(7);
    println!("{}", text.stdout);
    assert!(
        text.stdout.contains(&format!(
            "      where: {site_shown}:{deny_line} (`location /.well-known/ {{ deny all; }}`)"
        )),
        "{text}"
    );

    // What it published to probe is gone again.
    let left = s.webroot().join(".well-known/acme-challenge");
    let files = std::fs::read_dir(&left).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files, 0, "token files left in {}", left.display());
}

#[test]
fn a_healthy_name_with_a_renewal_timer_exits_zero_with_no_findings() {
    let s = Scene::start();
    let root = s.system.path();
    std::fs::create_dir_all(root.join("run/systemd/system")).expect("mkdir");
    let wants = root.join("etc/systemd/system/timers.target.wants");
    std::fs::create_dir_all(&wants).expect("mkdir");
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/certwright-renew.timer",
        wants.join("certwright-renew.timer"),
    )
    .expect("symlink");
    let out = s.doctor(&["ok"], &[]);
    out.assert_success();
    assert!(
        out.stdout
            .contains("ok.doctor.test (http-01, 127.0.0.1): ok"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("0 error(s), 0 warning(s)"),
        "{}",
        out.stdout
    );

    // Through the nginx solver too: its temporary location answers, and is removed again.
    let before = std::fs::read_to_string(s.nginx.site_path()).expect("read site");
    let out = s.doctor_with(&["--nginx", "--nginx-ctl", "/usr/sbin/nginx"], &["ok"], &[]);
    out.assert_success();
    assert!(
        out.stdout
            .contains("ok.doctor.test (http-01, 127.0.0.1): ok"),
        "{out}"
    );
    let after = std::fs::read_to_string(s.nginx.site_path()).expect("read site");
    assert_eq!(before, after, "the nginx solver's location was left behind");
}

/// A zone signed with dnssec-signzone whose A record was changed afterwards, its KSK as
/// the resolver's trust anchor.
fn broken_signed_zone(dir: &Path) -> (String, String) {
    let zone = "signed.test";
    let unsigned = dir.join("unsigned.zone");
    std::fs::write(&unsigned, zone_text(zone, "www IN A 127.0.0.1\n")).expect("write zone");
    let keygen = |extra: &[&str]| {
        let out = Command::new("dnssec-keygen")
            .args(["-q", "-a", "ECDSAP256SHA256", "-K"])
            .arg(dir)
            .args(extra)
            .arg(zone)
            .output()
            .expect("run dnssec-keygen (apt-get install bind9-utils)");
        assert!(out.status.success(), "dnssec-keygen: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let ksk = keygen(&["-f", "KSK"]);
    keygen(&[]);
    let signed = dir.join("signed.zone");
    let out = Command::new("dnssec-signzone")
        .args(["-S", "-q", "-K"])
        .arg(dir)
        // dsset-ZONE goes next to the keys, not into the current directory.
        .arg("-d")
        .arg(dir)
        .args(["-o", zone, "-f"])
        .arg(&signed)
        .arg(&unsigned)
        .output()
        .expect("run dnssec-signzone");
    assert!(out.status.success(), "dnssec-signzone: {out:?}");
    let text = std::fs::read_to_string(&signed).expect("read signed zone");
    let broken: String = text
        .lines()
        .map(|l| {
            let a_record =
                l.starts_with("www.signed.test.") && l.split_whitespace().any(|w| w == "A");
            if a_record {
                l.replace("127.0.0.1", "127.0.0.2")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(broken, text, "no A record to break in:\n{text}");
    let key = std::fs::read_to_string(dir.join(format!("{ksk}.key"))).expect("read KSK");
    let dnskey = key
        .lines()
        .find(|l| l.contains("DNSKEY"))
        .expect("DNSKEY line")
        .split("DNSKEY")
        .nth(1)
        .expect("key data")
        .split_whitespace()
        .collect::<Vec<_>>();
    let anchor = format!(
        "{zone}. static-key {} {} {} \"{}\";",
        dnskey[0],
        dnskey[1],
        dnskey[2],
        dnskey[3..].join("")
    );
    (broken + "\n", anchor)
}

#[test]
fn a_broken_dnssec_signature_is_named_as_the_cause() {
    let keys = tempfile::tempdir().expect("key dir");
    let (signed, anchor) = broken_signed_zone(keys.path());
    // The parent zone too, so CAA tree climbing gets an answer for `test.`.
    let auth = Bind::start_zones(&[
        ("signed.test".to_string(), signed),
        ("test".to_string(), zone_text("test", "")),
    ]);
    let resolver = Bind::start_validating_resolver(&auth, &anchor);
    let pebble = Pebble::start(PebbleOpts::default());
    let env = Env::new();
    let system = tempfile::tempdir().expect("system root");
    let out = env
        .cli()
        .arg("doctor")
        .args(env.dir_flags())
        .args(["--server", &pebble.directory_url()])
        .arg("--ca-bundle")
        .arg(pebble.ca_bundle_path())
        .args([
            "--dns-resolver",
            &resolver.addr().to_string(),
            "-d",
            "www.signed.test",
            "--json",
        ])
        .env("CERTWRIGHT_SYSTEM_ROOT", system.path())
        .run();
    out.assert_code(7);
    let report = out.json();
    let names = report["names"].as_array().expect("names");
    let f = names[0]["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["check"] == "dnssec"))
        .unwrap_or_else(|| panic!("no dnssec finding: {report:#}\n{}", resolver.logs()));
    assert!(
        f["what"]
            .as_str()
            .unwrap_or_default()
            .contains("www.signed.test"),
        "{f:#}"
    );
    assert!(
        f["where"]
            .as_str()
            .unwrap_or_default()
            .contains("www.signed.test A"),
        "{f:#}"
    );
}

#[test]
fn renewal_set_up_findings_name_their_cron_line_and_certbot_overlap() {
    let rig = super::support::rig::Rig::new();
    // Four certificates for the same name this week: one short of Let's Encrypt's limit.
    rig.certonly("renewed.example.test", &[]).assert_success();
    for _ in 0..3 {
        rig.certonly("renewed.example.test", &["--force-renewal"])
            .assert_success();
    }
    // A second lineage with the same solver and CA: checked in the same round.
    rig.certonly("second.example.test", &[]).assert_success();
    let root = tempfile::tempdir().expect("system root");
    let crontabs = root.path().join("var/spool/cron/crontabs");
    std::fs::create_dir_all(&crontabs).expect("mkdir");
    std::fs::write(
        crontabs.join("root"),
        "# m h dom mon dow command\n0 0 1 * * certbot renew --dry-run\n",
    )
    .expect("write crontab");
    std::fs::create_dir_all(root.path().join("run/systemd/system")).expect("mkdir");
    let wants = root.path().join("etc/systemd/system/timers.target.wants");
    std::fs::create_dir_all(&wants).expect("mkdir");
    std::os::unix::fs::symlink(
        "/lib/systemd/system/certbot.timer",
        wants.join("certbot.timer"),
    )
    .expect("symlink");
    let certbot = root.path().join("letsencrypt");
    std::fs::create_dir_all(certbot.join("renewal")).expect("mkdir");
    std::fs::write(
        certbot.join("renewal/renewed.example.test.conf"),
        "version = 2.0.0\n",
    )
    .expect("write certbot conf");

    // No names: the lineage's, with its saved solver; Pebble's DNS resolves it here.
    let out = rig
        .env
        .cli()
        .arg("doctor")
        .args(rig.env.dir_flags())
        .arg("--dns-resolver")
        .arg(rig.pebble.dns_addr().to_string())
        .arg("--certbot-dir")
        .arg(&certbot)
        .arg("--json")
        .env("CERTWRIGHT_SYSTEM_ROOT", root.path())
        .run();
    out.assert_success();
    let report = out.json();
    assert_eq!(
        report["names"][0]["name"], "renewed.example.test",
        "{report:#}"
    );
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(
        report["names"][1]["name"], "second.example.test",
        "{report:#}"
    );
    assert_eq!(
        report["names"][1]["findings"],
        serde_json::json!([]),
        "{report:#}"
    );
    assert_eq!(
        report["names"][1]["probes"][0]["answered"], true,
        "{report:#}"
    );
    let limit = &report["names"][0]["findings"][0];
    assert_eq!(limit["check"], "rate-limit", "{report:#}");
    assert_eq!(limit["severity"], "warning", "{report:#}");
    assert!(
        limit["what"]
            .as_str()
            .unwrap_or_default()
            .starts_with("4 certificate(s) for exactly renewed.example.test"),
        "{report:#}"
    );
    let renewal: Vec<String> = report["renewal"]
        .as_array()
        .expect("renewal findings")
        .iter()
        .map(|f| format!("{} | {}", f["what"], f["where"]))
        .collect();
    let all = renewal.join("\n");
    let cron = format!("{}:2", crontabs.join("root").display());
    assert!(
        renewal
            .iter()
            .any(|f| f.contains("renew --dry-run") && f.contains(&cron)),
        "{all}"
    );
    assert!(
        renewal.iter().any(|f| f.contains("nothing will renew")),
        "{all}"
    );
    assert!(
        renewal
            .iter()
            .any(|f| f.contains("certbot also renews renewed.example.test")
                && f.contains("certbot.timer")),
        "{all}"
    );
}

#[test]
fn a_failed_validation_prints_the_findings_under_the_cas_error() {
    // A server-level `return 403` runs before the location the nginx solver adds.
    let nginx = Nginx::start(
        "server {\n    listen 127.0.0.1:@PORT0@;\n    server_name fail.example.test;\n    return 403;\n}\n",
    );
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let env = Env::new();
    let out = certonly_nginx(&env, &pebble, &nginx, "fail.example.test")
        // The post-failure checks resolve the name as the CA does: at Pebble's DNS.
        .env("CERTWRIGHT_DOCTOR_RESOLVER", pebble.dns_addr().to_string())
        .run();
    out.assert_code(1);
    let site = nginx.server_root().join("sites-enabled/default");
    let line = line_of(&nginx.site_path(), "return 403;");
    assert!(
        out.stderr
            .contains("validation of fail.example.test failed"),
        "{out}"
    );
    let expected = format!(
        "doctor: nginx answers 403 for /.well-known/acme-challenge/ at {}:{line} (`return 403;`)",
        site.display()
    );
    assert!(out.stderr.contains(&expected), "{out}");
}

#[test]
fn renew_dry_run_says_it_renews_nothing_and_whether_anything_will() {
    let rig = super::support::rig::Rig::new();
    rig.certonly("dry.example.test", &[]).assert_success();
    let root = tempfile::tempdir().expect("system root");
    let dry_run = |root: &Path| {
        rig.env
            .renew_cli(&["--dry-run"])
            .env("CERTWRIGHT_SYSTEM_ROOT", root)
            .run()
    };
    let out = dry_run(root.path());
    out.assert_success();
    let last = out.stdout.lines().last().unwrap_or_default().to_string();
    assert!(last.contains("A dry run renews nothing"), "{out}");
    assert!(
        last.contains("Nothing on this machine renews them for real"),
        "{out}"
    );

    let crontabs = root.path().join("var/spool/cron/crontabs");
    std::fs::create_dir_all(&crontabs).expect("mkdir");
    std::fs::write(crontabs.join("root"), "17 3 * * * certwright -q renew\n").expect("crontab");
    let out = dry_run(root.path());
    out.assert_success();
    let last = out.stdout.lines().last().unwrap_or_default().to_string();
    assert!(last.contains("A dry run renews nothing"), "{out}");
    assert!(!last.contains("Nothing on this machine"), "{out}");
}

#[test]
fn dns_01_finds_zone_and_delegation_and_tries_the_credentials() {
    let bind = Bind::start();
    let pebble = Pebble::start(PebbleOpts::default());
    let env = Env::new();
    let system = tempfile::tempdir().expect("system root");
    let doctor = |credentials: &Path| {
        env.cli()
            .arg("doctor")
            .args(env.dir_flags())
            .args(["--server", &pebble.directory_url()])
            .arg("--ca-bundle")
            .arg(pebble.ca_bundle_path())
            .arg("--dns-rfc2136")
            .arg("--dns-rfc2136-credentials")
            .arg(credentials)
            .args(["--dns-resolver", &bind.addr().to_string()])
            .args([
                "-d",
                "www.example.test",
                "-d",
                "alias.example.test",
                "--json",
            ])
            .env("CERTWRIGHT_SYSTEM_ROOT", system.path())
            .run()
    };
    let good = bind.write_credentials(env.root(), bind.secret());
    let out = doctor(&good);
    out.assert_success();
    let report = out.json();
    assert_eq!(report["errors"], 0, "{report:#}");
    let names = report["names"].as_array().expect("names");
    assert_eq!(names[0]["zone"], "example.test", "{report:#}");
    assert_eq!(names[1]["zone"], "delegated.test", "{report:#}");
    assert_eq!(
        names[1]["cname_chain"][0],
        "_acme-challenge.alias.example.test -> alias.acme.delegated.test",
        "{report:#}"
    );
    // The test records were published (the solver waited for them) and removed.
    assert!(bind.txt("_acme-challenge.www.example.test").is_empty());
    assert!(bind
        .txt("alias.acme.delegated.test")
        .iter()
        .all(|v| v.contains("zone apex")));

    let wrong = tempfile::tempdir().expect("dir");
    let bad = bind.write_credentials(
        wrong.path(),
        "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXIncyBrZXk=",
    );
    let out = doctor(&bad);
    out.assert_code(7);
    let report = out.json();
    let f = &report["names"][0]["findings"][0];
    assert_eq!(f["check"], "dns-01", "{report:#}");
    assert!(
        f["what"]
            .as_str()
            .unwrap_or_default()
            .contains("could not publish a test TXT record"),
        "{report:#}"
    );
}

#[test]
fn bad_input_is_refused_before_any_lookup() {
    let env = Env::new();
    let run = |args: &[&str]| {
        env.cli()
            .arg("doctor")
            .args(env.dir_flags())
            .args(["--server", &super::support::cli::dead_server_url()])
            .args(args)
            .run()
    };
    let out = run(&["-d", "not a name"]);
    out.assert_code(2);
    let out = run(&["--webroot", "-w", "/srv/www"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("--webroot in doctor needs the -d names"),
        "{out}"
    );
    let out = run(&["--cert-name", "nothing-here"]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("no certificate named nothing-here"),
        "{out}"
    );
}

#[test]
fn a_failed_renewal_alert_carries_the_findings() {
    use super::support::webhook::{Behaviour, Receiver};
    let served = "server {\n    listen 127.0.0.1:@PORT0@;\n    server_name alert.example.test;\n    root @PREFIX@/www;\n}\n";
    let nginx = Nginx::start(served);
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let env = Env::new();
    certonly_nginx(&env, &pebble, &nginx, "alert.example.test")
        .run()
        .assert_success();
    // Then someone adds a rule in front of every path (the renewal's reload picks it up).
    let site = nginx.site_path();
    let text = std::fs::read_to_string(&site).expect("read site");
    std::fs::write(
        &site,
        text.replace("    root ", "    return 403;\n    root "),
    )
    .expect("write site");
    pebble.forget_authorizations(&env.config_dir());
    let hook = Receiver::start(Behaviour::Status(200));
    let out = env
        .renew_cli(&["--force-renewal", "--notify-webhook"])
        .arg(hook.url("/alerts"))
        .env("CERTWRIGHT_DOCTOR_RESOLVER", pebble.dns_addr().to_string())
        .run();
    out.assert_code(1);
    let line = line_of(&site, "return 403;");
    let expected = format!(
        "doctor: nginx answers 403 for /.well-known/acme-challenge/ at {}:{line} (`return 403;`)",
        nginx.server_root().join("sites-enabled/default").display()
    );
    let alerts = hook.received();
    let failed = alerts
        .iter()
        .map(|r| r.json())
        .find(|b| b["event"]["kind"] == "renewal_failed")
        .unwrap_or_else(|| panic!("no renewal_failed alert\n{out}"));
    let error = failed["event"]["error"].as_str().unwrap_or_default();
    assert!(error.contains(&expected), "{error}\n{out}");
}

/// `certonly --nginx` for `name` into `nginx`, validated by `pebble`.
fn certonly_nginx(env: &Env, pebble: &Pebble, nginx: &Nginx, name: &str) -> Cli {
    env.cli()
        .arg("certonly")
        .args(env.flags(pebble))
        .args([
            "--nginx",
            "--nginx-ctl",
            "/usr/sbin/nginx",
            "--nginx-server-root",
        ])
        .arg(nginx.server_root())
        .args(["--http-01-port", &nginx.port(0).to_string(), "-d", name])
}
