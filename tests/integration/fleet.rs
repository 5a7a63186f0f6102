//! Fleet mode (issue 7): several nodes share challenges, certificates, keys, accounts and a
//! per-lineage lock through Redis. Each test gets its own redis-server, Pebble and nginx load
//! balancer (support/fleet.rs); nodes are the real binary with `--store` flags.
//!
//! The `harness_*` tests check the rig alone (Redis restart, LB routing) and do not need fleet
//! mode in the binary.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::renew::entry;
use crate::support::certs::{pem_blocks, Lineage};
use crate::support::cli::{dead_server_url, Output};
use crate::support::fleet::{
    assert_all_succeeded, random_store_key, write_key_file, Fleet, FleetOpts, LoadBalancer,
    SYNC_LIMIT,
};
use crate::support::redis::{RedisServer, Reply};
use crate::support::{files_below, free_port, net, read_lossy, wait_for, Env, Snapshot};

/// Bound on the first HTTP-01 probe of a run reaching the gate.
const PROBE_LIMIT: Duration = Duration::from_secs(60);
/// Bound on another node completing a renewal once a dead holder's lock expired.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(120);

/// The exit code for "shared store unreachable or lock lost".
const EXIT_STORE: i32 = 6;

// ---------------------------------------------------------------------------------------
// The rig alone.

#[test]
fn harness_redis_answers_keeps_data_across_restart_and_stops() {
    let mut redis = RedisServer::start();
    assert_ne!(
        redis.port(),
        6379,
        "tests must never use the system redis port"
    );
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}/0", redis.port()));
    redis.cmd(&["SET", "t:plain", "value with\r\nbytes"]);
    redis.cmd(&["HSET", "t:hash", "a", "1", "b", "2"]);
    redis.cmd(&["RPUSH", "t:list", "x", "y"]);
    redis.cmd(&["SET", "t:short", "gone soon", "PX", "100"]);
    assert_eq!(redis.get("t:plain").as_deref(), Some("value with\r\nbytes"));
    assert_eq!(redis.cli(&["HGET", "t:hash", "b"]), "2");
    assert_eq!(redis.get("t:missing"), None);
    assert!(matches!(
        redis.try_cmd(&["NOSUCHCOMMAND"]),
        Ok(Reply::Error(_))
    ));

    redis.restart();
    assert_eq!(
        redis.get("t:plain").as_deref(),
        Some("value with\r\nbytes"),
        "data lost across a restart\n{}",
        redis.logs()
    );
    assert_eq!(
        redis
            .hgetall("t:hash")
            .into_iter()
            .collect::<Vec<(String, String)>>(),
        vec![("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert_eq!(redis.list("t:list"), vec!["x", "y"]);
    assert!(
        wait_for(Duration::from_secs(5), || (!redis.exists("t:short"))
            .then_some(()))
        .is_some(),
        "an expiring key outlived its expiry across a restart"
    );

    let dump = redis.dump();
    let keys: Vec<&str> = dump.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, vec!["t:hash", "t:list", "t:plain"]);
    let hash = &dump[0];
    assert_eq!(hash.kind, "hash");
    assert_eq!(
        hash.values,
        vec![b"a".to_vec(), b"1".to_vec(), b"b".to_vec(), b"2".to_vec()]
    );

    let port = redis.port();
    redis.stop();
    assert!(!net::port_answers(port));
    assert!(redis.try_cmd(&["PING"]).is_err());
    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(redis.list("t:list"), vec!["x", "y"]);
    drop(redis);
    assert!(!net::port_answers(port), "redis survived drop");
}

/// A tiny HTTP server answering every request with 200 and "`tag` `Host header`".
fn dummy_upstream(port: u16, tag: &'static str) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind dummy upstream");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut host = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("host") {
                        host = v.trim().to_string();
                    }
                }
                line.clear();
            }
            let body = format!("{tag} {host}");
            let _ = write!(
                conn,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

#[test]
fn harness_lb_round_robins_passes_host_and_logs_the_upstream() {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    for (port, tag) in ports.iter().zip(["one", "two", "three"]) {
        dummy_upstream(*port, tag);
    }
    let lb = LoadBalancer::start(&ports);
    let host = format!("probe.example.com:{}", lb.port());
    let mut tags = Vec::new();
    for i in 0..6 {
        let got = net::http_get(
            lb.port(),
            &host,
            &format!("/.well-known/acme-challenge/t{i}"),
        )
        .expect("GET through the LB");
        assert_eq!(got.status, 200, "{}", lb.error_log());
        let text = got.text();
        let (tag, seen_host) = text.split_once(' ').expect("tag and host");
        assert_eq!(
            seen_host, host,
            "the Host header must reach the node as sent"
        );
        tags.push(tag.to_string());
    }
    assert_eq!(tags, ["one", "two", "three", "one", "two", "three"]);

    let hits = lb.hits();
    assert_eq!(hits.len(), 6, "{}", lb.log());
    for (i, hit) in hits.iter().enumerate() {
        assert!(hit.is_challenge(), "{hit:?}");
        assert_eq!(hit.uri, format!("/.well-known/acme-challenge/t{i}"));
        assert_eq!(hit.status, 200);
        assert_eq!(hit.answered_by(), Some(ports[i % 3]), "{}", lb.log());
    }
}

#[test]
fn harness_lb_skips_an_upstream_that_is_down() {
    let up: Vec<u16> = (0..2).map(|_| free_port()).collect();
    dummy_upstream(up[0], "one");
    dummy_upstream(up[1], "two");
    let down = free_port();
    let lb = LoadBalancer::start(&[up[0], down, up[1]]);
    // More requests than nginx's fail_timeout would forgive without max_fails=0.
    for i in 0..9 {
        let got = net::http_get(lb.port(), "x.example.com", &format!("/r{i}")).expect("GET");
        assert_eq!(got.status, 200, "request {i}\n{}", lb.log());
    }
    let answered: BTreeSet<u16> = lb.hits().iter().filter_map(|h| h.answered_by()).collect();
    assert_eq!(answered, BTreeSet::from([up[0], up[1]]), "{}", lb.log());
    assert!(
        lb.hits().iter().any(|h| h.upstreams.len() == 2),
        "the down upstream was never tried first: {}",
        lb.log()
    );
}

#[test]
fn harness_gate_closes_again_for_a_later_run() {
    let port = free_port();
    dummy_upstream(port, "one");
    let gate = crate::support::proxy::GatedProxy::start_any(port).expect("gate");
    gate.open();
    assert_eq!(
        net::http_get(gate.port(), "h", "/").expect("GET").status,
        200
    );
    gate.close();
    let gate_port = gate.port();
    let held = std::thread::spawn(move || net::http_get(gate_port, "h", "/").map(|r| r.status));
    assert!(gate.wait_for_connection(Duration::from_secs(10)));
    // Not a readiness wait: the window in which a leaking gate would let the GET finish.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !held.is_finished(),
        "a closed gate let a connection through"
    );
    gate.open();
    assert_eq!(held.join().expect("thread").expect("GET"), 200);
}

