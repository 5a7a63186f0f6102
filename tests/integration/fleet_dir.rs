//! Fleet mode on a `file://` store: two nodes sharing a directory (here on one host, as
//! several nodes on one machine would; NFSv4 gives the same locks between hosts) get what
//! they get from Redis: one order per renewal, the same files everywhere, no key in clear.

use crate::fleet::{contains, private_key_material};
use crate::support::files_below;
use crate::support::fleet::{assert_all_succeeded, Fleet, FleetOpts};

#[test]
fn two_nodes_share_a_directory_store() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2).dir_store());
    let store = fleet.store_dir();
    let name = "dir.example.com";

    // Node 1 orders; node 2's `certificates` installs the same files.
    let out = fleet.certonly(0, name, &[name]);
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(fleet.store_version(name), Some(1), "{}", fleet.report());
    fleet.sync(1);
    fleet.assert_same_live(0, 1, name);
    assert_eq!(
        fleet.node_versions("node-2").get(name).map(String::as_str),
        Some("1")
    );
    assert_eq!(fleet.events("order", name).len(), 1, "{}", fleet.report());

    // Both force a renewal at the same moment: the lock lets exactly one order.
    for node in &fleet.nodes {
        node.set_standalone_port(name, node.port);
    }
    let a = fleet.renew(0, &["--force-renewal"]).spawn();
    let b = fleet.renew(1, &["--force-renewal"]).spawn();
    let (a, b) = (a.wait(), b.wait());
    assert_all_succeeded(&fleet, &[&a, &b]);
    assert_eq!(
        fleet.store_version(name),
        Some(2),
        "{a}\n{b}\n{}",
        fleet.report()
    );
    let orders = fleet.events("order", name);
    assert_eq!(
        orders.len(),
        2,
        "one order each for issue and renewal\n{a}\n{b}\n{}",
        fleet.report()
    );
    fleet.assert_one_new_version_everywhere(name, &format!("{a}\n{b}"));
    // Released: the lock file stays (never deleted), its owner token cleared.
    assert_eq!(
        std::fs::read_to_string(store.join("locks").join(name))
            .ok()
            .as_deref(),
        Some(""),
        "lock not released"
    );

    // Nothing in the directory is a private key in clear, in any encoding.
    let secrets = private_key_material(&fleet);
    let files = files_below(&store);
    assert!(
        files
            .iter()
            .any(|f| f.ends_with(format!("certs/{name}.json"))),
        "{files:?}"
    );
    let mut problems = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        if contains(&bytes, b"PRIVATE KEY") {
            problems.push(format!("{} holds \"PRIVATE KEY\"", file.display()));
        }
        for (what, secret) in &secrets {
            if contains(&bytes, secret) {
                problems.push(format!("{} holds the key of {what}", file.display()));
            }
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "private key material in the store:\n  {}",
        problems.join("\n  ")
    );
}
