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
