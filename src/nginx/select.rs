//! Which server block answers a name on a port, following nginx's documented order
//! (<https://nginx.org/en/docs/http/server_names.html>): exact name, longest leading
//! wildcard, longest trailing wildcard, first matching regex, then the default server.

use super::{Config, Directive};
use crate::types::wildcard_covers;

/// One `listen` directive, reduced to what selection and patching need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// `None` for a wildcard address (`80`, `*:80`, `0.0.0.0:80`); `[::]` stays explicit.
    pub addr: Option<String>,
    pub port: u16,
    pub ssl: bool,
    pub default_server: bool,
}

impl Listen {
    pub fn is_ipv6(&self) -> bool {
        self.addr.as_deref().is_some_and(|a| a.starts_with('['))
    }

    /// Where this host connects to reach the listen: loopback for a wildcard address, the
    /// address itself otherwise; `None` for a host name (not resolved).
    pub fn local_ip(&self) -> Option<std::net::IpAddr> {
        use std::net::{Ipv4Addr, Ipv6Addr};
        match self.addr.as_deref() {
            None => Some(Ipv4Addr::LOCALHOST.into()),
            Some("[::]") => Some(Ipv6Addr::LOCALHOST.into()),
            Some(a) => a.trim_start_matches('[').trim_end_matches(']').parse().ok(),
        }
    }

    /// Parse the arguments of `listen`; `None` for unix sockets and unparsable ports.
    pub fn parse<'a>(mut args: impl Iterator<Item = &'a str>) -> Option<Listen> {
        let target = args.next()?;
        if target.starts_with("unix:") {
            return None;
        }
        let (addr, port) = if target.bytes().all(|b| b.is_ascii_digit()) {
            (None, target.parse().ok()?)
        } else if let Some(rest) = target.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => 80,
                None => return None,
            };
            (Some(format!("[{}]", host.to_ascii_lowercase())), port)
        } else {
            match target.rsplit_once(':') {
                Some((host, p)) => (Some(host.to_ascii_lowercase()), p.parse().ok()?),
                None => (Some(target.to_ascii_lowercase()), 80),
            }
        };
        let addr = addr.filter(|a| a != "*" && a != "0.0.0.0");
        let mut listen = Listen {
            addr,
            port,
            ssl: false,
            default_server: false,
        };
        for flag in args {
            match flag {
                "ssl" => listen.ssl = true,
                "default_server" | "default" => listen.default_server = true,
                _ => {}
            }
        }
        Some(listen)
    }
}

/// A `server` block inside `http`, with its listens and names.
#[derive(Debug, Clone)]
pub struct ServerBlock<'a> {
    /// Index into [`Config::files`].
    pub file: usize,
    pub directive: &'a Directive,
    /// The explicit listens, or the implicit `*:80` when there are none.
    pub listens: Vec<Listen>,
    /// No `listen` at all: nginx listens on `*:80`, until a `listen` is added.
    pub implicit_listen: bool,
    /// Lowercased `server_name` values in order.
    pub names: Vec<String>,
}

/// How a block was chosen for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    Exact,
    LeadingWildcard,
    TrailingWildcard,
    Regex,
    /// No name matched; the port's default server (or its first block) answers.
    Default,
}

/// A block that answers a name on some address of the port.
#[derive(Debug, Clone)]
pub struct Selected<'a> {
    pub block: ServerBlock<'a>,
    pub kind: MatchKind,
}

