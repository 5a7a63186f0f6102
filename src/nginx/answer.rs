//! Which server block, `location` and directive answer a request for a name, port and
//! path, by file:line, so `doctor` can say where a challenge request goes wrong
//! (`location /.well-known/ { deny all; }`, a `return 301` to another port, a catch-all).

use std::path::PathBuf;

use super::select::for_each_in_server_at;
use super::{Config, Directive, MatchKind};

/// Longest directive text shown in a finding.
const MAX_TEXT: usize = 100;

/// A directive by file:line and its text on one line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    /// The directive as written, whitespace collapsed (a block with its body, shortened).
    pub text: String,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} (`{}`)", self.file.display(), self.line, self.text)
    }
}

/// What answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answering {
    pub server: Place,
    /// Chosen because no `server_name` matched: the port's default server.
    pub catch_all: bool,
    pub location: Option<Place>,
    /// The directive that decides the answer (`return`, `deny`, `rewrite`, `proxy_pass`,
    /// `root`...), if any.
    pub action: Option<Place>,
}

impl Answering {
    /// The one place to show: the location when its text shows the deciding directive
    /// (`location /.well-known/ { deny all; }`), else that directive, the location or the
    /// server block.
    pub fn deciding(&self) -> &Place {
        match (&self.location, &self.action) {
            (Some(l), Some(a)) if l.file == a.file && l.text.contains(&a.text) => l,
            (_, Some(a)) => a,
            (Some(l), None) => l,
            (None, None) => &self.server,
        }
    }
}

/// Directives that decide how a location answers, in the order they are looked for.
const ACTIONS: [&str; 9] = [
    "return",
    "deny",
    "rewrite",
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "alias",
    "try_files",
    "root",
];

impl Config {
    /// The block answering `name` on `port` (on `address` when a block listens on it), its
    /// location for `uri`, and the directive deciding the answer.
    pub fn answering(
        &self,
        name: &str,
        port: u16,
        address: Option<&str>,
        uri: &str,
    ) -> Option<Answering> {
        let selected = self.select(name, port);
        let chosen = selected
            .iter()
            .find(|s| {
                s.block
                    .listens
                    .iter()
                    .any(|l| l.port == port && l.addr.as_deref() == address)
            })
            .or_else(|| {
                selected
                    .iter()
                    .find(|s| s.block.listens.iter().any(|l| l.addr.is_none()))
            })
            .or(selected.first())?;
        let block = &chosen.block;
        let mut server_level = Vec::new();
        let mut locations = Vec::new();
        for_each_in_server_at(
            self,
            block.file,
            block.directive,
            &mut |file, d| match d.name() {
                "location" => locations.push((file, d)),
                n if ACTIONS.contains(&n) => server_level.push((file, d)),
                _ => {}
            },
        );
        // `return` and a matching `rewrite` at server level run before any location.
        let early = server_level.iter().find(|(_, d)| match d.name() {
            "return" => true,
            "rewrite" => d.arg(0).is_some_and(|re| regex_matches(re, uri, false)),
            _ => false,
        });
        let location = pick_location(&locations, uri);
        let action = match (early, location) {
            (Some((f, d)), _) => Some(self.place(*f, d)),
            (None, Some((f, d))) => first_action(d.children().iter().filter_map(as_directive))
                .map(|a| self.place(*f, a))
                .or_else(|| self.server_root(&server_level)),
            (None, None) => self.server_root(&server_level),
        };
        Some(Answering {
            server: self.place(block.file, block.directive),
            catch_all: chosen.kind == MatchKind::Default,
            location: location.map(|(f, d)| self.place(*f, d)),
            action,
        })
    }

    fn server_root(&self, server_level: &[(usize, &Directive)]) -> Option<Place> {
        server_level
            .iter()
            .find(|(_, d)| matches!(d.name(), "root" | "proxy_pass"))
            .map(|(f, d)| self.place(*f, d))
    }

    fn place(&self, file: usize, d: &Directive) -> Place {
        let source = &self.files[file].source;
        let raw = source.get(d.span.clone()).unwrap_or_default();
        let mut text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > MAX_TEXT {
            let head: String = match d.block_span.as_ref() {
                // A long block: its head and an ellipsis.
                Some(b) => source
                    .get(d.span.start..b.start)
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                None => text.chars().take(MAX_TEXT).collect(),
            };
            text = format!("{head} ... }}");
        }
        Place {
            file: self.files[file].path.clone(),
            line: d.line,
            text,
        }
    }
}

