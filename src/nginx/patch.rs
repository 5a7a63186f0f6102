//! Planning edits: pure functions from a [`Config`] to text edits, nothing is written here.
//!
//! Edits are byte splices into the original text at spans the parser recorded, so every
//! byte we did not mean to change (comments, layout) stays. Every line we add ends with
//! [`MARKER`]; removal finds our lines by that marker and by what they say.
//!
//! Redirect form: `if ($scheme != "https") { return 301 ...; }` inside the block rather than
//! certbot's later block split. It is one line we add and remove as a unit, it never moves
//! the user's `listen` lines, and it works whether or not the block also serves https.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::parse::quote_word;
use super::proxy::is_challenge_proxy;
use super::select::{for_each_in_server, for_each_in_server_at, MatchKind, ServerBlock};
use super::{Config, Directive, Node};
use crate::error::NginxError;
use crate::types::DomainName;

/// Appended to every line certwright adds.
pub const MARKER: &str = "# managed by certwright";

pub(super) const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The planned new contents of one file. `path` is the real file (symlinks resolved).
/// `before` and `after` are text as [`decode`](super::decode) makes it: write
/// [`encode`](super::encode)`(&after)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// One HTTP-01 challenge to serve from nginx.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub name: DomainName,
    pub token: String,
    pub key_authorization: String,
}

/// What `install` should configure for a certificate.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub names: Vec<DomainName>,
    pub fullchain: PathBuf,
    pub privkey: PathBuf,
    pub http_port: u16,
    pub https_port: u16,
    pub redirect: bool,
    pub hsts: bool,
}

/// Plan locations answering each challenge in the blocks serving its name on `http_port`;
/// a name no block serves by name gets a new minimal server block inside `http`.
pub fn plan_challenges(
    config: &Config,
    challenges: &[Challenge],
    http_port: u16,
) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for ch in challenges {
        if !is_base64url(&ch.token) {
            return Err(NginxError::Other(format!(
                "refusing challenge token {:?}: not base64url",
                ch.token
            )));
        }
        let valid_keyauth = ch
            .key_authorization
            .split_once('.')
            .is_some_and(|(t, k)| t == ch.token && is_base64url(k));
        if !valid_keyauth {
            return Err(NginxError::Other(format!(
                "refusing key authorization {:?}: not <token>.<base64url thumbprint>",
                ch.key_authorization
            )));
        }
        let location = format!(
            "location = {CHALLENGE_PREFIX}{} {{ default_type text/plain; return 200 \"{}\"; }}",
            ch.token, ch.key_authorization
        );
        let blocks = named_blocks(config, ch.name.as_str(), http_port);
        if blocks.is_empty() {
            let server = format!(
                "server {{ {MARKER}\n    listen {http_port}; {MARKER}\n    server_name {}; {MARKER}\n    {location} {MARKER}\n}} {MARKER}",
                ch.name
            );
            edits.add_to_http(config, &server)?;
            continue;
        }
        // A server-level redirect runs before location matching, so the CA follows it to
        // https: serve the challenge from the blocks answering the name with TLS as well.
        let mut targets = Vec::new();
        for b in blocks {
            if has_child(config, &b, is_https_redirect) {
                for port in ssl_ports(config) {
                    targets.extend(
                        named_blocks(config, ch.name.as_str(), port)
                            .into_iter()
                            .filter(|t| t.listens.iter().any(|l| l.port == port && l.ssl)),
                    );
                }
            }
            targets.push(b);
        }
        let mut seen = Vec::new();
        targets.retain(|b| {
            let key = (b.file, b.directive.span.start);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        for b in targets {
            let exists = has_child(config, &b, |d| {
                d.name() == "location"
                    && d.arg(1) == Some(&format!("{CHALLENGE_PREFIX}{}", ch.token))
            });
            if !exists {
                edits.add_lines(config, &b, std::slice::from_ref(&location))?;
            }
        }
    }
    edits.finish(config)
}

/// Plan removing every challenge location (and server block) the authenticator added.
pub fn plan_challenge_removal(config: &Config) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for b in config.server_blocks() {
        let src = &config.files[b.file].source;
        let ours_only = is_marked(src, b.directive)
            && b.directive.children().iter().all(|n| match n {
                Node::Trivia(_) => true,
                Node::Directive(d) => {
                    is_marked(src, d) && matches!(d.name(), "listen" | "server_name" | "location")
                }
            });
        if ours_only {
            edits.remove_line(config, b.file, b.directive);
            continue;
        }
        for n in b.directive.children() {
            if let Node::Directive(d) = n {
                if is_challenge_location(d) && is_marked(src, d) {
                    edits.remove_line(config, b.file, d);
                }
            }
        }
    }
    edits.finish(config)
}

