//! The sanitizer for third-party text (a CA's problem detail, a DNS API's or a webhook
//! receiver's error body, a hook's output) before it reaches a log line, the terminal, a
//! state or status file, or an alert: every secret certwright holds is scrubbed, and
//! control characters are escaped, so a body cannot forge log lines or drive the terminal.

use std::sync::{Mutex, PoisonError};

/// Every secret value this process read (`types::Secret::new` registers each).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter values are not scrubbed: replacing "a" everywhere would mangle the text and
/// hide nothing.
const MIN_SECRET_LEN: usize = 4;

/// Query and header names whose values are credentials wherever they appear.
const SECRET_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "token",
    "access_token",
    "auth_token",
    "password",
    "passwd",
    "secret",
    "x-amz-security-token",
    "x-amz-signature",
    "authorization",
];

/// Remember `value` so every later `sanitize` scrubs it.
pub(crate) fn register_secret(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` safe to log, print or send: secrets scrubbed, control characters escaped.
pub(crate) fn sanitize(text: &str) -> String {
    escape_controls(&scrub(text))
}

/// `text` with every registered secret, URL password and credential-named parameter
/// replaced by `<redacted>`; line structure kept (for multi-line output such as nginx's).
pub(crate) fn scrub(text: &str) -> String {
    // Patterns first: a registered secret replaced inside a URL would hide its `user:pass@`.
    let mut out = redact_keyed_values(&redact_userinfo(text));
    let secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "<redacted>");
        }
    }
    out
}

/// `sanitize` for a message that may span lines (nginx's output, doctor's findings under a
/// CA's error) shown on the terminal or kept in state and alerts: line breaks kept, every
/// other control character escaped. (The log escapes the line breaks too.)
pub(crate) fn sanitize_lines(text: &str) -> String {
    scrub(text)
        .split('\n')
        .map(escape_controls)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Newlines, carriage returns, escape sequences and other control characters as visible
/// escapes (`\n`, `\x1b`); tabs kept.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The log file's writer: each write (tracing formats one event per write) sanitized, so
/// no secret and no forged line reaches `certwright.log`; its final newline kept.
pub(crate) struct LogWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for LogWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        self.0
            .write_all(format!("{}{newline}", sanitize(body)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `scheme://user:password@host` -> `scheme://<redacted>@host`.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '>' | ')'))
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str(&redact_credentials(&tail[..at]));
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A URL's `user:password` -> `user:<redacted>`; a bare user part is taken for a token
/// (`https://TOKEN@host`) and redacted whole, unless already masked (`***`).
fn redact_credentials(userinfo: &str) -> String {
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:<redacted>"),
        None if userinfo.chars().all(|c| c == '*') => userinfo.to_string(),
        None => "<redacted>".to_string(),
    }
}

/// `token=VALUE`, `"api_key": "VALUE"`, `Authorization: VALUE` -> the value redacted.
fn redact_keyed_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for key in SECRET_KEYS {
        for (i, _) in lower.match_indices(key) {
            let before_ok = i == 0 || !is_word(lower.as_bytes()[i - 1]);
            let after = i + key.len();
            if !before_ok || lower.as_bytes().get(after).is_some_and(|b| is_word(*b)) {
                continue;
            }
            if let Some(span) = value_after(text, after) {
                cuts.push(span);
            }
        }
    }
    cuts.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cuts {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str("<redacted>");
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The value span after a key: past `"`, spaces and one `=` or `:`, up to a separator.
fn value_after(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ') {
        i += 1;
    }
    if i >= bytes.len() || !matches!(bytes[i], b'=' | b':') {
        return None;
    }
    i += 1;
    while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ') {
        i += 1;
    }
    // `Authorization: Bearer X`: the scheme word is not the secret, what follows is.
    if text[i..].to_ascii_lowercase().starts_with("bearer ") {
        i += "bearer ".len();
    }
    let end = text[i..]
        .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ';' | '}'))
        .map_or(text.len(), |n| i + n);
    (end > i).then_some((i, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_url_passwords_are_scrubbed() {
        register_secret("s3cr3t-token-value");
        let text = "GET https://admin:hunter2@pdns.local:8081/api failed: s3cr3t-token-value";
        let clean = sanitize(text);
        assert!(!clean.contains("hunter2"), "{clean}");
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(
            clean.contains("https://admin:<redacted>@pdns.local:8081/api"),
            "{clean}"
        );
        assert_eq!(sanitize("rediss://***@h:1/0"), "rediss://***@h:1/0");
        assert_eq!(sanitize("https://ghp_tok9@h/x"), "https://<redacted>@h/x");
    }

    #[test]
    fn credential_named_values_are_scrubbed() {
        for (text, secret) in [
            ("url?api_key=abc123&x=1", "abc123"),
            (r#"{"token": "tok-999", "ok": 1}"#, "tok-999"),
            ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
            ("X-Amz-Security-Token=FQoGZXIvYXdz", "FQoGZXIvYXdz"),
        ] {
            let clean = sanitize(text);
            assert!(!clean.contains(secret), "{text} -> {clean}");
            assert!(clean.contains("<redacted>"), "{clean}");
        }
        assert_eq!(sanitize("tokens are fine"), "tokens are fine");
    }

    #[test]
    fn control_characters_cannot_forge_lines_or_drive_a_terminal() {
        let body = "bad\n2026-12-05T00:00:00Z INFO renewed ok\r\x1b[2J\x07done\tx";
        let clean = sanitize(body);
        assert!(!clean.contains('\n') && !clean.contains('\r') && !clean.contains('\x1b'));
        assert_eq!(
            clean,
            "bad\\n2026-12-05T00:00:00Z INFO renewed ok\\r\\x1b[2J\\x07done\tx"
        );
    }
}