/// The whole probe path with today's binary (no fleet flags): Pebble -> gate -> LB -> the
/// one node listening; the LB skips the two silent ones, and a closed gate holds the run.
#[test]
fn harness_fleet_rig_routes_probes_through_gate_and_lb() {
    let fleet = Fleet::start(FleetOpts::default().nodes(3));
    let node = fleet.node(0);
    let plain = |name: &str| {
        node.env
            .cli()
            .args(["certonly", "--standalone", "--http-01-port"])
            .arg(node.port.to_string())
            .args(["--http-01-address", "127.0.0.1", "-d", name])
            .args(node.env.flags(&fleet.pebble))
    };
    let out = plain("rig.example.com").run();
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(
        fleet.challenge_answerers(),
        BTreeSet::from(["node-1".to_string()]),
        "{}",
        fleet.report()
    );

    fleet.gate.close();
    let held = plain("held.example.com").spawn();
    assert!(
        fleet.gate.wait_for_connection(PROBE_LIMIT),
        "no probe reached the gate"
    );
    let before = fleet.lb.hits().len();
    // Not a readiness wait: the window in which a leaking gate would let a probe reach the
    // LB (the check after `open` shows the LB sees probes).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fleet.lb.hits().len(),
        before,
        "the gate let a probe through"
    );
    fleet.gate.open();
    let out = held.wait();
    assert_all_succeeded(&fleet, &[&out]);
    assert!(fleet.lb.hits().len() > before);
}

// ---------------------------------------------------------------------------------------
// Fleet mode end to end.

/// (a) Node 1 orders; every probe goes through the LB to whichever node is next, and the
/// daemons of nodes 2 and 3 answer from the shared store. All three end with the same files.
#[test]
fn three_nodes_answer_each_others_challenges_and_end_identical() {
    let fleet = Fleet::start(FleetOpts::default().nodes(3));
    let name = "fleet.example.com";
    let mut run = fleet.order_while_daemons_answer(name);
    run.wait_synced(1);

    let orders = fleet.events("order", name);
    assert_eq!(orders.len(), 1, "{orders:?}\n{}", fleet.report());
    assert_eq!(orders[0]["node"], "node-1", "{orders:?}");
    let publishes = fleet.events("publish", name);
    assert_eq!(publishes.len(), 1, "{publishes:?}");
    assert_eq!(publishes[0]["version"], 1, "{publishes:?}");
    assert_eq!(publishes[0]["node"], "node-1", "{publishes:?}");
    assert_eq!(fleet.store_version(name), Some(1));
    run.stop();
}

/// Issues `name` on node 1, syncs the other nodes, makes it due everywhere and points each
/// node's renewal config at its own port.
fn due_everywhere(fleet: &Fleet, name: &str) {
    let out = fleet.certonly(0, name, &[name]);
    assert_all_succeeded(fleet, &[&out]);
    let all: Vec<usize> = (0..fleet.nodes.len()).collect();
    for &i in &all[1..] {
        fleet.sync(i);
        fleet.assert_same_live(0, i, name);
    }
    fleet.make_due(name, &all);
    for node in &fleet.nodes {
        node.set_standalone_port(name, node.port);
    }
}

