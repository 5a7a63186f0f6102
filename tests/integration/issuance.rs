//! certbot's issuance options end to end against Pebble: --reuse-key / --new-key, --csr,
//! --preferred-chain (Pebble's alternate roots), --required-profile / --preferred-profile
//! (Pebble 2.4 offers no profiles), --ip-address (RFC 8738) and `reconfigure`.

use std::path::Path;

use serde_json::Value;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::support::certs::{assert_mode, pem_blocks, spki_of_private_key, LeafInfo, Lineage};
use crate::support::cli::Output;
use crate::support::rig::Rig;
use crate::support::PebbleOpts;

/// Issuance helpers on the shared rig.
impl Rig {
    /// `certonly --standalone` with Pebble's flags and exactly `args` (names included).
    fn issue(&self, args: &[&str]) -> Output {
        self.certonly_cli(&self.env, args).run()
    }

    fn renewal(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.env.renewal_conf(name))
            .unwrap_or_else(|e| panic!("renewal/{name}.json: {e}"));
        serde_json::from_str(&text).expect("renewal config is JSON")
    }

    fn leaf_spki(&self, name: &str) -> Vec<u8> {
        Lineage::at(self.env.live(name)).leaf().spki_der
    }
}

/// The issuer CN of the last certificate of a PEM chain.
fn top_issuer_cn(chain_pem: &str) -> String {
    let ders = pem_blocks(chain_pem, "CERTIFICATE");
    let top = ders.last().expect("chain has certificates");
    let (_, cert) = X509Certificate::from_der(top).expect("certificate parses");
    let cn = cert
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .expect("issuer has a CN");
    cn.to_string()
}

fn subject_cn(pem: &str) -> String {
    let der = pem_blocks(pem, "CERTIFICATE").remove(0);
    let (_, cert) = X509Certificate::from_der(&der).expect("certificate parses");
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .expect("subject has a CN");
    cn.to_string()
}

#[test]
fn reuse_key_survives_force_renewal_and_renew_and_new_key_replaces_it() {
    let rig = Rig::new();
    let name = "reuse.example.com";
    rig.issue(&["-d", name, "--reuse-key"]).assert_success();
    assert_eq!(rig.renewal(name)["issuance"]["reuse_key"], true);
    let first = rig.leaf_spki(name);

    // Saved in the config: a later certonly keeps the key without the flag.
    rig.issue(&["-d", name, "--force-renewal"]).assert_success();
    assert!(rig.env.archive(name).join("2").is_dir());
    assert_eq!(rig.leaf_spki(name), first, "version 2 has a new key");
    Lineage::at(rig.env.live(name)).assert_key_matches();

    // `renew` reads reuse_key from the renewal config. Pebble's certificates last 5 years
    // and renew caps renew_before_expiry at half the lifetime, so a config edit cannot make
    // this one due: --force-renewal does.
    let out = rig.env.renew(&["-n", "--force-renewal"]);
    out.assert_success();
    assert!(
        rig.env.archive(name).join("3").is_dir(),
        "renew did not renew\n{out}"
    );
    assert_eq!(rig.leaf_spki(name), first, "renew generated a new key");

    rig.issue(&["-d", name, "--force-renewal", "--new-key"])
        .assert_success();
    assert!(rig.env.archive(name).join("4").is_dir());
    assert_ne!(rig.leaf_spki(name), first, "--new-key kept the key");
    Lineage::at(rig.env.live(name)).assert_key_matches();
    assert!(
        rig.renewal(name)["issuance"].get("reuse_key").is_none(),
        "--new-key did not turn reuse_key off: {}",
        rig.renewal(name)
    );
}

#[test]
fn without_reuse_key_each_version_has_a_new_key() {
    let rig = Rig::new();
    let name = "fresh.example.com";
    rig.issue(&["-d", name]).assert_success();
    let first = rig.leaf_spki(name);
    rig.issue(&["-d", name, "--force-renewal"]).assert_success();
    assert_ne!(rig.leaf_spki(name), first);
}

