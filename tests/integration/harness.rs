//! Self-tests of the harness, independent of the certwright binary's behaviour: they prove
//! Pebble, challtestsrv, nginx and the file checkers work, so an end-to-end failure points at
//! certwright and not at the rig. Issuance here uses instant-acme directly.

use std::path::Path;
use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, ExternalAccountKey, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};

use crate::support::certs::{KeyKind, Lineage};
use crate::support::net;
use crate::support::nginx::process_alive;
use crate::support::pebble::{EAB_HMAC_KEY, EAB_KID};
use crate::support::proxy::GatedProxy;
use crate::support::{block_on, Cli, Nginx, Pebble, PebbleOpts, Snapshot};

#[test]
fn pebble_answers_directory_over_tls_and_dns_resolves() {
    let pebble = Pebble::start_default();
    let url = pebble.directory_url();
    assert!(url.starts_with("https://localhost:") && url.ends_with("/dir"));

    let ca = std::fs::read_to_string(pebble.ca_bundle_path()).unwrap();
    let port: u16 = url
        .trim_start_matches("https://localhost:")
        .trim_end_matches("/dir")
        .parse()
        .unwrap();
    let dir = net::https_get("localhost", port, "/dir", &ca).unwrap();
    assert_eq!(dir.status, 200);
    assert!(
        dir.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.contains("json")),
        "{:?}",
        dir.headers
    );
    let json: serde_json::Value = serde_json::from_slice(&dir.body).unwrap();
    for key in ["newNonce", "newAccount", "newOrder", "revokeCert"] {
        assert!(
            json[key].as_str().is_some(),
            "directory lacks {key}: {json}"
        );
    }
    assert!(json["meta"]["termsOfService"].as_str().is_some());

    // The same request with another CA must fail: the bundle is what makes TLS work.
    let other_ca = rcgen::CertificateParams::default()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem();
    assert!(net::https_get("localhost", port, "/dir", &other_ca).is_err());

    let ips = net::resolve_a(pebble.dns_addr(), "anything.certwright.test").unwrap();
    assert_eq!(ips, vec![std::net::Ipv4Addr::LOCALHOST]);

    let root = pebble.root_pem();
    let intermediate = pebble.intermediate_pem();
    assert!(root.contains("BEGIN CERTIFICATE"), "{root}");
    assert!(intermediate.contains("BEGIN CERTIFICATE"), "{intermediate}");
    assert_ne!(root, intermediate);
}

#[test]
fn two_pebbles_run_side_by_side() {
    let a = Pebble::start_default();
    let b = Pebble::start_default();
    assert_ne!(a.directory_url(), b.directory_url());
    assert_ne!(a.root_pem(), b.root_pem());
}

#[test]
fn nginx_starts_on_temp_prefix_and_passes_config_test() {
    let webroot = tempfile::tempdir().unwrap();
    std::fs::write(webroot.path().join("canary.txt"), "tweet").unwrap();
    let nginx = Nginx::start(&format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name _;\n    root {};\n}}\n\
         server {{\n    listen 127.0.0.1:@PORT1@;\n    return 204;\n}}\n",
        webroot.path().display()
    ));
    assert_ne!(nginx.port(0), nginx.port(1));
    let test = nginx.config_test();
    assert!(
        test.status.success(),
        "nginx -t failed: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(nginx.conf_path().ends_with("nginx.conf"));
    let site = std::fs::read_to_string(nginx.site_path()).unwrap();
    assert!(
        site.contains(&format!("listen 127.0.0.1:{};", nginx.port(0))),
        "{site}"
    );
    assert!(
        !nginx.error_log().contains("[emerg]"),
        "{}",
        nginx.error_log()
    );
    assert!(nginx.server_root().join("sites-enabled/default").exists());

    let got = net::http_get(nginx.port(0), "example.com", "/canary.txt").unwrap();
    assert_eq!((got.status, got.text().as_str()), (200, "tweet"));
    let got = net::http_get(nginx.port(1), "example.com", "/").unwrap();
    assert_eq!(got.status, 204);
    assert!(nginx.access_log().contains("GET /canary.txt"));

    let pid = nginx.read_pid().expect("nginx pid file");
    assert!(process_alive(pid));
    let port = nginx.port(0);
    drop(nginx);
    assert!(!process_alive(pid), "nginx master {pid} survived drop");
    assert!(
        !net::port_answers(port),
        "port {port} still answers after drop"
    );
}