/// (b) Two nodes renew the same due lineage at the same moment (as cron on every node
/// does): the lock lets one order; the other installs that version instead of ordering.
#[test]
fn two_nodes_renewing_at_once_make_one_version_and_one_order() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2));
    let name = "race.example.com";
    due_everywhere(&fleet, name);
    let orders_before = fleet.events("order", name).len();
    assert_eq!(orders_before, 1, "{}", fleet.report());

    let a = fleet.renew(0, &[]).spawn();
    let b = fleet.renew(1, &[]).spawn();
    let (a, b) = (a.wait(), b.wait());
    assert_all_succeeded(&fleet, &[&a, &b]);

    assert_eq!(fleet.store_version(name), Some(2), "{}", fleet.report());
    let orders = fleet.events("order", name);
    assert_eq!(
        orders.len(),
        orders_before + 1,
        "one renewal, one order\n{a}\n{b}\n{}",
        fleet.report()
    );
    fleet.assert_one_new_version_everywhere(name, &format!("{a}\n{b}"));
    assert!(
        !fleet.redis().exists(&fleet.lock_key(name)),
        "lock not released"
    );
}

/// (c) The lock holder is SIGKILLed while its order waits on a probe: its lock outlives it
/// until the TTL, then another node takes over and completes the renewal.
#[test]
fn killed_lock_holder_is_taken_over_after_the_ttl() {
    // 10 s: node-2's first run must reach the lock inside 2/3 of it even on a loaded machine.
    let fleet = Fleet::start(FleetOpts::default().nodes(2).lock_ttl_secs(10));
    let name = "takeover.example.com";
    due_everywhere(&fleet, name);
    let lock = fleet.lock_key(name);

    fleet.gate.close();
    let holder = fleet.renew(0, &[]).spawn();
    if !fleet.gate.wait_for_connection(PROBE_LIMIT) {
        panic!(
            "node-1's renewal sent no probe\n{}\n{}",
            holder.wait_or_kill(),
            fleet.report()
        );
    }
    // Mid-order: the CA is probing, the probe is held.
    assert!(
        fleet.redis().exists(&lock),
        "node-1 is mid-order but {lock} is not set\n{}",
        fleet.report()
    );
    let killed = holder.wait_or_kill();
    let killed_at = Instant::now();
    assert_eq!(
        killed.code, -1,
        "node-1 was to be killed mid-order\n{killed}"
    );
    let pttl = fleet.redis().cmd(&["PTTL", &lock]);
    assert!(
        matches!(pttl, Reply::Int(ms) if ms > 0),
        "the dead holder's lock must still be live with an expiry: PTTL {pttl:?}"
    );
    fleet.gate.open();

    // The lock is refreshed every ttl/3, so it lives at least 2/3 of the TTL after the kill.
    let safe = fleet.lock_ttl() * 2 / 3 - Duration::from_millis(200);
    let first = fleet.renew(1, &[]).spawn();
    let early = wait_for(safe.saturating_sub(killed_at.elapsed()), || {
        (fleet.store_version(name) != Some(1)).then_some(())
    });
    assert!(
        early.is_none(),
        "node-2 published within {:?} of the holder's death: the lock was ignored\n{}",
        killed_at.elapsed(),
        fleet.report()
    );
    let mut runs = vec![first.wait()];
    // The window above shows the lock held only if node-2 ran inside it: its first run met
    // the dead holder's lock.
    assert!(
        runs[0].stderr.contains("node node-1 is renewing it"),
        "node-2's first run did not meet the lock\n{}\n{}",
        runs[0],
        fleet.report()
    );
    let done = wait_for(TAKEOVER_LIMIT, || {
        if fleet.store_version(name) == Some(2) {
            return Some(());
        }
        runs.push(fleet.renew(1, &[]).run());
        None
    });
    let runs_text: Vec<String> = runs.iter().map(|o| o.to_string()).collect();
    assert!(
        done.is_some(),
        "node-2 never completed the renewal\n{}\n{}",
        runs_text.join("\n\n"),
        fleet.report()
    );
    let last = runs.last().expect("at least one run");
    last.assert_success();

    let publishes: Vec<Value> = fleet
        .events("publish", name)
        .into_iter()
        .filter(|e| e["version"] == 2)
        .collect();
    assert_eq!(publishes.len(), 1, "{publishes:?}");
    assert_eq!(publishes[0]["node"], "node-2", "{publishes:?}");
    assert_eq!(fleet.node(1).live_version(name), Some(2));
    Lineage::at(fleet.node(1).env.live(name))
        .assert_valid_for(&[name], &fleet.pebble.root_pem_path());
    assert!(
        !fleet.redis().exists(&lock),
        "node-2 did not release {lock}"
    );
    fleet.sync(0);
    fleet.assert_same_live(0, 1, name);
}

