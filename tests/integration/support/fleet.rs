//! A fleet of certwright nodes sharing one Redis (or, with `FleetOpts::dir_store`, one
//! `file://` directory), behind a real nginx load balancer:
//!
//! ```text
//! Pebble's VA --> GatedProxy --> nginx LB (round robin) --> 127.0.0.1:<node-1 port>
//!                 (open unless a                        --> 127.0.0.1:<node-2 port> ...
//!                  test closes it)
//! ```
//!
//! Each node is its own `Env` (config/work/logs), node id `node-N` and HTTP-01 port; all
//! share one `RedisServer` (or store directory) and one store key file (mode 0600, base64 of 32 random bytes). The
//! LB logs `$status $request_uri $upstream_addr` per request, so a test can tell which node
//! answered which probe. On one host every node needs its own port, where real nodes would
//! all use port 80: `Node::set_standalone_port` points a synced renewal config at the node's
//! own port before that node renews.
//!
//! `Fleet::start_in` puts each node in its own network namespace instead (support/netns.rs):
//! every node listens on port 80 at its own address, as real nodes do, and a synced renewal
//! config works unchanged. Redis and Pebble's ACME API then also listen on the host address
//! the namespaces reach; the LB's upstreams are the nodes' addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use tempfile::TempDir;

use super::certs::{age_lineage, Lineage};
use super::cli::{Cli, Output, Running, BIN};
use super::netns::{self, Namespaces};
use super::proxy::GatedProxy;
use super::redis::RedisServer;
use super::{free_port, mode, net, read_lossy, wait_for, Env, Nginx, Pebble, PebbleOpts};

/// Bound on a daemon binding its HTTP-01 port or exiting after SIGTERM.
const DAEMON_LIMIT: Duration = Duration::from_secs(60);
/// Bound on a daemon installing a version another node published (sync interval 1 s).
pub const SYNC_LIMIT: Duration = Duration::from_secs(60);
/// The HTTP-01 port of a node in its own namespace, as on a real node.
pub const NETNS_HTTP_PORT: u16 = 80;

/// How to build a fleet. Default: two nodes on Redis, the default store prefix, a 3 s lock
/// TTL.
#[derive(Debug, Clone)]
pub struct FleetOpts {
    nodes: usize,
    prefix: Option<String>,
    lock_ttl_secs: u64,
    dir_store: bool,
    tls: bool,
}

impl Default for FleetOpts {
    fn default() -> Self {
        FleetOpts {
            nodes: 2,
            prefix: None,
            lock_ttl_secs: 3,
            dir_store: false,
            tls: false,
        }
    }
}

impl FleetOpts {
    /// The shared store's lock TTL (`--store-lock-ttl`); 3 s unless set.
    pub fn lock_ttl_secs(mut self, secs: u64) -> Self {
        self.lock_ttl_secs = secs;
        self
    }

    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Passes `--store-prefix PREFIX` (otherwise the default, `certwright`, applies).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_string());
        self
    }

    /// Share a `file://` directory (mode 0700, in a temp dir) instead of starting Redis.
    pub fn dir_store(mut self) -> Self {
        self.dir_store = true;
        self
    }

    /// Redis over TLS only (`rediss://`, a throwaway CA given as `--store-ca-bundle`).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
}

/// One certwright node: its own directories, id and HTTP-01 port, and the shared store.
pub struct Node {
    pub id: String,
    pub env: Env,
    /// Where the LB reaches this node: 127.0.0.1, or its namespace's address.
    pub addr: IpAddr,
    /// Where this node's standalone responder or daemon listens (on `addr`).
    pub port: u16,
    /// The network namespace the node runs in (`ip netns exec`), if any.
    pub netns: Option<String>,
    store_flags: Vec<String>,
}

impl Node {
    /// The certwright binary in this node's env dir (and namespace), no arguments yet.
    pub fn bare_cli(&self) -> Cli {
        let cli = self.env.cli();
        match &self.netns {
            Some(ns) => cli.program(netns::IP).args(["netns", "exec", ns, BIN]),
            None => cli,
        }
    }