/// Plan TLS for `req.names`: listen, certificate lines, and optionally redirect and HSTS.
/// Idempotent: planning again on the result yields no edits.
pub fn plan_install(config: &Config, req: &InstallRequest) -> Result<Vec<FileEdit>, NginxError> {
    let fullchain = path_word(&req.fullchain)?;
    let privkey = path_word(&req.privkey)?;
    let mut edits = Edits::default();
    let mut done: Vec<(usize, usize)> = Vec::new();
    for name in &req.names {
        let ssl_blocks: Vec<ServerBlock<'_>> = named_blocks(config, name.as_str(), req.https_port)
            .into_iter()
            .filter(|b| b.listens.iter().any(|l| l.port == req.https_port && l.ssl))
            .collect();
        let http_blocks = named_blocks(config, name.as_str(), req.http_port);
        let targets = if ssl_blocks.is_empty() {
            http_blocks.clone()
        } else {
            ssl_blocks
        };
        if targets.is_empty() {
            return Err(NginxError::NoServerBlock {
                name: name.to_string(),
                found: config.server_names().join(", "),
            });
        }
        for b in &targets {
            let key = (b.file, b.directive.span.start);
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            install_into(config, &mut edits, b, req, &fullchain, &privkey)?;
        }
        if req.redirect {
            for b in &http_blocks {
                let key = (b.file, b.directive.span.start + 1);
                if done.contains(&key) {
                    continue;
                }
                done.push(key);
                let has_redirect =
                    has_child(config, b, |d| redirects_to_https(d, Some(name.as_str())));
                if !has_redirect {
                    let target = if req.https_port == 443 {
                        "https://$host$request_uri".to_string()
                    } else {
                        format!("https://$host:{}$request_uri", req.https_port)
                    };
                    let line = format!("if ($scheme != \"https\") {{ return 301 {target}; }}");
                    edits.add_lines(config, b, &[line])?;
                }
            }
        }
    }
    edits.finish(config)
}

fn install_into(
    config: &Config,
    edits: &mut Edits,
    b: &ServerBlock<'_>,
    req: &InstallRequest,
    fullchain: &str,
    privkey: &str,
) -> Result<(), NginxError> {
    let mut lines = https_listens(b, req);
    for (directive, value) in [
        ("ssl_certificate", fullchain),
        ("ssl_certificate_key", privkey),
    ] {
        // Set in the block or in a file it includes: either way it stays in force next to
        // ours (nginx would load two certificates), so it is replaced where it is written.
        let mut existing = Vec::new();
        for_each_in_server_at(config, b.file, b.directive, &mut |file, d| {
            if d.name() == directive {
                existing.push((file, d));
            }
        });
        if existing.is_empty() {
            lines.push(format!("{directive} {value};"));
        }
        for (file, d) in existing {
            if d.words.get(1).map(|w| w.raw.as_str()) != Some(value) {
                refuse_shared_include(config, b, file, d)?;
                edits.replace_directive(config, file, d, &format!("{directive} {value};"));
            }
        }
    }
    if req.hsts {
        let has_hsts = has_child(config, b, |d| {
            d.name() == "add_header"
                && d.arg(0)
                    .is_some_and(|h| h.eq_ignore_ascii_case("Strict-Transport-Security"))
        });
        if !has_hsts {
            lines.push(
                "add_header Strict-Transport-Security \"max-age=31536000\" always;".to_string(),
            );
        }
    }
    edits.add_lines(config, b, &lines)
}

/// A certificate line in a file other blocks include too cannot be changed for this block
/// alone: refuse, naming the file, who includes it, and the fix.
fn refuse_shared_include(
    config: &Config,
    b: &ServerBlock<'_>,
    file: usize,
    d: &Directive,
) -> Result<(), NginxError> {
    let includers = config.includers(file);
    if file == b.file || includers.len() <= 1 {
        return Ok(());
    }
    let at = |(f, line): (usize, usize)| format!("{}:{line}", config.files[f].path.display());
    let list: Vec<String> = includers.into_iter().map(at).collect();
    Err(NginxError::Other(format!(
        "{}:{}: `{}` is set in a file that several places include ({}), so it cannot be \
         changed for the server block at {} alone; nothing was changed. Move the \
         ssl_certificate and ssl_certificate_key lines out of {} into the server blocks \
         that include it, then run install again",
        config.files[file].path.display(),
        d.line,
        d.name(),
        list.join(", "),
        at((b.file, b.directive.line)),
        config.files[file].path.display(),
    )))
}

