//! The installer's planner: pure functions from a [`Config`] to text edits for TLS lines,
//! redirect and HSTS, and their removal; nothing is written here. Every line we add ends
//! with [`MARKER`](super::MARKER); removal finds our lines by that marker and by what they say.
//!
//! Redirect form: `if ($scheme != "https") { return 301 ...; }` inside the block rather than
//! certbot's later block split. It is one line we add and remove as a unit, it never moves
//! the user's `listen` lines, and it works whether or not the block also serves https.

use std::path::{Path, PathBuf};

use super::catch_all::{is_copy, plan_copies};
use super::edit::{chain_edits, Edits, FileEdit};
use super::parse::quote_word;
use super::recognize::{
    for_each_direct_child, has_child, is_challenge_location, is_challenge_proxy, is_marked,
    named_blocks, redirects_to_https, replaced_original,
};
use super::select::{for_each_in_server_at, ServerBlock};
use super::{Config, Directive};
use crate::error::NginxError;
use crate::types::DomainName;

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

/// Plan TLS for `req.names`: listen, certificate lines, and optionally redirect and HSTS.
/// Where nginx sends `name` today when no block names it (its `default_server`, or the first
/// block on the port), with the one-line fix, as certbot users expect to be told.
fn fallback_block(config: &Config, name: &str, port: u16) -> String {
    let selected = config.select(name, port);
    let Some(s) = selected.first() else {
        return String::new();
    };
    let file = &config.files[s.block.file].path;
    let names = if s.block.names.is_empty() {
        "none".to_string()
    } else {
        s.block.names.join(" ")
    };
    format!(
        ". On port {port} nginx answers {name} with the server block at {}:{} (server_name {names}): \
         add `server_name {name};` to the block meant to serve it (or give {name} a server block of \
         its own), run `nginx -t`, then install again",
        file.display(),
        s.block.directive.line
    )
}

/// Idempotent: planning again on the result yields no edits. A name only a catch-all
/// answers first gets a block of its own (see `catch_all`); the edits then hold both steps.
pub fn plan_install(config: &Config, req: &InstallRequest) -> Result<Vec<FileEdit>, NginxError> {
    let copies = plan_copies(config, &req.names, req.http_port, req.https_port)?;
    if copies.is_empty() {
        return plan_install_into(config, req);
    }
    let staged = config.with_edits(&copies)?;
    Ok(chain_edits(copies, plan_install_into(&staged, req)?))
}

/// In the blocks whose certificate is `fullchain`: an `include` or `ssl_dhparam` naming a
/// file of the same name as one of `snippets` elsewhere (certbot's
/// `/etc/letsencrypt/options-ssl-nginx.conf`, `ssl-dhparams.pem`) is pointed at the snippet
/// instead, the old line kept after the marker (uninstall puts it back).
pub fn plan_snippet_swap(
    config: &Config,
    fullchain: &Path,
    snippets: &[PathBuf],
) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for b in config.server_blocks() {
        let uses = config.ssl_certificates(&b);
        if !uses.iter().any(|c| Path::new(c) == fullchain) {
            continue;
        }
        let mut swaps = Vec::new();
        for_each_direct_child(b.directive, &mut |d| {
            if !matches!(d.name(), "include" | "ssl_dhparam") {
                return;
            }
            let Some(old) = d.arg(0).map(Path::new) else {
                return;
            };
            let ours = snippets
                .iter()
                .find(|s| s.file_name() == old.file_name() && s.as_path() != old);
            if let Some(ours) = ours {
                swaps.push((d, ours));
            }
        });
        for (d, ours) in swaps {
            let line = format!("{} {};", d.name(), path_word(ours)?);
            edits.replace_directive(config, b.file, d, &line);
        }
    }
    edits.finish(config)
}

