//! CAs that behave unlike a fresh Pebble: authorizations handed back already valid (a dry
//! run must still validate every name), orders that stay `processing` (`--issuance-timeout`).

use crate::renew::break_lineage;
use crate::support::rig::Rig;
use crate::support::PebbleOpts;

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