fn as_directive(node: &super::Node) -> Option<&Directive> {
    match node {
        super::Node::Directive(d) => Some(d),
        _ => None,
    }
}

fn first_action<'a>(
    children: impl Iterator<Item = &'a Directive> + Clone,
) -> Option<&'a Directive> {
    ACTIONS
        .iter()
        .find_map(|name| children.clone().find(|d| d.name() == *name))
}

/// nginx's order: `=` exact; else the longest prefix, final if `^~`; else the first regex
/// that matches; else that longest prefix.
fn pick_location<'a, 'b>(
    locations: &'b [(usize, &'a Directive)],
    uri: &str,
) -> Option<&'b (usize, &'a Directive)> {
    let mut longest: Option<(&(usize, &Directive), usize, bool)> = None;
    for entry in locations {
        let d = entry.1;
        let (modifier, pattern) = match (d.arg(0), d.arg(1)) {
            (Some(m @ ("=" | "^~" | "~" | "~*")), Some(p)) => (m, p),
            (Some(p), _) => ("", p),
            _ => continue,
        };
        match modifier {
            "=" if pattern == uri => return Some(entry),
            "" | "^~"
                if uri.starts_with(pattern)
                    && !pattern.starts_with('@')
                    && longest.is_none_or(|(_, len, _)| pattern.len() > len) =>
            {
                longest = Some((entry, pattern.len(), modifier == "^~"));
            }
            _ => {}
        }
    }
    if let Some((entry, _, true)) = longest {
        return Some(entry);
    }
    let regex = locations.iter().find(|(_, d)| match (d.arg(0), d.arg(1)) {
        (Some("~"), Some(p)) => regex_matches(p, uri, false),
        (Some("~*"), Some(p)) => regex_matches(p, uri, true),
        _ => false,
    });
    regex.or(longest.map(|(entry, _, _)| entry))
}

/// nginx uses PCRE; the `regex` crate agrees on the patterns locations use in practice. A
/// pattern it cannot compile matches nothing.
fn regex_matches(pattern: &str, uri: &str, caseless: bool) -> bool {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(caseless)
        .build()
        .is_ok_and(|re| re.is_match(uri))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::from_source(Path::new("/etc/nginx/nginx.conf"), text).expect("parse")
    }

    #[test]
    fn the_deny_location_answering_the_challenge_is_named_by_line() {
        let c = config(
            "http {\n server {\n  listen 80;\n  server_name a.test;\n  root /srv;\n  location / { try_files $uri =404; }\n  location /.well-known/ { deny all; }\n }\n}\n",
        );
        let a = c
            .answering("a.test", 80, None, "/.well-known/acme-challenge/x")
            .expect("a block");
        assert!(!a.catch_all);
        let loc = a.location.clone().expect("location");
        assert_eq!(loc.line, 7);
        assert_eq!(loc.text, "location /.well-known/ { deny all; }");
        assert_eq!(a.deciding().line, 7);
        assert_eq!(a.action.expect("action").text, "deny all;");
    }

    #[test]
    fn server_level_return_and_catch_all_are_reported() {
        let c = config(
            "http {\n server {\n  listen 80 default_server;\n  server_name _;\n  return 301 http://$host:8080$request_uri;\n  location = /x { return 200; }\n }\n}\n",
        );
        let a = c
            .answering("b.test", 80, None, "/.well-known/acme-challenge/x")
            .unwrap();
        assert!(a.catch_all);
        assert_eq!(a.server.line, 2);
        assert_eq!(a.action.unwrap().line, 5);
    }

    #[test]
    fn regex_beats_plain_prefix_but_not_caret_tilde() {
        let c = config(
            "http {\n server {\n  location /.well-known/ { root /a; }\n  location ~ /\\. { deny all; }\n }\n}\n",
        );
        let a = c
            .answering("x", 80, None, "/.well-known/acme-challenge/t")
            .unwrap();
        assert_eq!(a.location.unwrap().line, 4);
        let c = config(
            "http {\n server {\n  location ^~ /.well-known/ { root /a; }\n  location ~ /\\. { deny all; }\n }\n}\n",
        );
        let a = c
            .answering("x", 80, None, "/.well-known/acme-challenge/t")
            .unwrap();
        assert_eq!(a.location.unwrap().line, 3);
    }
}