    /// `addr:port`, as the LB logs the upstream.
    pub fn upstream(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// `--http-01-address 127.0.0.1` on one host; nothing in a namespace (all addresses).
    fn http_01_address_flags(&self) -> Vec<&'static str> {
        if self.netns.is_some() {
            Vec::new()
        } else {
            vec!["--http-01-address", "127.0.0.1"]
        }
    }

    /// `--store URL --store-key-file F [--store-prefix P] --node-id ID --store-lock-ttl S`
    pub fn store_flags(&self) -> Vec<String> {
        self.store_flags.clone()
    }

    /// certwright `args`, then this node's directories and fleet flags.
    pub fn cli(&self, args: &[&str]) -> Cli {
        self.bare_cli()
            .args(args)
            .args(self.env.dir_flags())
            .args(&self.store_flags)
    }

    /// The version `live/<name>` points at, if the lineage exists here.
    pub fn live_version(&self, name: &str) -> Option<u32> {
        let target = std::fs::read_link(self.env.live(name)).ok()?;
        target.file_name()?.to_str()?.parse().ok()
    }

    /// The version and the four PEM files of `live/<name>` (following the link).
    pub fn live_files(&self, name: &str) -> Option<(u32, BTreeMap<&'static str, Vec<u8>>)> {
        let version = self.live_version(name)?;
        let mut files = BTreeMap::new();
        for file in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"] {
            files.insert(file, std::fs::read(self.env.live(name).join(file)).ok()?);
        }
        Some((version, files))
    }

    /// Points the standalone authenticator of `renewal/<name>.json` at `port` (see the
    /// module comment: a synced config names the port of the node that issued).
    pub fn set_standalone_port(&self, name: &str, port: u16) {
        let path = self.env.renewal_conf(name);
        let text = read_lossy(&path);
        let mut json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{}: renewal config is not JSON ({e}): {text}",
                path.display()
            )
        });
        let auth = &mut json["authenticator"];
        assert_eq!(
            auth["type"],
            "standalone",
            "{}: {text}",
            self.env.renewal_conf(name).display()
        );
        auth["http_01_port"] = port.into();
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&json).expect("serialise"),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// The fleet's shared store.
enum SharedStore {
    Redis(RedisServer),
    Dir(TempDir),
}

/// Pebble, the shared store, the gate, the LB and the nodes.
pub struct Fleet {
    pub pebble: Pebble,
    store: SharedStore,
    /// In front of the LB on Pebble's HTTP-01 port; open until a test closes it.
    pub gate: GatedProxy,
    pub lb: LoadBalancer,
    pub nodes: Vec<Node>,
    prefix: String,
    lock_ttl: Duration,
    /// Holds the key file.
    _secrets: TempDir,
    /// The nodes' network namespaces (`start_in`); last, so they go after everything else.
    namespaces: Option<Namespaces>,
}

impl Fleet {
    /// Every node on 127.0.0.1 with its own port.
    pub fn start(opts: FleetOpts) -> Fleet {
        Fleet::build(opts, None)
    }

    /// Node `i` in namespace `i` of `namespaces` (one per node), on its address and port 80.
    /// Redis and Pebble's ACME API listen on `namespaces.host_addr()` too, and every node's
    /// `--store` and `--server` name that address.
    pub fn start_in(namespaces: Namespaces, opts: FleetOpts) -> Fleet {
        assert_eq!(
            namespaces.len(),
            opts.nodes,
            "one namespace per node: {}",
            namespaces.describe()
        );
        Fleet::build(opts, Some(namespaces))
    }

