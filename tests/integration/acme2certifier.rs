//! The second ACME server: acme2certifier (PyPI) with its OpenSSL CA handler, next to
//! Pebble. Every operation certbot passes there: register, issue (1 and 3 names, ECDSA and
//! RSA), renew (it advertises ARI but returns orders without the `replaces` sent), a dry run,
//! webroot through nginx, revoke.

use crate::support::a2c::A2c;
use crate::support::certs::{KeyKind, Lineage};
use crate::support::cli::{Cli, Output};
use crate::support::{read_lossy, Env, Nginx};

struct Rig {
    a2c: A2c,
    env: Env,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            a2c: A2c::start(),
            env: Env::new(),
        }
    }

    /// `certonly` with the CA's flags (it requires a contact address) and `args`, not run.
    fn certonly_cli(&self, args: &[&str]) -> Cli {
        self.env
            .cli()
            .arg("certonly")
            .args(self.env.dir_flags())
            .args(["--server", &self.a2c.directory_url(), "--ca-bundle"])
            .arg(self.a2c.ca_bundle_path())
            .args(["-n", "--agree-tos", "-m", "admin@example.test"])
            .args(args)
    }

    /// `certonly --standalone` on the CA's address, port 80 (it validates there only).
    fn standalone(&self, names: &[&str], extra: &[&str]) -> Output {
        let address = self.a2c.address().to_string();
        let mut cli = self.certonly_cli(&[
            "--standalone",
            "--http-01-address",
            &address,
            "--http-01-port",
            "80",
        ]);
        for n in names {
            cli = cli.args(["-d", n]);
        }
        cli.args(extra).run()
    }

    fn assert_ok(&self, out: &Output) {
        assert_eq!(
            out.code,
            0,
            "{out}\n--- acme2certifier ---\n{}",
            self.a2c.logs()
        );
    }

    fn lineage(&self, name: &str) -> Lineage {
        Lineage::at(self.env.live(name))
    }
}

#[test]
fn registers_issues_renews_dry_runs_and_revokes() {
    let rig = Rig::new();
    let name = "one.example.test";
    let out = rig.standalone(&[name], &[]);
    rig.assert_ok(&out);
    assert!(out.stderr.contains("Registering an account"), "{out}");
    let lineage = rig.lineage(name);
    lineage.assert_valid_for(&[name], &rig.a2c.ca_bundle_path());
    assert_eq!(lineage.leaf().key_kind, KeyKind::Ecdsa("secp256r1".into()));
    let first = lineage.leaf().serial_hex;

    // The renewal names the certificate it replaces; the CA's order does not reflect it,
    // which must not stop the renewal (instant-acme alone fails it after the order exists).
    let renewed = rig.env.renew(&["--force-renewal"]);
    rig.assert_ok(&renewed);
    assert!(
        renewed
            .stdout
            .contains(&format!("{name}: renewed (version 2")),
        "{renewed}"
    );
    assert_ne!(rig.lineage(name).leaf().serial_hex, first);
    let log = read_lossy(&rig.env.logs_dir().join("certwright.log"));
    assert!(log.contains("without the \"replaces\" sent"), "{log}");

    let dry = rig.env.renew(&["--dry-run"]);
    rig.assert_ok(&dry);
    assert!(
        dry.stdout
            .contains(&format!("(dry run) {name}: renewal would succeed")),
        "{dry}"
    );

    let revoked = rig
        .env
        .cli()
        .args(["revoke", "--cert-name", name, "-n"])
        .args(rig.env.dir_flags())
        .run();
    rig.assert_ok(&revoked);
    assert!(
        revoked.stdout.contains("Revoked the certificate"),
        "{revoked}"
    );
}

#[test]
fn issues_three_names_with_an_rsa_key() {
    let rig = Rig::new();
    let names = ["a.example.test", "b.example.test", "c.example.test"];
    let out = rig.standalone(&names, &["--key-type", "rsa", "--cert-name", "three"]);
    rig.assert_ok(&out);
    let lineage = rig.lineage("three");
    lineage.assert_valid_for(&names, &rig.a2c.ca_bundle_path());
    assert_eq!(lineage.leaf().key_kind, KeyKind::Rsa(2048));
}

#[test]
fn issues_through_a_webroot_served_by_nginx() {
    let rig = Rig::new();
    let webroot = tempfile::tempdir().expect("webroot dir");
    let _nginx = Nginx::start(&format!(
        "server {{\n    listen {}:80 default_server;\n    server_name _;\n    root {};\n}}\n",
        rig.a2c.address(),
        webroot.path().display()
    ));
    let name = "web.example.test";
    let out = rig
        .certonly_cli(&["--webroot", "-w"])
        .arg(webroot.path())
        .args(["-d", name])
        .run();
    rig.assert_ok(&out);
    rig.lineage(name)
        .assert_valid_for(&[name], &rig.a2c.ca_bundle_path());
}
