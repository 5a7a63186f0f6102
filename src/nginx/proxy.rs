//! The fleet's challenge proxy: in each plain-HTTP server block, one marked
//! `location ^~ /.well-known/acme-challenge/ { proxy_pass ...; }` that hands the CA's probe
//! to the node's own responder (`daemon --http-01-port`), which answers every token the
//! fleet published. Unlike [`plan_challenges`](super::plan_challenges) it is permanent and
//! names no token, so it is planned once at daemon start, not per order.
//!
//! `^~` makes it win over the user's regex locations (`location ~ \.php$`) and over shorter
//! prefixes (`location /`, `location /.well-known/`) for challenge paths only. A block whose
//! user already routes the challenge path somewhere (any unmarked location naming
//! `acme-challenge`) is left alone and reported: taking it over would silently shadow theirs.
//! The exact-match locations of an nginx-authenticated order still win over ours.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::edit::{Edits, FileEdit};
use super::recognize::{
    has_child, is_challenge_proxy, is_https_redirect, is_marked, named_blocks, ssl_ports,
    CHALLENGE_PREFIX,
};
use super::select::ServerBlock;
use super::{Config, Directive, Node};
use crate::error::NginxError;

/// What [`plan_challenge_proxy`] would change, and which blocks it left to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeProxyPlan {
    pub edits: Vec<FileEdit>,
    /// Blocks that answer the challenge path with a location of the user's own.
    pub kept: Vec<UserChallengeLocation>,
}

/// A user's `location` for the challenge path, which the proxy does not override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChallengeLocation {
    /// The real file holding the location.
    pub file: PathBuf,
    pub line: usize,
    /// `location` and its arguments as written, e.g. `location ^~ /.well-known/acme-challenge/`.
    pub location: String,
}

impl std::fmt::Display for UserChallengeLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.file.display(),
            self.line,
            self.location
        )
    }
}

/// Plan the proxy location into every server block listening on `http_port`, and into the
/// TLS blocks serving the names of those that redirect to https (the CA follows the
/// redirect, and a server-level redirect runs before any location). Idempotent; a managed
/// location with another upstream is rewritten, and managed ones in blocks no longer
/// targeted are removed.
pub fn plan_challenge_proxy(
    config: &Config,
    http_port: u16,
    upstream: SocketAddr,
) -> Result<ChallengeProxyPlan, NginxError> {
    let location = proxy_location(upstream)?;
    let blocks: Vec<ServerBlock<'_>> = config
        .server_blocks()
        .into_iter()
        .filter(|b| !is_marked(&config.files[b.file].source, b.directive))
        .collect();
    let targets = proxy_targets(config, &blocks, http_port);
    if targets.is_empty() {
        return Err(NginxError::Other(format!(
            "no nginx server block listens on port {http_port}, so nginx has no probe to pass \
             on; if nginx does not hold that port, let the daemon's --http-01-port take it \
             directly (without --nginx)"
        )));
    }
    let mut edits = Edits::default();
    let mut kept = Vec::new();
    for b in &targets {
        let mut ours = Vec::new();
        let mut users = Vec::new();
        for_each_location(config, b.file, b.directive.children(), 0, &mut |file, d| {
            let src = &config.files[file].source;
            if is_challenge_proxy(d) && is_marked(src, d) {
                ours.push((file, d));
            } else if names_challenge_path(d) && !is_marked(src, d) {
                users.push((file, d));
            }
        });
        if let Some((file, d)) = users.first() {
            kept.push(UserChallengeLocation {
                file: config.files[*file].real_path.clone(),
                line: d.line,
                location: head(d),
            });
            continue;
        }
        match ours.split_first() {
            None => edits.add_lines(config, b, std::slice::from_ref(&location))?,
            Some(((file, first), rest)) => {
                let src = &config.files[*file].source;
                if src[first.span.clone()] != location {
                    edits.splice(*file, first.span.clone(), location.clone());
                }
                for (file, d) in rest {
                    edits.remove_line(config, *file, d);
                }
            }
        }
    }
    for b in &blocks {
        if targets.iter().any(|t| same_block(t, b)) {
            continue;
        }
        // Only the block's own lines: an included snippet may also serve a target.
        let src = &config.files[b.file].source;
        for n in b.directive.children() {
            if let Node::Directive(d) = n {
                if is_challenge_proxy(d) && is_marked(src, d) {
                    edits.remove_line(config, b.file, d);
                }
            }
        }
    }
    Ok(ChallengeProxyPlan {
        edits: edits.finish(config)?,
        kept,
    })
}