    fn build(opts: FleetOpts, namespaces: Option<Namespaces>) -> Fleet {
        let upstreams: Vec<SocketAddr> = (0..opts.nodes)
            .map(|i| match &namespaces {
                Some(ns) => SocketAddr::from((ns.node_addr(i), NETNS_HTTP_PORT)),
                None => SocketAddr::from((Ipv4Addr::LOCALHOST, free_port())),
            })
            .collect();
        let host_addr = namespaces.as_ref().map(|ns| IpAddr::from(ns.host_addr()));
        let lb = LoadBalancer::start_at(&upstreams);
        let gate = GatedProxy::start_any(lb.port()).expect("start the gate in front of the LB");
        gate.open();
        let mut pebble_opts = PebbleOpts::default().http_port(gate.port());
        if let Some(ip) = host_addr {
            pebble_opts = pebble_opts.listen_ip(ip);
        }
        let pebble = Pebble::start(pebble_opts);
        let store = if opts.dir_store {
            SharedStore::Dir(
                tempfile::Builder::new()
                    .prefix("certwright-fleet-store-")
                    .tempdir()
                    .expect("create store dir"),
            )
        } else if opts.tls {
            assert!(host_addr.is_none(), "a TLS store is on 127.0.0.1 only");
            SharedStore::Redis(RedisServer::start_tls())
        } else {
            SharedStore::Redis(RedisServer::start_bound(host_addr.as_slice()))
        };
        let store_url = match (&store, host_addr) {
            (SharedStore::Redis(redis), None) if opts.tls => redis.tls_url(),
            (SharedStore::Redis(redis), Some(ip)) => redis.url_at(ip),
            (SharedStore::Redis(redis), None) => redis.url(),
            (SharedStore::Dir(dir), _) => format!("file://{}", dir.path().display()),
        };
        let secrets = tempfile::Builder::new()
            .prefix("certwright-fleet-key-")
            .tempdir()
            .expect("create key dir");
        let key_file = secrets.path().join("store.key");
        write_key_file(&key_file, random_store_key().as_bytes(), 0o600);
        let ca_flags = match &store {
            SharedStore::Redis(redis) if opts.tls => {
                let ca = secrets.path().join("redis-ca.pem");
                std::fs::write(&ca, redis.tls_ca_pem()).expect("write the Redis CA");
                vec!["--store-ca-bundle".to_string(), ca.display().to_string()]
            }
            _ => Vec::new(),
        };

        let nodes = upstreams
            .iter()
            .enumerate()
            .map(|(i, upstream)| {
                let id = format!("node-{}", i + 1);
                let mut store_flags = vec![
                    "--store".to_string(),
                    store_url.clone(),
                    "--store-key-file".into(),
                    key_file.display().to_string(),
                ];
                store_flags.extend(ca_flags.iter().cloned());
                if let Some(prefix) = &opts.prefix {
                    store_flags.extend(["--store-prefix".into(), prefix.clone()]);
                }
                store_flags.extend([
                    "--node-id".into(),
                    id.clone(),
                    "--store-lock-ttl".into(),
                    opts.lock_ttl_secs.to_string(),
                ]);
                Node {
                    id,
                    env: Env::new(),
                    addr: upstream.ip(),
                    port: upstream.port(),
                    netns: namespaces.as_ref().map(|ns| ns.name(i).to_string()),
                    store_flags,
                }
            })
            .collect();
        Fleet {
            pebble,
            store,
            gate,
            lb,
            nodes,
            prefix: opts.prefix.unwrap_or_else(|| "certwright".into()),
            lock_ttl: Duration::from_secs(opts.lock_ttl_secs),
            _secrets: secrets,
            namespaces,
        }
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The Redis server (panics for a `dir_store` fleet).
    pub fn redis(&self) -> &RedisServer {
        match &self.store {
            SharedStore::Redis(redis) => redis,
            SharedStore::Dir(_) => panic!("this fleet shares a file:// store, not Redis"),
        }
    }

    pub fn redis_mut(&mut self) -> &mut RedisServer {
        match &mut self.store {
            SharedStore::Redis(redis) => redis,
            SharedStore::Dir(_) => panic!("this fleet shares a file:// store, not Redis"),
        }
    }

    /// The shared directory (panics for a Redis fleet).
    pub fn store_dir(&self) -> PathBuf {
        match &self.store {
            SharedStore::Dir(dir) => dir.path().to_path_buf(),
            SharedStore::Redis(_) => panic!("this fleet shares Redis, not a file:// store"),
        }
    }

    /// A JSON file of the shared directory, parsed; `None` if absent.
    fn store_json(&self, file: &str) -> Option<Value> {
        let path = self.store_dir().join(file);
        let text = std::fs::read_to_string(&path).ok()?;
        Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display())),
        )
    }

    /// `PREFIX:suffix`
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn lock_ttl(&self) -> Duration {
        self.lock_ttl
    }

    /// `certonly --standalone` on node `i`'s own port for `names` as lineage `name`.
    pub fn certonly_cli(&self, i: usize, name: &str, names: &[&str]) -> Cli {
        let node = self.node(i);
        let port = node.port.to_string();
        let mut cli = node
            .bare_cli()
            .args(["certonly", "--standalone", "--http-01-port", &port])
            .args(node.http_01_address_flags())
            .args(["--cert-name", name])
            .args(node.env.flags(&self.pebble))
            .args(node.store_flags());
        for n in names {
            cli = cli.args(["-d", n]);
        }
        cli
    }

    /// `certonly_cli(..).run()`; the result is the caller's to check.
    pub fn certonly(&self, i: usize, name: &str, names: &[&str]) -> Output {
        self.certonly_cli(i, name, names).run()
    }

    /// `renew --no-random-sleep-on-renew EXTRA` on node `i`.
    pub fn renew(&self, i: usize, extra: &[&str]) -> Cli {
        self.node(i)
            .cli(&["renew", "--no-random-sleep-on-renew"])
            .args(extra)
    }

    /// `certificates --json` on node `i` (which, in fleet mode, pulls newer versions first).
    pub fn certificates_json(&self, i: usize) -> Value {
        let out = self.node(i).cli(&["certificates", "--json"]).run();
        out.assert_success();
        out.json()
    }

    /// Any fleet-mode command pulls newer versions; `certificates` changes nothing else.
    pub fn sync(&self, i: usize) {
        self.node(i).cli(&["certificates"]).run().assert_success();
    }

    /// `daemon --http-01-port <node port> --http-01-address 127.0.0.1 --sync-interval S` on
    /// node `i` (no address in a namespace); returns once its shared responder answers.
    pub fn start_daemon(&self, i: usize, sync_interval_secs: u64, extra: &[&str]) -> Running {
        let node = self.node(i);
        let port = node.port.to_string();
        let interval = sync_interval_secs.to_string();
        let mut daemon = node
            .cli(&["daemon", "--http-01-port", &port])
            .args(node.http_01_address_flags())
            .args(["--sync-interval", &interval])
            .args(extra)
            .spawn();
        let up = wait_for(DAEMON_LIMIT, || {
            if daemon.has_exited() {
                return Some(false);
            }
            net::addr_answers(node.upstream()).then_some(true)
        });
        if up != Some(true) {
            panic!(
                "{}'s daemon did not bind its HTTP-01 port at {}\n{}",
                node.id,
                node.upstream(),
                daemon.wait_or_kill()
            );
        }
        daemon
    }

    /// SIGTERM, then the daemon's output once it exited (killed after a bound).
    pub fn stop_daemon(daemon: Running) -> Output {
        let mut daemon = daemon;
        let pid = rustix::process::Pid::from_raw(daemon.pid() as i32).expect("daemon pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if wait_for(DAEMON_LIMIT, || daemon.has_exited().then_some(())).is_none() {
            panic!(
                "daemon still running {DAEMON_LIMIT:?} after SIGTERM\n{}",
                daemon.wait_or_kill()
            );
        }
        daemon.wait()
    }

    /// Makes lineage `name` due on each of `nodes` (which must hold the same version): the
    /// first node's certificate is aged, the others get the same bytes.
    pub fn make_due(&self, name: &str, nodes: &[usize]) {
        let first = self.node(nodes[0]);
        age_lineage(&first.env.live(name), 90, 10);
        for &i in &nodes[1..] {
            let node = self.node(i);
            assert_eq!(
                node.live_version(name),
                first.live_version(name),
                "{} and {} hold different versions of {name}",
                first.id,
                node.id
            );
            for file in ["cert.pem", "chain.pem", "fullchain.pem"] {
                let bytes = std::fs::read(first.env.live(name).join(file)).expect("aged file");
                std::fs::write(node.env.live(name).join(file), bytes).expect("copy aged file");
            }
        }
    }

    /// Panics unless nodes `a` and `b` have the same version and byte-identical live files
    /// for `name`, and both private keys are mode 0600.
    pub fn assert_same_live(&self, a: usize, b: usize, name: &str) {
        let (na, nb) = (self.node(a), self.node(b));
        let fa = na
            .live_files(name)
            .unwrap_or_else(|| panic!("{} has no complete live/{name}", na.id));
        let fb = nb
            .live_files(name)
            .unwrap_or_else(|| panic!("{} has no complete live/{name}", nb.id));
        assert_eq!(fa.0, fb.0, "live/{name}: {} vs {} version", na.id, nb.id);
        for (file, bytes) in &fa.1 {
            assert!(
                fb.1.get(file) == Some(bytes),
                "live/{name}/{file} differs between {} and {}",
                na.id,
                nb.id
            );
        }
        for node in [na, nb] {
            let key = node.env.live(name).join("privkey.pem");
            let key = std::fs::canonicalize(&key).unwrap_or(key);
            assert_eq!(mode(&key), 0o600, "{}: {}", node.id, key.display());
        }
    }

    /// True once node `b` holds exactly what node `a` holds for `name` (for `wait_for`).
    pub fn same_live(&self, a: usize, b: usize, name: &str) -> bool {
        match (self.node(a).live_files(name), self.node(b).live_files(name)) {
            (Some(fa), Some(fb)) => fa == fb,
            _ => false,
        }
    }

    /// `HGET PREFIX:versions name` (the version in `certs/<name>.json` for a `dir_store`).
    pub fn store_version(&self, name: &str) -> Option<u64> {
        if let SharedStore::Dir(_) = self.store {
            let entry = self.store_json(&format!("certs/{name}.json"))?;
            return Some(
                entry["version"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("certs/{name}.json: version {}", entry["version"])),
            );
        }
        self.redis()
            .cmd(&["HGET", &self.key("versions"), name])
            .text()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("versions[{name}] = {v:?}"))
            })
    }

    /// `PREFIX:history` (or `history.jsonl`), newest first, each entry parsed.
    pub fn history(&self) -> Vec<Value> {
        self.history_lines()
            .iter()
            .map(|e| {
                serde_json::from_str(e).unwrap_or_else(|err| panic!("history entry {e:?}: {err}"))
            })
            .collect()
    }

    fn history_lines(&self) -> Vec<String> {
        match &self.store {
            SharedStore::Redis(redis) => redis.list(&self.key("history")),
            SharedStore::Dir(dir) => std::fs::read_to_string(dir.path().join("history.jsonl"))
                .unwrap_or_default()
                .lines()
                .rev()
                .map(String::from)
                .collect(),
        }
    }

    /// History entries of this kind ("order", "publish") for lineage `name`.
    pub fn events(&self, kind: &str, name: &str) -> Vec<Value> {
        self.history()
            .into_iter()
            .filter(|e| e["event"] == kind && e["name"] == name)
            .collect()
    }

    /// `PREFIX:node:<id>` (or `nodes/<id>.json`): lineage -> installed version.
    pub fn node_versions(&self, id: &str) -> BTreeMap<String, String> {
        if let SharedStore::Dir(_) = self.store {
            let Some(entry) = self.store_json(&format!("nodes/{id}.json")) else {
                return BTreeMap::new();
            };
            let installed = entry["installed"].as_object().cloned().unwrap_or_default();
            return installed
                .into_iter()
                .map(|(name, v)| (name, v.to_string()))
                .collect();
        }
        self.redis().hgetall(&self.key(&format!("node:{id}")))
    }

    /// When node `id` last reported to the store (`_seen` / `seen`): each sync round ends its
    /// pull with that report.
    pub fn node_seen(&self, id: &str) -> Option<String> {
        match &self.store {
            SharedStore::Redis(redis) => redis
                .hgetall(&self.key(&format!("node:{id}")))
                .remove("_seen"),
            SharedStore::Dir(_) => self
                .store_json(&format!("nodes/{id}.json"))
                .and_then(|entry| entry["seen"].as_str().map(String::from)),
        }
    }

    /// Waits (up to `SYNC_LIMIT`) until node `i` reported `rounds` more times, that is, until
    /// `rounds` more sync rounds ran; false if they did not.
    pub fn wait_sync_rounds(&self, i: usize, rounds: usize) -> bool {
        let id = &self.node(i).id;
        let mut reports = vec![self.node_seen(id)];
        wait_for(SYNC_LIMIT, || {
            let now = self.node_seen(id);
            if reports.last() != Some(&now) {
                reports.push(now);
            }
            (reports.len() > rounds).then_some(())
        })
        .is_some()
    }

    /// `PREFIX:lock:<name>`
    pub fn lock_key(&self, name: &str) -> String {
        self.key(&format!("lock:{name}"))
    }

    /// Ids of the nodes that answered an HTTP-01 probe with 200, per the LB's log.
    pub fn challenge_answerers(&self) -> BTreeSet<String> {
        self.lb
            .hits()
            .iter()
            .filter(|h| h.is_challenge() && h.status == 200)
            .filter_map(|h| h.answerer())
            .map(|upstream| {
                self.nodes
                    .iter()
                    .find(|n| n.upstream() == upstream)
                    .map(|n| n.id.clone())
                    .unwrap_or_else(|| format!("unknown upstream {upstream}"))
            })
            .collect()
    }

    /// Starts a daemon (sync interval 1 s) on every node but node 1, then node 1 orders `name`
    /// for six names, `n1.<name>` to `n6.<name>` (more probes than nodes), through the LB.
    /// Panics, with every output and the fleet's logs, unless the order succeeded with a valid
    /// lineage, every name got a probe, all answered 200, and two or more of the fleet's own
    /// nodes answered them.
    pub fn order_while_daemons_answer(&self, name: &str) -> DaemonsAnswered<'_> {
        let names: Vec<String> = (1..=6).map(|i| format!("n{i}.{name}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let daemons = (1..self.nodes.len())
            .map(|i| self.start_daemon(i, 1, &[]))
            .collect();
        let mut run = DaemonsAnswered {
            fleet: self,
            name: name.to_string(),
            out: self.certonly(0, name, &names),
            daemons,
        };
        if run.out.code != 0 {
            run.fail("certonly on node-1 failed");
        }
        Lineage::at(self.node(0).env.live(name))
            .assert_valid_for(&names, &self.pebble.root_pem_path());
        let challenges: Vec<LbHit> = self
            .lb
            .hits()
            .into_iter()
            .filter(LbHit::is_challenge)
            .collect();
        if challenges.len() < names.len() || challenges.iter().any(|h| h.status != 200) {
            run.fail(&format!("want {} challenge probes, all 200", names.len()));
        }
        let answerers = self.challenge_answerers();
        let known: BTreeSet<String> = self.nodes.iter().map(|n| n.id.clone()).collect();
        if answerers.len() < 2 || !answerers.is_subset(&known) {
            run.fail(&format!(
                "answered by {answerers:?}: want two or more of {known:?} (the LB spreads probes)"
            ));
        }
        run
    }

    /// After two or more nodes raced to renew `name` from version 1: exactly one node
    /// published version 2, the one that placed the newest order, and once every node has
    /// synced they all hold it byte for byte, valid for `name`. `context` goes into messages.
    pub fn assert_one_new_version_everywhere(&self, name: &str, context: &str) {
        let orders = self.events("order", name);
        let publishes: Vec<Value> = self
            .events("publish", name)
            .into_iter()
            .filter(|e| e["version"] == 2)
            .collect();
        assert_eq!(
            publishes.len(),
            1,
            "{publishes:?}\n{context}\n{}",
            self.report()
        );
        assert_eq!(
            publishes[0]["node"],
            orders[0]["node"],
            "the node that ordered published\n{context}\n{}",
            self.report()
        );
        for i in 0..self.nodes.len() {
            self.sync(i);
        }
        for i in 1..self.nodes.len() {
            self.assert_same_live(0, i, name);
        }
        assert_eq!(self.node(0).live_version(name), Some(2));
        Lineage::at(self.node(0).env.live(name))
            .assert_valid_for(&[name], &self.pebble.root_pem_path());
    }

    /// The LB log, history and Redis log, for failure messages.
    pub fn report(&self) -> String {
        let (history, logs): (Vec<String>, String) = match &self.store {
            SharedStore::Redis(redis) => (
                redis
                    .try_cmd(&["LRANGE", &self.key("history"), "0", "-1"])
                    .map(|r| r.leaves())
                    .unwrap_or_default()
                    .iter()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect(),
                redis.logs(),
            ),
            SharedStore::Dir(dir) => (
                self.history_lines(),
                format!("(file://{}: no server log)", dir.path().display()),
            ),
        };
        let namespaces = match &self.namespaces {
            Some(ns) => format!("--- namespaces ---\n{}", ns.describe()),
            None => String::new(),
        };
        format!(
            "{namespaces}--- LB log (status uri upstream) ---\n{}\n--- history ---\n{}\n--- store ---\n{}",
            self.lb.log(),
            history.join("\n"),
            logs
        )
    }
}

