//! `--dns-route53` against moto's Route53 API (AWS_ENDPOINT_URL_ROUTE_53), with a bridge that
//! copies moto's records into bind9, which Pebble and the propagation check read: credentials
//! from the environment and from an EC2 instance role over IMDSv2 (a small local IMDS), the
//! secrets in no output, file or hook environment.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::bind::Bind;
use crate::support::certs::Lineage;
use crate::support::cli::Cli;
use crate::support::moto::Moto;
use crate::support::rig::Rig;
use crate::support::{assert_secret_nowhere, PebbleOpts};

const SECRET: &str = "route53-secret-key-must-not-leak";
const TOKEN: &str = "route53-session-token-must-not-leak";

fn route53_cli(rig: &Rig, bind: &Bind, moto: &Moto, home: &Path) -> Cli {
    rig.env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .arg("--dns-route53")
        .args(["--dns-resolver", &bind.addr().to_string()])
        .env("AWS_ENDPOINT_URL_ROUTE_53", moto.url())
        .env("HOME", home)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

#[test]
fn route53_with_environment_credentials_issues_a_wildcard_and_keeps_them_secret() {
    let bind = Bind::start();
    let moto = Moto::start(&bind, "example.test");
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let home = tempfile::tempdir().expect("home");
    let with_keys = |cli: Cli| {
        cli.env("AWS_ACCESS_KEY_ID", "AKIDCERTWRIGHTTEST")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
    };
    let out = with_keys(route53_cli(&rig, &bind, &moto, home.path()))
        .args(["-d", "*.example.test", "-d", "example.test", "-vv"])
        .run();
    assert_eq!(out.code, 0, "{out:?}\n{}", moto.logs());
    Lineage::at(rig.env.live("example.test")).assert_valid_for(
        &["*.example.test", "example.test"],
        &rig.pebble.root_pem_path(),
    );
    // ChangeResourceRecordSets (the bridge only reads, with GET).
    let changes = moto
        .requests()
        .lines()
        .filter(|l| l.contains("POST /2013-04-01/hostedzone/") && l.contains("/rrset"))
        .count();
    assert!(changes >= 2, "add and remove expected:\n{}", moto.logs());
    // GetChange was asked for each added value's change (INSYNC at once in moto) before
    // the challenges were answered; removals are not waited for.
    let get_change = |log: &str| {
        log.lines()
            .filter(|l| l.contains("GET /2013-04-01/change/"))
            .count()
    };
    assert_eq!(get_change(&moto.requests()), 2, "{}", moto.logs());
    let gone = crate::support::wait_for(std::time::Duration::from_secs(10), || {
        bind.txt("_acme-challenge.example.test")
            .is_empty()
            .then_some(())
    });
    assert!(gone.is_some(), "records left in Route53:\n{}", moto.logs());
    let conf = std::fs::read_to_string(rig.env.renewal_conf("example.test")).expect("conf");
    assert!(conf.contains("dns-route53"), "{conf}");

    // renew reuses it; a deploy hook's environment has no AWS secret.
    let env_file = home.path().join("hook.env");
    let renewed = with_keys(rig.env.renew_cli(&["--force-renewal"]))
        .arg("--deploy-hook")
        .arg(format!("env > {}", env_file.display()))
        .env("AWS_ENDPOINT_URL_ROUTE_53", moto.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .run();
    assert_eq!(renewed.code, 0, "{renewed:?}\n{}", moto.logs());
    let hook_env = std::fs::read_to_string(&env_file).expect("deploy hook ran");
    assert!(hook_env.contains("RENEWED_LINEAGE"), "{hook_env}");
    for secret in [SECRET, TOKEN] {
        assert!(!hook_env.contains(secret), "{hook_env}");
        assert_secret_nowhere(secret, rig.env.root(), &[&out, &renewed]);
    }
}

/// A minimal IMDSv2: a token from PUT /latest/api/token, then the role and its credentials
/// only for requests carrying that token. Returns its URL and the request lines seen.
fn fake_imds() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            let mut token_ok = false;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                if request.is_empty() {
                    request = line.trim().to_string();
                }
                token_ok |=
                    line.to_ascii_lowercase().trim() == "x-aws-ec2-metadata-token: imds-tok";
                line.clear();
            }
            let body = match (request.split(' ').nth(1).unwrap_or(""), token_ok) {
                ("/latest/api/token", _) if request.starts_with("PUT") => {
                    Some("imds-tok".to_string())
                }
                ("/latest/meta-data/iam/security-credentials/", true) => Some("web-role".into()),
                ("/latest/meta-data/iam/security-credentials/web-role", true) => Some(format!(
                    r#"{{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"{SECRET}","Token":"{TOKEN}"}}"#
                )),
                _ => None,
            };
            log.lock()
                .expect("log")
                .push(format!("{request} token={token_ok}"));
            let mut stream = stream;
            let _ = match body {
                Some(b) => write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                    b.len()
                ),
                None => write!(
                    stream,
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            };
        }
    });
    (url, seen)
}

#[test]
fn route53_with_the_instance_role_over_imdsv2() {
    let bind = Bind::start();
    let moto = Moto::start(&bind, "example.test");
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let home = tempfile::tempdir().expect("home");
    let (imds, seen) = fake_imds();
    let out = route53_cli(&rig, &bind, &moto, home.path())
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .args(["-d", "www.example.test"])
        .run();
    assert_eq!(out.code, 0, "{out:?}\n{}", moto.logs());
    let seen = seen.lock().expect("log").clone();
    assert!(
        seen.iter().any(|r| r.starts_with("PUT /latest/api/token")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.contains("security-credentials/web-role") && r.ends_with("token=true")),
        "the role credentials were not fetched with the IMDSv2 token: {seen:?}"
    );
    assert_secret_nowhere(SECRET, rig.env.root(), &[&out]);

    // No credentials anywhere: a clear error naming the chain, exit 1, nothing issued.
    let rig2 = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let out = route53_cli(&rig2, &bind, &moto, home.path())
        .args(["-d", "none.example.test"])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("no AWS credentials") && out.stderr.contains("AWS_PROFILE"),
        "{out:?}"
    );
    assert!(!rig2.env.live("none.example.test").exists());
}