/// The `listen` lines a block needs to answer TLS on `req.https_port`: each address it
/// listens on for plain HTTP mirrored on the TLS port (a block listening on `10.0.0.5:80`
/// only gets `10.0.0.5:443`, so it wins there against a block on that exact address), and
/// an explicit `listen 80` where nginx listened on `*:80` only because no `listen` was given.
fn https_listens(b: &ServerBlock<'_>, req: &InstallRequest) -> Vec<String> {
    let port = req.https_port;
    let has_tls_listen = b.listens.iter().any(|l| l.port == port);
    let mut addrs: Vec<Option<String>> = Vec::new();
    for l in b.listens.iter().filter(|l| l.port == req.http_port) {
        if !addrs.contains(&l.addr) {
            addrs.push(l.addr.clone());
        }
    }
    if addrs.is_empty() && !has_tls_listen {
        addrs.push(None);
    }
    let mut lines = Vec::new();
    for addr in addrs {
        if b.listens.iter().any(|l| l.port == port && l.addr == addr) {
            continue;
        }
        lines.push(match addr {
            None => format!("listen {port} ssl;"),
            Some(a) => format!("listen {a}:{port} ssl;"),
        });
    }
    if b.implicit_listen && !lines.is_empty() {
        // The first explicit listen replaces nginx's implicit `*:80`: keep port 80 answering.
        lines.insert(0, "listen 80;".to_string());
    }
    lines
}

/// Plan removing our install lines from blocks whose managed certificate lines name any of
/// `cert_paths`, plus our redirects for the same names; replaced lines get their old text back.
pub fn plan_uninstall(config: &Config, cert_paths: &[&Path]) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    let blocks = config.server_blocks();
    let mut names: Vec<String> = Vec::new();
    for b in &blocks {
        let src = &config.files[b.file].source;
        let ours = |file: usize, d: &Directive| {
            matches!(d.name(), "ssl_certificate" | "ssl_certificate_key")
                && is_marked(&config.files[file].source, d)
                && d.arg(0)
                    .is_some_and(|a| cert_paths.iter().any(|p| Path::new(a) == *p))
        };
        let mut hit = false;
        for_each_in_server_at(config, b.file, b.directive, &mut |file, d| {
            hit |= ours(file, d);
            // A certificate line we replaced in a file only this block includes.
            if file != b.file && ours(file, d) {
                if let Some(original) = replaced_original(&config.files[file].source, d) {
                    edits.replace_line(config, file, d, &original);
                }
            }
        });
        if !hit {
            continue;
        }
        names.extend(b.names.iter().cloned());
        for_each_direct_child(b.directive, &mut |d| {
            // The challenge locations outlive a certificate: not this uninstall's to remove.
            if !is_marked(src, d) || is_challenge_location(d) || is_challenge_proxy(d) {
                return;
            }
            match replaced_original(src, d) {
                Some(original) => edits.replace_line(config, b.file, d, &original),
                None => edits.remove_line(config, b.file, d),
            }
        });
    }
    for b in &blocks {
        if !b.names.iter().any(|n| names.contains(n)) {
            continue;
        }
        let src = &config.files[b.file].source;
        for_each_direct_child(b.directive, &mut |d| {
            if d.name() == "if" && d.arg(0) == Some("($scheme") && is_marked(src, d) {
                edits.remove_line(config, b.file, d);
            }
        });
    }
    edits.finish(config)
}

/// A unified diff of `edits`, for `--dry-run`.
pub fn unified_diff(edits: &[FileEdit]) -> String {
    let mut out = String::new();
    for e in edits {
        let path = e.path.display().to_string();
        let diff = similar::TextDiff::from_lines(&e.before, &e.after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&path, &path)
                .to_string(),
        );
    }
    out
}

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