/// (d) Redis goes away while a node is mid-order: exit 6 naming the store, nothing written
/// locally; once Redis is back (with its data) the next run renews.
#[test]
fn redis_restart_mid_order_exits_6_and_writes_nothing() {
    let mut fleet = Fleet::start(FleetOpts::default().nodes(1));
    let name = "outage.example.com";
    due_everywhere(&fleet, name);
    let env = &fleet.node(0).env;
    let config = Snapshot::of(&env.config_dir());
    let work = Snapshot::of(&env.work_dir());

    fleet.gate.close();
    let run = fleet.renew(0, &[]).spawn();
    if !fleet.gate.wait_for_connection(PROBE_LIMIT) {
        panic!("the renewal sent no probe\n{}", run.wait_or_kill());
    }
    fleet.redis_mut().stop();
    fleet.gate.open();
    let out = run.wait();
    out.assert_code(EXIT_STORE);
    let port = format!("127.0.0.1:{}", fleet.redis().port());
    assert!(
        out.stderr.contains("shared store") && out.stderr.contains(&port),
        "the message must name the shared store ({port})\n{out}"
    );
    let env = &fleet.node(0).env;
    config.assert_unchanged(&Snapshot::of(&env.config_dir()), "config after exit 6");
    // The per-CA directory cache (ARI support, see renew) is written before the order.
    let changed: Vec<String> = work
        .diff(&Snapshot::of(&env.work_dir()))
        .into_iter()
        .filter(|d| !d.contains("ca-directories.json"))
        .collect();
    assert!(changed.is_empty(), "work after exit 6: {changed:#?}");

    fleet.redis_mut().restart();
    assert_eq!(
        fleet.store_version(name),
        Some(1),
        "Redis lost its data across the restart\n{}",
        fleet.redis().logs()
    );
    let lock = fleet.lock_key(name);
    let expired = wait_for(fleet.lock_ttl() + Duration::from_secs(5), || {
        (!fleet.redis().exists(&lock)).then_some(())
    });
    assert!(expired.is_some(), "{lock} outlived its TTL");
    let out = fleet.renew(0, &[]).run();
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(fleet.store_version(name), Some(2), "{out}");
    assert_eq!(fleet.node(0).live_version(name), Some(2), "{out}");
}

/// Every text form of a DER private key that a careless store could hold.
pub(crate) fn key_forms(der: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        der.to_vec(),
        STANDARD.encode(der).into_bytes(),
        URL_SAFE_NO_PAD.encode(der).into_bytes(),
        hex.into_bytes(),
    ]
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every form of every certificate and account key the nodes hold locally, with the file
/// it came from; panics unless both kinds were found (a scan for nothing proves nothing).
pub(crate) fn private_key_material(fleet: &Fleet) -> Vec<(String, Vec<u8>)> {
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for node in &fleet.nodes {
        for file in files_below(&node.env.config_dir()) {
            let what = file.display().to_string();
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "privkey.pem" || name.ends_with(".key") {
                let pem = read_lossy(&file);
                for label in ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"] {
                    for der in pem_blocks(&pem, label) {
                        secrets.extend(key_forms(&der).into_iter().map(|f| (what.clone(), f)));
                    }
                }
            } else if name == "credentials.json" {
                let creds: Value = serde_json::from_str(&read_lossy(&file))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let key = creds["key_pkcs8"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{what} has no key_pkcs8"));
                secrets.push((what.clone(), key.as_bytes().to_vec()));
                let der = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(key.trim_end_matches('='))
                    .or_else(|_| base64::engine::general_purpose::STANDARD.decode(key))
                    .unwrap_or_else(|e| panic!("{what}: key_pkcs8 is not base64: {e}"));
                secrets.extend(key_forms(&der).into_iter().map(|f| (what.clone(), f)));
            }
        }
    }
    let key_files = secrets
        .iter()
        .map(|(w, _)| w.as_str())
        .collect::<BTreeSet<_>>();
    assert!(
        key_files.iter().any(|w| w.ends_with("privkey.pem"))
            && key_files.iter().any(|w| w.ends_with("credentials.json")),
        "found no certificate or account keys to look for: {key_files:?}"
    );
    secrets
}

/// (e) Nothing in Redis is a private key in the clear: no PEM, no DER, no base64 or hex of
/// any node's certificate keys or account keys, under any key.
#[test]
fn no_private_key_material_reaches_redis() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2).prefix("cw-e2e"));
    let ec = "ec.example.com";
    let rsa = "rsa.example.com";
    let out = fleet.certonly(0, ec, &[ec]);
    assert_all_succeeded(&fleet, &[&out]);
    let out = fleet
        .certonly_cli(1, rsa, &[rsa])
        .args(["--key-type", "rsa"])
        .run();
    assert_all_succeeded(&fleet, &[&out]);
    fleet.sync(0);
    fleet.sync(1);

    let secrets = private_key_material(&fleet);

    let dump = fleet.redis().dump();
    // Not vacuous: the scan sees the lineages, with a sealed key each.
    for (i, name) in [(0, ec), (1, rsa)] {
        let cert = fleet.redis().hgetall(&fleet.key(&format!("cert:{name}")));
        assert_eq!(
            cert.get("cert").map(String::as_bytes),
            std::fs::read(fleet.node(i).env.live(name).join("cert.pem"))
                .ok()
                .as_deref(),
            "cert:{name} does not hold the certificate: {:?}",
            cert.keys()
        );
        assert!(
            cert.get("privkey").is_some_and(|k| !k.is_empty()),
            "cert:{name} has no privkey field: {:?}",
            cert.keys()
        );
    }
    let mut problems = Vec::new();
    for stored in &dump {
        if !stored.key.starts_with(&format!("{}:", fleet.prefix())) {
            problems.push(format!("key {:?} lacks the prefix cw-e2e:", stored.key));
        }
        let mut values = stored.values.clone();
        values.push(stored.key.clone().into_bytes());
        for value in &values {
            if contains(value, b"PRIVATE KEY") {
                problems.push(format!("{}: a value holds \"PRIVATE KEY\"", stored.key));
            }
            for (what, secret) in &secrets {
                if contains(value, secret) {
                    problems.push(format!("{}: a value holds the key of {what}", stored.key));
                }
            }
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "private key material in Redis:\n  {}",
        problems.join("\n  ")
    );
}

