//! The CA misbehaving: Pebble killed mid-order and restarted, a name it refuses, and a
//! validation that never completes. Each run must fail cleanly (exit 1, live/ untouched, no
//! partial certificate) with the reason, and a later run must work.

use std::net::TcpListener;
use std::time::Duration;

use crate::crash::temp_leftovers;
use crate::support::certs::Lineage;
use crate::support::cli::Output;
use crate::support::proxy::GatedProxy;
use crate::support::{free_port, wait_for, Env, Pebble, PebbleOpts, Snapshot};

fn certonly(env: &Env, pebble: &Pebble, port: u16, names: &[&str], extra: &[&str]) -> Output {
    let mut cli = env
        .cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args(["--http-01-port", &port.to_string()])
        .args(env.flags(pebble))
        .args(extra);
    for n in names {
        cli = cli.args(["-d", n]);
    }
    cli.run()
}

fn assert_no_panic(out: &Output) {
    assert!(!out.stderr.contains("panicked"), "{out}");
}

#[test]
fn pebble_killed_mid_order_fails_the_run_cleanly_and_the_next_run_works() {
    let port = free_port();
    let mut pebble = Pebble::start(PebbleOpts::default().http_port(port));
    let env = Env::new();
    let name = "restart.example.com";
    certonly(&env, &pebble, port, &[name], &[]).assert_success();
    let before = Snapshot::of(&env.config_dir().join("live"));
    let archive_before = Snapshot::of(&env.archive(name));

    // Pebble's probes now reach a proxy that holds them: when one arrives, the order
    // exists and is being validated. Then Pebble dies and comes back on the same ports.
    let responder = free_port();
    let proxy = GatedProxy::start(port, responder).expect("start proxy on Pebble's port");
    let run = {
        let cli = env
            .cli()
            .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
            .args(["--http-01-port", &responder.to_string(), "-d", name])
            .args(env.flags(&pebble))
            .arg("--force-renewal");
        cli.spawn()
    };
    assert!(
        proxy.wait_for_connection(Duration::from_secs(60)),
        "Pebble never probed\n{}",
        run.wait_or_kill()
    );
    pebble.restart();
    drop(proxy);
    let out = run.wait();
    assert_no_panic(&out);
    out.assert_code(1);
    before.assert_unchanged(
        &Snapshot::of(&env.config_dir().join("live")),
        &format!("live/ after the failed run\n{out}"),
    );
    archive_before.assert_unchanged(
        &Snapshot::of(&env.archive(name)),
        &format!("archive/{name} after the failed run\n{out}"),
    );

    // The proxy lets go of the port; then a run answering there directly succeeds.
    let freed = wait_for(Duration::from_secs(10), || {
        TcpListener::bind(("127.0.0.1", port)).ok().map(drop)
    });
    assert!(freed.is_some(), "the proxy kept port {port}");
    let next = certonly(&env, &pebble, port, &[name], &["--force-renewal"]);
    next.assert_success();
    // Pebble forgot the account with everything else; a real CA keeps it.
    assert!(next.stderr.contains("registering a new one"), "{next}");
    Lineage::at(env.live(name)).assert_valid_for(&[name], &pebble.root_pem_path());
    assert!(temp_leftovers(&env.config_dir()).is_empty());
}

#[test]
fn a_name_the_ca_refuses_fails_the_whole_order_with_its_detail() {
    let port = free_port();
    let pebble = Pebble::start(
        PebbleOpts::default()
            .http_port(port)
            .blocklist("blocked.example"),
    );
    let env = Env::new();
    let out = certonly(
        &env,
        &pebble,
        port,
        &["allowed.example.com", "www.blocked.example"],
        &[],
    );
    assert_no_panic(&out);
    out.assert_code(1);
    assert!(out.stderr.contains("www.blocked.example"), "{out}");
    assert!(
        out.stderr.contains("rejectedIdentifier") || out.stderr.contains("blocked"),
        "the CA's reason is not shown\n{out}"
    );
    for dir in ["live", "archive", "renewal"] {
        let snap = Snapshot::of(&env.config_dir().join(dir));
        assert!(snap.is_empty(), "{dir}/ has {:?}\n{out}", snap.non_dirs());
    }
}

#[test]
fn a_validation_that_never_completes_stops_at_the_deadline() {
    let port = free_port();
    let pebble = Pebble::start(PebbleOpts::default().http_port(port));
    // Accepts Pebble's probe and never answers it.
    let proxy = GatedProxy::start(port, free_port()).expect("start proxy");
    let env = Env::new();
    let out = env
        .cli()
        .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
        .args([
            "--http-01-port",
            &free_port().to_string(),
            "-d",
            "stuck.example.com",
        ])
        .args(env.flags(&pebble))
        .env("CERTWRIGHT_VALIDATION_DEADLINE_SECS", "2")
        .run();
    assert!(
        proxy.wait_for_connection(Duration::ZERO),
        "Pebble never probed\n{out}"
    );
    assert_no_panic(&out);
    out.assert_code(1);
    assert!(
        out.stderr.contains("validation did not finish within 2 s"),
        "{out}"
    );
    assert!(
        Snapshot::of(&env.config_dir().join("live")).is_empty(),
        "{out}"
    );
}
