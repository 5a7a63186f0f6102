//! Lossless nginx config parser, server-block selection, patcher, `nginx -t` / reload / rollback.
//!
//! Public API (everything else is internal):
//!
//! - [`load`]`(main_conf) -> Config`: the main file and every `include`, losslessly parsed.
//!   [`Config::files`] keeps each file's link path and real path; edits go to the real path.
//! - [`Config::select`]`(name, port) -> Vec<Selected>`: the server blocks nginx would pick.
//!   [`Config::server_names`] lists every `server_name` value for error messages.
//! - Planning (pure, writes nothing) returns `Vec<`[`FileEdit`]`>`:
//!   [`plan_challenges`] / [`plan_challenge_removal`] (HTTP-01 locations),
//!   [`plan_install`] / [`plan_uninstall`] (TLS lines, redirect, HSTS),
//!   [`plan_challenge_proxy`] / [`plan_challenge_proxy_removal`] (fleet mode: the permanent
//!   location passing every challenge probe to the local daemon's responder).
//!   [`plan_snippet_swap`] (certbot's shared TLS snippets for certwright's copies).
//!   [`Config::references`] finds directives naming given files; [`unified_diff`] renders edits;
//!   [`Config::with_edits`] and [`chain_edits`] let one plan build on another.
//! - [`Ctl`]: `nginx -t`, reload, is-running. [`apply`] writes edits as a checkpointed
//!   transaction (test before, back up, write, test after, restore on failure);
//!   [`rollback`] undoes the last checkpoints, refusing files changed since we wrote them.
//!
//! Every line certwright adds ends with [`MARKER`], which is how removal finds it again.
//!
//! Files: `parse` (tokenizer, lossless tree, byte-preserving decode/encode), `select`
//! (listens, server-name matching), `recognize` (certwright's own lines, existing redirects,
//! blocks serving a name), `edit` (splices, line placement, diffs), the planners `patch`
//! (installer, which gives a name only a catch-all answers a block of its own through
//! `catch_all`), `authenticator` (HTTP-01 locations) and `proxy` (fleet challenge proxy),
//! `checkpoint` (apply / rollback / recovery), `ctl` (the nginx binary). Arrows point from
//! planners to `recognize`/`edit`/`select`, never between planners.

mod answer;
mod authenticator;
mod catch_all;
mod checkpoint;
mod ctl;
mod edit;
mod parse;
mod patch;
mod proxy;
mod recognize;
mod select;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::NginxError;

pub use answer::{Answering, Place};
pub use authenticator::{challenge_probe_ip, plan_challenge_removal, plan_challenges, Challenge};
pub use checkpoint::{apply, interrupted_pending, recover, rollback, Checkpoint, RollbackReport};
pub use ctl::{accepting_workers, master_children, running_master_configs, Ctl};
pub use edit::{chain_edits, unified_diff, FileEdit};
pub use parse::{decode, encode, print, Body, ConfFile, Directive, Node, Word};
pub use patch::{
    is_host_name, plan_install, plan_snippet_swap, plan_uninstall, plan_uninstall_stale,
    InstallRequest,
};
pub use proxy::{
    plan_challenge_proxy, plan_challenge_proxy_removal, ChallengeProxyPlan, UserChallengeLocation,
};
pub use recognize::MARKER;
pub use select::{Listen, MatchKind, Selected, ServerBlock};

/// nginx includes nest; a deeper chain is certainly a cycle or a mistake.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Largest config file read (and checkpoint backup); real ones are kilobytes.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A loaded configuration tree: the main file first, then included files in load order.
#[derive(Debug, Clone)]
pub struct Config {
    /// The main config file as given (what `nginx -c` receives).
    pub main: PathBuf,
    /// nginx resolves relative `include` paths against the main file's directory.
    pub prefix: PathBuf,
    pub files: Vec<ConfFile>,
    /// `(file index, byte offset of an include directive)` -> included file indices, sorted.
    includes: HashMap<(usize, usize), Vec<usize>>,
    /// Real path -> file index: a glob over many files must not scan `files` per include.
    by_path: HashMap<PathBuf, usize>,
}

