//! Lossless tokenizer and tree for one nginx config file.
//!
//! Token rules follow nginx's `ngx_conf_read_token` (src/core/ngx_conf_file.c): a word ends
//! at whitespace, `;` or `{` (not at `}`), `#` starts a comment only where a token could
//! start, `\` escapes the next byte, quotes open only at the start of a token and must be
//! followed by whitespace, `;`, `{` or `)`, and `${` does not open a block. Everything that
//! is not a token (whitespace, comments) is kept as trivia so that printing is lossless.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::NginxError;

/// Blocks nested deeper than this are refused: nothing real comes close, and recursion on
/// a hostile file must end in an error, not a stack overflow.
pub(super) const MAX_BLOCK_DEPTH: usize = 64;

/// One word of a directive: the raw bytes as written and the value nginx sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Exactly as in the file, quotes and escapes included.
    pub raw: String,
    /// Unquoted, with nginx's escapes (`\"`, `\'`, `\\`, `\t`, `\r`, `\n`) resolved.
    pub value: String,
    /// Byte range of `raw` in the file.
    pub span: Range<usize>,
}

/// How a directive ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `;`
    Simple,
    /// `{ children }`; `inner` nodes include trailing trivia before the `}`.
    Block(Vec<Node>),
    /// `*_by_lua_block { ... }`: Lua source kept verbatim, without the outer braces.
    Raw(String),
}

/// A directive with its words, the trivia between them, and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Name first, then arguments.
    pub words: Vec<Word>,
    /// `gaps[i]` is the trivia after `words[i]` (the last one sits before `;`/`{`).
    pub gaps: Vec<String>,
    pub body: Body,
    /// 1-based line of the directive name.
    pub line: usize,
    /// From the first byte of the name to the terminating `;` or `}` inclusive.
    pub span: Range<usize>,
    /// For a block: the byte offset just after `{` and of the closing `}`.
    pub block_span: Option<Range<usize>>,
}

impl Directive {
    pub fn name(&self) -> &str {
        &self.words[0].value
    }

    /// Argument values (unquoted), without the name.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.words[1..].iter().map(|w| w.value.as_str())
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i + 1).map(|w| w.value.as_str())
    }

    /// Block children, empty for simple and raw directives.
    pub fn children(&self) -> &[Node] {
        match &self.body {
            Body::Block(nodes) => nodes,
            _ => &[],
        }
    }
}

/// A file is a sequence of trivia and directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Whitespace and comments, verbatim.
    Trivia(String),
    Directive(Directive),
}

/// First of the chars that stand for one byte each of a file that is not UTF-8 (a Latin-1
/// comment): U+10FF80..=U+10FFFF, private use, never in a real config (refused if seen).
/// They are never special to the tokenizer, just as the bytes are not to nginx.
const BYTE_ESCAPE: u32 = 0x10FF00;

fn is_byte_escape(c: char) -> bool {
    (BYTE_ESCAPE + 0x80..=BYTE_ESCAPE + 0xFF).contains(&u32::from(c))
}

/// A file's bytes as text, losslessly: bytes that are not UTF-8 become one escape char
/// each, which [`encode`] turns back into the same bytes.
pub fn decode(file: &Path, bytes: &[u8]) -> Result<String, NginxError> {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        if let Some(at) = chunk.valid().find(is_byte_escape) {
            return Err(NginxError::Parse {
                file: file.to_path_buf(),
                line: 1 + out.matches('\n').count() + chunk.valid()[..at].matches('\n').count(),
                message: "contains a character from U+10FF80..U+10FFFF (private use), which \
                          certwright reserves for bytes that are not UTF-8"
                    .into(),
            });
        }
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            // b >= 0x80 here, so the sum is at most U+10FFFF, a valid char.
            out.push(
                char::from_u32(BYTE_ESCAPE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER),
            );
        }
    }
    Ok(out)
}

