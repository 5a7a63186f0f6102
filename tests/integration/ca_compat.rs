//! CAs that behave unlike a fresh Pebble: authorizations handed back already valid (a dry
//! run must still validate every name), orders that stay `processing` (`--issuance-timeout`).

use std::time::Duration;

use crate::renew::break_lineage;
use crate::support::certs::Lineage;
use crate::support::cli::{Env, Output};
use crate::support::rig::Rig;
use crate::support::slow_ca::SlowCa;
use crate::support::{files_below, read_lossy, Pebble, PebbleOpts};

/// With authorization reuse at 100 %, Pebble hands every renewal the valid authorization
/// of the first issuance: a dry run that skipped it would pass with a broken webroot.
#[test]
fn dry_run_with_a_broken_webroot_fails_every_time_under_full_authorization_reuse() {
    let rig = Rig::with(PebbleOpts::default().env("PEBBLE_AUTHZREUSE", "100"));
    let name = "reuse.example.com";
    rig.certonly(name, &[]).assert_success();
    let renewal = rig.env.renewal_conf(name);
    let working = std::fs::read(&renewal).expect("renewal config");
    let unserved = tempfile::tempdir().expect("webroot dir");
    break_lineage(&rig.env, name, unserved.path());
    for round in 1..=10 {
        let out = rig.env.renew(&["--dry-run"]);
        out.assert_code(1);
        assert!(
            out.stdout.contains(&format!("(dry run) {name}: FAILED: ")),
            "round {round}\n{out}"
        );
        assert!(out.stdout.contains("validation of"), "round {round}\n{out}");
    }
    // The same dry run over the working (standalone) path passes: the fresh authorization
    // was validated, not skipped.
    std::fs::write(&renewal, working).expect("restore renewal config");
    let out = rig.env.renew(&["--dry-run"]);
    out.assert_success();
    assert!(
        out.stdout
            .contains(&format!("(dry run) {name}: renewal would succeed")),
        "{out}"
    );
}

/// `certonly --standalone` through `server` (Pebble's CA bundle trusted) plus `extra`.
fn certonly_via(rig: &Rig, server: &str, name: &str, extra: &[&str]) -> Output {
    rig.env
        .cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &rig.pebble.http_port().to_string()])
        .args(rig.env.dir_flags())
        .args(["--server", server, "--ca-bundle"])
        .arg(rig.pebble.ca_bundle_path())
        .args([
            "-n",
            "--agree-tos",
            "--register-unsafely-without-email",
            "-d",
            name,
        ])
        .args(extra)
        .run()
}

#[test]
fn an_order_kept_processing_is_polled_until_issued_and_the_timeout_is_saved() {
    let rig = Rig::new();
    let ca = SlowCa::start(&rig.pebble, Duration::from_secs(3));
    let name = "slow.example.com";
    let out = certonly_via(
        &rig,
        &ca.directory_url(),
        name,
        &["--issuance-timeout", "120"],
    );
    out.assert_success();
    assert!(ca.held() >= 1, "the proxy never held the order\n{out}");
    assert!(out.stderr.contains("is still processing after"), "{out}");
    let saved: serde_json::Value =
        serde_json::from_str(&read_lossy(&rig.env.renewal_conf(name))).expect("renewal JSON");
    assert_eq!(
        find_key(&saved, "issuance_timeout"),
        Some(&serde_json::json!(120)),
        "{saved}"
    );
    // certbot's `renew --issuance-timeout` is a per-run override, saved when it renews.
    let renewed = rig
        .env
        .renew(&["--force-renewal", "--issuance-timeout", "300"]);
    renewed.assert_success();
    assert!(
        renewed.stderr.contains("is still processing after"),
        "{renewed}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&read_lossy(&rig.env.renewal_conf(name))).expect("renewal JSON");
    assert_eq!(
        find_key(&saved, "issuance_timeout"),
        Some(&serde_json::json!(300)),
        "{saved}"
    );
}

#[test]
fn an_order_processing_past_the_timeout_fails_naming_the_order() {
    let rig = Rig::new();
    let ca = SlowCa::start(&rig.pebble, Duration::from_secs(3600));
    let name = "stuck.example.com";
    let out = certonly_via(
        &rig,
        &ca.directory_url(),
        name,
        &["--issuance-timeout", "3"],
    );
    out.assert_code(1);
    let order_prefix = ca.directory_url().replace("/dir", "/my-order/");
    assert!(out.stderr.contains(&order_prefix), "{out}");
    assert!(out.stderr.contains("still processing at the CA"), "{out}");
    assert!(out.stderr.contains("within 3 s"), "{out}");
    assert!(!rig.env.live(name).exists(), "{out}");
}

/// Authorizations the CA already holds as valid (reused here; pre-approved at ACM) are not
/// solved again: the order is finalized at once, with nothing published.
#[test]
fn an_order_with_every_name_authorized_is_finalized_without_solving() {
    let rig = Rig::with(PebbleOpts::default().env("PEBBLE_AUTHZREUSE", "100"));
    let name = "preapproved.example.com";
    rig.certonly(name, &[]).assert_success();
    let unserved = tempfile::tempdir().expect("webroot dir");
    let out = rig
        .env
        .cli()
        .args(["certonly", "--webroot", "-w"])
        .arg(unserved.path())
        .args(rig.env.flags(&rig.pebble))
        .args(["-d", name, "--force-renewal"])
        .run();
    out.assert_success();
    assert!(out.stderr.contains("already authorized"), "{out}");
    assert!(
        files_below(unserved.path()).is_empty(),
        "a challenge was published\n{out}"
    );
}

fn find_key<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|v| find_key(v, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// `--fallback-server`: the lineage's CA goes away after issuance; the renewal is retried at
/// the second CA (its account registered then), and the report says which CA issued.
#[test]
fn a_renewal_the_first_ca_fails_is_issued_by_the_fallback_ca() {
    let port = crate::support::free_port();
    let first = Pebble::start(PebbleOpts::default().http_port(port));
    let second = Pebble::start(PebbleOpts::default().http_port(port));
    let env = Env::new();
    let bundle = env.root().join("both-cas.pem");
    let pems = [first.ca_bundle_path(), second.ca_bundle_path()].map(|p| read_lossy(&p));
    std::fs::write(&bundle, pems.concat()).expect("write the CA bundle");
    let name = "fallback.example.com";
    env.cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &port.to_string(), "-d", name])
        .args(env.flags_without_ca_bundle(&first))
        .arg("--ca-bundle")
        .arg(&bundle)
        .args(["--fallback-server", &second.directory_url()])
        .run()
        .assert_success();
    let saved = read_lossy(&env.renewal_conf(name));
    assert!(saved.contains(&second.directory_url()), "{saved}");
    drop(first);

    crate::support::certs::make_due(&env.live(name));
    let out = env.renew(&["--json"]);
    out.assert_success();
    let json = out.json();
    let entry = crate::renew::entry(&json, name);
    assert_eq!(entry["result"], "renewed", "{out}");
    assert_eq!(entry["fallback_ca"], second.directory_url(), "{out}");
    assert!(out.stderr.contains("trying the fallback CA"), "{out}");
    let lineage = Lineage::at(env.live(name));
    lineage.assert_valid_for(&[name], &second.root_pem_path());
}
