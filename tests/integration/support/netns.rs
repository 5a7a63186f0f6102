//! Network namespaces for fleet nodes (issue 7): one namespace per node, each joined to the
//! host by its own veth pair, so every node listens on the same port (80) at its own address,
//! as real nodes do.
//!
//! ```text
//! host: cw<pid>v<n>  10.X.N.1/24  <-- veth -->  namespace cw<pid>x<n>: eth0 10.X.N.2/24, lo up
//!                                                                      default via 10.X.N.1
//! ```
//!
//! X is random per set of namespaces: a 10.X.0.0/16 that no route or address of the host
//! overlaps and that this process has not used before. Services on the host (Redis, Pebble)
//! listen on `host_addr()` (10.X.1.1), which every namespace reaches through its default
//! route: Linux accepts a packet for any of its own addresses on any interface. The host
//! does not forward, so the namespaces cannot reach one another or anything else.
//!
//! Names carry the pid and a counter; a name left over by a crashed run (its pid reused) is
//! skipped. On drop the veths are deleted (which takes their peers) and then the namespaces.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::wait_for;

/// iproute2's `ip` (Debian's path; `/sbin/ip` is the same file on merged-/usr systems).
pub const IP: &str = "/usr/sbin/ip";
/// Bound on a fresh veth passing packets both ways; a bound, not a speed assertion.
const LINK_LIMIT: Duration = Duration::from_secs(10);

/// Counter for namespace and veth names within this process.
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// Second octets of the 10.X/16 ranges this process has used (never reused: a namespace's
/// teardown finishes asynchronously in the kernel).
static SUBNETS: Mutex<Option<HashSet<u8>>> = Mutex::new(None);

/// Why this sandbox cannot make network namespaces (the one reason a test may skip).
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One namespace and the host side of its veth pair.
struct Namespace {
    name: String,
    veth: String,
}

/// A set of namespaces on one 10.X/16; all deleted on drop.
pub struct Namespaces {
    spaces: Vec<Namespace>,
    second_octet: u8,
}

impl Namespaces {
    /// Creates `count` namespaces, namespace `i` at 10.X.(i+1).2 behind the host's
    /// 10.X.(i+1).1. `Err` only if `ip netns add` itself is impossible here (not root, no
    /// `ip`, or the first add refused); any later failure panics.
    pub fn create(count: usize) -> Result<Namespaces, Unavailable> {
        if !rustix::process::geteuid().is_root() {
            return Err(Unavailable(
                "not running as root: `ip netns add` needs CAP_SYS_ADMIN".into(),
            ));
        }
        if !std::path::Path::new(IP).exists() {
            return Err(Unavailable(format!("{IP} does not exist (iproute2)")));
        }
        assert!(
            (1..=250).contains(&count),
            "{count} namespaces do not fit in 10.X.1-250"
        );
        let mut set = Namespaces {
            spaces: Vec::new(),
            second_octet: claim_second_octet(),
        };
        for i in 0..count {
            let third = u8::try_from(i + 1).expect("count <= 250");
            let space = match add_namespace() {
                Ok(space) => space,
                Err(e) if set.spaces.is_empty() => return Err(Unavailable(e)),
                Err(e) => panic!("{e}"),
            };
            let (name, veth) = (space.name.clone(), space.veth.clone());
            // Registered before the rest of the setup, so a panic below still deletes it.
            set.spaces.push(space);
            let host = format!("{}/24", set.addr(third, 1));
            let inside = format!("{}/24", set.addr(third, 2));
            let gateway = set.addr(third, 1).to_string();
            for args in [
                vec![
                    "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &name,
                ],
                vec!["addr", "add", &host, "dev", &veth],
                vec!["link", "set", &veth, "up"],
                vec!["-n", &name, "addr", "add", &inside, "dev", "eth0"],
                vec!["-n", &name, "link", "set", "eth0", "up"],
                vec!["-n", &name, "link", "set", "lo", "up"],
                vec!["-n", &name, "route", "add", "default", "via", &gateway],
            ] {
                if let Err(e) = ip(&args) {
                    panic!("setting up namespace {name}: {e}");
                }
            }
        }
        for i in 0..count {
            set.wait_link(i);
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.spaces.len()
    }

    /// The name of namespace `i` (for `ip netns exec`).
    pub fn name(&self, i: usize) -> &str {
        &self.spaces[i].name
    }

    /// Namespace `i`'s own address (its eth0): 10.X.(i+1).2.
    pub fn node_addr(&self, i: usize) -> Ipv4Addr {
        self.addr(Self::third(i), 2)
    }

    /// The host's address every namespace reaches: 10.X.1.1 (the host side of the first veth).
    pub fn host_addr(&self) -> Ipv4Addr {
        self.addr(1, 1)
    }

    /// One line per namespace (for failure messages).
    pub fn describe(&self) -> String {
        (0..self.len())
            .map(|i| {
                format!(
                    "{}: {} (host side {} {})\n",
                    self.name(i),
                    self.node_addr(i),
                    self.spaces[i].veth,
                    self.addr(Self::third(i), 1)
                )
            })
            .collect()
    }

    fn third(i: usize) -> u8 {
        u8::try_from(i + 1).expect("at most 250 namespaces")
    }

    fn addr(&self, third: u8, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, self.second_octet, third, host)
    }