/// The bytes of a text made by [`decode`] (plus certwright's UTF-8 additions).
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if is_byte_escape(c) {
            // In range: the difference is 0x80..=0xFF.
            out.push((u32::from(c) - BYTE_ESCAPE) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// Parse `source` (the contents of `file`, used for error messages).
pub(super) fn parse(file: &Path, source: &str) -> Result<Vec<Node>, NginxError> {
    let mut p = Parser {
        file,
        src: source.as_bytes(),
        text: source,
        pos: 0,
        line: 1,
    };
    let (nodes, end) = p.nodes(0)?;
    match end {
        End::Eof => Ok(nodes),
        End::Close => Err(p.error(p.line, "unexpected \"}\"")),
    }
}

/// Print nodes back to text; `print(parse(x)) == x` for every accepted `x`.
pub fn print(nodes: &[Node]) -> String {
    let mut out = String::new();
    print_into(nodes, &mut out);
    out
}

fn print_into(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Trivia(t) => out.push_str(t),
            Node::Directive(d) => {
                for (w, gap) in d.words.iter().zip(&d.gaps) {
                    out.push_str(&w.raw);
                    out.push_str(gap);
                }
                match &d.body {
                    Body::Simple => out.push(';'),
                    Body::Block(children) => {
                        out.push('{');
                        print_into(children, out);
                        out.push('}');
                    }
                    Body::Raw(raw) => {
                        out.push('{');
                        out.push_str(raw);
                        out.push('}');
                    }
                }
            }
        }
    }
}

enum End {
    Eof,
    Close,
}

struct Parser<'a> {
    file: &'a Path,
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl Parser<'_> {
    fn error(&self, line: usize, message: impl Into<String>) -> NginxError {
        NginxError::Parse {
            file: self.file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    /// Whitespace and `#` comments up to the next token; always on char boundaries
    /// because it stops only before ASCII bytes or at end of input.
    fn trivia(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.bump();
            } else if b == b'#' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        self.text[start..self.pos].to_string()
    }

    /// Nodes until end of input (depth 0) or a `}` (depth > 0).
    fn nodes(&mut self, depth: usize) -> Result<(Vec<Node>, End), NginxError> {
        let mut nodes = Vec::new();
        loop {
            let t = self.trivia();
            if !t.is_empty() {
                nodes.push(Node::Trivia(t));
            }
            match self.peek() {
                None => {
                    if depth > 0 {
                        return Err(
                            self.error(self.line, "unexpected end of file, expecting \"}\"")
                        );
                    }
                    return Ok((nodes, End::Eof));
                }
                Some(b'}') => {
                    if depth == 0 {
                        return Err(self.error(self.line, "unexpected \"}\""));
                    }
                    self.bump();
                    return Ok((nodes, End::Close));
                }
                Some(b';') | Some(b'{') => {
                    let c = self.peek().map(char::from).unwrap_or(' ');
                    return Err(self.error(self.line, format!("unexpected \"{c}\"")));
                }
                Some(_) => nodes.push(Node::Directive(self.directive(depth)?)),
            }
        }
    }

    fn directive(&mut self, depth: usize) -> Result<Directive, NginxError> {
        let start = self.pos;
        let line = self.line;
        let mut words = Vec::new();
        let mut gaps = Vec::new();
        loop {
            let (word, need_space) = self.word()?;
            words.push(word);
            // A quoted word must be followed by a separator; `)` starts a new word.
            if need_space {
                if let Some(c) = self.peek() {
                    if !(is_space(c) || matches!(c, b';' | b'{' | b')')) {
                        return Err(
                            self.error(self.line, format!("unexpected \"{}\"", char::from(c)))
                        );
                    }
                }
            }
            gaps.push(self.trivia());
            match self.peek() {
                None => {
                    return Err(self.error(
                        self.line,
                        "unexpected end of file, expecting \";\" or \"}\"",
                    ))
                }
                Some(b';') => {
                    self.bump();
                    return Ok(Directive {
                        words,
                        gaps,
                        body: Body::Simple,
                        line,
                        span: start..self.pos,
                        block_span: None,
                    });
                }
                Some(b'{') => {
                    self.bump();
                    let inner_start = self.pos;
                    let is_lua = words[0].value.ends_with("_by_lua_block");
                    let body = if is_lua {
                        Body::Raw(self.lua_body(line)?)
                    } else {
                        if depth + 1 > MAX_BLOCK_DEPTH {
                            return Err(self.error(
                                line,
                                format!("blocks nested more than {MAX_BLOCK_DEPTH} deep"),
                            ));
                        }
                        let (children, _) = self.nodes(depth + 1)?;
                        Body::Block(children)
                    };
                    let close = self.pos - 1;
                    return Ok(Directive {
                        words,
                        gaps,
                        body,
                        line,
                        span: start..self.pos,
                        block_span: Some(inner_start..close),
                    });
                }
                Some(b'}') => return Err(self.error(self.line, "unexpected \"}\"")),
                Some(_) => {}
            }
        }
    }

    /// One word starting at `self.pos`; returns whether it was quoted (needs a separator).
    fn word(&mut self) -> Result<(Word, bool), NginxError> {
        let start = self.pos;
        let start_line = self.line;
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => {
                self.bump();
                Some(q)
            }
            _ => None,
        };
        let mut escaped = false;
        let mut variable = false;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(
                    start_line,
                    "unexpected end of file, expecting \";\" or \"}\"",
                ));
            };
            if escaped {
                escaped = false;
                self.bump();
                continue;
            }
            if b == b'{' && variable {
                self.bump();
                continue;
            }
            variable = false;
            match (quote, b) {
                (_, b'\\') => escaped = true,
                (_, b'$') => variable = true,
                (Some(q), c) if c == q => {
                    self.bump();
                    break;
                }
                (Some(_), _) => {}
                (None, c) if is_space(c) || c == b';' || c == b'{' => break,
                (None, _) => {}
            }
            self.bump();
        }
        let raw = &self.text[start..self.pos];
        let inner = match quote {
            Some(_) => &raw[1..raw.len() - 1],
            None => raw,
        };
        Ok((
            Word {
                raw: raw.to_string(),
                value: unescape(inner),
                span: start..self.pos,
            },
            quote.is_some(),
        ))
    }

    /// Lua source up to the matching `}`; braces inside Lua strings and comments don't count.
    fn lua_body(&mut self, line: usize) -> Result<String, NginxError> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(line, "unexpected end of file in Lua block"));
            };
            match b {
                b'{' => depth += 1,
                b'}' => {
                    if depth == 0 {
                        let body = self.text[start..self.pos].to_string();
                        self.bump();
                        return Ok(body);
                    }
                    depth -= 1;
                }
                b'"' | b'\'' => {
                    self.bump();
                    while let Some(c) = self.bump() {
                        if c == b'\\' {
                            self.bump();
                        } else if c == b || c == b'\n' {
                            break;
                        }
                    }
                    continue;
                }
                b'[' => {
                    if let Some(level) = self.long_bracket_level() {
                        self.skip_long_bracket(level, line)?;
                        continue;
                    }
                }
                b'-' if self.src.get(self.pos + 1) == Some(&b'-') => {
                    self.bump();
                    self.bump();
                    if let Some(level) = self.long_bracket_level() {
                        self.skip_long_bracket(level, line)?;
                    } else {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.bump();
                        }
                    }
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// At `[`: the level of a Lua long bracket `[==[`, if this is one.
    fn long_bracket_level(&self) -> Option<usize> {
        let rest = &self.src[self.pos..];
        if rest.first() != Some(&b'[') {
            return None;
        }
        let eq = rest[1..].iter().take_while(|&&c| c == b'=').count();
        (rest.get(1 + eq) == Some(&b'[')).then_some(eq)
    }

    fn skip_long_bracket(&mut self, level: usize, line: usize) -> Result<(), NginxError> {
        for _ in 0..level + 2 {
            self.bump();
        }
        let close = format!("]{}]", "=".repeat(level));
        loop {
            if self.src[self.pos..].starts_with(close.as_bytes()) {
                for _ in 0..close.len() {
                    self.bump();
                }
                return Ok(());
            }
            if self.bump().is_none() {
                return Err(self.error(line, "unterminated Lua long string or comment"));
            }
        }
    }
}

