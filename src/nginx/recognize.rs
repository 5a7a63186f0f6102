//! Recognising certwright's own lines and what a server block already does: the marker,
//! the challenge locations and proxy, https redirects (ours and the user's), and the
//! blocks that serve a name. Read-only queries; the planners build on them.

use super::select::{for_each_in_server, MatchKind, ServerBlock};
use super::{Config, Directive, Node};

/// Appended to every line certwright adds.
pub const MARKER: &str = "# managed by certwright";

pub(super) const CHALLENGE_PREFIX: &str = crate::types::HTTP_01_PATH_PREFIX;

/// Blocks that answer `name` on `port` by name (a default-server match does not count:
/// we never patch a catch-all for a name it only serves by accident).
pub(super) fn named_blocks<'a>(config: &'a Config, name: &str, port: u16) -> Vec<ServerBlock<'a>> {
    config
        .select(name, port)
        .into_iter()
        .filter(|s| s.kind != MatchKind::Default)
        .map(|s| s.block)
        .collect()
}

pub(super) fn has_child(
    config: &Config,
    b: &ServerBlock<'_>,
    pred: impl Fn(&Directive) -> bool,
) -> bool {
    let mut found = false;
    for_each_in_server(config, b.file, b.directive, &mut |d| found |= pred(d));
    found
}

pub(super) fn for_each_direct_child<'a>(block: &'a Directive, f: &mut dyn FnMut(&'a Directive)) {
    for n in block.children() {
        if let Node::Directive(d) = n {
            f(d);
        }
    }
}

/// A server-level redirect of every request to https, for any name.
pub(super) fn is_https_redirect(d: &Directive) -> bool {
    redirects_to_https(d, None)
}

/// Whether `d`, a directive of a server block, sends requests for `name` (any name when
/// `None`) to https: `return 30x https://...`, `rewrite ... https://...` (always a redirect),
/// an `if` holding one (certbot writes `if ($host = name) { return 301 https://...; }`, which
/// covers only that name), or `location /` holding one.
pub(super) fn redirects_to_https(d: &Directive, name: Option<&str>) -> bool {
    let https = |a: &str| a.starts_with("https://");
    match d.name() {
        "return" => match (d.arg(0), d.arg(1)) {
            (Some(code), Some(url)) => {
                matches!(code, "301" | "302" | "303" | "307" | "308") && https(url)
            }
            (Some(url), None) => https(url),
            _ => false,
        },
        "rewrite" => d.arg(1).is_some_and(https),
        "if" => {
            let host = if_host_equals(d);
            let applies = match (host, name) {
                (Some(h), Some(n)) => h.eq_ignore_ascii_case(n),
                _ => true,
            };
            applies && d.children().iter().any(|n| is_redirect_node(n, name))
        }
        "location" => {
            d.args().collect::<Vec<_>>() == ["/"]
                && d.children().iter().any(|n| is_redirect_node(n, name))
        }
        _ => false,
    }
}

fn is_redirect_node(n: &Node, name: Option<&str>) -> bool {
    matches!(n, Node::Directive(c) if c.name() != "location" && redirects_to_https(c, name))
}

/// `X` in `if ($host = X)`, quoted or not.
fn if_host_equals(d: &Directive) -> Option<&str> {
    let args: Vec<&str> = d.args().collect();
    match args.as_slice() {
        ["($host", "=", x, ")"] => Some(x),
        ["($host", "=", x] => x.strip_suffix(')'),
        _ => None,
    }
}

/// Every port some server block listens on with TLS, in order of appearance.
pub(super) fn ssl_ports(config: &Config) -> Vec<u16> {
    let mut ports = Vec::new();
    for b in config.server_blocks() {
        for l in b.listens.iter().filter(|l| l.ssl) {
            if !ports.contains(&l.port) {
                ports.push(l.port);
            }
        }
    }
    ports
}

pub(super) fn is_challenge_location(d: &Directive) -> bool {
    d.name() == "location"
        && d.arg(0) == Some("=")
        && d.arg(1).is_some_and(|p| p.starts_with(CHALLENGE_PREFIX))
}

/// The text after `d` on its last line (comment included), without the newline.
pub(super) fn rest_of_line<'s>(src: &'s str, d: &Directive) -> &'s str {
    let rest = &src[d.span.end..];
    rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
}

pub(super) fn is_marked(src: &str, d: &Directive) -> bool {
    rest_of_line(src, d).trim_start().starts_with(MARKER)
}

/// For a user line we replaced: the original directive we recorded after the marker.
pub(super) fn replaced_original(src: &str, d: &Directive) -> Option<String> {
    let rest = rest_of_line(src, d).trim_start().strip_prefix(MARKER)?;
    rest.strip_prefix("; was: ").map(str::to_string)
}

/// Our proxy location's head (`location ^~ /.well-known/acme-challenge/`), marked or not.
pub(super) fn is_challenge_proxy(d: &Directive) -> bool {
    d.name() == "location" && d.arg(0) == Some("^~") && d.arg(1) == Some(CHALLENGE_PREFIX)
}
