//! Fleet mode with every node in its own network namespace (issue 7: "where the sandbox
//! allows (`ip netns`, as root in CI), nodes on their own addresses in network namespaces
//! instead of separate ports").
//!
//! ```text
//! Pebble's VA --> gate --> nginx LB (round robin) --> 10.X.1.2:80  node-1 (namespace 1)
//!                                                 --> 10.X.2.2:80  node-2 (namespace 2)
//!                                                 --> 10.X.3.2:80  node-3 (namespace 3)
//! every node --> 10.X.1.1 (the host): Redis, Pebble's ACME API
//! ```
//!
//! Unlike fleet.rs, every node listens on port 80, so a renewal config one node syncs from
//! another works as it is: no test rewrites a port. Where namespaces cannot be made (not
//! root, or `ip netns add` refused) each test says so on stderr and returns; that is the one
//! skip, and only `Namespaces::create` decides it.

use std::io::Write;

use serde_json::Value;

use crate::support::cli::{Output, Running};
use crate::support::fleet::{assert_all_succeeded, Fleet, FleetOpts, NETNS_HTTP_PORT};
use crate::support::netns::Namespaces;
use crate::support::read_lossy;

const NODES: usize = 3;

/// Three nodes, one namespace each; `None` (and a note on stderr) where namespaces are
/// impossible. Any other failure panics.
fn netns_fleet(test: &str) -> Option<Fleet> {
    match Namespaces::create(NODES) {
        Ok(namespaces) => Some(Fleet::start_in(
            namespaces,
            FleetOpts::default().nodes(NODES),
        )),
        Err(why) => {
            // Straight to fd 2: libtest swallows a passing test's `eprintln!` unless
            // --nocapture, and a skip must never be silent.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED fleet_netns::{test}: network namespaces are not available here: {why}"
            );
            None
        }
    }
}

/// The standalone port in node `i`'s `renewal/<name>.json`.
fn renewal_port(fleet: &Fleet, i: usize, name: &str) -> Value {
    let path = fleet.node(i).env.renewal_conf(name);
    let text = read_lossy(&path);
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", path.display()));
    json["authenticator"]["http_01_port"].clone()
}

/// Node 1 orders on port 80 of its namespace; the LB spreads the probes over all three
/// addresses and the daemons of nodes 2 and 3 (port 80 of theirs) answer from Redis.
#[test]
fn nodes_on_their_own_addresses_answer_each_others_challenges() {
    let Some(fleet) = netns_fleet("nodes_on_their_own_addresses_answer_each_others_challenges")
    else {
        return;
    };
    let name = "netns.example.com";
    let mut run = fleet.order_while_daemons_answer(name);
    run.wait_synced(1);
    for i in 0..NODES {
        assert_eq!(
            renewal_port(&fleet, i, name),
            NETNS_HTTP_PORT,
            "{}'s renewal config",
            fleet.node(i).id
        );
    }

    let orders = fleet.events("order", name);
    assert_eq!(orders.len(), 1, "{orders:?}\n{}", fleet.report());
    assert_eq!(orders[0]["node"], "node-1", "{orders:?}");
    assert_eq!(fleet.store_version(name), Some(1));

    run.stop();
}

/// The lineage is due on all three nodes and all three run `renew` at once, each with the
/// renewal config as synced (port 80): one order, one new version, the same files everywhere.
#[test]
fn three_nodes_renewing_at_once_make_one_version_and_one_order() {
    let Some(fleet) = netns_fleet("three_nodes_renewing_at_once_make_one_version_and_one_order")
    else {
        return;
    };
    let name = "netns-race.example.com";
    let out = fleet.certonly(0, name, &[name]);
    assert_all_succeeded(&fleet, &[&out]);
    for i in 1..NODES {
        fleet.sync(i);
        fleet.assert_same_live(0, i, name);
        assert_eq!(
            renewal_port(&fleet, i, name),
            NETNS_HTTP_PORT,
            "{}'s synced renewal config",
            fleet.node(i).id
        );
    }
    let all: Vec<usize> = (0..NODES).collect();
    fleet.make_due(name, &all);
    assert_eq!(fleet.events("order", name).len(), 1, "{}", fleet.report());
    let hits_before = fleet.lb.hits().len();

    let runs: Vec<Running> = all
        .iter()
        .map(|&i| fleet.renew(i, &["--json"]).spawn())
        .collect();
    let outs: Vec<Output> = runs.into_iter().map(Running::wait).collect();
    assert_all_succeeded(&fleet, &outs.iter().collect::<Vec<_>>());

    let results: Vec<String> = outs
        .iter()
        .map(|o| {
            let json = o.json();
            let entry = json["certificates"]
                .as_array()
                .and_then(|c| c.iter().find(|e| e["name"] == name))
                .unwrap_or_else(|| panic!("{name} not in the output\n{o}"));
            entry["result"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    let report = || {
        let outs: Vec<String> = outs.iter().map(Output::to_string).collect();
        format!("{results:?}\n{}\n{}", outs.join("\n\n"), fleet.report())
    };
    assert_eq!(
        results.iter().filter(|r| *r == "renewed").count(),
        1,
        "exactly one node renews\n{}",
        report()
    );
    assert_eq!(fleet.store_version(name), Some(2), "{}", report());
    let orders = fleet.events("order", name);
    assert_eq!(orders.len(), 2, "one renewal, one order\n{}", report());

    // The renewal's probes were answered on port 80 of the node that ordered (the others
    // had nothing listening, so the LB passed them over).
    let renewer = orders[0]["node"].as_str().unwrap_or_default().to_string();
    let renewer_node = fleet
        .nodes
        .iter()
        .find(|n| n.id == renewer)
        .unwrap_or_else(|| panic!("order by unknown node {renewer:?}\n{}", report()));
    let probes: Vec<_> = fleet.lb.hits()[hits_before..]
        .iter()
        .filter(|h| h.is_challenge())
        .cloned()
        .collect();
    assert!(
        !probes.is_empty()
            && probes
                .iter()
                .all(|h| h.status == 200 && h.answerer() == Some(renewer_node.upstream())),
        "want every probe answered by {renewer} at {}\n{}",
        renewer_node.upstream(),
        report()
    );

    fleet.assert_one_new_version_everywhere(name, &report());
    assert!(
        !fleet.redis().exists(&fleet.lock_key(name)),
        "lock not released\n{}",
        report()
    );
}