/// (f) A node that was never run before gets every lineage on its first command, and a
/// daemon started later installs them at start, not one sync interval later.
#[test]
fn a_node_joining_later_syncs_at_start() {
    let fleet = Fleet::start(FleetOpts::default().nodes(3));
    let lineages = ["one.example.com", "two.example.com"];
    for name in lineages {
        let out = fleet.certonly(0, name, &[name]);
        assert_all_succeeded(&fleet, &[&out]);
    }

    let json = fleet.certificates_json(2);
    for name in lineages {
        assert_eq!(entry(&json, name)["version"], 1, "{json}");
        fleet.assert_same_live(0, 2, name);
        assert!(
            fleet.node(2).env.renewal_conf(name).exists(),
            "node-3 has no renewal config for {name}"
        );
        assert_eq!(
            fleet.node_versions("node-3").get(name).map(String::as_str),
            Some("1")
        );
    }

    let daemon = fleet.start_daemon(1, 3600, &[]);
    let synced = wait_for(SYNC_LIMIT, || {
        lineages
            .iter()
            .all(|name| fleet.same_live(0, 1, name))
            .then_some(())
    });
    if synced.is_none() {
        panic!(
            "node-2's daemon did not sync at start\n{}\n{}",
            daemon.wait_or_kill(),
            fleet.report()
        );
    }
    for name in lineages {
        fleet.assert_same_live(0, 1, name);
    }
    Fleet::stop_daemon(daemon).assert_success();
}

/// Two nodes; `name` issued on node 1, installed on node 2, then renewed on node 1 alone: the
/// store and node 1 hold version 2, node 2 still version 1.
fn renewed_on_node_1_only(name: &str) -> Fleet {
    let fleet = Fleet::start(FleetOpts::default().nodes(2));
    let out = fleet.certonly(0, name, &[name]);
    assert_all_succeeded(&fleet, &[&out]);
    fleet.sync(1);
    let out = fleet
        .renew(0, &["--force-renewal", "--cert-name", name])
        .run();
    assert_all_succeeded(&fleet, &[&out]);
    fleet
}

/// (g) `certificates --json` in fleet mode shows the store's version and each node's.
#[test]
fn certificates_json_shows_each_nodes_version() {
    let name = "versions.example.com";
    let fleet = renewed_on_node_1_only(name);

    // node-1 holds version 2; node-2 has not run since it installed version 1.
    let json = fleet.certificates_json(0);
    let e = entry(&json, name);
    assert_eq!(e["version"], 2, "{json}");
    assert_eq!(e["fleet"]["version"], 2, "{json}");
    assert_eq!(
        e["fleet"]["nodes"],
        json!({"node-1": 2, "node-2": 1}),
        "{json}"
    );

    // node-2's own listing pulls version 2 first.
    let json = fleet.certificates_json(1);
    let e = entry(&json, name);
    assert_eq!(e["version"], 2, "{json}");
    assert_eq!(e["fleet"]["version"], 2, "{json}");
    assert_eq!(
        e["fleet"]["nodes"],
        json!({"node-1": 2, "node-2": 2}),
        "{json}"
    );
    assert_eq!(
        fleet.node_versions("node-2").get(name).map(String::as_str),
        Some("2")
    );

    // Without --store: local only, no fleet section.
    let env = &fleet.node(0).env;
    let out = env
        .cli()
        .args(["certificates", "--json"])
        .args(env.dir_flags())
        .run();
    out.assert_success();
    assert!(entry(&out.json(), name).get("fleet").is_none(), "{out}");
}

// ---------------------------------------------------------------------------------------
// (h) Bad input.

struct StoreCase {
    what: &'static str,
    /// Flags after the certonly arguments.
    args: Vec<String>,
    envs: Vec<(String, String)>,
    /// Each must appear in stderr (ASCII case-insensitive); `a|b` means either.
    expect: Vec<String>,
}

/// certonly with a dead ACME server plus `case`; `Err` describes what was wrong.
fn check_store_case(case: &StoreCase, want_code: i32) -> Result<(), String> {
    let env = Env::new();
    let config = Snapshot::of(&env.config_dir());
    let work = Snapshot::of(&env.work_dir());
    let mut cli = env
        .cli()
        .args(["certonly", "--standalone", "--http-01-port"])
        .arg(free_port().to_string())
        .args(["-d", "example.com"])
        .args(env.dir_flags())
        .args(["--server", &dead_server_url(), "-n", "--agree-tos"])
        .arg("--register-unsafely-without-email")
        .args(&case.args);
    for (k, v) in &case.envs {
        cli = cli.env(k, v);
    }
    let out = cli.run();
    judge(case, &env, &config, &work, &out, want_code)
}