/// Read and parse `main_conf` and everything it includes.
pub fn load(main_conf: &Path) -> Result<Config, NginxError> {
    let prefix = main_conf
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut config = Config {
        main: main_conf.to_path_buf(),
        prefix,
        files: Vec::new(),
        includes: HashMap::new(),
        by_path: HashMap::new(),
    };
    let mut stack = Vec::new();
    config.load_file(main_conf, &mut stack)?;
    Ok(config)
}

impl Config {
    /// Build a config from in-memory text (tests, benchmarks); includes are not followed.
    pub fn from_source(path: &Path, source: &str) -> Result<Config, NginxError> {
        let nodes = parse::parse(path, source)?;
        Ok(Config {
            main: path.to_path_buf(),
            prefix: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            files: vec![ConfFile {
                path: path.to_path_buf(),
                real_path: path.to_path_buf(),
                source: source.to_string(),
                nodes,
            }],
            includes: HashMap::new(),
            by_path: HashMap::new(),
        })
    }

    fn load_file(&mut self, path: &Path, stack: &mut Vec<PathBuf>) -> Result<usize, NginxError> {
        let real_path = fs::canonicalize(path).map_err(|source| NginxError::Io {
            action: "open",
            path: path.to_path_buf(),
            source,
        })?;
        if stack.contains(&real_path) || stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(NginxError::Parse {
                file: path.to_path_buf(),
                line: 0,
                message: "include cycle or includes nested too deeply".into(),
            });
        }
        if let Some(&i) = self.by_path.get(&real_path) {
            return Ok(i);
        }
        let bytes = read_capped(path)?;
        let source = parse::decode(path, &bytes)?;
        let nodes = parse::parse(path, &source)?;
        let index = self.files.len();
        self.by_path.insert(real_path.clone(), index);
        let mut includes = Vec::new();
        collect_includes(&nodes, &mut includes);
        self.files.push(ConfFile {
            path: path.to_path_buf(),
            real_path: real_path.clone(),
            source,
            nodes,
        });
        stack.push(real_path);
        for (offset, line, pattern) in includes {
            let targets = self.resolve_include(path, line, &pattern)?;
            let mut indices = Vec::new();
            for target in targets {
                indices.push(self.load_file(&target, stack)?);
            }
            self.includes.insert((index, offset), indices);
        }
        stack.pop();
        Ok(index)
    }

    /// Paths an `include` argument names: relative to the prefix, globs sorted bytewise as
    /// glob(3) does in nginx's C locale, dotfiles skipped as glob(3) skips them; a glob
    /// matching nothing is fine, a missing file not.
    fn resolve_include(
        &self,
        file: &Path,
        line: usize,
        pattern: &str,
    ) -> Result<Vec<PathBuf>, NginxError> {
        let full = self.prefix.join(pattern);
        if !pattern.contains(['*', '?', '[']) {
            return Ok(vec![full]);
        }
        let bad = |message: String| NginxError::Parse {
            file: file.to_path_buf(),
            line,
            message,
        };
        let mut paths: Vec<PathBuf> = glob_like_nginx(&full)
            .map_err(|e| bad(format!("bad include pattern {pattern:?}: {e}")))?
            .into_iter()
            .filter(|p| !p.is_dir())
            .collect();
        paths.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        Ok(paths)
    }

    /// Visit every directive in nginx's reading order, descending into blocks and includes.
    /// `f` gets the file index, the names of enclosing blocks, and the directive.
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(usize, &[&'a str], &'a Directive)) {
        let mut ctx = Vec::new();
        if !self.files.is_empty() {
            self.visit_nodes(0, &self.files[0].nodes, &mut ctx, f, 0);
        }
    }

    fn visit_nodes<'a>(
        &'a self,
        file: usize,
        nodes: &'a [Node],
        ctx: &mut Vec<&'a str>,
        f: &mut dyn FnMut(usize, &[&'a str], &'a Directive),
        depth: usize,
    ) {
        for node in nodes {
            let Node::Directive(d) = node else { continue };
            f(file, ctx, d);
            if d.name() == "include" && depth < MAX_INCLUDE_DEPTH {
                if let Some(targets) = self.includes.get(&(file, d.span.start)) {
                    for &t in targets {
                        self.visit_nodes(t, &self.files[t].nodes, ctx, f, depth + 1);
                    }
                }
            }
            if let Body::Block(children) = &d.body {
                ctx.push(d.name());
                self.visit_nodes(file, children, ctx, f, depth);
                ctx.pop();
            }
        }
    }

    /// Print every file back; byte-identical to what was read.
    pub fn print_file(&self, index: usize) -> String {
        print(&self.files[index].nodes)
    }

    /// This config as it would be after `edits` (planned from it): the edited files parsed
    /// again and their includes resolved again, so a planner can build on an earlier one.
    pub fn with_edits(&self, edits: &[FileEdit]) -> Result<Config, NginxError> {
        let mut next = self.clone();
        for edit in edits {
            let Some(i) = next.files.iter().position(|f| f.real_path == edit.path) else {
                continue;
            };
            let path = next.files[i].path.clone();
            next.files[i].nodes = parse::parse(&path, &edit.after)?;
            next.files[i].source = edit.after.clone();
            next.includes.retain(|(file, _), _| *file != i);
            // A config built from text (tests) follows no includes.
            if next.by_path.is_empty() {
                continue;
            }
            let mut includes = Vec::new();
            collect_includes(&next.files[i].nodes, &mut includes);
            let mut stack = vec![next.files[i].real_path.clone()];
            for (offset, line, pattern) in includes {
                let mut indices = Vec::new();
                for target in next.resolve_include(&path, line, &pattern)? {
                    indices.push(next.load_file(&target, &mut stack)?);
                }
                next.includes.insert((i, offset), indices);
            }
        }
        Ok(next)
    }

    /// Directives whose arguments name any of `paths`: (real file, line, directive text).
    pub fn references(&self, paths: &[&Path]) -> Vec<(PathBuf, usize, String)> {
        let mut found = Vec::new();
        self.visit(&mut |file, _, d| {
            let hit = d.args().any(|a| paths.iter().any(|p| Path::new(a) == *p));
            if hit {
                let f = &self.files[file];
                let text = match d.body {
                    Body::Simple => f.source[d.span.clone()].to_string(),
                    _ => d
                        .words
                        .iter()
                        .map(|w| w.raw.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                found.push((f.real_path.clone(), d.line, text));
            }
        });
        found
    }
}

/// A config file's bytes, refusing one larger than [`MAX_CONFIG_BYTES`] before reading it all.
fn read_capped(path: &Path) -> Result<Vec<u8>, NginxError> {
    use std::io::Read;
    let io = |source| NginxError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    fs::File::open(path)
        .map_err(io)?
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(NginxError::Parse {
            file: path.to_path_buf(),
            line: 0,
            message: format!("larger than {MAX_CONFIG_BYTES} bytes; not read"),
        });
    }
    Ok(bytes)
}