/// Panics with every output and the fleet's logs unless each run exited 0.
pub fn assert_all_succeeded(fleet: &Fleet, outs: &[&Output]) {
    if outs.iter().any(|o| o.code != 0) {
        let all: Vec<String> = outs.iter().map(|o| o.to_string()).collect();
        panic!(
            "not every run succeeded\n{}\n{}",
            all.join("\n\n"),
            fleet.report()
        );
    }
}

/// Node 1's order while the other nodes' daemons answer challenges
/// (`Fleet::order_while_daemons_answer`); the daemons run until `stop` or `fail`.
pub struct DaemonsAnswered<'a> {
    fleet: &'a Fleet,
    name: String,
    /// Node 1's `certonly`.
    out: Output,
    daemons: Vec<Running>,
}

impl DaemonsAnswered<'_> {
    /// Waits until every other node's daemon installed node 1's files and reported `version`
    /// to the store (`fail`s after `SYNC_LIMIT`), then checks them as `assert_same_live`.
    pub fn wait_synced(&mut self, version: u64) {
        let (fleet, name) = (self.fleet, self.name.as_str());
        let version = version.to_string();
        let synced = wait_for(SYNC_LIMIT, || {
            (1..fleet.nodes.len())
                .all(|i| {
                    fleet.same_live(0, i, name)
                        && fleet.node_versions(&fleet.node(i).id).get(name) == Some(&version)
                })
                .then_some(())
        });
        if synced.is_none() {
            self.fail(&format!(
                "the other nodes did not install {name} version {version} within {SYNC_LIMIT:?}"
            ));
        }
        for i in 1..fleet.nodes.len() {
            fleet.assert_same_live(0, i, name);
        }
    }

    /// Kills the daemons and panics with `why`, node 1's output, theirs and the fleet's logs.
    pub fn fail(&mut self, why: &str) -> ! {
        let outs: Vec<String> = std::mem::take(&mut self.daemons)
            .into_iter()
            .map(|d| d.wait_or_kill().to_string())
            .collect();
        panic!(
            "{why}\n{}\n--- daemons ---\n{}\n{}",
            self.out,
            outs.join("\n\n"),
            self.fleet.report()
        );
    }

    /// SIGTERMs each daemon; panics unless each exited 0.
    pub fn stop(self) {
        for daemon in self.daemons {
            Fleet::stop_daemon(daemon).assert_success();
        }
    }
}