    /// Waits until a TCP SYN from the host to namespace `i` comes back refused (RST): the
    /// link is up both ways. Nothing listens on port 9 in a fresh namespace.
    fn wait_link(&self, i: usize) {
        let target = SocketAddr::from((self.node_addr(i), 9));
        let mut last = None;
        let up = wait_for(LINK_LIMIT, || {
            match TcpStream::connect_timeout(&target, Duration::from_secs(1)) {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Some(()),
                other => {
                    last = Some(format!("{other:?}"));
                    None
                }
            }
        });
        assert!(
            up.is_some(),
            "namespace {} not reachable at {target} within {LINK_LIMIT:?} (last: {})\n{}",
            self.name(i),
            last.unwrap_or_default(),
            self.describe()
        );
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for space in &self.spaces {
            // Deleting one end of a veth deletes both, at once; the namespace goes after.
            let _ = ip(&["link", "del", &space.veth]);
            if let Err(e) = ip(&["netns", "del", &space.name]) {
                eprintln!("warning: namespace {} left behind: {e}", space.name);
            }
        }
    }
}

/// `ip netns add cw<pid>x<n>` for the next free n (names a crashed run left are skipped).
fn add_namespace() -> Result<Namespace, String> {
    let pid = std::process::id();
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("cw{pid}x{n}");
        // At most 15 bytes (IFNAMSIZ): "cw" + 7-digit pid + "v" + up to 5 digits.
        let veth = format!("cw{pid}v{n}");
        if ip(&["link", "show", "dev", &veth]).is_ok() {
            continue;
        }
        match ip(&["netns", "add", &name]) {
            Ok(()) => return Ok(Namespace { name, veth }),
            Err(e) if e.contains("File exists") => {}
            Err(e) => return Err(e),
        }
    }
    Err("100 namespace names in a row were taken".into())
}

/// A random X for 10.X.0.0/16 that no host route or address overlaps and this process has
/// not used.
fn claim_second_octet() -> u8 {
    let taken = host_prefixes();
    let mut guard = SUBNETS.lock().unwrap_or_else(|e| e.into_inner());
    let used = guard.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let x: u8 = rand::random_range(1..=254);
        let candidate = (u32::from(Ipv4Addr::new(10, x, 0, 0)), 16);
        if !used.contains(&x) && !taken.iter().any(|&p| overlaps(p, candidate)) {
            used.insert(x);
            return x;
        }
    }
    panic!("no 10.X.0.0/16 is free of host routes and addresses: {taken:?}");
}

/// Every IPv4 prefix in any routing table or on any interface, except the default route.
fn host_prefixes() -> Vec<(u32, u8)> {
    let routes = ip_output(&["-4", "route", "show", "table", "all"]);
    let addrs = ip_output(&["-4", "-o", "addr", "show"]);
    const ROUTE_TYPES: [&str; 10] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "anycast",
        "unreachable",
        "blackhole",
        "prohibit",
        "throw",
        "nat",
    ];
    let from_routes = routes.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let prefix = if ROUTE_TYPES.contains(&first) {
            words.next()?
        } else {
            first
        };
        parse_prefix(prefix)
    });
    let from_addrs = addrs.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        words.find(|w| *w == "inet")?;
        parse_prefix(words.next()?)
    });
    from_routes.chain(from_addrs).collect()
}

/// "a.b.c.d/len" or "a.b.c.d" (a /32); `None` for "default" and anything else.
fn parse_prefix(text: &str) -> Option<(u32, u8)> {
    let (addr, len) = text.split_once('/').unwrap_or((text, "32"));
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((u32::from(addr), len))
}

/// Two prefixes overlap when they agree on the bits of the shorter one.
fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a.0 & mask == b.0 & mask
}

/// Runs `ip ARGS`; `Err` with the command and its stderr if it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new(IP)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{IP} {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{IP} {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `ip ARGS` stdout; panics if it fails (only for reading routes and addresses).
fn ip_output(args: &[&str]) -> String {
    let out = Command::new(IP)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{IP} {}: {e}", args.join(" ")));
    assert!(
        out.status.success(),
        "{IP} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