#[test]
fn csr_issues_for_its_names_with_its_key_and_creates_no_lineage() {
    let rig = Rig::new();
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["csr1.example.com".into(), "csr2.example.com".into()])
            .expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).expect("csr");
    let out_dir = tempfile::tempdir().expect("out dir");

    for (form, bytes) in [
        ("der", csr.der().to_vec()),
        ("pem", csr.pem().expect("pem").into_bytes()),
    ] {
        let csr_path = out_dir.path().join(format!("req.{form}"));
        std::fs::write(&csr_path, bytes).unwrap();
        let cert = out_dir.path().join(format!("cert-{form}.pem"));
        let fullchain = out_dir.path().join(format!("fullchain-{form}.pem"));
        let chain = out_dir.path().join(format!("chain-{form}.pem"));
        let out = rig.issue(&[
            "--csr",
            csr_path.to_str().unwrap(),
            "--cert-path",
            cert.to_str().unwrap(),
            "--fullchain-path",
            fullchain.to_str().unwrap(),
            "--chain-path",
            chain.to_str().unwrap(),
        ]);
        out.assert_success();
        for f in [&cert, &fullchain, &chain] {
            assert_mode(f, 0o644);
        }
        let cert_pem = std::fs::read_to_string(&cert).unwrap();
        let chain_pem = std::fs::read_to_string(&chain).unwrap();
        assert_eq!(pem_blocks(&cert_pem, "CERTIFICATE").len(), 1, "{form}");
        assert_eq!(
            std::fs::read_to_string(&fullchain).unwrap(),
            format!("{cert_pem}{chain_pem}"),
            "{form}"
        );
        let leaf = LeafInfo::from_pem(&cert_pem);
        assert_eq!(leaf.dns_names, ["csr1.example.com", "csr2.example.com"]);
        assert_eq!(leaf.spki_der, spki_of_private_key(&key.serialize_pem()));
        assert_eq!(rig.pebble.cert_status(&leaf.serial_hex), "Valid");
    }
    let live = rig.env.config_dir().join("live");
    assert!(
        !live.exists() || std::fs::read_dir(&live).unwrap().next().is_none(),
        "--csr created a lineage under {}",
        live.display()
    );
    assert!(!rig.env.renewal_conf("csr1.example.com").exists());
}

#[test]
fn csr_with_a_wildcard_is_refused_before_ordering() {
    let rig = Rig::new();
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["*.wild.example.com".into()]).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).expect("csr");
    let dir = tempfile::tempdir().unwrap();
    let csr_path = dir.path().join("req.pem");
    std::fs::write(&csr_path, csr.pem().unwrap()).unwrap();
    let cert = dir.path().join("cert.pem");
    let out = rig.issue(&[
        "--csr",
        csr_path.to_str().unwrap(),
        "--cert-path",
        cert.to_str().unwrap(),
    ]);
    out.assert_code(2);
    assert!(out.stderr.contains("dns-01"), "{out}");
    assert!(!cert.exists());
}

#[test]
fn preferred_chain_picks_the_alternate_root() {
    let rig = Rig::with(
        PebbleOpts::default()
            .env("PEBBLE_ALTERNATE_ROOTS", "1")
            .env("PEBBLE_CHAIN_LENGTH", "2"),
    );
    let default_root = subject_cn(&rig.pebble.root_pem());
    let alternate_pem = rig.pebble.root_pem_n(1);
    let alternate_root = subject_cn(&alternate_pem);
    assert_ne!(default_root, alternate_root);

    // Without the option: the default chain.
    rig.issue(&["-d", "plain.example.com"]).assert_success();
    let plain = Lineage::at(rig.env.live("plain.example.com"));
    assert_eq!(top_issuer_cn(&plain.chain_pem()), default_root);

    let name = "alt.example.com";
    rig.issue(&["-d", name, "--preferred-chain", &alternate_root])
        .assert_success();
    let lineage = Lineage::at(rig.env.live(name));
    assert_eq!(top_issuer_cn(&lineage.chain_pem()), alternate_root);
    assert_eq!(top_issuer_cn(&lineage.fullchain_pem()), alternate_root);
    let root_path = rig.env.root().join("alternate-root.pem");
    std::fs::write(&root_path, &alternate_pem).unwrap();
    lineage
        .verify_chain(&root_path)
        .expect("chain verifies to the alternate root");
    lineage.assert_key_matches();
    assert_eq!(
        rig.renewal(name)["issuance"]["preferred_chain"],
        alternate_root.as_str()
    );

    // No chain matches: the default chain is kept and the issuance succeeds.
    rig.issue(&[
        "-d",
        "nomatch.example.com",
        "--preferred-chain",
        "No Such CA",
    ])
    .assert_success();
    let kept = Lineage::at(rig.env.live("nomatch.example.com"));
    assert_eq!(top_issuer_cn(&kept.chain_pem()), default_root);
}

#[test]
fn required_profile_absent_fails_before_ordering() {
    let rig = Rig::new();
    let out = rig.issue(&["-d", "profile.example.com", "--required-profile", "x"]);
    out.assert_code(2);
    assert!(out.stderr.contains("\"x\""), "{out}");
    assert!(out.stderr.contains("offers none"), "{out}");
    assert!(!out.stderr.contains("Creating order"), "{out}");
    assert!(!rig.env.live("profile.example.com").exists());
    assert!(
        !rig.pebble.logs().contains("order-plz"),
        "an order was placed:\n{}",
        rig.pebble.logs()
    );
    // The same run with the profile not required does order (so the check above can fail).
    rig.issue(&["-d", "profile.example.com"]).assert_success();
    assert!(
        rig.pebble.logs().contains("order-plz"),
        "{}",
        rig.pebble.logs()
    );
}

#[test]
fn preferred_profile_absent_warns_and_issues() {
    let rig = Rig::new();
    let name = "preferred.example.com";
    let out = rig.issue(&["-d", name, "--preferred-profile", "x"]);
    out.assert_success();
    assert!(out.stderr.contains("preferred profile \"x\""), "{out}");
    Lineage::at(rig.env.live(name)).assert_key_matches();
    assert_eq!(rig.renewal(name)["issuance"]["preferred_profile"], "x");
}

