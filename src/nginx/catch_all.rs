//! A name only a catch-all answers (Debian's `server_name _; listen 80 default_server;`,
//! the RHEL `nginx.conf` server) gets a server block of its own, as certbot does: a copy of
//! the block that answers it today with `server_name NAME;`, placed right after it. The
//! catch-all itself is left as it was, so other names and health checks keep plain HTTP.
//!
//! Every line of the copy is marked; its closing line also says what it copies
//! ([`COPY_NOTE`]), which is how uninstall removes the whole block and the authenticator's
//! cleanup never mistakes it for one of its own challenge blocks.

use super::edit::{indent_at, own_line, Edits, FileEdit};
use super::recognize::{is_marked, named_blocks, MARKER};
use super::select::{MatchKind, ServerBlock};
use super::{Body, Config, Directive, Node};
use crate::error::NginxError;
use crate::types::DomainName;

/// After the marker on a copy's closing `}` line.
pub(super) const COPY_NOTE: &str = "; copy of the server block at ";

/// `listen` parameters nginx allows once per address:port (they stay with the original).
const SINGLETON_LISTEN_PARAMS: &[&str] = &[
    "default_server",
    "default",
    "reuseport",
    "deferred",
    "bind",
    "backlog=",
    "rcvbuf=",
    "sndbuf=",
    "accept_filter=",
    "ipv6only=",
    "so_keepalive=",
    "fastopen=",
    "setfib=",
];

/// Edits adding a block of its own for each of `names` that no block serves by name on
/// either port, copied from each block nginx answers it with on `http_port` (one per
/// listening address). Names with no block at all, and blocks that cannot be copied line
/// by line, are left to the caller (its "no server block" error).
pub(super) fn plan_copies(
    config: &Config,
    names: &[DomainName],
    http_port: u16,
    https_port: u16,
) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for name in names.iter().filter(|n| !n.is_wildcard()) {
        let name = name.as_str();
        if !named_blocks(config, name, http_port).is_empty()
            || !named_blocks(config, name, https_port).is_empty()
        {
            continue;
        }
        // One per listening address: each address has its own default server.
        for catch_all in config.select(name, http_port) {
            let b = &catch_all.block;
            if catch_all.kind != MatchKind::Default || !is_catch_all(b, http_port) {
                continue;
            }
            if let Some(lines) = copy_lines(config, b, name) {
                edits.add_after_block(config, b.file, b.directive, &lines)?;
            }
        }
    }
    edits.finish(config)
}

/// A block meant to answer any name: the port's `default_server`, or one serving no host
/// name (`server_name _;`, none at all). A named site that is only first on its port is not
/// copied for a stranger's name: that stays the "no server block" error naming the fix.
fn is_catch_all(b: &ServerBlock<'_>, port: u16) -> bool {
    b.listens.iter().any(|l| l.port == port && l.default_server)
        || !b.names.iter().any(|n| super::patch::is_host_name(n))
}

/// Whether `d` (a server block in `src`) is a copy this module made.
pub(super) fn is_copy(src: &str, d: &Directive) -> bool {
    super::recognize::rest_of_line(src, d)
        .trim_start()
        .strip_prefix(MARKER)
        .is_some_and(|rest| rest.starts_with(COPY_NOTE))
}

/// The copy's lines, marked, without the indentation `add_after_block` adds: the
/// `server {` line, one line per directive (nested blocks on one line), the `}` line with
/// [`COPY_NOTE`]. `None` when a directive cannot be put on one line (a word spanning lines,
/// a Lua block) or the block is already ours.
fn copy_lines(config: &Config, b: &ServerBlock<'_>, name: &str) -> Option<Vec<String>> {
    let src = &config.files[b.file].source;
    if is_marked(src, b.directive) {
        return None;
    }
    let mut lines = vec![format!("server {{ {MARKER}")];
    let mut named = false;
    let indent = child_indent(src, b.directive);
    for node in b.directive.children() {
        let Node::Directive(d) = node else { continue };
        if is_marked(src, d) {
            continue;
        }
        let line = match d.name() {
            "server_name" if named => continue,
            "server_name" => {
                named = true;
                format!("server_name {name};")
            }
            "listen" => listen_line(d),
            _ => one_line(d)?,
        };
        lines.push(format!("{indent}{line} {MARKER}"));
    }
    if !named {
        lines.insert(1, format!("{indent}server_name {name}; {MARKER}"));
    }
    let at = format!(
        "{}:{}",
        config.files[b.file].path.display(),
        b.directive.line
    );
    if at.contains('\n') {
        return None;
    }
    lines.push(format!("}} {MARKER}{COPY_NOTE}{at}"));
    Some(lines)
}

/// The indentation of the block's directives relative to its `server` line (tab or spaces,
/// as the user writes them).
fn child_indent(src: &str, block: &Directive) -> String {
    let outer = indent_at(src, block.span.start);
    let first = block.children().iter().find_map(|n| match n {
        Node::Directive(d) if own_line(src, d.span.start) => Some(d),
        _ => None,
    });
    first
        .and_then(|d| indent_at(src, d.span.start).strip_prefix(outer))
        .filter(|i| !i.is_empty())
        .unwrap_or("    ")
        .to_string()
}

