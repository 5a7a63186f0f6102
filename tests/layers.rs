//! The layering rule of the crate, checked on the source: arrows point down only.
//!
//! `cli` -> `commands` -> `ops` -> leaves (`acme`, `challenge`, `store`, `nginx`,
//! `schedule`, `config`, `certbot`) -> `types`, `error`, `fsutil`, `https`, `crash`. A command file
//! never imports another command file; a leaf never imports another leaf (nor anything
//! above it); `ops` never imports `commands` or `cli`.

use std::fs;
use std::path::{Path, PathBuf};

const LEAVES: &[&str] = &[
    "acme",
    "challenge",
    "store",
    "nginx",
    "schedule",
    "config",
    "certbot",
    "renewers",
    "notify",
    "metrics",
    "verify",
    "cli_ini",
];
const BASE: &[&str] = &["types", "error", "fsutil", "https", "crash", "safe"];

/// The top-level module a file under `src/` belongs to (`src/ops/x.rs` -> `ops`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The identifier at the start of `s`, after leading spaces.
fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every `crate::NAME` a source text refers to.
fn crate_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name = ident(rest);
        if !name.is_empty() {
            out.push(name);
        }
        // `crate::{a, b}`
        if rest.starts_with('{') {
            let end = rest.find('}').unwrap_or(rest.len());
            for part in rest[1..end].split(',') {
                let name = ident(part);
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Every sibling module a command file names through `super::` (`super::x`, `super::{x, y}`).
fn super_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("super::") {
        let rest = &text[i + "super::".len()..];
        let names: Vec<&str> = if let Some(inner) = rest.strip_prefix('{') {
            inner[..inner.find('}').unwrap_or(inner.len())]
                .split(',')
                .collect()
        } else {
            vec![rest]
        };
        for n in names {
            let name = ident(n);
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The violations of one file, as `file: what`.
fn violations(rel: &Path, text: &str, commands: &[String]) -> Vec<String> {
    let module = module_of(rel);
    let shown = rel.display();
    let mut found = Vec::new();
    for target in crate_refs(text) {
        if target == module {
            continue;
        }
        let bad = match module.as_str() {
            m if LEAVES.contains(&m) => !BASE.contains(&target.as_str()),
            m if BASE.contains(&m) => !BASE.contains(&target.as_str()),
            "ops" => target == "commands" || target == "cli",
            "commands" => false,
            _ => false,
        };
        if bad {
            found.push(format!("{shown}: {module} imports crate::{target}"));
        }
    }
    let is_command_file = module == "commands" && rel.file_name().is_some_and(|f| f != "mod.rs");
    if is_command_file {
        for sibling in super_refs(text) {
            if commands.contains(&sibling) {
                found.push(format!("{shown}: a command imports the command {sibling}"));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn arrows_point_down_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let commands: Vec<String> = fs::read_dir(src.join("commands"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs")
                .filter(|n| *n != "mod")
                .map(str::to_string)
        })
        .collect();
    assert!(commands.len() > 5, "no command files found: {commands:?}");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut all = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        all.extend(violations(
            rel,
            &fs::read_to_string(file).unwrap(),
            &commands,
        ));
    }
    assert!(
        all.is_empty(),
        "layering violations:\n  {}",
        all.join("\n  ")
    );
}

#[test]
fn the_check_catches_each_kind_of_violation() {
    let commands = vec!["renew".to_string(), "certonly".to_string()];
    let cases = [
        ("commands/renew.rs", "use super::certonly::rfc3339;"),
        ("commands/renew.rs", "use super::{certonly, Ctx};"),
        ("nginx/patch.rs", "use crate::store::Store;"),
        (
            "store/mod.rs",
            "use crate::{config::RenewalConfig, types::CertName};",
        ),
        ("ops/renewal.rs", "use crate::commands::renew;"),
        ("ops/renewal.rs", "use crate::cli::RenewArgs;"),
        ("types.rs", "use crate::ops::Ctx;"),
    ];
    for (file, text) in cases {
        let found = violations(Path::new(file), text, &commands);
        assert!(!found.is_empty(), "{file}: `{text}` not caught");
    }
    let fine = [
        ("commands/renew.rs", "use crate::ops::renew::renew_pass;"),
        ("commands/mod.rs", "mod renew;"),
        (
            "ops/renewal.rs",
            "use super::issue; use crate::store::Store;",
        ),
        (
            "nginx/patch.rs",
            "use crate::error::NginxError; use super::parse;",
        ),
    ];
    for (file, text) in fine {
        assert!(
            violations(Path::new(file), text, &commands).is_empty(),
            "{file}: {text}"
        );
    }
}

/// Longest function allowed in `src/` (issue 11): a function should read at once.
const MAX_FN_LINES: usize = 80;

/// `(first line, length)` of each function body in rustfmt-formatted `text`: from the `fn`
/// line to the `}` at the same indentation. Declarations without a body are skipped.
fn function_lengths(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let head = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ]
        .iter()
        .fold(trimmed, |t, p| t.strip_prefix(p).unwrap_or(t));
        if !head.starts_with("fn ") {
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        let close = format!("{indent}}}");
        for (j, next) in lines.iter().enumerate().skip(i) {
            if next.trim_end().ends_with(';') && !lines[i..=j].iter().any(|l| l.contains('{')) {
                break;
            }
            if *next == close {
                out.push((i + 1, j - i + 1));
                break;
            }
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut long = Vec::new();
    for file in &files {
        for (line, len) in function_lengths(&fs::read_to_string(file).unwrap()) {
            if len > MAX_FN_LINES {
                long.push(format!("{}:{line}: {len} lines", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n  {}",
        long.join("\n  ")
    );
    let sample = "fn a() {\n    x;\n}\n    fn decl(&self);\n    fn b() {\n        y;\n    }\n";
    assert_eq!(function_lengths(sample), [(1, 3), (5, 3)]);
}

/// What `src/` may do only through `src/safe/` (issue 24): read a file, start a program,
/// read an HTTP body from outside. Each pattern is matched on code outside `#[cfg(test)]`.
const GUARDED: &[(&str, &str)] = &[
    ("file read", "fs::read("),
    ("file read", "fs::read_to_string("),
    ("file read", "File::open("),
    ("file read", ".read(true)"),
    ("file read", "fs::open("),
    ("file read", "fs::openat("),
    ("process", "process::Command"),
    ("process", "process::{Command"),
    ("HTTP body", "body.into_bytes()"),
    ("HTTP body", ".collect().await"),
    ("HTTP body", ".text().await"),
    ("HTTP body", ".bytes().await"),
    ("HTTP body", ".to_bytes()"),
];

/// `(file under src/, pattern, why it is safe there)`: the only exceptions.
const ALLOWED: &[(&str, &str, &str)] = &[
    ("safe/", "", "the primitives themselves"),
    (
        "fsutil.rs",
        "",
        "crash-safe writes; fsyncs a directory it opened",
    ),
    (
        "store/lock.rs",
        "",
        "the run lock: opens (creates) the lock file to flock it; /proc/locks to name the holder",
    ),
    (
        "store/shared/dir/",
        "",
        "the shared directory store reads its own files with its own owner and size checks",
    ),
    (
        "challenge/mod.rs",
        "fs::read_to_string(",
        "/proc/net/* and /proc/<pid>/comm: kernel files, to name who holds a port",
    ),
    (
        "nginx/ctl.rs",
        "fs::read",
        "/proc/<pid>/{children,cmdline} (kernel files, to see nginx's workers) and nginx's pid file",
    ),
    (
        "renewers.rs",
        "fs::read(",
        "/proc/<pid>/cmdline: a kernel file, to see which renewal daemons run",
    ),
    (
        "ops/privileges.rs",
        "fs::read_to_string(",
        "/proc/self/status: a kernel file (thread count)",
    ),
    (
        "challenge/dns/lookup.rs",
        "fs::read_to_string(",
        "/etc/resolv.conf: a system file (often a symlink), nameserver addresses only",
    ),
    (
        "challenge/webroot.rs",
        "fs::open",
        "opens the webroot's directories (O_NOFOLLOW) to write token files; reads nothing",
    ),
    (
        "nginx/",
        "File::open(",
        "nginx's configs, read as nginx reads them (sites-enabled symlinks followed), capped",
    ),
    (
        "nginx/checkpoint.rs",
        "",
        "backs up nginx's configs as nginx reads them; its own checkpoints through read_trusted",
    ),
    (
        "acme/http.rs",
        "body.into_bytes()",
        "instant-acme's transport: every body is already read through safe::body (Bounded)",
    ),
    (
        "acme/jws.rs",
        ".to_bytes()",
        "the outgoing request's own JWS, re-signed for an RSA account: nothing from outside",
    ),
    (
        "ops/daemon.rs",
        "process::Command",
        "the daemon re-runs its own binary (current_exe) with its own arguments for each pass",
    ),
    (
        "cli_ini.rs",
        "process::Command",
        "clap's Command (a parser), not a process",
    ),
];

/// Code before the first `#[cfg(test)]` (tests may read and run what they like).
fn non_test_code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn guarded_uses(rel: &str, text: &str) -> Vec<String> {
    let code = non_test_code(text);
    let mut found = Vec::new();
    for (kind, pattern) in GUARDED {
        let allowed = ALLOWED
            .iter()
            .any(|(file, pat, _)| rel.starts_with(file) && pattern.starts_with(pat));
        if allowed {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            if line.contains(pattern) && !line.trim_start().starts_with("//") {
                found.push(format!(
                    "src/{rel}:{}: {kind} outside safe/: {}",
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn privileged_io_goes_through_safe() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut all = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.ends_with("/tests.rs") {
            continue; // a `#[cfg(test)] mod tests;` file
        }
        all.extend(guarded_uses(&rel, &fs::read_to_string(file).unwrap()));
    }
    assert!(
        all.is_empty(),
        "read, run and fetch through src/safe/ (or add a commented ALLOWED entry):\n  {}",
        all.join("\n  ")
    );
}

#[test]
fn the_primitive_check_catches_each_kind() {
    for text in [
        "let t = std::fs::read_to_string(p)?;",
        "let mut c = tokio::process::Command::new(\"sh\");",
        "let b = response.text().await?;",
        "let b = body.collect().await?.to_bytes();",
    ] {
        assert!(!guarded_uses("notify/x.rs", text).is_empty(), "{text}");
    }
    assert!(guarded_uses("safe/file.rs", "fs::read(p)").is_empty());
    let test_only = "fn f() {}\n#[cfg(test)]\nmod tests { fn g() { std::fs::read(p); } }";
    assert!(guarded_uses("notify/x.rs", test_only).is_empty());
}