#[test]
fn ip_address_identifier_is_issued() {
    let rig = Rig::new();
    let out = rig.issue(&[
        "-d",
        "withip.example.com",
        "--ip-address",
        "127.0.0.1",
        "--json",
    ]);
    out.assert_success();
    let lineage = Lineage::at(rig.env.live("withip.example.com"));
    let leaf = lineage.leaf();
    assert_eq!(leaf.dns_names, ["withip.example.com"]);
    assert_eq!(leaf.ip_sans, 1);
    let config = rig.renewal("withip.example.com");
    assert_eq!(config["issuance"]["ip_addresses"][0], "127.0.0.1");
    let domains = out.json()["domains"].clone();
    assert_eq!(
        domains,
        serde_json::json!(["withip.example.com", "127.0.0.1"])
    );

    // An IP-only certificate.
    rig.issue(&["--ip-address", "127.0.0.1", "--cert-name", "loopback"])
        .assert_success();
    let only = Lineage::at(rig.env.live("loopback")).leaf();
    assert!(only.dns_names.is_empty());
    assert_eq!(only.ip_sans, 1);
}

#[test]
fn reconfigure_saves_after_a_passing_dry_run_and_keeps_the_old_config_after_a_failing_one() {
    let rig = Rig::new();
    let name = "reconf.example.com";
    rig.issue(&["-d", name]).assert_success();
    let conf = rig.env.renewal_conf(name);

    let out = rig
        .env
        .cli()
        .args(["reconfigure", "--cert-name", name, "--key-type", "rsa"])
        .args(rig.env.dir_flags())
        .arg("-n")
        .run();
    out.assert_success();
    let config = rig.renewal(name);
    assert_eq!(config["key_type"]["type"], "rsa", "{config}");
    assert_eq!(config["key_type"]["bits"], 2048, "{config}");
    // The dry run changed no certificate.
    assert!(!rig.env.archive(name).join("2").exists());

    // A webroot nobody serves: the dry run fails, the file stays byte for byte.
    let before = std::fs::read(&conf).unwrap();
    let unserved = tempfile::tempdir().unwrap();
    let out = rig
        .env
        .cli()
        .args([
            "reconfigure",
            "--cert-name",
            name,
            "--key-type",
            "ecdsa",
            "--webroot",
            "-w",
        ])
        .arg(unserved.path())
        .args(rig.env.dir_flags())
        .arg("-n")
        .run();
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("not saved"), "{out}");
    assert_eq!(std::fs::read(&conf).unwrap(), before);
    assert_eq!(rig.renewal(name)["authenticator"]["type"], "standalone");
    assert!(!rig.env.archive(name).join("2").exists());
    check_dir_unchanged(&rig.env.live(name));
}

/// A reconfigure whose dry run fails never writes the renewal config, not even the old
/// bytes back: the file keeps the modification time it had.
#[test]
fn a_failing_reconfigure_never_writes_the_config() {
    let rig = Rig::new();
    let name = "reconf-unwritten.example.com";
    rig.issue(&["-d", name]).assert_success();
    let conf = rig.env.renewal_conf(name);
    let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
    let file = std::fs::File::options().write(true).open(&conf).unwrap();
    file.set_modified(long_ago).unwrap();
    drop(file);
    let modified = || std::fs::metadata(&conf).unwrap().modified().unwrap();
    assert_eq!(modified(), long_ago);

    let unserved = tempfile::tempdir().unwrap();
    let out = rig
        .env
        .cli()
        .args(["reconfigure", "--cert-name", name, "--webroot", "-w"])
        .arg(unserved.path())
        .args(rig.env.dir_flags())
        .arg("-n")
        .run();
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("not saved"), "{out}");
    assert_eq!(
        modified(),
        long_ago,
        "the renewal config was written\n{out}"
    );
}

fn check_dir_unchanged(live: &Path) {
    Lineage::at(live).assert_key_matches();
}

#[test]
fn allow_subset_of_names_drops_the_name_that_fails() {
    let rig = Rig::new();
    // Nothing listens on 127.0.0.2: validation of this name fails.
    rig.pebble
        .resolve_to("gone.subset.example.com", "127.0.0.2");
    let names = [
        "-d",
        "ok.subset.example.com",
        "-d",
        "gone.subset.example.com",
    ];

    let out = rig.issue(&names);
    assert_eq!(out.code, 1, "{out}");
    assert!(!rig.env.live("ok.subset.example.com").exists());

    let mut args = names.to_vec();
    args.push("--allow-subset-of-names");
    let out = rig.issue(&args);
    out.assert_success();
    assert!(
        out.stderr.contains("dropping gone.subset.example.com"),
        "{out}"
    );
    let leaf = Lineage::at(rig.env.live("ok.subset.example.com")).leaf();
    assert_eq!(leaf.dns_names, ["ok.subset.example.com"]);
    let config = rig.renewal("ok.subset.example.com");
    assert_eq!(
        config["domains"],
        serde_json::json!(["ok.subset.example.com"])
    );
    assert_eq!(config["issuance"]["allow_subset_of_names"], true);
}