fn judge(
    case: &StoreCase,
    env: &Env,
    config: &Snapshot,
    work: &Snapshot,
    out: &Output,
    want_code: i32,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if out.code != want_code {
        problems.push(format!("exit code {} (want {want_code})", out.code));
    }
    let stderr = out.stderr.to_ascii_lowercase();
    // The password of the rediss:// case.
    if stderr.contains("hunter2") {
        problems.push("stderr shows the store's password".into());
    }
    for want in &case.expect {
        if !want
            .split('|')
            .any(|alt| stderr.contains(&alt.to_ascii_lowercase()))
        {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    for (what, before, dir) in [
        ("config", config, env.config_dir()),
        ("work", work, env.work_dir()),
    ] {
        let diff = before.diff(&Snapshot::of(&dir));
        if !diff.is_empty() {
            problems.push(format!("{what} dir changed: {diff:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}\n{out}", case.what, problems.join("; ")))
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn bad_store_flags_are_refused_with_exit_2_before_any_io() {
    let keys = tempfile::tempdir().expect("key dir");
    let key = |file: &str, contents: &[u8], mode: u32| -> String {
        let path = keys.path().join(file);
        write_key_file(&path, contents, mode);
        path.display().to_string()
    };
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]) + "\n";
    let good = key("good.key", random_store_key().as_bytes(), 0o600);
    let world = key("world.key", random_store_key().as_bytes(), 0o644);
    let group = key("group.key", random_store_key().as_bytes(), 0o640);
    let short = key("short.key", b64(16).as_bytes(), 0o600);
    let long = key("long.key", b64(64).as_bytes(), 0o600);
    let garbage = key("garbage.key", b"this is not base64 at all!\n", 0o600);
    // `head -c 32 /dev/urandom > key`: raw bytes, not UTF-8 (0xff never is).
    let raw = key("raw.key", &[0xffu8; 32], 0o600);
    let missing = keys.path().join("missing.key").display().to_string();
    // Nothing listens here: a run that connected before validating would exit 6, not 2.
    let store = format!("redis://127.0.0.1:{}/0", free_port());
    let with_key = |url: &str, key: &str| strings(&["--store", url, "--store-key-file", key]);
    let http = format!("http://127.0.0.1:{}/", free_port());
    let bare = format!("127.0.0.1:{}", free_port());
    let postgres = format!("postgres://127.0.0.1:{}/certs", free_port());
    let rediss = format!("rediss://user:hunter2@127.0.0.1:{}/0", free_port());

    let cases = vec![
        StoreCase {
            what: "--store without --store-key-file",
            args: strings(&["--store", &store]),
            envs: vec![],
            expect: strings(&["store-key-file|store_key_file"]),
        },
        StoreCase {
            what: "CERTWRIGHT_STORE without a key file",
            args: vec![],
            envs: vec![("CERTWRIGHT_STORE".into(), store.clone())],
            expect: strings(&["store-key-file|store_key_file"]),
        },
        StoreCase {
            what: "world-readable key file (0644)",
            args: with_key(&store, &world),
            envs: vec![],
            expect: vec![world.clone()],
        },
        StoreCase {
            what: "group-readable key file (0640)",
            args: with_key(&store, &group),
            envs: vec![],
            expect: vec![group.clone()],
        },
        StoreCase {
            what: "world-readable key file given by CERTWRIGHT_STORE_KEY_FILE",
            args: strings(&["--store", &store]),
            envs: vec![("CERTWRIGHT_STORE_KEY_FILE".into(), world.clone())],
            expect: vec![world.clone()],
        },
        StoreCase {
            what: "16-byte key",
            args: with_key(&store, &short),
            envs: vec![],
            expect: vec![short.clone(), "32".into()],
        },
        StoreCase {
            what: "64-byte key",
            args: with_key(&store, &long),
            envs: vec![],
            expect: vec![long.clone(), "32".into()],
        },
        StoreCase {
            what: "key file that is not base64",
            args: with_key(&store, &garbage),
            envs: vec![],
            expect: vec![garbage.clone()],
        },
        StoreCase {
            what: "key file of 32 raw bytes (head -c 32 /dev/urandom)",
            args: with_key(&store, &raw),
            envs: vec![],
            expect: vec![raw.clone(), "openssl rand -base64 32".into()],
        },
        StoreCase {
            what: "key file that does not exist",
            args: with_key(&store, &missing),
            envs: vec![],
            expect: vec![missing.clone()],
        },
        StoreCase {
            what: "http:// store URL",
            args: with_key(&http, &good),
            envs: vec![],
            expect: vec![http.clone()],
        },
        StoreCase {
            what: "store URL without a scheme",
            args: with_key(&bare, &good),
            envs: vec![],
            expect: vec![bare.clone()],
        },
        StoreCase {
            what: "postgres:// store URL",
            args: with_key(&postgres, &good),
            envs: vec![],
            expect: vec![postgres.clone()],
        },
        StoreCase {
            what: "rediss:// (TLS) store URL with a password on the command line",
            args: with_key(&rediss, &good),
            envs: vec![],
            expect: strings(&["rediss://***@127.0.0.1", "command line"]),
        },
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_store_case(c, 2).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad store inputs were not refused properly:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    // The good key itself is fine: with it, the same unreachable store is exit 6, not 2.
    let unreachable = StoreCase {
        what: "good key, unreachable store",
        args: with_key(&store, &good),
        envs: vec![],
        expect: strings(&["shared store"]),
    };
    if let Err(e) = check_store_case(&unreachable, EXIT_STORE) {
        panic!("{e}");
    }
}

#[test]
fn unreachable_store_exits_6_naming_it_and_writes_nothing() {
    let keys = tempfile::tempdir().expect("key dir");
    let key = keys.path().join("store.key");
    write_key_file(&key, random_store_key().as_bytes(), 0o600);
    let port = free_port();
    let store = format!("redis://127.0.0.1:{port}/0");
    let flags = strings(&[
        "--store",
        &store,
        "--store-key-file",
        &key.display().to_string(),
    ]);
    let expect = strings(&["shared store", &format!("127.0.0.1:{port}")]);

    let mut failures = Vec::new();
    for command in [
        &["renew", "--no-random-sleep-on-renew"][..],
        &["certificates"][..],
        &["certificates", "--json"][..],
    ] {
        let env = Env::new();
        let config = Snapshot::of(&env.config_dir());
        let work = Snapshot::of(&env.work_dir());
        let out = env
            .cli()
            .args(command)
            .args(env.dir_flags())
            .args(&flags)
            .run();
        let case = StoreCase {
            what: "unreachable store",
            args: vec![],
            envs: vec![],
            expect: expect.clone(),
        };
        if let Err(e) = judge(&case, &env, &config, &work, &out, EXIT_STORE) {
            failures.push(format!("{command:?}: {e}"));
        }
    }
    let certonly = StoreCase {
        what: "certonly, unreachable store",
        args: flags.clone(),
        envs: vec![],
        expect,
    };
    if let Err(e) = check_store_case(&certonly, EXIT_STORE) {
        failures.push(e);
    }
    // The same through the environment.
    let via_env = StoreCase {
        what: "certonly, unreachable store from CERTWRIGHT_STORE*",
        args: vec![],
        envs: vec![
            ("CERTWRIGHT_STORE".into(), store.clone()),
            (
                "CERTWRIGHT_STORE_KEY_FILE".into(),
                key.display().to_string(),
            ),
        ],
        expect: strings(&["shared store", &format!("127.0.0.1:{port}")]),
    };
    if let Err(e) = check_store_case(&via_env, EXIT_STORE) {
        failures.push(e);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------
// Lock loss, deploy hooks on sync, plan.

/// (i) The lineage lock is taken from its holder mid-order, as its expiry followed by another
/// node's `SET NX` would leave it: the holder's next refresh (every third of the TTL) finds a
/// token not its own and abandons the order. Exit 6 naming the lost lock, nothing installed or
/// published, and the new holder's lock left alone. Once that lock is gone, a renewal works.
#[test]
fn a_lock_taken_over_mid_order_abandons_the_order() {
    let fleet = Fleet::start(FleetOpts::default().nodes(1));
    let name = "stolen.example.com";
    due_everywhere(&fleet, name);
    let env = &fleet.node(0).env;
    let config = Snapshot::of(&env.config_dir());
    let publishes = fleet.events("publish", name);
    let lock = fleet.lock_key(name);

    fleet.gate.close();
    let mut holder = fleet.renew(0, &[]).spawn();
    if !fleet.gate.wait_for_connection(PROBE_LIMIT) {
        panic!(
            "node-1's renewal sent no probe\n{}\n{}",
            holder.wait_or_kill(),
            fleet.report()
        );
    }
    let token = fleet.redis().get(&lock).unwrap_or_default();
    assert!(
        token.starts_with("node-1/"),
        "node-1 is mid-order but {lock} is {token:?}\n{}",
        fleet.report()
    );
    let thief = "other-node/1/x";
    fleet.redis().cmd(&["SET", &lock, thief, "PX", "60000"]);
    let taken_at = Instant::now();
    // The gate stays closed, so the order cannot complete: only the lost lock ends the run.
    let exited = wait_for(PROBE_LIMIT, || holder.has_exited().then_some(()));
    let noticed = taken_at.elapsed();
    let out = holder.wait_or_kill();
    fleet.gate.open();
    assert!(exited.is_some(), "node-1 never gave up the order\n{out}");
    out.assert_code(EXIT_STORE);
    assert!(
        out.stderr
            .contains(&format!("lost the fleet's lock on {name}")),
        "the message must say the lock was lost\n{out}"
    );
    // Refreshed every ttl/3: the loss shows at the next refresh, well before the TTL.
    assert!(
        noticed < fleet.lock_ttl(),
        "node-1 went on for {noticed:?} without the lock (TTL {:?})\n{out}",
        fleet.lock_ttl()
    );

    config.assert_unchanged(&Snapshot::of(&env.config_dir()), "config after a lost lock");
    assert_eq!(fleet.store_version(name), Some(1), "{}", fleet.report());
    assert_eq!(
        fleet.events("publish", name),
        publishes,
        "node-1 published without its lock\n{}",
        fleet.report()
    );
    assert_eq!(
        fleet.redis().get(&lock).as_deref(),
        Some(thief),
        "node-1 touched the lock it no longer held\n{out}"
    );
    let pttl = fleet.redis().cmd(&["PTTL", &lock]);
    assert!(
        matches!(pttl, Reply::Int(ms) if ms > 0),
        "the new holder's lock lost its expiry: PTTL {pttl:?}"
    );

    fleet.redis().cmd(&["DEL", &lock]);
    let out = fleet.renew(0, &[]).run();
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(fleet.store_version(name), Some(2), "{out}");
    assert_eq!(fleet.node(0).live_version(name), Some(2), "{out}");
    assert!(!fleet.redis().exists(&lock), "lock not released\n{out}");
}

/// A deploy hook in a fresh private directory that appends `$RENEWED_LINEAGE
/// $RENEWED_DOMAINS` to a log there; returns the hook and its log.
fn logging_deploy_hook(dir: &std::path::Path, node: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let hook = dir.join(format!("{node}-deploy.sh"));
    let log = dir.join(format!("{node}-deploy.log"));
    let script = format!(
        "#!/bin/sh\nprintf '%s %s\\n' \"$RENEWED_LINEAGE\" \"$RENEWED_DOMAINS\" >> '{}'\n",
        log.display()
    );
    std::fs::write(&hook, script).expect("write the hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod hook");
    (hook, log)
}

/// The lines a hook's log holds (none if it never ran).
fn hook_runs(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// (j) A version one node renewed runs every node's own deploy hook: node 2's daemon, on
/// installing it, runs its hook once with node 2's live path; node 1's hook names node 1's.
#[test]
fn each_node_runs_its_own_deploy_hook_for_a_synced_version() {
    let fleet = Fleet::start(FleetOpts::default().nodes(2));
    let name = "hooks.example.com";
    let names = [name, "www.hooks.example.com"];
    let out = fleet.certonly(0, name, &names);
    assert_all_succeeded(&fleet, &[&out]);
    // Version 1 is installed without a hook: what the hooks see below is version 2 alone.
    fleet.sync(1);
    let hooks = tempfile::Builder::new()
        .prefix("certwright-hooks-")
        .tempdir()
        .expect("hook dir");
    let (hook_1, log_1) = logging_deploy_hook(hooks.path(), "node-1");
    let (hook_2, log_2) = logging_deploy_hook(hooks.path(), "node-2");
    let daemon = fleet.start_daemon(1, 1, &["--deploy-hook", &hook_2.display().to_string()]);

    let hook_1 = hook_1.display().to_string();
    let out = fleet
        .renew(
            0,
            &[
                "--force-renewal",
                "--cert-name",
                name,
                "--deploy-hook",
                &hook_1,
            ],
        )
        .run();
    assert_all_succeeded(&fleet, &[&out]);
    assert_eq!(fleet.store_version(name), Some(2), "{out}");
    let ran = wait_for(SYNC_LIMIT, || {
        (fleet.same_live(0, 1, name) && !hook_runs(&log_2).is_empty()).then_some(())
    });
    // Some more sync rounds (the third report comes after two whole rounds and their
    // hooks), in which a hook run twice would show.
    let more_rounds = ran.is_some() && fleet.wait_sync_rounds(1, 3);
    let daemon = Fleet::stop_daemon(daemon);
    assert!(
        ran.is_some(),
        "node-2 did not install version 2 and run its hook within {SYNC_LIMIT:?}\n{daemon}\n{}",
        fleet.report()
    );
    assert!(
        more_rounds,
        "node-2's daemon did not sync 3 more times within {SYNC_LIMIT:?}\n{daemon}\n{}",
        fleet.report()
    );
    daemon.assert_success();
    let line = |i: usize| {
        format!(
            "{} {}",
            fleet.node(i).env.live(name).display(),
            names.join(" ")
        )
    };
    assert_eq!(hook_runs(&log_2), [line(1)], "node-2's hook\n{daemon}");
    assert_eq!(hook_runs(&log_1), [line(0)], "node-1's hook\n{out}");
}

/// (k) `plan --json` in fleet mode shows the fleet's version and each node's, and only reads:
/// node 2 keeps version 1 although the fleet has version 2. `certificates` installs it.
#[test]
fn plan_shows_the_fleet_and_installs_nothing() {
    let name = "plan.example.com";
    let fleet = renewed_on_node_1_only(name);
    let node = fleet.node(1);
    let plan = |args: &[&str]| {
        let out = node.cli(&[&["plan"], args].concat()).run();
        out.assert_success();
        out
    };
    // Config, work and logs: plan writes nothing anywhere.
    let before = Snapshot::of(node.env.root());

    let json = plan(&["--json"]).json();
    assert_eq!(
        entry(&json, name)["fleet"],
        json!({"version": 2, "nodes": {"node-1": 2, "node-2": 1}}),
        "{json}"
    );
    let text = plan(&[]);
    assert!(
        text.stdout
            .contains("fleet:          version 2 (node-1: 2, node-2: 1)"),
        "{text}"
    );
    before.assert_unchanged(&Snapshot::of(node.env.root()), "node-2 after plan");
    assert_eq!(node.live_version(name), Some(1));
    assert_eq!(
        fleet.node_versions("node-2").get(name).map(String::as_str),
        Some("1")
    );

    let json = fleet.certificates_json(1);
    assert_eq!(entry(&json, name)["version"], 2, "{json}");
    fleet.assert_same_live(0, 1, name);
    let json = plan(&["--json"]).json();
    assert_eq!(
        entry(&json, name)["fleet"],
        json!({"version": 2, "nodes": {"node-1": 2, "node-2": 2}}),
        "{json}"
    );
}
