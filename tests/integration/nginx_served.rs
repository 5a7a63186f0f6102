//! Every command that changes a lineage's certificate leaves nginx serving it, and proves it
//! (issue 23): a new certificate for an already configured site is reloaded, and a renewal
//! nginx does not serve exits 1 even with no alert target, as `plan` and `certificates` show.

use std::path::Path;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::nginx::{wait_for_leaf, Rig};
use crate::support::wait_for;

/// The live leaf of `name` (DER).
pub(crate) fn live_leaf(rig: &Rig, name: &str) -> Vec<u8> {
    let pem = std::fs::read(rig.env.live(name).join("cert.pem")).expect("read cert.pem");
    CertificateDer::pem_slice_iter(&pem)
        .next()
        .expect("one certificate")
        .expect("parse cert.pem")
        .as_ref()
        .to_vec()
}

/// What nginx presents for `sni` on the rig's https port, once the old workers are gone.
pub(crate) fn served_after_reload(rig: &Rig, sni: &str, want: &[u8]) -> Vec<u8> {
    let served = || wait_for_leaf(sni, rig.https_port, &rig.pebble.root_pem());
    wait_for(Duration::from_secs(5), || {
        let now = served();
        (now == want).then_some(now)
    })
    .unwrap_or_else(served)
}

#[test]
fn run_with_force_renewal_reloads_nginx_and_serves_the_new_certificate() {
    let name = "force.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.run(&[name], &[]).assert_success();
    let first = live_leaf(&rig, name);
    let site = rig.site();
    let out = rig.run(&[name], &["--force-renewal"]);
    out.assert_success();
    assert!(out.stderr.contains("reloaded"), "{out}");
    assert_eq!(rig.site(), site, "nothing to patch the second time");
    let new = live_leaf(&rig, name);
    assert_ne!(new, first, "--force-renewal made a new certificate");
    assert_eq!(
        served_after_reload(&rig, name, &new),
        new,
        "nginx still serves the old certificate"
    );
}

#[test]
fn a_renewal_nginx_does_not_serve_exits_1_without_alert_targets_and_plan_shows_it() {
    let name = "dup.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.run(&[name], &[]).assert_success();
    // The user adds a block for the same name with a copy of today's files, loaded first:
    // nginx serves that one (a "conflicting server name" the user never notices).
    let root = rig.nginx.server_root();
    let copy = root.join("copy");
    std::fs::create_dir(&copy).unwrap();
    for f in ["fullchain.pem", "privkey.pem"] {
        std::fs::copy(rig.env.live(name).join(f), copy.join(f)).unwrap();
    }
    let dup = format!(
        "server {{\n    listen {port} ssl;\n    server_name {name};\n    ssl_certificate {c}/fullchain.pem;\n    ssl_certificate_key {c}/privkey.pem;\n}}\n",
        port = rig.https_port,
        c = copy.display()
    );
    write_site(root, "000-dup", &dup);
    rig.nginx.reload();

    let out = rig.env.renew(&["--force-renewal"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("does not serve the live certificate"),
        "{out}"
    );
    let plan = rig.env.cli().arg("plan").args(rig.env.dir_flags()).run();
    plan.assert_success();
    assert!(plan.stdout.contains("served:         MISMATCH"), "{plan}");
    let certs = rig
        .env
        .cli()
        .arg("certificates")
        .args(rig.env.dir_flags())
        .run();
    assert!(certs.stdout.contains("Served: MISMATCH"), "{certs}");

    // Once the user removes the duplicate, the next install proves it and says so.
    std::fs::remove_file(root.join("sites-enabled/000-dup")).unwrap();
    rig.install(name, &[]).assert_success();
    let plan = rig.env.cli().arg("plan").args(rig.env.dir_flags()).run();
    assert!(
        plan.stdout
            .contains("served:         nginx serves the live certificate"),
        "{plan}"
    );
}

/// `sites-available/NAME` with `body`, enabled by a symlink.
pub(crate) fn write_site(root: &Path, name: &str, body: &str) {
    let available = root.join("sites-available").join(name);
    std::fs::write(&available, body).unwrap();
    std::os::unix::fs::symlink(&available, root.join("sites-enabled").join(name)).unwrap();
}

#[test]
fn removing_a_name_reloads_and_gives_its_block_back() {
    let (a, b) = ("keep.example.com", "drop.example.com");
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {a};\n}}\nserver {{\n    listen @PORT0@;\n    server_name {b};\n}}\n"
    ));
    rig.run(&[a, b], &[]).assert_success();
    let out = rig.run(&[a], &["--cert-name", a]);
    out.assert_success();
    let site = rig.site();
    assert_eq!(site.matches("ssl_certificate ").count(), 1, "{site}");
    let b_block = &site[site.find(&format!("server_name {b};")).unwrap()..];
    assert!(!b_block.contains("# managed by certwright"), "{site}");
    let new = live_leaf(&rig, a);
    assert_eq!(served_after_reload(&rig, a, &new), new);
}
