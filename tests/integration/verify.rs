//! Proof that nginx serves the deployed certificate: the `verify` leaf against a real nginx
//! serving one certificate or another, and `verify`, `run --nginx`, `install` and `renew`
//! catching a reload that silently did nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use certwright::verify::{sha256_hex, verify, Outcome, Probe, RetryOpts};

use crate::alerts::alert_kinds;
use crate::nginx::Rig as NginxRig;
use crate::support::proxy::GatedProxy;
use crate::support::webhook::{Behaviour, Receiver};
use crate::support::{self, block_on, free_port, Cli, Nginx};

/// A self-signed leaf for `name`: (cert PEM, key PEM, cert DER).
fn leaf_for(name: &str) -> (String, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec![name.to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("self-sign");
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

const TWO_SITES: &str = "
server {
    listen 127.0.0.1:@PORT0@ ssl;
    server_name a.example.test;
    ssl_certificate @PREFIX@/a.pem;
    ssl_certificate_key @PREFIX@/a.key;
    return 200 'a';
}
server {
    listen 127.0.0.1:@PORT0@ ssl;
    server_name b.example.test;
    ssl_certificate @PREFIX@/b.pem;
    ssl_certificate_key @PREFIX@/b.key;
    return 200 'b';
}
";

/// nginx serving a.pem/b.pem (+ keys) from the returned temp dir (drop it after nginx).
fn nginx_with_two_sites() -> (Nginx, tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let prefix = tempfile::Builder::new()
        .prefix("certwright-verify-")
        .tempdir()
        .expect("temp dir");
    let (a, b) = (leaf_for("a.example.test"), leaf_for("b.example.test"));
    for (stem, (pem, key, _)) in [("a", &a), ("b", &b)] {
        std::fs::write(prefix.path().join(format!("{stem}.pem")), pem).expect("write cert");
        std::fs::write(prefix.path().join(format!("{stem}.key")), key).expect("write key");
    }
    let site = TWO_SITES.replace("@PREFIX@", &prefix.path().display().to_string());
    (Nginx::start(&site), prefix, a.2, b.2)
}

fn probe(port: u16, name: &str) -> Probe {
    Probe {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        name: name.to_string(),
    }
}

const QUICK: RetryOpts = RetryOpts {
    deadline: Duration::from_millis(800),
    interval: Duration::from_millis(200),
    connect_timeout: Duration::from_secs(2),
};

/// Real nginx serving two certificates by SNI: each name's served leaf matches its own and
/// not the other's; a dead port is unreachable, not a match.
#[test]
fn verify_compares_the_served_leaf_per_sni_name() {
    let (nginx, _certs, a_der, b_der) = nginx_with_two_sites();
    let port = nginx.port(0);
    let probes = [probe(port, "a.example.test"), probe(port, "b.example.test")];
    let results = block_on(verify(&probes, &a_der, QUICK));
    assert_eq!(results[0].outcome, Outcome::Match, "{results:?}");
    assert_eq!(results[0].attempts, 1);
    assert_eq!(
        results[1].outcome,
        Outcome::Mismatch {
            served_sha256: sha256_hex(&b_der)
        },
        "{results:?}"
    );
    assert!(results[1].attempts > 1, "a mismatch is retried");
    let dead = block_on(verify(
        &[probe(free_port(), "a.example.test")],
        &a_der,
        QUICK,
    ));
    assert!(
        matches!(dead[0].outcome, Outcome::Unreachable { .. }),
        "{dead:?}"
    );
}

/// A certificate swapped in and nginx reloaded while verification runs: the retries see the
/// new leaf once nginx serves it.
#[test]
fn verify_waits_for_a_reload_to_take_effect() {
    let (nginx, _certs, _, _) = nginx_with_two_sites();
    let (new_pem, new_key, new_der) = leaf_for("a.example.test");
    let site = std::fs::read_to_string(nginx.site_path()).expect("read site");
    let a_pem_path = site
        .split_whitespace()
        .find(|w| w.ends_with("/a.pem;"))
        .map(|w| PathBuf::from(w.trim_end_matches(';')))
        .expect("a.pem path in site");
    let conf = nginx.conf_path();
    // verify reaches nginx through a relay that sees each attempt: the swap comes once the
    // second attempt arrived, so the first one surely saw the old leaf.
    let relay = GatedProxy::start_any(nginx.port(0)).expect("relay to nginx");
    relay.open();
    let relay_port = relay.port();
    let swapper = std::thread::spawn(move || {
        for attempt in 1..=2 {
            assert!(
                relay.wait_for_connection(Duration::from_secs(10)),
                "verify's attempt {attempt} did not come"
            );
        }
        std::fs::write(a_pem_path.with_extension("key"), new_key).expect("write key");
        std::fs::write(&a_pem_path, new_pem).expect("write cert");
        let status = std::process::Command::new(support::nginx::NGINX)
            .arg("-c")
            .arg(&conf)
            .args(["-s", "reload"])
            .status()
            .expect("nginx -s reload");
        assert!(status.success());
        relay
    });
    let opts = RetryOpts {
        deadline: Duration::from_secs(10),
        ..QUICK
    };
    let results = block_on(verify(
        &[probe(relay_port, "a.example.test")],
        &new_der,
        opts,
    ));
    swapper.join().expect("swapper thread");
    assert_eq!(results[0].outcome, Outcome::Match, "{results:?}");
    assert!(results[0].attempts > 1, "{results:?}");
}

/// An `--nginx-ctl` wrapper, and the file that arms it: once that file holds a copy of the
/// live certificate, every reload after the live certificate changed "succeeds" without
/// reloading (challenge reloads before the swap still work).
fn reload_skipping_ctl(env: &support::Env, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let skip = env.root().join("skip-reload");
    let ctl = env.root().join("nginx-ctl");
    std::fs::write(
        &ctl,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = reload ] && [ -e {skip} ] && ! cmp -s {skip} {live}; then exit 0; fi\ndone\nexec {nginx_bin} \"$@\"\n",
            skip = skip.display(),
            live = env.live(name).join("cert.pem").display(),
            nginx_bin = support::nginx::NGINX
        ),
    )
    .expect("write ctl wrapper");
    std::fs::set_permissions(&ctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (ctl, skip)
}

/// `run --nginx -d name` on the rig's nginx through `ctl` (an `--nginx-ctl` wrapper), with
/// Pebble's flags, not yet run.
fn run_nginx_through(rig: &NginxRig, name: &str, ctl: &Path) -> Cli {
    rig.env
        .cli()
        .args(["run", "--nginx", "-d", name, "--http-01-port"])
        .arg(rig.nginx.port(0).to_string())
        .arg("--nginx-server-root")
        .arg(rig.nginx.server_root())
        .arg("--nginx-ctl")
        .arg(ctl)
        .args(["--https-port", &rig.https_port.to_string()])
        .args(rig.env.flags(&rig.pebble))
}

/// `run --nginx` and `install` check what nginx serves once they are done: a reload that
/// silently did nothing is exit 1 and one `served_mismatch` alert (the throttle in
/// `alerts.json` is shared with `renew`); once nginx serves the live certificate, exit 0.
#[test]
fn run_and_install_catch_a_reload_that_did_nothing() {
    let name = "installed.example.test";
    let site = format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name {name};\n    root @PREFIX@;\n}}\n"
    );
    let rig = NginxRig::new(&site);
    let (nginx, env) = (&rig.nginx, &rig.env);
    let (ctl, skip) = reload_skipping_ctl(env, name);
    let hook = Receiver::start(Behaviour::Status(200));
    let https_port = rig.https_port.to_string();
    let run = |extra: &[&str]| {
        run_nginx_through(&rig, name, &ctl)
            .args(["--notify-webhook", &hook.url("/run")])
            .args(extra)
            .run()
    };
    let install = || {
        env.cli()
            .args([
                "install",
                "--nginx",
                "--cert-name",
                name,
                "--nginx-server-root",
            ])
            .arg(nginx.server_root())
            .arg("--nginx-ctl")
            .arg(&ctl)
            .args(["--https-port", &https_port])
            .args(["--notify-webhook", &hook.url("/install")])
            .args(env.dir_flags())
            .run()
    };
    run(&[]).assert_success();
    install().assert_success();
    assert!(hook.received().is_empty());

    std::fs::copy(env.live(name).join("cert.pem"), &skip).expect("copy live cert");
    let stale = run(&["--force-renewal"]);
    stale.assert_code(1);
    assert!(
        stale.stderr.contains("does not serve the live certificate"),
        "{}",
        stale.stderr
    );
    let paths: Vec<String> = hook.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/run"]);
    assert_eq!(
        hook.received()[0].json()["event"]["kind"],
        "served_mismatch"
    );
    install().assert_code(1);
    assert_eq!(hook.received().len(), 1, "alerted twice the same day");

    let pid = nginx.read_pid().expect("nginx pid");
    std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill -HUP nginx");
    install().assert_success();
}