/// Plan removing every proxy location certwright added, wherever it is.
pub fn plan_challenge_proxy_removal(config: &Config) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for b in config.server_blocks() {
        for_each_location(config, b.file, b.directive.children(), 0, &mut |file, d| {
            if is_challenge_proxy(d) && is_marked(&config.files[file].source, d) {
                edits.remove_line(config, file, d);
            }
        });
    }
    edits.finish(config)
}

/// The whole location, one line: `add_lines` appends the marker.
fn proxy_location(upstream: SocketAddr) -> Result<String, NginxError> {
    let scoped = matches!(upstream, SocketAddr::V6(v6) if v6.scope_id() != 0);
    if upstream.port() == 0 || upstream.ip().is_unspecified() || scoped {
        return Err(NginxError::Other(format!(
            "cannot proxy the challenge path to {upstream}: give an address and port to connect to"
        )));
    }
    // SocketAddr prints `127.0.0.1:8402` and `[::1]:8402`, both as nginx reads them.
    Ok(format!(
        "location ^~ {CHALLENGE_PREFIX} {{ proxy_pass http://{upstream}; proxy_set_header Host $http_host; }}"
    ))
}

/// Blocks listening on `http_port`, then TLS blocks behind their https redirects; each once.
fn proxy_targets<'a>(
    config: &'a Config,
    blocks: &[ServerBlock<'a>],
    http_port: u16,
) -> Vec<ServerBlock<'a>> {
    let mut targets: Vec<ServerBlock<'a>> = blocks
        .iter()
        .filter(|b| b.listens.iter().any(|l| l.port == http_port))
        .cloned()
        .collect();
    let redirecting: Vec<ServerBlock<'a>> = targets
        .iter()
        .filter(|b| has_child(config, b, is_https_redirect))
        .cloned()
        .collect();
    let tls_ports = ssl_ports(config);
    for b in redirecting {
        for name in b.names.iter().filter(|n| !n.starts_with('~') && *n != "_") {
            for &port in &tls_ports {
                for t in named_blocks(config, name, port) {
                    let tls = t.listens.iter().any(|l| l.port == port && l.ssl);
                    let known = blocks.iter().any(|k| same_block(k, &t));
                    if tls && known && !targets.iter().any(|x| same_block(x, &t)) {
                        targets.push(t);
                    }
                }
            }
        }
    }
    targets
}

fn same_block(a: &ServerBlock<'_>, b: &ServerBlock<'_>) -> bool {
    a.file == b.file && a.directive.span.start == b.directive.span.start
}

/// Every `location` below `nodes` (nested ones and those in included files too), with the
/// index of the file it is written in.
fn for_each_location<'a>(
    config: &'a Config,
    file: usize,
    nodes: &'a [Node],
    depth: usize,
    f: &mut dyn FnMut(usize, &'a Directive),
) {
    for node in nodes {
        let Node::Directive(d) = node else { continue };
        if d.name() == "location" {
            f(file, d);
        }
        if d.name() == "include" && depth < super::MAX_INCLUDE_DEPTH {
            if let Some(targets) = config.includes.get(&(file, d.span.start)) {
                for &t in targets {
                    for_each_location(config, t, &config.files[t].nodes, depth + 1, f);
                }
            }
        }
        for_each_location(config, file, d.children(), depth, f);
    }
}

/// A location whose path or regex names the challenge directory (named locations aside).
fn names_challenge_path(d: &Directive) -> bool {
    d.name() == "location"
        && d.args()
            .find(|a| !matches!(*a, "=" | "^~" | "~" | "~*"))
            .is_some_and(|target| !target.starts_with('@') && target.contains("acme-challenge"))
}

