//! Text edits: byte splices into a file's text at spans the parser recorded, applied back
//! to front, so every byte not meant to change (comments, layout) stays; and the unified
//! diff of planned edits. Lines go in whole: a line the user wrote is never split or moved.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use super::recognize::{is_marked, replaced_original, rest_of_line, MARKER};
use super::select::ServerBlock;
use super::{Config, Directive, Node};
use crate::error::NginxError;

/// The planned new contents of one file. `path` is the real file (symlinks resolved).
/// `before` and `after` are text as [`decode`](super::decode) makes it: write
/// [`encode`](super::encode)`(&after)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
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

/// `second`, planned on the config `first` leads to, as edits from the original files: one
/// edit per file, from its original text to its final text.
pub fn chain_edits(first: Vec<FileEdit>, second: Vec<FileEdit>) -> Vec<FileEdit> {
    let mut out = second;
    for edit in first {
        match out.iter_mut().find(|e| e.path == edit.path) {
            Some(e) => e.before = edit.before,
            None => out.push(edit),
        }
    }
    out
}

/// Byte range of the line(s) holding `d`: from the line start to after the newline.
fn line_range(src: &str, d: &Directive) -> Range<usize> {
    let start = src[..d.span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = src[d.span.end..]
        .find('\n')
        .map_or(src.len(), |i| d.span.end + i + 1);
    start..end
}

/// Whether only whitespace precedes `offset` on its line.
pub(super) fn own_line(src: &str, offset: usize) -> bool {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    src[start..offset].trim().is_empty()
}

/// Indentation (leading whitespace) of the line `offset` is on.
pub(super) fn indent_at(src: &str, offset: usize) -> &str {
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
    pub(super) fn add_to_http(&mut self, config: &Config, block: &str) -> Result<(), NginxError> {
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

    /// Add whole `lines` (already marked) on the lines after block `d`'s closing line,
    /// indented like `d`.
    pub(super) fn add_after_block(
        &mut self,
        config: &Config,
        file: usize,
        d: &Directive,
        lines: &[String],
    ) -> Result<(), NginxError> {
        let src = &config.files[file].source;
        let end = line_range(src, d).end;
        let rest = rest_of_line(src, d).trim();
        if !own_line(src, d.span.start) || !(rest.is_empty() || rest.starts_with('#')) {
            // Something else shares the block's first or last line: never split it.
            return Err(one_line_block(config, file, d));
        }
        let indent = indent_at(src, d.span.start);
        // A file without a final newline gets one before our lines.
        let mut text = match src[..end].ends_with('\n') {
            true => String::new(),
            false => "\n".to_string(),
        };
        text.extend(lines.iter().map(|l| format!("{indent}{l}\n")));
        self.splice(file, end..end, text);
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
    pub(super) fn replace_directive(
        &mut self,
        config: &Config,
        file: usize,
        d: &Directive,
        new: &str,
    ) {
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
    pub(super) fn replace_line(
        &mut self,
        config: &Config,
        file: usize,
        d: &Directive,
        original: &str,
    ) {
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