/// `verify` after `run --nginx` finds the live certificate served; after a renewal whose
/// reload silently did nothing (an `--nginx-ctl` wrapper that skips it), `verify` exits 1
/// naming the mismatch, and `renew` with a webhook sends a `served_mismatch` alert and
/// exits 1 (issue 23: a renewal nginx does not serve is not done).
#[test]
fn verify_catches_a_reload_that_did_nothing() {
    let name = "served.example.test";
    let site = format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name {name};\n    root @PREFIX@;\n}}\n"
    );
    let rig = NginxRig::new(&site);
    let env = &rig.env;
    let (ctl, skip) = reload_skipping_ctl(env, name);
    let https_port = rig.https_port;
    run_nginx_through(&rig, name, &ctl).run().assert_success();
    let verify = || {
        env.cli()
            .args(["verify", "--json"])
            .args(env.dir_flags())
            .run()
    };
    let ok = verify();
    ok.assert_success();
    let json = ok.json();
    let probe = &json["certificates"][0]["probes"][0];
    assert_eq!(probe["result"], "match", "{json}");
    assert_eq!(probe["name"], name);
    assert_eq!(probe["addr"], format!("127.0.0.1:{https_port}"));

    std::fs::copy(env.live(name).join("cert.pem"), &skip).expect("copy live cert");
    let hook = Receiver::start(Behaviour::Status(200));
    env.renew_cli(&["--force-renewal", "--notify-webhook"])
        .arg(hook.url("/hook"))
        .run()
        .assert_code(1);
    assert_eq!(alert_kinds(&hook), ["served_mismatch"]);
    let bad = verify();
    bad.assert_code(1);
    let json = bad.json();
    assert_eq!(
        json["certificates"][0]["probes"][0]["result"], "mismatch",
        "{json}"
    );
}