fn plan_install_into(config: &Config, req: &InstallRequest) -> Result<Vec<FileEdit>, NginxError> {
    let fullchain = path_word(&req.fullchain)?;
    let privkey = path_word(&req.privkey)?;
    let mut edits = Edits::default();
    let mut done: Vec<(usize, usize)> = Vec::new();
    for (name, unit) in install_units(config, req)? {
        let ssl_blocks: Vec<ServerBlock<'_>> = named_blocks(config, &unit, req.https_port)
            .into_iter()
            .filter(|b| b.listens.iter().any(|l| l.port == req.https_port && l.ssl))
            .collect();
        let http_blocks = named_blocks(config, &unit, req.http_port);
        let targets = if ssl_blocks.is_empty() {
            http_blocks.clone()
        } else {
            ssl_blocks
        };
        if targets.is_empty() {
            return Err(NginxError::NoServerBlock {
                name: name.to_string(),
                found: config.server_names().join(", "),
                fallback: fallback_block(config, name.as_str(), req.http_port),
            });
        }
        for b in &targets {
            let key = (b.file, b.directive.span.start);
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            refuse_uncovered(config, b, &req.names)?;
            install_into(config, &mut edits, b, req, &fullchain, &privkey)?;
        }
        if req.redirect {
            for b in &http_blocks {
                let key = (b.file, b.directive.span.start + 1);
                if done.contains(&key) {
                    continue;
                }
                done.push(key);
                let has_redirect = has_child(config, b, |d| redirects_to_https(d, Some(&unit)));
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

/// Each requested name with the `server_name` values to install it for: itself, or for a
/// wildcard the names [`Config::wildcard_names`] finds (none is an error naming the fix).
fn install_units<'r>(
    config: &Config,
    req: &'r InstallRequest,
) -> Result<Vec<(&'r DomainName, String)>, NginxError> {
    let mut units = Vec::new();
    for name in &req.names {
        if !name.is_wildcard() {
            units.push((name, name.to_string()));
            continue;
        }
        let found = config.wildcard_names(name.as_str(), &[req.http_port, req.https_port]);
        if found.is_empty() {
            let zone = &name.as_str()[2..];
            return Err(NginxError::NoServerBlock {
                name: name.to_string(),
                found: config.server_names().join(", "),
                fallback: format!(
                    ". A wildcard certificate is installed into the blocks whose server_name \
                     is {name} or .{zone}, or a name one label under {zone}: add one of those \
                     to the blocks meant to use it, run `nginx -t`, then install again"
                ),
            });
        }
        units.extend(found.into_iter().map(|n| (name, n)));
    }
    Ok(units)
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

/// A block whose https would also answer host names the certificate does not cover is
/// refused, naming them: clients asking for them would get a certificate error (and, with
/// the redirect, could no longer use plain http either). Regex, wildcard and `_` names are
/// not host names to check.
fn refuse_uncovered(
    config: &Config,
    b: &ServerBlock<'_>,
    names: &[DomainName],
) -> Result<(), NginxError> {
    let uncovered: Vec<&str> = b
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| is_host_name(n) && !names.iter().any(|d| d.covers(n)))
        .collect();
    if uncovered.is_empty() {
        return Ok(());
    }
    Err(NginxError::UncoveredNames {
        at: format!(
            "{}:{}",
            config.files[b.file].path.display(),
            b.directive.line
        ),
        names: uncovered.join(", "),
        fix: String::new(),
    })
}

/// A `server_name` value that is one host name with a dot (not `_`, `localhost`, a regex, a
/// wildcard, `.zone` or an IP address).
pub fn is_host_name(n: &str) -> bool {
    n.contains('.')
        && !n.starts_with(['.', '~'])
        && !n.contains('*')
        && n.parse::<std::net::IpAddr>().is_err()
        && n.parse::<DomainName>().is_ok()
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
    plan_uninstall_where(config, cert_paths, |_| true)
}

/// After a name left the certificate (`run --cert-name X -d fewer`): uninstall from the
/// blocks that still use it but serve host names only, none of which it covers any more;
/// they would otherwise present a certificate for other names.
pub fn plan_uninstall_stale(
    config: &Config,
    cert_paths: &[&Path],
    names: &[DomainName],
) -> Result<Vec<FileEdit>, NginxError> {
    plan_uninstall_where(config, cert_paths, |b| {
        let hosts: Vec<&String> = b.names.iter().filter(|n| is_host_name(n)).collect();
        !hosts.is_empty()
            && hosts.len() == b.names.len()
            && !hosts.iter().any(|h| names.iter().any(|d| d.covers(h)))
    })
}

/// [`plan_uninstall`] of the blocks `pick` accepts.
fn plan_uninstall_where(
    config: &Config,
    cert_paths: &[&Path],
    pick: impl Fn(&ServerBlock<'_>) -> bool,
) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    let blocks = config.server_blocks();
    let mut names: Vec<String> = Vec::new();
    for b in blocks.iter().filter(|b| pick(b)) {
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
        if is_copy(src, b.directive) {
            // The block we copied from a catch-all for this certificate goes as a whole.
            edits.remove_line(config, b.file, b.directive);
            continue;
        }
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
        let src = &config.files[b.file].source;
        if !b.names.iter().any(|n| names.contains(n)) || is_copy(src, b.directive) {
            continue;
        }
        for_each_direct_child(b.directive, &mut |d| {
            if d.name() == "if" && d.arg(0) == Some("($scheme") && is_marked(src, d) {
                edits.remove_line(config, b.file, d);
            }
        });
    }
    edits.finish(config)
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::nginx::recognize::MARKER;
    use crate::nginx::select::MatchKind;
    use crate::nginx::{plan_challenge_removal, plan_challenges, unified_diff, Challenge};

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
            names: vec![dn("example.com"), dn("www.example.com")],
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
        let mut r = req_for("example.com");
        r.redirect = false;
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
    fn a_wildcard_is_installed_where_its_names_are_served_and_nowhere_else() {
        let block = |listen: &str, names: &str| {
            format!("server {{\n    listen {listen};\n    server_name {names};\n}}\n")
        };
        let src = format!(
            "http {{\n{}{}{}{}{}{}{}}}\n",
            block("80 default_server", "_"),
            block("80", "example.com"),
            block("80", "*.example.com"),
            block("80", "api.example.com"),
            block("443 ssl", "www.example.com"),
            block("80", "www.example.com"),
            block("80", "a.b.example.com other.test"),
        );
        let mut r = req_for("*.example.com");
        r.names.push(dn("example.com"));
        let out = apply(&src, &plan_install(&cfg(&src), &r).unwrap());
        let after = cfg(&out);
        let ours = r.fullchain.display().to_string();
        let installed: Vec<String> = after
            .server_blocks()
            .iter()
            .filter(|b| after.ssl_certificates(b).contains(&ours))
            .map(|b| b.names.join(" "))
            .collect();
        // www's port-80 block is not: its HTTPS block serves www on the TLS port.
        assert_eq!(
            installed,
            [
                "example.com",
                "*.example.com",
                "api.example.com",
                "www.example.com"
            ],
            "{out}"
        );
        for untouched in [
            block("80 default_server", "_"),
            block("80", "a.b.example.com other.test"),
        ] {
            assert!(out.contains(&untouched), "{out}");
        }
        assert!(plan_install(&after, &r).unwrap().is_empty());

        let none = "http {\nserver {\n listen 80 default_server;\n server_name other.test;\n}\n}\n";
        let err = plan_install(&cfg(none), &req_for("*.example.com")).unwrap_err();
        assert!(err.to_string().contains("or .example.com"), "{err}");
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
        r.names.push(dn("a.test"));
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
    fn a_block_serving_names_the_certificate_does_not_cover_is_refused() {
        match plan_install(&cfg(SITE), &req_for("example.com")) {
            Err(NginxError::UncoveredNames { names, .. }) => assert_eq!(names, "www.example.com"),
            other => panic!("{other:?}"),
        }
        // `_`, localhost, regexes, wildcards and addresses are not host names to cover.
        let src = "http {\n    server {\n        listen 80;\n        server_name a.test _ localhost ~^x\\.test$ *.b.test .c.test 10.0.0.1;\n    }\n}\n";
        assert!(plan_install(&cfg(src), &req_for("a.test")).is_ok());
    }

    #[test]
    fn a_challenge_block_listens_on_every_address_of_the_port() {
        let src = "http {\n    server {\n        listen 10.0.0.5:80 default_server;\n        listen [::]:80;\n        server_name _;\n    }\n}\n";
        let edits = plan_challenges(&cfg(src), &[challenge("new.test")], 80).unwrap();
        let out = apply(src, &edits);
        assert!(
            out.contains("    listen 10.0.0.5:80; # managed by certwright\n"),
            "{out}"
        );
        assert!(
            out.contains("    listen [::]:80; # managed by certwright\n"),
            "{out}"
        );
        let c = cfg(&out);
        let selected = c.select("new.test", 80);
        assert_eq!(selected.len(), 1, "one block on both addresses");
        assert_eq!(selected[0].kind, MatchKind::Exact);
        assert_eq!(apply(&out, &plan_challenge_removal(&c).unwrap()), src);
    }

    #[test]
    fn certbots_shared_tls_snippets_are_swapped_for_ours_and_back() {
        let src = "http {\n    server {\n        listen 443 ssl;\n        server_name a.test;\n        ssl_certificate /c/full.pem;\n        include /etc/letsencrypt/options-ssl-nginx.conf; # managed by Certbot\n        ssl_dhparam /etc/letsencrypt/ssl-dhparams.pem; # managed by Certbot\n        include /etc/nginx/other.conf;\n    }\n    server {\n        listen 443 ssl;\n        server_name b.test;\n        include /etc/letsencrypt/options-ssl-nginx.conf;\n    }\n}\n";
        let ours: Vec<PathBuf> = ["/w/options-ssl-nginx.conf", "/w/ssl-dhparams.pem"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let edits = plan_snippet_swap(&cfg(src), Path::new("/c/full.pem"), &ours).unwrap();
        let out = apply(src, &edits);
        assert!(out.contains("        include /w/options-ssl-nginx.conf; # managed by certwright; was: include /etc/letsencrypt/options-ssl-nginx.conf; # managed by Certbot\n"), "{out}");
        assert!(out.contains("        ssl_dhparam /w/ssl-dhparams.pem; # managed by certwright; was: ssl_dhparam /etc/letsencrypt/ssl-dhparams.pem; # managed by Certbot\n"), "{out}");
        assert!(out.contains("include /etc/nginx/other.conf;\n"), "{out}");
        // b.test's block does not use this certificate: left alone.
        assert_eq!(
            out.matches("include /etc/letsencrypt/options-ssl-nginx.conf;\n")
                .count(),
            1
        );
        let c = cfg(&out);
        assert!(plan_snippet_swap(&c, Path::new("/c/full.pem"), &ours)
            .unwrap()
            .is_empty());
        // Uninstall (here of a certificate line we added) puts certbot's lines back.
        let ours_too = out.replace(
            "ssl_certificate /c/full.pem;\n",
            "ssl_certificate /c/full.pem; # managed by certwright\n",
        );
        let paths = [Path::new("/c/full.pem")];
        let undone = apply(&ours_too, &plan_uninstall(&cfg(&ours_too), &paths).unwrap());
        assert_eq!(
            undone,
            src.replace("        ssl_certificate /c/full.pem;\n", "")
        );
    }

    #[test]
    fn blocks_of_removed_names_give_the_certificate_up() {
        let block = |names: &str| {
            format!("    server {{\n        listen 80;\n        server_name {names};\n    }}\n")
        };
        let src = format!(
            "http {{\n{}{}{}}}\n",
            block("a.test"),
            block("b.test"),
            block("*.w.test")
        );
        let mut r = req_for("a.test");
        r.names.push(dn("b.test"));
        r.names.push(dn("*.w.test"));
        let out = apply(&src, &plan_install(&cfg(&src), &r).unwrap());
        let paths = [r.fullchain.as_path(), r.privkey.as_path()];
        let left = [dn("a.test"), dn("*.w.test")];
        let after = apply(
            &out,
            &plan_uninstall_stale(&cfg(&out), &paths, &left).unwrap(),
        );
        assert_eq!(after.matches("ssl_certificate ").count(), 2, "{after}");
        assert!(after.contains(&block("b.test")), "{after}");
    }

    #[test]
    fn diff_shows_added_lines() {
        let edits = plan_install(&cfg(SITE), &req()).unwrap();
        let d = unified_diff(&edits);
        assert!(d.starts_with("--- /t/nginx.conf\n+++ /t/nginx.conf\n"));
        assert!(d.contains("+        listen 443 ssl; # managed by certwright\n"));
    }
}
