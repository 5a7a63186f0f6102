//! Fleet mode over `rediss://` (issue 15): a real redis-server speaking TLS only
//! (`--port 0 --tls-port P`) with a certificate from a throwaway CA, trusted through
//! `--store-ca-bundle`; a CA that did not sign the server's certificate is exit 6.

use std::path::Path;

use crate::support::cli::Output;
use crate::support::fleet::{assert_all_succeeded, Fleet, FleetOpts, Node};
use crate::support::smtp::localhost_identity;
use crate::support::Snapshot;

/// The exit code for "shared store unreachable or lock lost".
const EXIT_STORE: i32 = 6;

/// `certificates` on `node` with its fleet flags, `--store-ca-bundle` replaced by `ca` (or
/// left out for `None`).
fn certificates_with_ca(node: &Node, ca: Option<&Path>) -> Output {
    let mut flags = node.store_flags();
    let at = flags
        .iter()
        .position(|f| f == "--store-ca-bundle")
        .expect("a TLS fleet passes --store-ca-bundle");
    match ca {
        Some(ca) => flags[at + 1] = ca.display().to_string(),
        None => {
            flags.drain(at..at + 2);
        }
    }
    node.bare_cli()
        .arg("certificates")
        .args(node.env.dir_flags())
        .args(&flags)
        .run()
}

/// Node 1 issues through the TLS store; node 2 installs the same files from it.
#[test]
fn a_fleet_issues_and_syncs_through_rediss() {
    let fleet = Fleet::start(FleetOpts::default().tls());
    let flags = fleet.node(0).store_flags();
    assert!(
        flags.iter().any(|f| f.starts_with("rediss://")),
        "not a TLS store: {flags:?}"
    );
    let name = "tls.example.com";
    let out = fleet.certonly(0, name, &[name]);
    assert_all_succeeded(&fleet, &[&out]);
    fleet.sync(1);
    fleet.assert_same_live(0, 1, name);
    let json = fleet.certificates_json(1);
    assert!(json.to_string().contains(name), "{json}");
}

/// `--store-ca-bundle` naming another CA: the TLS handshake fails, exit 6 naming the store
/// and the certificate problem, and nothing is written locally.
#[test]
fn a_wrong_store_ca_is_exit_6_and_writes_nothing() {
    let fleet = Fleet::start(FleetOpts::default().tls().nodes(1));
    let node = fleet.node(0);
    let other = tempfile::tempdir().expect("temp dir");
    let wrong_ca = other.path().join("other-ca.pem");
    std::fs::write(&wrong_ca, localhost_identity().0).expect("write the other CA");
    let config = Snapshot::of(&node.env.config_dir());
    let out = certificates_with_ca(node, Some(&wrong_ca));
    out.assert_code(EXIT_STORE);
    let stderr = out.stderr.to_ascii_lowercase();
    assert!(stderr.contains("rediss://127.0.0.1"), "{out}");
    assert!(stderr.contains("certificate"), "{out}");
    assert!(stderr.contains("--store-ca-bundle"), "{out}");
    config.assert_unchanged(&Snapshot::of(&node.env.config_dir()), "after a wrong CA");

    // Without --store-ca-bundle the system's roots do not know the throwaway CA either.
    certificates_with_ca(node, None).assert_code(EXIT_STORE);
}

/// `--store-ca-bundle` with a plain redis:// store, or a file holding no certificate: exit 2.
#[test]
fn store_ca_bundle_misuse_is_exit_2() {
    let fleet = Fleet::start(FleetOpts::default().nodes(1));
    let node = fleet.node(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, localhost_identity().0).expect("write a CA");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").expect("write a non-PEM file");
    let out = node
        .cli(&["certificates"])
        .args(["--store-ca-bundle", &ca.display().to_string()])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("rediss://"), "{out}");

    let tls = Fleet::start(FleetOpts::default().tls().nodes(1));
    let out = certificates_with_ca(tls.node(0), Some(&empty));
    out.assert_code(2);
    assert!(out.stderr.contains("no PEM certificate"), "{out}");
}
