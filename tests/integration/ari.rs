//! ARI and profiles against Debian sid's Pebble: a window the CA moves into the past renews
//! at once with `replaces`, a daemon polls ARI on its own, `alreadyReplaced` falls back to a
//! plain order, and the `shortlived` profile gives a 6-day certificate.

use std::time::Duration;

use crate::alerts::alert_kinds;
use crate::support::certs::Lineage;
use crate::support::pebble::PROFILE_SHORTLIVED_SECS;
use crate::support::rig::Rig;
use crate::support::webhook::{Behaviour, Receiver};
use crate::support::{self, net, Pebble, PebbleOpts};

/// sid's Pebble starts with our `profiles` config and its directory offers ARI and both
/// profiles; the management port answers.
#[test]
fn pebble_sid_offers_ari_and_profiles() {
    let pebble = Pebble::start(PebbleOpts::default().sid());
    let ca = std::fs::read_to_string(pebble.ca_bundle_path()).expect("read Pebble CA");
    let port: u16 = pebble
        .directory_url()
        .trim_start_matches("https://localhost:")
        .trim_end_matches("/dir")
        .parse()
        .expect("port in directory URL");
    let dir = net::https_get("localhost", port, "/dir", &ca).expect("GET /dir");
    let json: serde_json::Value = serde_json::from_slice(&dir.body).expect("directory JSON");
    assert!(json["renewalInfo"].is_string(), "no renewalInfo: {json}");
    assert!(json["meta"]["profiles"]["shortlived"].is_string(), "{json}");
    assert!(json["meta"]["profiles"]["default"].is_string(), "{json}");
    assert!(net::port_answers(pebble.management_port()));
}

/// certwright issues from sid's Pebble with the pinned `shortlived` profile: a 6-day leaf.
#[test]
fn pebble_sid_issues_a_shortlived_certificate() {
    let rig = Rig::with(PebbleOpts::default().sid());
    rig.certonly_cli(
        &rig.env,
        &[
            "-d",
            "short.example.test",
            "--preferred-profile",
            "shortlived",
        ],
    )
    .run()
    .assert_success();
    let leaf = Lineage::at(rig.env.live("short.example.test")).leaf();
    let left = leaf.not_after() - ::time::OffsetDateTime::now_utc();
    let want = ::time::Duration::seconds(PROFILE_SHORTLIVED_SECS as i64);
    assert!(
        (left - want).abs() < ::time::Duration::hours(1),
        "{left} left, not about 6 days"
    );
}

/// The CA moves a fresh 6-day certificate's ARI window into the past (as Let's Encrypt's
/// 2026-03-19 drill): `renew` renews it at once with `replaces`, which Pebble accepts.
/// (A `renew` before the move would cache the old answer for its 6 h Retry-After.)
#[test]
fn ari_window_in_the_past_renews_at_once_with_replaces() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "drill.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let old = lineage.leaf();
    let renew = || rig.env.renew(&[]);
    rig.pebble
        .set_renewal_info(&lineage.cert_pem(), &window_in_the_past());
    renew().assert_success();
    let new = lineage.leaf();
    assert_ne!(new.serial_hex, old.serial_hex, "not renewed");
    let logs = rig.pebble.logs();
    assert!(
        logs.contains("is a replacement of"),
        "Pebble logged no replacement order:\n{logs}"
    );
}