/// The whole rig at once: Pebble validates HTTP-01 through nginx serving a webroot, the
/// certificate comes back, and every checker accepts it (and rejects a wrong key / root).
#[test]
fn instant_acme_issues_through_nginx_webroot_and_checkers_agree() {
    let webroot = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(&format!(
        "server {{\n    listen 127.0.0.1:@PORT0@ default_server;\n    server_name _;\n    root {};\n}}\n",
        webroot.path().display()
    ));
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let names = ["rig.example.com", "www.rig.example.com"];

    let out = tempfile::tempdir().unwrap();
    let lineage = Lineage::at(out.path());
    block_on(issue_via_webroot(
        &pebble,
        &names,
        webroot.path(),
        out.path(),
    ));

    assert!(nginx.access_log().contains("/.well-known/acme-challenge/"));
    lineage.assert_valid_for(&names, &pebble.root_pem_path());
    let leaf = lineage.leaf();
    assert_eq!(leaf.key_kind, KeyKind::Ecdsa("secp256r1".into()));
    assert_eq!(lineage.private_key_kind(), leaf.key_kind);
    assert_eq!(pebble.cert_status(&leaf.serial_hex), "Valid");
    let years = (leaf.not_after() - time::OffsetDateTime::now_utc()).whole_days() / 365;
    assert!(
        years >= 1,
        "Pebble 2.4.0 certificates last years, got {years}"
    );

    // Checkers must fail on a wrong key and a wrong root.
    std::fs::write(
        lineage.privkey_path(),
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    )
    .unwrap();
    assert!(!lineage.key_matches());
    let foreign_root = out.path().join("foreign-root.pem");
    std::fs::copy(pebble.ca_bundle_path(), &foreign_root).unwrap();
    assert!(lineage.verify_chain(&foreign_root).is_err());
}

async fn issue_via_webroot(pebble: &Pebble, names: &[&str], webroot: &Path, out: &Path) {
    let (account, _) = Account::builder_with_root(pebble.ca_bundle_path())
        .unwrap()
        .create(
            &NewAccount {
                contact: &[],
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            pebble.directory_url(),
            None,
        )
        .await
        .unwrap();
    let identifiers: Vec<Identifier> = names
        .iter()
        .map(|n| Identifier::Dns(n.to_string()))
        .collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    let challenge_dir = webroot.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenge_dir).unwrap();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.unwrap();
        assert_eq!(authz.status, AuthorizationStatus::Pending);
        let mut challenge = authz.challenge(ChallengeType::Http01).unwrap();
        let key_auth = challenge.key_authorization();
        std::fs::write(challenge_dir.join(&challenge.token), key_auth.as_str()).unwrap();
        challenge.set_ready().await.unwrap();
    }
    let retries = RetryPolicy::default().timeout(Duration::from_secs(60));
    let status = order.poll_ready(&retries).await.unwrap();
    assert_eq!(status, OrderStatus::Ready);
    let key_pem = order.finalize().await.unwrap();
    let chain_pem = order.poll_certificate(&retries).await.unwrap();

    let blocks: Vec<&str> = chain_pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .filter(|b| b.contains("BEGIN CERTIFICATE"))
        .collect();
    assert!(
        blocks.len() >= 2,
        "expected leaf + intermediate: {chain_pem}"
    );
    std::fs::write(out.join("cert.pem"), blocks[0]).unwrap();
    std::fs::write(out.join("chain.pem"), blocks[1..].concat()).unwrap();
    std::fs::write(out.join("fullchain.pem"), blocks.concat()).unwrap();
    std::fs::write(out.join("privkey.pem"), key_pem).unwrap();
}