/// `location` and its arguments as written.
fn head(d: &Directive) -> String {
    d.words
        .iter()
        .map(|w| w.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::patch::tests::{apply, cfg};
    use crate::nginx::{plan_install, plan_uninstall, InstallRequest, MARKER};

    const DAEMON: &str = "127.0.0.1:8402";
    const LOCATION: &str = "location ^~ /.well-known/acme-challenge/ { proxy_pass http://127.0.0.1:8402; proxy_set_header Host $http_host; } # managed by certwright";

    fn plan(src: &str, port: u16, upstream: &str) -> ChallengeProxyPlan {
        plan_challenge_proxy(&cfg(src), port, upstream.parse().unwrap()).unwrap()
    }

    /// Planned, applied, then planned again: the second plan changes nothing, and the
    /// remover gives back `src` byte for byte.
    fn ensure_round_trip(src: &str, port: u16) -> String {
        let out = apply(src, &plan(src, port, DAEMON).edits);
        let again = plan(&out, port, DAEMON);
        assert!(again.edits.is_empty(), "second run changed:\n{again:?}");
        let removed = apply(&out, &plan_challenge_proxy_removal(&cfg(&out)).unwrap());
        assert_eq!(removed, src);
        out
    }

    fn http(servers: &str) -> String {
        format!("http {{\n{servers}}}\n")
    }

    #[test]
    fn debian_default_site_gets_one_location_after_server_name() {
        // The site file as nginx.conf's `include` places it: inside `http`.
        let site = &http(include_str!(
            "../../tests/fixtures/nginx/debian-sites-default"
        ));
        let out = ensure_round_trip(site, 80);
        assert_eq!(out.matches("acme-challenge").count(), 1, "{out}");
        assert!(
            out.contains(&format!(
                "\tserver_name _;\n\t{LOCATION}\n\n\tlocation / {{"
            )),
            "{out}"
        );
        // Only our line is new.
        let added: Vec<&str> = out.lines().filter(|l| !site.contains(*l)).collect();
        assert_eq!(added, [format!("\t{LOCATION}")]);
    }

    #[test]
    fn ipv6_only_and_dual_stack_blocks_each_get_it_once() {
        let src = http(concat!(
            "    server {\n        listen [::]:80;\n        server_name v6.test;\n    }\n",
            "    server {\n        listen 80;\n        listen [::]:80;\n        server_name both.test;\n    }\n",
            "    server {\n        server_name implicit.test;\n    }\n",
        ));
        let out = ensure_round_trip(&src, 80);
        assert_eq!(out.matches(LOCATION).count(), 3, "{out}");
    }

    #[test]
    fn only_blocks_on_the_http_port_get_it() {
        let src = http(concat!(
            "    server {\n        listen 80 default_server;\n        server_name a.test;\n    }\n",
            "    server {\n        listen 80;\n        server_name b.test;\n        location / { proxy_pass http://127.0.0.1:3000; }\n    }\n",
            "    server {\n        listen 443 ssl;\n        server_name a.test b.test;\n        ssl_certificate /c.pem;\n        ssl_certificate_key /k.pem;\n    }\n",
        ));
        let out = ensure_round_trip(&src, 80);
        assert_eq!(out.matches(LOCATION).count(), 2, "{out}");
        let tls = out.split("listen 443 ssl;").nth(1).unwrap();
        assert!(!tls.contains("acme-challenge"), "{out}");
    }

    #[test]
    fn another_upstream_replaces_the_managed_location() {
        let src = http("    server {\n        listen 80;\n        server_name a.test;\n    }\n");
        let first = apply(&src, &plan(&src, 80, DAEMON).edits);
        let moved = plan(&first, 80, "[::1]:9000");
        assert_eq!(moved.edits.len(), 1);
        let out = apply(&first, &moved.edits);
        assert_eq!(out.matches("acme-challenge").count(), 1, "{out}");
        assert!(out.contains(&format!(
            "        location ^~ /.well-known/acme-challenge/ {{ proxy_pass http://[::1]:9000; proxy_set_header Host $http_host; }} {MARKER}\n"
        )));
        assert!(plan(&out, 80, "[::1]:9000").edits.is_empty());
        // Back to the first upstream: byte-identical to the first result.
        assert_eq!(apply(&out, &plan(&out, 80, DAEMON).edits), first);
    }

    #[test]
    fn the_users_own_challenge_location_is_kept_and_reported() {
        let src = http(concat!(
            "    server {\n        listen 80;\n        server_name webroot.test;\n        location ^~ /.well-known/acme-challenge/ {\n            root /var/www/letsencrypt;\n        }\n    }\n",
            "    server {\n        listen 80;\n        server_name regex.test;\n        location / {\n            location ~ /\\.well-known/acme-challenge/ { return 404; }\n        }\n    }\n",
            "    server {\n        listen 80;\n        server_name plain.test;\n        location /.well-known/ { root /srv/wk; }\n        location @acme-challenge { return 404; }\n    }\n",
        ));
        let p = plan(&src, 80, DAEMON);
        let lines: Vec<usize> = p.kept.iter().map(|k| k.line).collect();
        assert_eq!(lines, [5, 13]);
        assert_eq!(
            p.kept[0].to_string(),
            "/t/nginx.conf:5: location ^~ /.well-known/acme-challenge/"
        );
        let out = apply(&src, &p.edits);
        assert_eq!(out.matches(LOCATION).count(), 1, "{out}");
        assert!(out.contains(&format!("server_name plain.test;\n        {LOCATION}\n")));
        assert_eq!(plan(&out, 80, DAEMON).kept.len(), 2);
    }

    #[test]
    fn tls_blocks_behind_an_https_redirect_get_it_too() {
        let src = http(concat!(
            "    server {\n        listen 80;\n        server_name r.test;\n        return 301 https://$host$request_uri;\n    }\n",
            "    server {\n        listen 443 ssl;\n        server_name r.test;\n    }\n",
            "    server {\n        listen 443 ssl;\n        server_name other.test;\n    }\n",
        ));
        let out = ensure_round_trip(&src, 80);
        assert_eq!(out.matches(LOCATION).count(), 2, "{out}");
        assert!(!out
            .split("server_name other.test;")
            .nth(1)
            .unwrap()
            .contains("acme"));
    }

    #[test]
    fn a_changed_http_port_moves_the_location() {
        let src = http(concat!(
            "    server {\n        listen 80;\n        server_name a.test;\n    }\n",
            "    server {\n        listen 8080;\n        server_name a.test;\n    }\n",
        ));
        let on_80 = apply(&src, &plan(&src, 80, DAEMON).edits);
        let on_8080 = apply(&on_80, &plan(&on_80, 8080, DAEMON).edits);
        assert_eq!(on_8080.matches(LOCATION).count(), 1, "{on_8080}");
        assert!(on_8080
            .split("listen 8080;")
            .nth(1)
            .unwrap()
            .contains(LOCATION));
    }

    #[test]
    fn duplicated_managed_locations_are_reduced_to_one() {
        let src = http(&format!(
            "    server {{\n        listen 80;\n        {LOCATION}\n        {LOCATION}\n    }}\n"
        ));
        let out = apply(&src, &plan(&src, 80, DAEMON).edits);
        assert_eq!(out.matches(LOCATION).count(), 1, "{out}");
    }

    #[test]
    fn nothing_on_the_port_or_no_usable_upstream_is_an_error() {
        let src = http("    server {\n        listen 8080;\n    }\n");
        let c = cfg(&src);
        let err = plan_challenge_proxy(&c, 80, DAEMON.parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("port 80"), "{err}");
        for bad in [
            "0.0.0.0:8402",
            "127.0.0.1:0",
            "[::]:8402",
            "[fe80::1%2]:8402",
        ] {
            assert!(
                plan_challenge_proxy(&c, 8080, bad.parse().unwrap()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn certwrights_temporary_blocks_and_uninstall_leave_the_proxy_alone() {
        let src = http(&format!(
            "    server {{\n        listen 80;\n        server_name a.test;\n    }}\n    server {{ {MARKER}\n        listen 80; {MARKER}\n        server_name tmp.test; {MARKER}\n    }} {MARKER}\n"
        ));
        let out = apply(&src, &plan(&src, 80, DAEMON).edits);
        assert_eq!(out.matches(LOCATION).count(), 1, "{out}");
        let req = InstallRequest {
            names: vec!["a.test".parse().unwrap()],
            fullchain: "/live/a.test/fullchain.pem".into(),
            privkey: "/live/a.test/privkey.pem".into(),
            http_port: 80,
            https_port: 443,
            redirect: true,
            hsts: false,
        };
        let installed = apply(&out, &plan_install(&cfg(&out), &req).unwrap());
        let paths = [req.fullchain.as_path(), req.privkey.as_path()];
        let undone = apply(
            &installed,
            &plan_uninstall(&cfg(&installed), &paths).unwrap(),
        );
        assert_eq!(undone, out);
    }
}