/// A running daemon asks ARI on its own, not only at `--schedule` (here once a year): after
/// its first pass cached the answer, the CA moves the window into the past and the daemon
/// renews within about a minute, with `replaces`, sending an `ari_window_in_past` alert.
/// `plan` says when the answer was fetched and when the CA is asked again.
/// `CERTWRIGHT_ARI_RECHECK_SECS` (test-only) stands in for the CA's 6 h Retry-After.
#[test]
fn daemon_polls_ari_and_renews_a_window_moved_into_the_past() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "watch.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let old = lineage.leaf();
    let hook = Receiver::start(Behaviour::Status(200));
    let status = rig.env.root().join("status.json");
    let daemon = rig
        .env
        .cli()
        .env("CERTWRIGHT_ARI_RECHECK_SECS", "2")
        .args(["daemon", "--schedule", "0 0 1 1 *", "--status-file"])
        .arg(&status)
        .args(["--notify-webhook", &hook.url("/ari")])
        .args(rig.env.dir_flags())
        .spawn();
    let fetched = support::wait_for(Duration::from_secs(60), || {
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&status).ok()?).ok()?;
        let entry = &json["certificates"][0];
        entry["ari_fetched"].as_str()?;
        Some((entry.clone(), json["next_ari_check"].clone()))
    });
    let Some((entry, next_ari)) = fetched else {
        panic!("no ARI answer cached:\n{}", daemon.wait_or_kill().stderr);
    };
    assert!(
        entry["ari_next_check"].is_string() && next_ari.is_string(),
        "{entry}"
    );
    let plan = rig.env.cli().arg("plan").args(rig.env.dir_flags()).run();
    plan.assert_success();
    assert!(
        plan.stdout.contains("ARI:            fetched 20"),
        "{}",
        plan.stdout
    );

    rig.pebble
        .set_renewal_info(&lineage.cert_pem(), &window_in_the_past());
    let kinds = || alert_kinds(&hook);
    let alerted = support::wait_for(Duration::from_secs(150), || {
        kinds()
            .contains(&"ari_window_in_past".to_string())
            .then_some(())
    });
    // The alert goes out after the pass's renewal attempt; the new files are what count.
    let renewed = support::wait_for(Duration::from_secs(60), || {
        (lineage.leaf().serial_hex != old.serial_hex).then_some(())
    });
    let out = daemon.wait_or_kill();
    assert!(alerted.is_some(), "no alert: {:?}\n{}", kinds(), out.stderr);
    assert!(renewed.is_some(), "not renewed\n{}", out.stderr);
    assert!(
        rig.pebble.logs().contains("is a replacement of"),
        "Pebble logged no replacement order"
    );
}

/// A renewal naming a certificate the CA already saw replaced gets `alreadyReplaced`; the
/// order is sent again without `replaces` and the lineage still renews.
#[test]
fn already_replaced_falls_back_to_a_plain_order() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "replaced.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let first = lineage.leaf();
    let renew = || rig.env.renew(&["--force-renewal"]);
    renew().assert_success();
    let second = lineage.leaf();
    assert_ne!(second.serial_hex, first.serial_hex, "not renewed");
    let replacements = |logs: &str| logs.matches("is a replacement of").count();
    assert_eq!(replacements(&rig.pebble.logs()), 1, "{}", rig.pebble.logs());

    // The lineage's live link back at version 1: its next renewal names the first
    // certificate, which the CA has already seen replaced.
    let link = rig.env.live(name);
    let tmp = link.with_file_name(format!(".{name}.test-link"));
    std::os::unix::fs::symlink(format!("../archive/{name}/1"), &tmp).expect("symlink");
    std::fs::rename(&tmp, &link).expect("swap live link");
    assert_eq!(lineage.leaf().serial_hex, first.serial_hex);
    let out = renew();
    out.assert_success();
    let third = lineage.leaf();
    assert!(
        third.serial_hex != first.serial_hex && third.serial_hex != second.serial_hex,
        "not renewed again"
    );
    let log = support::read_lossy(&rig.env.logs_dir().join("certwright.log"));
    assert!(
        log.contains("urn:ietf:params:acme:error:alreadyReplaced")
            && log.contains("ordering again without it"),
        "no fallback in the log:\n{log}"
    );
    assert_eq!(
        replacements(&rig.pebble.logs()),
        1,
        "the retry still named the replaced certificate"
    );
}

/// A fresh 6-day (`shortlived`) lineage from sid's Pebble.
fn shortlived_lineage(rig: &Rig, name: &str) -> Lineage {
    rig.certonly_cli(&rig.env, &["-d", name, "--preferred-profile", "shortlived"])
        .run()
        .assert_success();
    Lineage::at(rig.env.live(name))
}

/// An ARI answer whose window ended an hour ago (for Pebble's `/set-renewal-info/`).
fn window_in_the_past() -> String {
    let past = |h: i64| {
        (::time::OffsetDateTime::now_utc() - ::time::Duration::hours(h))
            .format(&::time::format_description::well_known::Rfc3339)
            .expect("format time")
    };
    serde_json::json!({"suggestedWindow": {"start": past(2), "end": past(1)}}).to_string()
}
