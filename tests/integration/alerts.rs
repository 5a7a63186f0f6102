//! Issue 13's leaves against real servers: Debian sid's Pebble (ARI, profiles), a webhook
//! receiver, aiosmtpd, promtool and nginx serving one certificate or another.

use crate::support::certs::Lineage;
use crate::support::pebble::PROFILE_SHORTLIVED_SECS;
use crate::support::rig::Rig;
use crate::support::{net, Pebble, PebbleOpts};

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
    rig.certonly_cli(&rig.env, &["-d", name, "--preferred-profile", "shortlived"])
        .run()
        .assert_success();
    let lineage = Lineage::at(rig.env.live(name));
    let old = lineage.leaf();
    let renew = || {
        rig.env
            .cli()
            .arg("renew")
            .args(rig.env.dir_flags())
            .arg("--no-random-sleep-on-renew")
            .run()
    };
    let past = |h: i64| {
        (::time::OffsetDateTime::now_utc() - ::time::Duration::hours(h))
            .format(&::time::format_description::well_known::Rfc3339)
            .expect("format time")
    };
    let window = serde_json::json!({"suggestedWindow": {"start": past(2), "end": past(1)}});
    rig.pebble
        .set_renewal_info(&lineage.cert_pem(), &window.to_string());
    renew().assert_success();
    let new = lineage.leaf();
    assert_ne!(new.serial_hex, old.serial_hex, "not renewed");
    let logs = rig.pebble.logs();
    assert!(
        logs.contains("is a replacement of"),
        "Pebble logged no replacement order:\n{logs}"
    );
}