#[test]
fn eab_option_makes_pebble_require_binding() {
    let pebble = Pebble::start(PebbleOpts::default().eab(true));
    block_on(async {
        let new = NewAccount {
            contact: &[],
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let without = Account::builder_with_root(pebble.ca_bundle_path())
            .unwrap()
            .create(&new, pebble.directory_url(), None)
            .await;
        let err = without.err().expect("account without EAB must be refused");
        assert!(
            format!("{err:?}").contains("externalAccountRequired"),
            "{err:?}"
        );
        use base64::Engine;
        let hmac = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(EAB_HMAC_KEY)
            .unwrap();
        let eab = ExternalAccountKey::new(EAB_KID.to_string(), &hmac);
        let (_account, _credentials) = Account::builder_with_root(pebble.ca_bundle_path())
            .unwrap()
            .create(&new, pebble.directory_url(), Some(&eab))
            .await
            .expect("account with EAB");
    });
}

#[test]
fn pebble_env_override_reaches_pebble() {
    // With every nonce rejected, account creation fails: proof the override was applied.
    let pebble = Pebble::start(PebbleOpts::default().env("PEBBLE_WFE_NONCEREJECT", "100"));
    let result = block_on(async {
        Account::builder_with_root(pebble.ca_bundle_path())
            .unwrap()
            .create(
                &NewAccount {
                    contact: &[],
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                pebble.directory_url(),
                None,
            )
            .await
    });
    let err = result.err().expect("100% nonce rejection must fail");
    assert!(format!("{err:?}").contains("badNonce"), "{err:?}");
}

#[test]
fn cli_runs_programs_under_a_umask_and_reports_exit_codes() {
    let out = Cli::new()
        .program("/bin/sh")
        .args(["-c", "umask"])
        .umask(0o000)
        .run();
    out.assert_success();
    assert_eq!(out.stdout.trim(), "0000");
    let out = Cli::new()
        .program("/bin/sh")
        .args(["-c", "echo $CW_HARNESS; echo err >&2; exit 3"])
        .env("CW_HARNESS", "out")
        .run();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    let out = Cli::new()
        .program("/bin/sh")
        .args(["-c", "echo $$"])
        .umask(0o022)
        .spawn();
    let pid = out.pid();
    assert_eq!(
        out.wait().stdout.trim(),
        pid.to_string(),
        "wrapper must exec"
    );
}

#[test]
fn snapshot_sees_content_mode_and_symlink_changes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert!(Snapshot::of(&root.join("missing")).is_empty());
    std::fs::create_dir(root.join("archive")).unwrap();
    std::fs::write(root.join("archive/a"), "one").unwrap();
    std::os::unix::fs::symlink("archive", root.join("live")).unwrap();
    let before = Snapshot::of(root);
    assert_eq!(before.non_dirs().len(), 2);
    before.assert_unchanged(&Snapshot::of(root), "untouched");

    std::fs::write(root.join("archive/a"), "two").unwrap();
    assert_eq!(before.diff(&Snapshot::of(root)).len(), 1);
    std::fs::write(root.join("archive/a"), "one").unwrap();
    std::fs::set_permissions(
        root.join("archive/a"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(before.diff(&Snapshot::of(root)).len(), 1);
    let _ = std::fs::remove_file(root.join("live"));
    std::os::unix::fs::symlink("elsewhere", root.join("live")).unwrap();
    std::fs::write(root.join("new"), "").unwrap();
    let diff = before.diff(&Snapshot::of(root));
    assert_eq!(diff.len(), 3, "{diff:?}");
}

#[test]
fn gated_proxy_holds_connections_until_opened() {
    use std::io::{Read, Write};
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = upstream.accept() {
            let _ = conn.write_all(b"hello");
        }
    });
    let proxy = GatedProxy::start_any(upstream_port).unwrap();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
    assert!(proxy.wait_for_connection(Duration::from_secs(10)));
    proxy.open();
    let mut got = String::new();
    client.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hello");
}

/// `Pebble::forget_authorizations` leaves nothing to reuse: with reuse at 100 % a forced
/// renewal validates again only after it.
#[test]
fn forgotten_authorizations_are_validated_again() {
    use crate::support::rig::Rig;
    let rig = Rig::with(PebbleOpts::default().env("PEBBLE_AUTHZREUSE", "100"));
    let name = "forget.example.com";
    rig.certonly(name, &[]).assert_success();
    let reused = rig.env.renew(&["--force-renewal"]);
    reused.assert_success();
    assert!(
        reused.stderr.contains("already authorized at the CA"),
        "{reused}"
    );
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let validated = rig.env.renew(&["--force-renewal"]);
    validated.assert_success();
    assert!(
        validated.stderr.contains("Validating 1 name(s)"),
        "{validated}"
    );
}