fn for_each_direct_child<'a>(block: &'a Directive, f: &mut dyn FnMut(&'a Directive)) {
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

fn is_challenge_location(d: &Directive) -> bool {
    d.name() == "location"
        && d.arg(0) == Some("=")
        && d.arg(1).is_some_and(|p| p.starts_with(CHALLENGE_PREFIX))
}

fn is_base64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A path as one config word; control characters (newlines) are refused, and so is `$`:
/// nginx expands variables in certificate paths at run time (from the client's SNI, for
/// `$ssl_server_name`), and has no escape for it.
fn path_word(p: &Path) -> Result<String, NginxError> {
    let s = p
        .to_str()
        .ok_or_else(|| NginxError::Other(format!("path {p:?} is not UTF-8")))?;
    if s.contains('$') {
        return Err(NginxError::Other(format!(
            "refusing to write {s:?} into the nginx config: nginx would read the `$` in it as \
             a variable and expand it when a client connects; use a --config-dir without `$`"
        )));
    }
    quote_word(s)
}

/// Byte range of the line(s) holding `d`: from the line start to after the newline.
fn line_range(src: &str, d: &Directive) -> Range<usize> {
    let start = src[..d.span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = src[d.span.end..]
        .find('\n')
        .map_or(src.len(), |i| d.span.end + i + 1);
    start..end
}

/// The text after `d` on its last line (comment included), without the newline.
fn rest_of_line<'s>(src: &'s str, d: &Directive) -> &'s str {
    let rest = &src[d.span.end..];
    rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
}

pub(super) fn is_marked(src: &str, d: &Directive) -> bool {
    rest_of_line(src, d).trim_start().starts_with(MARKER)
}

/// For a user line we replaced: the original directive we recorded after the marker.
fn replaced_original(src: &str, d: &Directive) -> Option<String> {
    let rest = rest_of_line(src, d).trim_start().strip_prefix(MARKER)?;
    rest.strip_prefix("; was: ").map(str::to_string)
}

/// Whether only whitespace precedes `offset` on its line.
fn own_line(src: &str, offset: usize) -> bool {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    src[start..offset].trim().is_empty()
}