/// The paths glob(3) gives nginx for `pattern` (no GLOB_PERIOD: a leading dot in a name
/// must be matched by a literal dot), unsorted. The `glob` crate drops every dotfile when
/// asked for that rule (and panics on a non-UTF-8 name), so directories are walked here.
fn glob_like_nginx(pattern: &Path) -> Result<Vec<PathBuf>, glob::PatternError> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut found = vec![PathBuf::new()];
    for part in pattern.components() {
        let part = part.as_os_str();
        let text = part.to_string_lossy();
        if !text.contains(['*', '?', '[']) {
            found.iter_mut().for_each(|p| p.push(part));
            found.retain(|p| p.symlink_metadata().is_ok());
            continue;
        }
        let matcher = glob::Pattern::new(&text)?;
        let mut next = Vec::new();
        for dir in &found {
            let list = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let Ok(entries) = fs::read_dir(list) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if matcher.matches_with(&name.to_string_lossy(), options) {
                    next.push(dir.join(name));
                }
            }
        }
        found = next;
    }
    Ok(found)
}

/// `(offset, line, argument)` of every `include` in `nodes`, at any depth.
fn collect_includes(nodes: &[Node], out: &mut Vec<(usize, usize, String)>) {
    for node in nodes {
        let Node::Directive(d) = node else { continue };
        if d.name() == "include" {
            if let Some(arg) = d.arg(0) {
                out.push((d.span.start, d.line, arg.to_string()));
            }
        }
        collect_includes(d.children(), out);
    }
}

#[cfg(test)]
mod tests;
