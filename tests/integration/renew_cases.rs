//! Renewal bugs found by using certwright as a new user would: each test failed before its
//! fix. IP-address lineages, standalone lineages on different addresses of one port, and
//! cron's random sleep when nothing is due.

use crate::renew::entry;
use crate::support::certs::make_due;
use crate::support::rig::Rig;

/// `certonly --standalone` on the rig's port; `address` None: every address (the default).
fn issue_at(rig: &Rig, address: Option<&str>, args: &[&str]) {
    let mut cli = rig.env.cli().args([
        "certonly",
        "--standalone",
        "--http-01-port",
        &rig.pebble.http_port().to_string(),
    ]);
    if let Some(a) = address {
        cli = cli.args(["--http-01-address", a]);
    }
    cli.args(rig.env.flags(&rig.pebble))
        .args(args)
        .run()
        .assert_success();
}

#[test]
fn ip_address_lineages_are_not_due_after_issuance_and_plan_lists_the_addresses() {
    let rig = Rig::new();
    issue_at(
        &rig,
        Some("127.0.0.1"),
        &["--ip-address", "127.0.0.1", "--cert-name", "loopback"],
    );
    issue_at(
        &rig,
        Some("127.0.0.1"),
        &["-d", "withip.example.com", "--ip-address", "127.0.0.1"],
    );
    let out = rig.env.renew(&["--json"]);
    out.assert_success();
    let json = out.json();
    for name in ["loopback", "withip.example.com"] {
        assert_eq!(entry(&json, name)["result"], "not_due", "{name}\n{out}");
    }
    let plan = rig
        .env
        .cli()
        .arg("plan")
        .args(rig.env.dir_flags())
        .arg("--json")
        .run();
    plan.assert_success();
    let plan = plan.json();
    assert_eq!(
        entry(&plan, "loopback")["domains"],
        serde_json::json!(["127.0.0.1"]),
        "{plan}"
    );
    assert_eq!(
        entry(&plan, "withip.example.com")["domains"],
        serde_json::json!(["withip.example.com", "127.0.0.1"]),
        "{plan}"
    );
}

#[test]
fn standalone_lineages_on_different_addresses_of_one_port_renew_in_one_run() {
    let rig = Rig::new();
    issue_at(&rig, Some("127.0.0.1"), &["-d", "specific.example.com"]);
    issue_at(&rig, None, &["-d", "any.example.com"]);
    issue_at(&rig, Some("127.0.0.1"), &["-d", "specific2.example.com"]);
    for name in [
        "specific.example.com",
        "any.example.com",
        "specific2.example.com",
    ] {
        make_due(&rig.env.live(name));
    }
    let out = rig.env.renew(&["--json", "--concurrency", "3"]);
    out.assert_success();
    let json = out.json();
    for name in [
        "specific.example.com",
        "any.example.com",
        "specific2.example.com",
    ] {
        assert_eq!(entry(&json, name)["result"], "renewed", "{name}\n{out}");
    }
}

/// From cron (stdin not a terminal, no --no-random-sleep-on-renew) a run with nothing due
/// must not wait its random 0-8 minutes.
#[test]
fn renew_from_cron_with_nothing_due_does_not_sleep() {
    let rig = Rig::new();
    rig.certonly("calm.example.com", &[]).assert_success();
    let out = rig.env.cli().arg("renew").args(rig.env.dir_flags()).run();
    out.assert_success();
    assert!(!out.stderr.contains("Waiting"), "{out}");
    assert!(out.stdout.contains("calm.example.com: not due"), "{out}");
}