/// nginx's unescaping of a word (ngx_conf_read_token): only these escapes are resolved,
/// any other backslash is kept as is.
pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n @ ('"' | '\'' | '\\')) => {
                    out.push(n);
                    chars.next();
                    continue;
                }
                Some('t') => {
                    out.push('\t');
                    chars.next();
                    continue;
                }
                Some('r') => {
                    out.push('\r');
                    chars.next();
                    continue;
                }
                Some('n') => {
                    out.push('\n');
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Render `value` as one nginx word: bare when it is safe, else double-quoted and escaped.
/// Refuses control characters, which cannot be written back faithfully.
pub(super) fn quote_word(value: &str) -> Result<String, NginxError> {
    if value.chars().any(|c| c.is_control() || is_byte_escape(c)) {
        return Err(NginxError::Other(format!(
            "refusing to write {value:?} into the nginx config: it contains control characters"
        )));
    }
    let bare_ok = !value.is_empty()
        && !value.starts_with(['"', '\'', '#'])
        && !value
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ';' | '{' | '}' | '\\' | '$'));
    if bare_ok {
        return Ok(value.to_string());
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A parsed file: where it was found, where its bytes really live, and its nodes.
#[derive(Debug, Clone)]
pub struct ConfFile {
    /// The path as nginx opens it (may be a symlink, e.g. in `sites-enabled`).
    pub path: PathBuf,
    /// The resolved file that edits are written to, so the symlink stays in place.
    pub real_path: PathBuf,
    /// The file's bytes as text: [`decode`]d, so bytes that are not UTF-8 survive.
    pub source: String,
    pub nodes: Vec<Node>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &str) -> Vec<Node> {
        let nodes = parse(Path::new("t.conf"), src).unwrap();
        assert_eq!(print(&nodes), src);
        nodes
    }

    fn first(nodes: &[Node]) -> &Directive {
        nodes
            .iter()
            .find_map(|n| match n {
                Node::Directive(d) => Some(d),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn words_quotes_and_escapes() {
        let n = roundtrip("a \"b c\" 'd\\'e' f\\;g \"x\\ty\" ;\n");
        let d = first(&n);
        let args: Vec<_> = d.args().collect();
        assert_eq!(args, ["b c", "d'e", "f\\;g", "x\ty"]);
    }

    #[test]
    fn brace_after_dollar_and_close_brace_inside_word() {
        let n = roundtrip("set $a ${b}c;\nx a}b;\n");
        assert_eq!(first(&n).arg(1), Some("${b}c"));
    }

    #[test]
    fn comments_may_contain_braces_and_sit_between_args() {
        let n = roundtrip("# { not a block\nlisten 80 # } still comment\n ssl;\nx a#b;\n");
        let d = first(&n);
        assert_eq!(d.args().collect::<Vec<_>>(), ["80", "ssl"]);
        assert_eq!(d.line, 2);
    }

    #[test]
    fn quoted_word_then_paren() {
        let n = roundtrip("if ($a = \"x\") { return 404; }\n");
        let d = first(&n);
        assert_eq!(d.args().collect::<Vec<_>>(), ["($a", "=", "x", ")"]);
        assert_eq!(d.children().len(), 3);
    }

    #[test]
    fn lua_block_is_opaque() {
        let src = "content_by_lua_block {\n  local s = \"}\" -- }\n  --[[ } ]] local t = [==[ { ]==]\n  if x then ngx.say('{') end\n}\nnext 1;\n";
        let n = roundtrip(src);
        assert!(matches!(first(&n).body, Body::Raw(_)));
        let names: Vec<_> = n
            .iter()
            .filter_map(|n| match n {
                Node::Directive(d) => Some(d.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["content_by_lua_block", "next"]);
    }

    #[test]
    fn errors_name_file_and_line() {
        for (src, line) in [
            ("a;\nb {\n", 3),
            ("a;\n}\n", 2),
            ("a \"b\"c;\n", 1),
            ("a\n", 2),
            ("{ a; }", 1),
            ("a \"unterminated;\n", 1),
        ] {
            match parse(Path::new("/x.conf"), src) {
                Err(NginxError::Parse { file, line: l, .. }) => {
                    assert_eq!(file, Path::new("/x.conf"));
                    assert_eq!(l, line, "{src:?}");
                }
                other => panic!("{src:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let src = "a {".repeat(100_000);
        match parse(Path::new("/deep.conf"), &src) {
            Err(NginxError::Parse {
                line: 1, message, ..
            }) => {
                assert!(message.contains("nested more than 64"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let ok = format!("{}{}", "a {".repeat(64), "}".repeat(64));
        roundtrip(&ok);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept() {
        let bytes = b"# caf\xe9 \xff\xfe\n# \xe2\x98\x95 ok\nserver_name a.test; # na\xefve\n";
        let text = decode(Path::new("l1.conf"), bytes).unwrap();
        let nodes = roundtrip(&text);
        assert_eq!(first(&nodes).arg(0), Some("a.test"));
        assert_eq!(encode(&print(&nodes)), bytes);
        let reserved = "# \u{10FFAA}\n".as_bytes();
        assert!(decode(Path::new("x.conf"), reserved).is_err());
        assert!(quote_word("/a\u{10FFAA}").is_err());
    }

    #[test]
    fn utf8_and_crlf() {
        roundtrip("# café ☕\r\nserver_name \"ünïcødé.example\";\r\n");
    }

    #[test]
    fn quote_word_round_trips_through_unescape() {
        for v in ["/etc/a b/c.pem", "plain", "x\"y", "a\\b", "$x", "{"] {
            let q = quote_word(v).unwrap();
            let nodes = parse(Path::new("t"), &format!("d {q};")).unwrap();
            assert_eq!(first(&nodes).arg(0), Some(v));
        }
        assert!(quote_word("a\nb").is_err());
    }
}