/// Base64 of 32 random bytes and a newline, as `openssl rand -base64 32` writes it.
pub fn random_store_key() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{}\n",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Writes `contents` to `path` with exactly `mode` (whatever the umask).
pub fn write_key_file(path: &Path, contents: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A real nginx (temp prefix) balancing round robin over upstreams (127.0.0.1 unless `start_at`).
pub struct LoadBalancer {
    nginx: Nginx,
}

/// One request as the LB logged it.
#[derive(Debug, Clone)]
pub struct LbHit {
    pub status: u16,
    pub uri: String,
    /// Every upstream tried, in order (`host:port`); empty if none was.
    pub upstreams: Vec<String>,
}

impl LbHit {
    pub fn is_challenge(&self) -> bool {
        self.uri.starts_with("/.well-known/acme-challenge/")
    }

    /// The port of the upstream that gave the answer (the last one tried), unless nginx
    /// answered itself (502: every upstream refused).
    pub fn answered_by(&self) -> Option<u16> {
        self.answerer().map(|a| a.port())
    }

    /// `answered_by` with the address: where all nodes use one port, this tells them apart.
    pub fn answerer(&self) -> Option<SocketAddr> {
        if self.status == 502 {
            return None;
        }
        self.upstreams.last().and_then(|u| u.parse().ok())
    }
}

impl LoadBalancer {
    /// Listens on a free port and spreads requests over `upstreams` in turn. An upstream
    /// that refuses the connection is skipped for that request (nginx's default
    /// `proxy_next_upstream error timeout`), and `max_fails=0` keeps it in the rotation, so a
    /// node that is down for a moment never makes the LB answer 502 for the others. A node
    /// that answers 404 is not skipped: as with a real balancer, every node must answer.
    pub fn start(upstreams: &[u16]) -> LoadBalancer {
        let upstreams: Vec<SocketAddr> = upstreams
            .iter()
            .map(|&p| SocketAddr::from((Ipv4Addr::LOCALHOST, p)))
            .collect();
        LoadBalancer::start_at(&upstreams)
    }

    /// `start` with upstreams at any address (nodes in network namespaces).
    pub fn start_at(upstreams: &[SocketAddr]) -> LoadBalancer {
        let servers: String = upstreams
            .iter()
            .map(|a| format!("    server {a} max_fails=0;\n"))
            .collect();
        // `$upstream_addr` last: it may hold several ", "-separated addresses.
        let site = format!(
            "log_format certwright_fleet '$status $request_uri $upstream_addr';\n\
             upstream certwright_fleet_nodes {{\n{servers}}}\n\
             server {{\n\
             \x20   listen 127.0.0.1:@PORT0@ default_server;\n\
             \x20   server_name _;\n\
             \x20   access_log @PREFIX@/logs/fleet.log certwright_fleet;\n\
             \x20   location / {{\n\
             \x20       proxy_pass http://certwright_fleet_nodes;\n\
             \x20       proxy_set_header Host $http_host;\n\
             \x20       proxy_connect_timeout 2s;\n\
             \x20   }}\n\
             }}\n"
        );
        LoadBalancer {
            nginx: Nginx::start(&site),
        }
    }

    pub fn port(&self) -> u16 {
        self.nginx.port(0)
    }

    /// The raw access log.
    pub fn log(&self) -> String {
        let path = self.nginx.server_root().join("logs/fleet.log");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Every logged request, oldest first.
    pub fn hits(&self) -> Vec<LbHit> {
        self.log()
            .lines()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ' ');
                let status = parts.next()?.parse().ok()?;
                let uri = parts.next()?.to_string();
                // "a:1, b:2" after a retry; " : " between internal redirects; "-" if none.
                let upstreams = parts
                    .next()
                    .unwrap_or("-")
                    .split([',', ' '])
                    .filter(|a| !a.is_empty() && *a != "-" && *a != ":")
                    .map(String::from)
                    .collect();
                Some(LbHit {
                    status,
                    uri,
                    upstreams,
                })
            })
            .collect()
    }

    pub fn error_log(&self) -> String {
        self.nginx.error_log()
    }
}