impl Config {
    /// Every `server` block in `http`, in reading order.
    pub fn server_blocks(&self) -> Vec<ServerBlock<'_>> {
        let mut blocks = Vec::new();
        self.visit(&mut |file, ctx, d| {
            if d.name() != "server" || ctx != ["http"] {
                return;
            }
            let mut listens = Vec::new();
            let mut names = Vec::new();
            // A `listen unix:...` is a listen too: such a block has no TCP port at all.
            let mut any_listen = false;
            for_each_in_server(self, file, d, &mut |c| match c.name() {
                "listen" => {
                    any_listen = true;
                    listens.extend(Listen::parse(c.args()));
                }
                "server_name" => names.extend(c.args().map(|a| a.to_ascii_lowercase())),
                _ => {}
            });
            if !any_listen {
                listens.push(Listen {
                    addr: None,
                    port: 80,
                    ssl: false,
                    default_server: false,
                });
            }
            blocks.push(ServerBlock {
                file,
                directive: d,
                listens,
                implicit_listen: !any_listen,
                names,
            });
        });
        blocks
    }

    /// The `ssl_certificate` files a server block names (includes followed), in order.
    pub fn ssl_certificates(&self, block: &ServerBlock<'_>) -> Vec<String> {
        let mut out = Vec::new();
        for_each_in_server(self, block.file, block.directive, &mut |d| {
            if d.name() == "ssl_certificate" {
                out.extend(d.arg(0).map(String::from));
            }
        });
        out
    }

    /// The blocks that answer `name` on `port`: one winner per listening address, deduplicated.
    pub fn select(&self, name: &str, port: u16) -> Vec<Selected<'_>> {
        let name = name.to_ascii_lowercase();
        let blocks = self.server_blocks();
        let mut sockets: Vec<Option<String>> = Vec::new();
        for b in &blocks {
            for l in b.listens.iter().filter(|l| l.port == port) {
                if !sockets.contains(&l.addr) {
                    sockets.push(l.addr.clone());
                }
            }
        }
        let mut out: Vec<Selected<'_>> = Vec::new();
        for addr in sockets {
            let on_socket: Vec<&ServerBlock<'_>> = blocks
                .iter()
                .filter(|b| b.listens.iter().any(|l| l.port == port && l.addr == addr))
                .collect();
            let Some((block, kind)) = pick(&on_socket, &name, port, &addr) else {
                continue;
            };
            let same = |s: &Selected<'_>| std::ptr::eq(s.block.directive, block.directive);
            if !out.iter().any(same) {
                out.push(Selected {
                    block: block.clone(),
                    kind,
                });
            }
        }
        out
    }

    /// The `server_name` values on `ports` a wildcard certificate `*.zone` is for, found
    /// without asking (certbot asks): `*.zone` and `.zone` themselves, and every concrete
    /// name one label under `zone` (TLS wildcards match one label). Installing for each of
    /// them as for a plain name never touches a block for another name, nor a default server
    /// reached only as fallback.
    pub fn wildcard_names(&self, wildcard: &str, ports: &[u16]) -> Vec<String> {
        let wildcard = wildcard.to_ascii_lowercase();
        let Some(zone) = wildcard.strip_prefix("*.") else {
            return Vec::new();
        };
        let dotted = format!(".{zone}");
        let mut names: Vec<String> = Vec::new();
        for b in self.server_blocks() {
            if !b.listens.iter().any(|l| ports.contains(&l.port)) {
                continue;
            }
            for n in b.names {
                let wanted = n == wildcard || n == dotted || wildcard_covers(zone, &n);
                if wanted && !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// The blocks that answer the [`wildcard_names`](Self::wildcard_names) of `wildcard` on
    /// `port` by name, deduplicated.
    pub fn select_wildcard(&self, wildcard: &str, port: u16) -> Vec<Selected<'_>> {
        let mut out: Vec<Selected<'_>> = Vec::new();
        for name in self.wildcard_names(wildcard, &[port]) {
            for s in self.select(&name, port) {
                let same = |o: &Selected<'_>| std::ptr::eq(o.block.directive, s.block.directive);
                if s.kind != MatchKind::Default && !out.iter().any(same) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// Every distinct `server_name` value, in reading order.
    pub fn server_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for b in self.server_blocks() {
            for n in b.names {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }
}

/// Children of a server block, descending through `include` (common for snippets).
pub(crate) fn for_each_in_server<'a>(
    config: &'a Config,
    file: usize,
    server: &'a Directive,
    f: &mut dyn FnMut(&'a Directive),
) {
    for_each_in_server_at(config, file, server, &mut |_, d| f(d));
}

/// [`for_each_in_server`], with the index of the file each directive is written in.
pub(crate) fn for_each_in_server_at<'a>(
    config: &'a Config,
    file: usize,
    server: &'a Directive,
    f: &mut dyn FnMut(usize, &'a Directive),
) {
    fn walk<'a>(
        config: &'a Config,
        file: usize,
        nodes: &'a [super::Node],
        f: &mut dyn FnMut(usize, &'a Directive),
        depth: usize,
    ) {
        for node in nodes {
            let super::Node::Directive(d) = node else {
                continue;
            };
            f(file, d);
            if d.name() == "include" && depth < super::MAX_INCLUDE_DEPTH {
                if let Some(targets) = config.includes.get(&(file, d.span.start)) {
                    for &t in targets {
                        walk(config, t, &config.files[t].nodes, f, depth + 1);
                    }
                }
            }
        }
    }
    walk(config, file, server.children(), f, 0);
}

impl Config {
    /// `(file, line)` of every `include` that reads file `index`, in reading order.
    pub(crate) fn includers(&self, index: usize) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = self
            .includes
            .iter()
            .filter(|(_, targets)| targets.contains(&index))
            .map(|(&(file, offset), _)| {
                let line = 1 + self.files[file].source[..offset].matches('\n').count();
                (file, line)
            })
            .collect();
        found.sort();
        found
    }
}

fn pick<'b, 'a>(
    blocks: &[&'b ServerBlock<'a>],
    name: &str,
    port: u16,
    addr: &Option<String>,
) -> Option<(&'b ServerBlock<'a>, MatchKind)> {
    if let Some(b) = blocks.iter().find(|b| b.names.iter().any(|n| n == name)) {
        return Some((b, MatchKind::Exact));
    }
    let best = |score: &dyn Fn(&str) -> Option<usize>| {
        let mut best: Option<(&'b ServerBlock<'a>, usize)> = None;
        for b in blocks {
            for n in &b.names {
                if let Some(s) = score(n) {
                    if best.is_none_or(|(_, bs)| s > bs) {
                        best = Some((b, s));
                    }
                }
            }
        }
        best.map(|(b, _)| b)
    };
    let leading = |pattern: &str| -> Option<usize> {
        // `*.example.com` matches subdomains; `.example.com` also matches example.com.
        let suffix = pattern
            .strip_prefix('*')
            .filter(|s| s.starts_with('.'))
            .or_else(|| pattern.strip_prefix('.').map(|_| pattern))?;
        if name.ends_with(suffix) && name.len() > suffix.len() {
            return Some(suffix.len());
        }
        (pattern.starts_with('.') && name == &suffix[1..]).then_some(suffix.len())
    };
    if let Some(b) = best(&leading) {
        return Some((b, MatchKind::LeadingWildcard));
    }
    let trailing = |pattern: &str| -> Option<usize> {
        let prefix = pattern.strip_suffix('*').filter(|p| p.ends_with('.'))?;
        (name.starts_with(prefix) && name.len() > prefix.len()).then_some(prefix.len())
    };
    if let Some(b) = best(&trailing) {
        return Some((b, MatchKind::TrailingWildcard));
    }
    for b in blocks {
        if b.names.iter().any(|n| regex_matches(n, name)) {
            return Some((b, MatchKind::Regex));
        }
    }
    let default = blocks.iter().find(|b| {
        b.listens
            .iter()
            .any(|l| l.port == port && &l.addr == addr && l.default_server)
    });
    default.or(blocks.first()).map(|b| (*b, MatchKind::Default))
}

/// nginx compiles `~` server names with PCRE, caseless. Patterns the `regex` crate cannot
/// express (lookaround, backreferences) simply do not match rather than guessing.
fn regex_matches(pattern: &str, name: &str) -> bool {
    let Some(re) = pattern.strip_prefix('~') else {
        return false;
    };
    // PCRE's `(?<name>` and `(?P<name>` are both accepted by the regex crate.
    match regex::Regex::new(&format!("(?i){re}")) {
        Ok(re) => re.is_match(name),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg(servers: &str) -> Config {
        Config::from_source(
            Path::new("/t/nginx.conf"),
            &format!("http {{\n{servers}\n}}\n"),
        )
        .unwrap()
    }

    fn pick_line(c: &Config, name: &str, port: u16) -> Vec<(usize, MatchKind)> {
        c.select(name, port)
            .iter()
            .map(|s| (s.block.directive.line, s.kind))
            .collect()
    }

    #[test]
    fn listen_forms() {
        let p = |s: &str| Listen::parse(s.split(' '));
        assert_eq!(p("80").unwrap().port, 80);
        let l = p("[::]:443 ssl default_server").unwrap();
        assert!(l.is_ipv6() && l.ssl && l.default_server && l.port == 443);
        let l = p("127.0.0.1:8080 default_server").unwrap();
        assert_eq!(l.addr.as_deref(), Some("127.0.0.1"));
        assert_eq!(p("*:80").unwrap().addr, None);
        assert_eq!(p("localhost").unwrap().port, 80);
        assert_eq!(p("[::1]").unwrap().port, 80);
        assert!(p("unix:/run/x.sock").is_none());
    }

    #[test]
    fn order_exact_leading_trailing_regex_default() {
        let c = cfg(concat!(
            "server { listen 80; server_name ~^www\\d+\\.example\\.com$; }\n", // line 2
            "server { listen 80; server_name www.example.*; }\n",              // 3
            "server { listen 80; server_name *.example.com; }\n",              // 4
            "server { listen 80; server_name .www.example.com; }\n",           // 5
            "server { listen 80; server_name www.example.com; }\n",            // 6
            "server { listen 80 default_server; server_name _; }\n",           // 7
        ));
        assert_eq!(
            pick_line(&c, "WWW.example.com", 80),
            [(6, MatchKind::Exact)]
        );
        assert_eq!(
            pick_line(&c, "a.www.example.com", 80),
            [(5, MatchKind::LeadingWildcard)]
        );
        assert_eq!(
            pick_line(&c, "a.example.com", 80),
            [(4, MatchKind::LeadingWildcard)]
        );
        assert_eq!(
            pick_line(&c, "www.example.org", 80),
            [(3, MatchKind::TrailingWildcard)]
        );
        assert_eq!(
            pick_line(&c, "www2.example.com", 80),
            [(4, MatchKind::LeadingWildcard)]
        );
        assert_eq!(pick_line(&c, "nothing.test", 80), [(7, MatchKind::Default)]);
        assert!(pick_line(&c, "x", 443).is_empty());
    }

    #[test]
    fn regex_in_order_and_untranslatable_is_skipped() {
        let c = cfg(concat!(
            "server { listen 80; server_name \"~^(?!x)foo\"; }\n",
            "server { listen 80; server_name ~^(?<sub>.+)\\.example\\.net$; }\n",
            "server { listen 80; server_name ~example; }\n",
        ));
        assert_eq!(
            pick_line(&c, "foo.example.net", 80),
            [(3, MatchKind::Regex)]
        );
    }

    #[test]
    fn no_listen_means_port_80_and_first_block_is_default() {
        let c = cfg("server { server_name a.test; }\nserver { server_name b.test; }");
        assert_eq!(pick_line(&c, "b.test", 80), [(3, MatchKind::Exact)]);
        assert_eq!(pick_line(&c, "c.test", 80), [(2, MatchKind::Default)]);
    }

    #[test]
    fn a_unix_socket_block_is_on_no_tcp_port() {
        let c = cfg(concat!(
            "server { listen unix:/run/a.sock; server_name a.test; }\n",
            "server { server_name b.test; }\n",
        ));
        assert_eq!(pick_line(&c, "a.test", 80), [(3, MatchKind::Default)]);
        let blocks = c.server_blocks();
        assert!(blocks[0].listens.is_empty() && !blocks[0].implicit_listen);
        assert!(blocks[1].implicit_listen);
    }

    #[test]
    fn a_wildcard_goes_into_wildcard_blocks_and_the_names_it_covers_only() {
        let c = cfg(concat!(
            "server { listen 80 default_server; server_name _; }\n", // 2: catch-all
            "server { listen 80; server_name *.example.com; }\n",    // 3
            "server { listen 80; server_name .example.com; }\n",     // 4
            "server { listen 80; server_name api.example.com www.example.com; }\n", // 5
            "server { listen 80; server_name a.b.example.com; }\n",  // 6: two labels deep
            "server { listen 80; server_name example.org *.example.org; }\n", // 7
            "server { listen 80; server_name ~^x\\.example\\.com$ www.example.*; }\n", // 8
            "server { listen 80; server_name app.example.com; }\n",  // 9
            "server { listen 80; server_name app.example.com; }\n",  // 10: nginx ignores it
        ));
        let lines = |name: &str, port: u16| -> Vec<(usize, MatchKind)> {
            c.select_wildcard(name, port)
                .iter()
                .map(|s| (s.block.directive.line, s.kind))
                .collect()
        };
        assert_eq!(
            lines("*.EXAMPLE.com", 80),
            [
                (3, MatchKind::Exact),
                (4, MatchKind::Exact),
                (5, MatchKind::Exact),
                (9, MatchKind::Exact),
            ]
        );
        assert!(lines("*.example.net", 80).is_empty(), "no fallback block");
        assert!(lines("*.example.com", 443).is_empty());
        assert!(lines("example.com", 80).is_empty(), "not a wildcard");
    }

    #[test]
    fn wildcard_coverage_is_one_label() {
        assert!(wildcard_covers("example.com", "a.example.com"));
        for name in [
            "example.com",
            "a.b.example.com",
            ".example.com",
            "*.example.com",
            "aexample.com",
            "~a.example.com",
        ] {
            assert!(!wildcard_covers("example.com", name), "{name}");
        }
    }

    #[test]
    fn one_winner_per_address() {
        let c = cfg(concat!(
            "server { listen 80; server_name a.test; }\n",
            "server { listen [::]:80; server_name a.test; }\n",
            "server { listen 127.0.0.1:80; server_name b.test; }\n",
        ));
        assert_eq!(
            pick_line(&c, "a.test", 80),
            [
                (2, MatchKind::Exact),
                (3, MatchKind::Exact),
                (4, MatchKind::Default)
            ]
        );
        assert_eq!(c.server_names(), ["a.test", "b.test"]);
    }
}