/// `listen` without the parameters only one block per address may carry.
fn listen_line(d: &Directive) -> String {
    let kept: Vec<&str> = d
        .words
        .iter()
        .map(|w| w.raw.as_str())
        .filter(|w| {
            !SINGLETON_LISTEN_PARAMS
                .iter()
                .any(|p| match p.strip_suffix('=') {
                    Some(prefix) => w.starts_with(&format!("{prefix}=")),
                    None => w == p,
                })
        })
        .collect();
    format!("{};", kept.join(" "))
}

/// `d` written on one line, comments dropped; `None` if a word spans lines or holds raw Lua.
fn one_line(d: &Directive) -> Option<String> {
    if d.words.iter().any(|w| w.raw.contains('\n')) {
        return None;
    }
    let head: Vec<&str> = d.words.iter().map(|w| w.raw.as_str()).collect();
    let head = head.join(" ");
    match &d.body {
        Body::Simple => Some(format!("{head};")),
        Body::Raw(_) => None,
        Body::Block(children) => {
            let mut inner = Vec::new();
            for n in children {
                if let Node::Directive(c) = n {
                    inner.push(one_line(c)?);
                }
            }
            Some(match inner.is_empty() {
                true => format!("{head} {{ }}"),
                false => format!("{head} {{ {} }}", inner.join(" ")),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::nginx::patch::tests::{apply, cfg};
    use crate::nginx::select::MatchKind;
    use crate::nginx::{plan_challenge_removal, plan_install, plan_uninstall, InstallRequest};
    use std::path::Path;

    fn req(name: &str) -> InstallRequest {
        InstallRequest {
            names: vec![name.parse().unwrap()],
            fullchain: "/l/fullchain.pem".into(),
            privkey: "/l/privkey.pem".into(),
            http_port: 80,
            https_port: 443,
            redirect: true,
            hsts: false,
        }
    }

    /// Install into `src` (an `http` block), check only marked lines were added (the
    /// catch-all is kept byte for byte), the name has a block of its own, planning again
    /// changes nothing, the authenticator's cleanup keeps the copy and uninstall gives
    /// `src` back.
    fn installs_a_copy(src: &str, name: &str) -> String {
        let out = apply(src, &plan_install(&cfg(src), &req(name)).unwrap());
        let unmarked: String = out
            .lines()
            .filter(|l| !l.contains(crate::nginx::MARKER))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(unmarked, src, "only marked lines added:\n{out}");
        let after = cfg(&out);
        assert_eq!(after.select(name, 80)[0].kind, MatchKind::Exact, "{out}");
        assert_eq!(after.select(name, 443)[0].kind, MatchKind::Exact, "{out}");
        assert_eq!(after.select("other.test", 80)[0].kind, MatchKind::Default);
        assert!(
            plan_install(&after, &req(name)).unwrap().is_empty(),
            "{out}"
        );
        assert!(plan_challenge_removal(&after).unwrap().is_empty(), "{out}");
        let paths = [Path::new("/l/fullchain.pem"), Path::new("/l/privkey.pem")];
        let undone = apply(&out, &plan_uninstall(&after, &paths).unwrap());
        assert_eq!(undone, src);
        out
    }

    #[test]
    fn debians_stock_default_site_gets_a_block_of_its_own_for_the_name() {
        let site = include_str!("../../tests/fixtures/nginx/debian-sites-default");
        let src = format!("http {{\n{site}}}\n");
        let out = installs_a_copy(&src, "new.example.com");
        for line in [
            "\n}\nserver { # managed by certwright\n",
            "\tlisten 80; # managed by certwright\n",
            "\tlisten [::]:80; # managed by certwright\n",
            "\tserver_name new.example.com; # managed by certwright\n",
            "\tlocation / { try_files $uri $uri/ =404; } # managed by certwright\n",
            "\tlisten 443 ssl; # managed by certwright\n",
            "} # managed by certwright; copy of the server block at /t/nginx.conf:22\n",
        ] {
            assert!(out.contains(line), "{line:?} missing:\n{out}");
        }
        assert_eq!(out.matches("listen 80 default_server;").count(), 1, "{out}");
    }

    #[test]
    fn the_rhel_nginx_conf_server_is_copied_in_place() {
        let src = include_str!("../../tests/fixtures/nginx/rhel-nginx.conf");
        let out = installs_a_copy(src, "rhel.example.com");
        let copy = "    }\n    server { # managed by certwright\n        listen 80; # managed by certwright\n";
        assert!(out.contains(copy), "{out}");
        assert!(
            out.contains("        location = /404.html { } # managed by certwright\n"),
            "{out}"
        );
    }

    #[test]
    fn a_catch_all_with_a_lua_block_is_not_copied() {
        let src = "http {\n    server {\n        listen 80 default_server;\n        content_by_lua_block {\n            ngx.say(1)\n        }\n    }\n}\n";
        assert!(plan_install(&cfg(src), &req("a.test")).is_err());
    }
}