/// Indentation (leading whitespace) of the line `offset` is on.
fn indent_at(src: &str, offset: usize) -> &str {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &src[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Offsets just after each newline between the direct children of `block` (in its own
/// whitespace and comments, not inside a child): where whole lines can go in.
fn line_starts_inside(block: &Directive) -> Vec<usize> {
    let Some(inner) = block.block_span.clone() else {
        return Vec::new();
    };
    let mut starts = Vec::new();
    let mut at = inner.start;
    for n in block.children() {
        match n {
            Node::Trivia(t) => {
                starts.extend(t.match_indices('\n').map(|(i, _)| at + i + 1));
                at += t.len();
            }
            Node::Directive(d) => at = d.span.end,
        }
    }
    starts
}

fn one_line_block(config: &Config, file: usize, d: &Directive) -> NginxError {
    NginxError::Other(format!(
        "{}:{}: this `{}` block is written on one line; certwright adds whole lines and never \
         splits one of yours: put its closing `}}` on a line of its own and run again",
        config.files[file].path.display(),
        d.line,
        d.name()
    ))
}

/// Byte splices per file, applied back to front when finished.
#[derive(Default)]
pub(super) struct Edits {
    /// file index -> (range, replacement, insertion order)
    splices: BTreeMap<usize, Vec<(Range<usize>, String, usize)>>,
    seq: usize,
}

impl Edits {
    pub(super) fn splice(&mut self, file: usize, range: Range<usize>, text: String) {
        self.seq += 1;
        let list = self.splices.entry(file).or_default();
        if !list.iter().any(|(r, t, _)| *r == range && *t == text) {
            list.push((range, text, self.seq));
        }
    }

    /// Add marked lines inside a server block, after its last listen/server_name (or at the
    /// top), indented like its other directives. Lines go in whole, at the start of a line
    /// inside the block: a line the user wrote is never split or moved, so a block written
    /// on one line is refused.
    pub(super) fn add_lines(
        &mut self,
        config: &Config,
        b: &ServerBlock<'_>,
        lines: &[String],
    ) -> Result<(), NginxError> {
        if lines.is_empty() {
            return Ok(());
        }
        let src = &config.files[b.file].source;
        let children: Vec<&Directive> = b
            .directive
            .children()
            .iter()
            .filter_map(|n| match n {
                Node::Directive(d) => Some(d),
                _ => None,
            })
            .collect();
        let server_indent = indent_at(src, b.directive.span.start);
        let indent = match children.first() {
            Some(d) if own_line(src, d.span.start) => indent_at(src, d.span.start).to_string(),
            _ => format!("{server_indent}    "),
        };
        let text: String = lines
            .iter()
            .map(|l| format!("{indent}{l} {MARKER}\n"))
            .collect();
        let after = children
            .iter()
            .rev()
            .find(|d| matches!(d.name(), "listen" | "server_name"))
            .map_or(0, |d| d.span.end);
        let starts = line_starts_inside(b.directive);
        let at = starts
            .iter()
            .find(|&&p| p > after)
            .or(starts.last())
            .copied()
            .ok_or_else(|| one_line_block(config, b.file, b.directive))?;
        self.splice(b.file, at..at, text);
        Ok(())
    }

    /// Append a marked block just before the `}` of the `http` block.
    fn add_to_http(&mut self, config: &Config, block: &str) -> Result<(), NginxError> {
        let mut http: Option<(usize, &Directive)> = None;
        config.visit(&mut |file, ctx, d| {
            if d.name() == "http" && ctx.is_empty() && http.is_none() {
                http = Some((file, d));
            }
        });
        let (file, d) = http.ok_or_else(|| {
            NginxError::Other("no http block found to add a server block to".into())
        })?;
        let src = &config.files[file].source;
        let indent = format!("{}    ", indent_at(src, d.span.start));
        let body: String = block.lines().map(|l| format!("{indent}{l}\n")).collect();
        let at = line_starts_inside(d)
            .last()
            .copied()
            .ok_or_else(|| one_line_block(config, file, d))?;
        self.splice(file, at..at, body);
        Ok(())
    }

    pub(super) fn remove_line(&mut self, config: &Config, file: usize, d: &Directive) {
        let src = &config.files[file].source;
        let r = if own_line(src, d.span.start) {
            line_range(src, d)
        } else {
            // Leave whatever precedes our directive on its line (it is not ours).
            d.span.start..d.span.end + rest_of_line(src, d).len()
        };
        self.splice(file, r, String::new());
    }

    /// Replace a user's directive, keeping its original text after the marker for undo.
    fn replace_directive(&mut self, config: &Config, file: usize, d: &Directive, new: &str) {
        let src = &config.files[file].source;
        let rest = rest_of_line(src, d);
        let original = match replaced_original(src, d) {
            Some(o) => o,
            None if is_marked(src, d) => {
                self.splice(file, d.span.clone(), new.to_string());
                return;
            }
            None => src[d.span.start..d.span.end + rest.len()].replace('\n', " "),
        };
        let end = d.span.end + rest.len();
        self.splice(
            file,
            d.span.start..end,
            format!("{new} {MARKER}; was: {original}"),
        );
    }

    /// Put `original` back in place of our replacement (same line, same indentation).
    fn replace_line(&mut self, config: &Config, file: usize, d: &Directive, original: &str) {
        let src = &config.files[file].source;
        let end = d.span.end + rest_of_line(src, d).len();
        self.splice(file, d.span.start..end, original.to_string());
    }

    pub(super) fn finish(self, config: &Config) -> Result<Vec<FileEdit>, NginxError> {
        let mut out = Vec::new();
        for (file, mut splices) in self.splices {
            let f = &config.files[file];
            // Back to front; at one offset, later-added text goes after earlier-added text.
            splices.sort_by(|a, b| b.0.start.cmp(&a.0.start).then(b.2.cmp(&a.2)));
            let mut after = f.source.clone();
            let mut limit = usize::MAX;
            for (range, text, _) in splices {
                if range.end > limit {
                    return Err(NginxError::Other(format!(
                        "overlapping edits planned for {}",
                        f.real_path.display()
                    )));
                }
                limit = range.start;
                after.replace_range(range, &text);
            }
            if after != f.source {
                out.push(FileEdit {
                    path: f.real_path.clone(),
                    before: f.source.clone(),
                    after,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn dn(s: &str) -> DomainName {
        s.parse().unwrap()
    }

    pub(crate) fn cfg(src: &str) -> Config {
        Config::from_source(Path::new("/t/nginx.conf"), src).unwrap()
    }

    /// The text after `edits` (one file, planned from `src`).
    pub(crate) fn apply(src: &str, edits: &[FileEdit]) -> String {
        match edits {
            [] => src.to_string(),
            [e] => {
                assert_eq!(e.before, src);
                e.after.clone()
            }
            _ => panic!("expected one file"),
        }
    }

    const SITE: &str = "http {\n    server {\n        listen 80;\n        listen [::]:80;  # v6\n        server_name example.com www.example.com;\n        root /var/www;\n    }\n}\n";

    fn req() -> InstallRequest {
        InstallRequest {
            names: vec![dn("example.com")],
            fullchain: "/etc/certwright/live/example.com/fullchain.pem".into(),
            privkey: "/etc/certwright/live/example.com/privkey.pem".into(),
            http_port: 80,
            https_port: 443,
            redirect: true,
            hsts: true,
        }
    }

    #[test]
    fn install_adds_marked_lines_after_server_name_and_is_idempotent() {
        let out = apply(SITE, &plan_install(&cfg(SITE), &req()).unwrap());
        let expected = "http {\n    server {\n        listen 80;\n        listen [::]:80;  # v6\n        server_name example.com www.example.com;\n        listen 443 ssl; # managed by certwright\n        listen [::]:443 ssl; # managed by certwright\n        ssl_certificate /etc/certwright/live/example.com/fullchain.pem; # managed by certwright\n        ssl_certificate_key /etc/certwright/live/example.com/privkey.pem; # managed by certwright\n        add_header Strict-Transport-Security \"max-age=31536000\" always; # managed by certwright\n        if ($scheme != \"https\") { return 301 https://$host$request_uri; } # managed by certwright\n        root /var/www;\n    }\n}\n";
        assert_eq!(out, expected);
        assert!(plan_install(&cfg(&out), &req()).unwrap().is_empty());
        let paths = [req().fullchain, req().privkey];
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let undone = apply(&out, &plan_uninstall(&cfg(&out), &refs).unwrap());
        assert_eq!(undone, SITE);
    }

    #[test]
    fn install_replaces_foreign_certificate_and_uninstall_restores_it() {
        let src = "http {\n  server {\n    listen 443 ssl;\n    server_name example.com;\n    ssl_certificate /old/cert.pem; # mine\n    ssl_certificate_key /old/key.pem;\n  }\n}\n";
        let mut r = req();
        r.redirect = false;
        r.hsts = false;
        r.fullchain = "/etc/my certs/full\"chain.pem".into();
        let out = apply(src, &plan_install(&cfg(src), &r).unwrap());
        assert!(out.contains(
            "    ssl_certificate \"/etc/my certs/full\\\"chain.pem\"; # managed by certwright; was: ssl_certificate /old/cert.pem; # mine\n"
        ));
        assert!(!out.contains("listen 443 ssl; #"));
        assert!(plan_install(&cfg(&out), &r).unwrap().is_empty());
        let paths = [r.fullchain.as_path(), r.privkey.as_path()];
        let undone = apply(&out, &plan_uninstall(&cfg(&out), &paths).unwrap());
        assert_eq!(undone, src);
    }

    #[test]
    fn redirect_to_other_https_port_names_it() {
        let mut r = req();
        r.https_port = 8443;
        let out = apply(SITE, &plan_install(&cfg(SITE), &r).unwrap());
        assert!(out.contains("return 301 https://$host:8443$request_uri;"));
        assert!(out.contains("listen 8443 ssl;"));
    }

    #[test]
    fn install_refuses_control_characters_and_unknown_names() {
        let mut r = req();
        r.fullchain = "/a\nb".into();
        assert!(plan_install(&cfg(SITE), &r).is_err());
        let mut r = req();
        r.privkey = "/etc/cert$ssl_server_name/privkey.pem".into();
        let err = plan_install(&cfg(SITE), &r).unwrap_err().to_string();
        assert!(err.contains("read the `$` in it as a variable"), "{err}");
        let mut r = req();
        r.names = vec![dn("other.test")];
        match plan_install(&cfg(SITE), &r) {
            Err(NginxError::NoServerBlock { found, .. }) => {
                assert_eq!(found, "example.com, www.example.com")
            }
            other => panic!("{other:?}"),
        }
    }

    fn challenge(name: &str) -> Challenge {
        Challenge {
            name: dn(name),
            token: "tok-EN_1".into(),
            key_authorization: "tok-EN_1.thumb_print-2".into(),
        }
    }

    #[test]
    fn challenge_location_added_and_removed() {
        let edits = plan_challenges(&cfg(SITE), &[challenge("www.example.com")], 80).unwrap();
        let out = apply(SITE, &edits);
        assert!(out.contains("        location = /.well-known/acme-challenge/tok-EN_1 { default_type text/plain; return 200 \"tok-EN_1.thumb_print-2\"; } # managed by certwright\n        root"));
        assert!(
            plan_challenges(&cfg(&out), &[challenge("www.example.com")], 80)
                .unwrap()
                .is_empty()
        );
        let back = apply(&out, &plan_challenge_removal(&cfg(&out)).unwrap());
        assert_eq!(back, SITE);
    }

    #[test]
    fn challenge_for_unserved_name_gets_its_own_block() {
        let out = apply(
            SITE,
            &plan_challenges(&cfg(SITE), &[challenge("new.test")], 80).unwrap(),
        );
        assert!(out.ends_with("    } # managed by certwright\n}\n"), "{out}");
        let c = cfg(&out);
        let sel = c.select("new.test", 80);
        assert_eq!(sel[0].kind, MatchKind::Exact);
        let back = apply(&out, &plan_challenge_removal(&c).unwrap());
        assert_eq!(back, SITE);
    }

    #[test]
    fn challenge_behind_redirect_is_also_served_on_https() {
        let src = "http {\n  server {\n    listen 80;\n    server_name a.test;\n    return 301 https://$host$request_uri;\n  }\n  server {\n    listen 443 ssl;\n    server_name a.test;\n  }\n}\n";
        let out = apply(
            src,
            &plan_challenges(&cfg(src), &[challenge("a.test")], 80).unwrap(),
        );
        assert_eq!(
            out.matches("location = /.well-known/acme-challenge/tok-EN_1")
                .count(),
            2
        );
        assert_eq!(
            apply(&out, &plan_challenge_removal(&cfg(&out)).unwrap()),
            src
        );
    }

    #[test]
    fn challenge_inputs_are_validated() {
        let mut c = challenge("example.com");
        c.token = "a;b".into();
        assert!(plan_challenges(&cfg(SITE), &[c], 80).is_err());
        let mut c = challenge("example.com");
        c.key_authorization = "tok-EN_1.x\"; evil".into();
        assert!(plan_challenges(&cfg(SITE), &[c], 80).is_err());
    }

    #[test]
    fn a_users_line_is_never_split() {
        // One line: refused, naming the file and line.
        let src =
            "http {\n    server { listen 80; server_name a.test; location / { return 200; } }\n}\n";
        let err = plan_challenges(&cfg(src), &[challenge("a.test")], 80).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/t/nginx.conf:2: this `server` block is written on one line"),
            "{err}"
        );
        assert!(plan_install(&cfg(src), &req_for("a.test")).is_err());
        // Several directives on the user's lines: ours go in as whole lines between them.
        let src = "http {\n    server { listen 80; server_name a.test; location / {\n        return 200; } }\n}\n";
        assert!(plan_install(&cfg(src), &req_for("a.test")).is_err());
        let src = "http {\n    server { listen 80; server_name a.test;\n        location / { return 200; } }\n}\n";
        let out = apply(src, &plan_install(&cfg(src), &req_for("a.test")).unwrap());
        for line in src.lines() {
            assert!(out.lines().any(|l| l == line), "{line:?} changed:\n{out}");
        }
        assert!(plan_install(&cfg(&out), &req_for("a.test"))
            .unwrap()
            .is_empty());
        let src = "http {\n    server {\n        listen 80; server_name a.test; root /x; }\n}\n";
        let out = apply(src, &plan_install(&cfg(src), &req_for("a.test")).unwrap());
        assert!(
            out.starts_with(
                "http {\n    server {\n        listen 443 ssl; # managed by certwright\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("\n        listen 80; server_name a.test; root /x; }\n}\n"),
            "{out}"
        );
        // A one-line http block cannot take a new server block either.
        let src = "http { server { listen 80; server_name a.test; } }";
        assert!(plan_challenges(&cfg(src), &[challenge("new.test")], 80).is_err());
    }

    fn req_for(name: &str) -> InstallRequest {
        InstallRequest {
            names: vec![dn(name)],
            hsts: false,
            ..req()
        }
    }

    /// The lines `plan_install` adds for `name` to `src` (markers stripped).
    fn added(src: &str, name: &str) -> Vec<String> {
        let out = apply(src, &plan_install(&cfg(src), &req_for(name)).unwrap());
        assert!(plan_install(&cfg(&out), &req_for(name)).unwrap().is_empty());
        out.lines()
            .filter(|l| l.contains(MARKER))
            .map(|l| l.trim().trim_end_matches(MARKER).trim().to_string())
            .collect()
    }

    #[test]
    fn a_block_without_listen_keeps_answering_port_80() {
        let src = "http {\n    server {\n        server_name a.test;\n    }\n}\n";
        let lines = added(src, "a.test");
        assert_eq!(&lines[..2], ["listen 80;", "listen 443 ssl;"]);
        let out = apply(src, &plan_install(&cfg(src), &req_for("a.test")).unwrap());
        let c = cfg(&out);
        assert_eq!(c.select("a.test", 80)[0].kind, MatchKind::Exact);
        assert_eq!(c.select("a.test", 443)[0].kind, MatchKind::Exact);
    }

    #[test]
    fn each_port_80_address_is_mirrored_on_443() {
        let src = "http {\n    server {\n        listen 10.0.0.5:80;\n        listen [::1]:80 ipv6only=on;\n        server_name a.test;\n    }\n    server {\n        listen 10.0.0.5:443 ssl;\n        server_name other.test;\n    }\n}\n";
        let lines = added(src, "a.test");
        assert_eq!(
            &lines[..2],
            ["listen 10.0.0.5:443 ssl;", "listen [::1]:443 ssl;"]
        );
        let src = "http {\n    server {\n        listen *:80;\n        listen [::]:80;\n        server_name a.test;\n    }\n}\n";
        assert_eq!(
            &added(src, "a.test")[..2],
            ["listen 443 ssl;", "listen [::]:443 ssl;"]
        );
        // A block already on TLS at one address is not widened to every address.
        let src = "http {\n    server {\n        listen 10.0.0.5:443 ssl;\n        server_name a.test;\n    }\n}\n";
        assert_eq!(
            &added(src, "a.test")[..1],
            ["ssl_certificate /etc/certwright/live/example.com/fullchain.pem;"]
        );
    }

    #[test]
    fn a_unix_socket_block_is_never_patched() {
        let src = "http {\n    server {\n        listen unix:/run/a.sock;\n        server_name a.test;\n    }\n}\n";
        assert!(matches!(
            plan_install(&cfg(src), &req_for("a.test")),
            Err(NginxError::NoServerBlock { .. })
        ));
        let out = apply(
            src,
            &plan_challenges(&cfg(src), &[challenge("a.test")], 80).unwrap(),
        );
        assert!(
            out.contains("    } # managed by certwright\n}\n"),
            "a block of its own: {out}"
        );
        assert!(
            out.contains("        server_name a.test;\n    }\n"),
            "{out}"
        );
    }

    #[test]
    fn an_existing_https_redirect_is_kept_alone() {
        for redirect in [
            "return 301 https://$host:8443$request_uri;",
            "return https://a.test$request_uri;",
            "rewrite ^ https://$host$request_uri permanent;",
            "rewrite ^/(.*) https://a.test:8443/$1;",
            "if ($host = a.test) {\n            return 301 https://$host$request_uri;\n        }",
            "if ($host = \"a.test\" ) { return 308 https://$host$request_uri; }",
            "location / {\n            return 301 https://$host$request_uri;\n        }",
        ] {
            let src = format!("http {{\n    server {{\n        listen 80;\n        server_name a.test b.test;\n        {redirect}\n    }}\n    server {{\n        listen 443 ssl;\n        server_name a.test;\n    }}\n}}\n");
            let mut r = req_for("a.test");
            r.redirect = true;
            let out = apply(&src, &plan_install(&cfg(&src), &r).unwrap());
            assert!(
                !out.contains("if ($scheme"),
                "{redirect}: second redirect added:\n{out}"
            );
        }
        // certbot's per-name redirect covers only its name.
        let src = "http {\n    server {\n        listen 80;\n        server_name a.test b.test;\n        if ($host = a.test) { return 301 https://$host$request_uri; }\n    }\n}\n";
        let mut r = req_for("b.test");
        r.redirect = true;
        let out = apply(src, &plan_install(&cfg(src), &r).unwrap());
        assert!(out.contains("if ($scheme"), "{out}");
        // Not redirects: plain-http targets, other status codes, inner locations.
        for other in [
            "return 301 http://x$request_uri;",
            "return 200 \"https://\";",
            "location /a { return 301 https://x; }",
        ] {
            let src = format!("http {{\n    server {{\n        listen 80;\n        server_name a.test;\n        {other}\n    }}\n}}\n");
            let mut r = req_for("a.test");
            r.redirect = true;
            let out = apply(&src, &plan_install(&cfg(&src), &r).unwrap());
            assert!(out.contains("if ($scheme"), "{other}: {out}");
        }
    }

    #[test]
    fn diff_shows_added_lines() {
        let edits = plan_install(&cfg(SITE), &req()).unwrap();
        let d = unified_diff(&edits);
        assert!(d.starts_with("--- /t/nginx.conf\n+++ /t/nginx.conf\n"));
        assert!(d.contains("+        listen 443 ssl; # managed by certwright\n"));
    }
}
