//! Issue 16, findings 2-4: a party that can write to the fleet's Redis but lacks the store
//! key must not get a token answered, a certificate installed, a node rolled back or its
//! logs forged. Each attack is a raw Redis write, as such a party would make it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::support::cli::Output;
use crate::support::fleet::{assert_all_succeeded, Fleet, FleetOpts};
use crate::support::redis::Reply;
use crate::support::{mode, net, Snapshot};

const NAME: &str = "guarded.example.com";

/// Replace the `cert:<NAME>` hash with `fields` (and point the version index at `index`).
fn plant(fleet: &Fleet, fields: &BTreeMap<String, String>, index: &str) {
    let key = fleet.key(&format!("cert:{NAME}"));
    fleet.redis().cmd(&["DEL", &key]);
    let mut args = vec!["HSET".to_string(), key];
    for (f, v) in fields {
        args.extend([f.clone(), v.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fleet.redis().cmd(&args);
    fleet
        .redis()
        .cmd(&["HSET", &fleet.key("versions"), NAME, index]);
}

/// `certificates` on node 2 (it pulls first): must succeed and leave its live files alone.
fn node_2_keeps(fleet: &Fleet, live: &Snapshot, attack: &str) -> Output {
    let out = fleet.node(1).cli(&["certificates"]).run();
    out.assert_success();
    live.assert_unchanged(&Snapshot::of(&fleet.node(1).env.config_dir()), attack);
    out
}

#[test]
fn a_redis_writer_without_the_key_gets_no_answer_no_install_and_no_rollback() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2));
    let out = fleet.certonly(0, NAME, &[NAME]);
    assert_all_succeeded(&fleet, &[&out]);
    fleet.sync(1);
    let v1 = fleet.redis().hgetall(&fleet.key(&format!("cert:{NAME}")));
    let out = fleet
        .renew(0, &["--force-renewal", "--cert-name", NAME])
        .run();
    assert_all_succeeded(&fleet, &[&out]);
    let v2 = fleet.redis().hgetall(&fleet.key(&format!("cert:{NAME}")));
    assert_eq!(v2["version"], "2");
    fleet.sync(1);
    fleet.assert_same_live(0, 1, NAME);
    let live = Snapshot::of(&fleet.node(1).env.config_dir());

    // Finding 2: a challenge entry written without the key is not answered.
    let daemon = fleet.start_daemon(1, 3600, &[]);
    for (token, value) in [
        (
            "forged-token-1",
            format!("{NAME}\nforged-token-1.attacker-thumbprint"),
        ),
        (
            "forged-token-2",
            "cw-sealed-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        ),
    ] {
        fleet
            .redis()
            .cmd(&["SET", &fleet.key(&format!("chal:{token}")), &value]);
        let path = format!("/.well-known/acme-challenge/{token}");
        let got = net::http_get(fleet.node(1).port, NAME, &path).expect("ask the responder");
        assert_ne!(
            got.status,
            200,
            "forged token {token} answered: {}",
            got.text()
        );
        assert!(!got.text().contains("attacker"), "{}", got.text());
    }
    Fleet::stop_daemon(daemon).assert_success();

    // Finding 4: version 1 replayed under a higher number.
    let mut replay = v1.clone();
    replay.insert("version".into(), "3".into());
    plant(&fleet, &replay, "3");
    let out = node_2_keeps(&fleet, &live, "version 1 replayed as 3");
    assert!(out.stderr.contains("not authenticated"), "{out}");

    // The authentic version 1, offered again: older than what node 2 holds.
    plant(&fleet, &v1, "5");
    let out = node_2_keeps(&fleet, &live, "authentic older version");
    assert!(
        out.stderr.contains("older version is never installed"),
        "{out}"
    );

    // Clear fields altered: chain emptied, junk after the fullchain, a forged log line.
    for (field, value) in [
        ("chain", String::new()),
        ("fullchain", format!("{}junk\n", v2["fullchain"])),
        ("node", "node-1\nforged log line".to_string()),
    ] {
        let mut altered = v2.clone();
        altered.insert(field.into(), value);
        altered.insert("version".into(), "3".into());
        plant(&fleet, &altered, "3");
        let out = node_2_keeps(&fleet, &live, field);
        assert!(out.stderr.contains("not authenticated"), "{field}: {out}");
        assert!(
            !out.stderr.lines().any(|l| l.starts_with("forged")),
            "{field}: {out}"
        );
    }

    // A huge version does not pin the fleet: it is not installed, and the next real
    // version counts from the last one that verifies.
    let mut huge = v2.clone();
    huge.insert("version".into(), u64::MAX.to_string());
    plant(&fleet, &huge, &u64::MAX.to_string());
    node_2_keeps(&fleet, &live, "huge version");
    // One junk entry in the version index stops nobody's renew.
    fleet
        .redis()
        .cmd(&["HSET", &fleet.key("versions"), "other.example.com", "abc"]);
    let out = fleet.renew(1, &[]).run();
    out.assert_success();
    let out = fleet
        .renew(0, &["--force-renewal", "--cert-name", NAME])
        .run();
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(fleet.store_version(NAME), Some(3), "{}", fleet.report());
    fleet.sync(1);
    fleet.assert_same_live(0, 1, NAME);
    assert_eq!(
        fleet.node_versions("node-2").get(NAME).map(String::as_str),
        Some("3")
    );
}

#[test]
fn a_forged_fleet_account_id_cannot_leave_the_store() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2));
    let out = fleet.certonly(0, NAME, &[NAME]);
    assert_all_succeeded(&fleet, &[&out]);
    let Reply::Array(keys) = fleet.redis().cmd(&["KEYS", &fleet.key("account:*")]) else {
        panic!("KEYS: not an array");
    };
    let key = keys[0].text().expect("account key");

    let original_id = fleet.redis().hgetall(&key)["id"].clone();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep"), b"precious").unwrap();
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = Snapshot::of(outside.path());
    let target = outside.path().display().to_string();
    for id in [target.as_str(), "../../escape", "plain-but-unsigned"] {
        fleet.redis().cmd(&["HSET", &key, "id", id]);
        let out = fleet.certonly(1, "other.example.com", &["other.example.com"]);
        assert_ne!(out.code, 0, "{id}: {out}");
        assert!(out.stderr.contains("not authenticated"), "{id}: {out}");
        before.assert_unchanged(&Snapshot::of(outside.path()), "the forged id's target");
        assert_eq!(mode(outside.path()), 0o755, "{id}: target chmodded");
        assert!(
            !fleet.node(1).env.config_dir().join("accounts").exists()
                || crate::support::files_below(&fleet.node(1).env.config_dir().join("accounts"))
                    .is_empty(),
            "{id}: an account was written on node 2"
        );
    }

    // The record without its tag (a writer without the key, or one from before tags).
    fleet.redis().cmd(&["HSET", &key, "id", &original_id]);
    fleet.redis().cmd(&["HDEL", &key, "mac"]);
    let out = fleet.certonly(1, "other.example.com", &["other.example.com"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("not authenticated"), "{out}");
    assert!(out.stderr.contains(&format!("delete {key}")), "{out}");
}
