//! Default flags from certbot's `cli.ini`: `<config-dir>/cli.ini`, or the file `--config`
//! names, read before clap parses. Its flags go right after the subcommand, so a flag given
//! on the command line (or through its environment variable) wins, as in certbot.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::Command;

use super::certbot_flags;
use crate::cli_ini;
use crate::safe::file::{self, Policy, ReadError};

/// More than any hand-written defaults file; refusing bigger ones bounds the read.
const MAX_CLI_INI: u64 = 256 * 1024;

/// `args` with the defaults file's flags for the subcommand being run inserted after it.
/// Nothing is read for `--help`/`--version` (a broken file must not hide the help) or when
/// no subcommand is given.
pub(crate) fn with_file_defaults(
    args: Vec<OsString>,
    root: &Command,
) -> Result<Vec<OsString>, clap::Error> {
    let help = |a: &OsString| matches!(a.to_str(), Some("-h" | "--help" | "-V" | "--version"));
    if args.iter().skip(1).take_while(|a| *a != "--").any(help) {
        return Ok(args);
    }
    let Some((at, sub)) = subcommand_at(&args, root) else {
        return Ok(args);
    };
    if sub == "help" {
        return Ok(args);
    }
    let explicit = flag_value(&args, "--config", Some('c')).map(PathBuf::from);
    let path = explicit
        .clone()
        .unwrap_or_else(|| config_dir(&args).join("cli.ini"));
    let text = match file::read_text(&path, Policy::CONFIG.limited(MAX_CLI_INI)) {
        Ok(Some(text)) => text,
        Ok(None) if explicit.is_none() => return Ok(args),
        Ok(None) => return Err(usage(&path, None, "no such file")),
        Err(ReadError::Io(e)) => return Err(usage(&path, None, &e.to_string())),
        Err(ReadError::Untrusted(why)) => {
            return Err(usage(&path, None, &format!("refused: {why}")))
        }
    };
    let mut entries = cli_ini::parse(&text).map_err(|e| usage(&path, Some(e.line), &e.reason))?;
    let mut given = args.clone();
    given.extend(set_in_environment(root, &sub));
    // A plugin chosen on the command line beats the file's `authenticator = ...`.
    if picks_plugin(&given) {
        entries.retain(|e| !matches!(e.key.as_str(), "authenticator" | "configurator"));
    }
    let certbot = |key: &str| certbot_flags::lookup(key).map(|f| f.value);
    let extra = cli_ini::to_args(&entries, root, Some(&sub), &given, &certbot)
        .map_err(|e| usage(&path, Some(e.line), &e.reason))?;
    let mut out = args;
    out.splice(at + 1..at + 1, extra);
    Ok(out)
}

/// Whether the command line chooses an authenticator itself.
fn picks_plugin(args: &[OsString]) -> bool {
    args.iter().filter_map(|a| a.to_str()).any(|a| {
        let long = a.strip_prefix("--").unwrap_or("");
        let long = long.split('=').next().unwrap_or("");
        a == "-a"
            || a.starts_with("-a")
            || matches!(
                long,
                "authenticator" | "configurator" | "standalone" | "webroot" | "nginx" | "manual"
            )
            || long.starts_with("dns")
    })
}

/// An exit-2 usage error naming the file (and line).
fn usage(path: &Path, line: Option<usize>, reason: &str) -> clap::Error {
    let place = match line {
        Some(n) => format!("{}:{n}", path.display()),
        None => path.display().to_string(),
    };
    clap::Error::raw(ErrorKind::ValueValidation, format!("{place}: {reason}\n"))
}

/// Where the subcommand is in `args` and its real name (aliases resolved): the first
/// argument that is not an option or an option's value.
pub(super) fn subcommand_at(args: &[OsString], root: &Command) -> Option<(usize, String)> {
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        if a == "--" {
            return None;
        }
        if let Some(sub) = root.find_subcommand(a) {
            return Some((i, sub.get_name().to_string()));
        }
        if a == "help" {
            return Some((i, "help".into()));
        }
        let takes_value = a.strip_prefix("--").is_some_and(|long| {
            !long.contains('=')
                && root
                    .get_arguments()
                    .any(|arg| arg.get_long() == Some(long) && arg.get_action().takes_values())
        });
        i += if takes_value { 2 } else { 1 };
    }
    None
}

/// The value of `--long VALUE`, `--long=VALUE` or `-c VALUE` / `-cVALUE` (the last given).
fn flag_value(args: &[OsString], long: &str, short: Option<char>) -> Option<OsString> {
    let short = short.map(|c| format!("-{c}"));
    let mut found = None;
    let mut iter = args.iter().skip(1).map(OsString::as_os_str);
    while let Some(a) = iter.next() {
        let Some(s) = a.to_str() else { continue };
        if s == "--" {
            break;
        }
        if s == long || short.as_deref() == Some(s) {
            found = iter.next().map(OsStr::to_os_string);
        } else if let Some(v) = s.strip_prefix(long).and_then(|v| v.strip_prefix('=')) {
            found = Some(v.into());
        } else if let Some(v) = short.as_deref().and_then(|p| s.strip_prefix(p)) {
            found = Some(v.into());
        }
    }
    found
}

/// `--config-dir` as clap will see it: the command line, then its variable, then the default.
fn config_dir(args: &[OsString]) -> PathBuf {
    flag_value(args, "--config-dir", None)
        .or_else(|| std::env::var_os("CERTWRIGHT_CONFIG_DIR"))
        .map_or_else(|| PathBuf::from("/etc/certwright"), PathBuf::from)
}

/// `--long` for each flag of `sub` (or global) whose environment variable is set: the
/// environment beats the file, as in certbot (configargparse).
fn set_in_environment(root: &Command, sub: &str) -> Vec<OsString> {
    let sub_args = root
        .find_subcommand(sub)
        .into_iter()
        .flat_map(|s| s.get_arguments());
    sub_args
        .chain(root.get_arguments())
        .filter(|arg| {
            arg.get_env()
                .is_some_and(|var| std::env::var_os(var).is_some())
        })
        .filter_map(|arg| arg.get_long().map(|l| OsString::from(format!("--{l}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn finds_the_subcommand_after_global_values() {
        let root = super::super::command();
        let args = os(&["cw", "--config-dir", "renew", "renew", "-q"]);
        assert_eq!(subcommand_at(&args, &root), Some((3, "renew".into())));
        let args = os(&["cw", "--config-dir=/x", "-q", "show-account"]);
        assert_eq!(
            subcommand_at(&args, &root),
            Some((3, "show_account".into()))
        );
        assert_eq!(subcommand_at(&os(&["cw", "--", "renew"]), &root), None);
    }

    #[test]
    fn config_values_as_clap_reads_them() {
        let args = os(&[
            "cw",
            "renew",
            "--config-dir",
            "/a",
            "-c",
            "/f",
            "--config-dir=/b",
        ]);
        assert_eq!(flag_value(&args, "--config-dir", None), Some("/b".into()));
        assert_eq!(flag_value(&args, "--config", Some('c')), Some("/f".into()));
        let args = os(&["cw", "renew", "-c/g", "--config-dir", "/a"]);
        assert_eq!(flag_value(&args, "--config", Some('c')), Some("/g".into()));
        assert_eq!(
            flag_value(&os(&["cw", "renew"]), "--config", Some('c')),
            None
        );
    }
}
