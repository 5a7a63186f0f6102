//! certbot's `cli.ini`: default flags for every run, one `long-flag = value` per line.
//!
//! The line syntax is configargparse's (what certbot reads from `/etc/letsencrypt/cli.ini`):
//! `key = value`, `key: value` or `key value`; a bare `key` for a switch; `#`, `;` and `[`
//! start ignored lines; ` #` / ` ;` start an inline comment; one pair of surrounding double
//! quotes is removed; `key = [a, b]` gives a repeatable flag several values.
//!
//! Nothing here knows certwright's flags: [`to_args`] looks every key up in the clap
//! `Command` (any long flag or visible alias works), so new flags work in `cli.ini` at once.
//! The lead's CLI step calls `parse` + `to_args` and inserts the result right after the
//! subcommand, so the command line still wins (a flag given there is skipped here).
//!
//! Public API: [`parse(&str) -> Result<Vec<Entry>, CliIniError>`](parse),
//! [`to_args(&[Entry], &clap::Command, subcommand, given) -> Result<Vec<OsString>, _>`](to_args).

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};

use crate::error::CliIniError;

/// One setting: the key without leading dashes, the value if the line had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub key: String,
    pub value: Option<String>,
}

/// Parses the file's text into entries, in file order.
pub fn parse(text: &str) -> Result<Vec<Entry>, CliIniError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';', '[']) {
            continue;
        }
        let trimmed = strip_inline_comment(trimmed);
        let split = trimmed.find(['=', ':', ' ', '\t']);
        let (key, value) = match split {
            Some(at) => {
                let rest = trimmed[at..].trim_start();
                let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest).trim();
                (&trimmed[..at], Some(unquote(rest)))
            }
            None => (trimmed, None),
        };
        let key = key.trim().trim_start_matches('-');
        if key.is_empty() {
            return Err(CliIniError {
                line,
                reason: "no flag name before the value".into(),
            });
        }
        entries.push(Entry {
            line,
            key: key.to_string(),
            value: value.filter(|v| !v.is_empty()),
        });
    }
    Ok(entries)
}

/// The arguments `entries` stand for when running `subcommand` of `root`: `--key=value` for
/// flags with values (once per value for repeatable ones), `--key` for switches set true,
/// nothing for switches set false. Keys `given` on the command line are skipped; keys
/// that belong to another subcommand only are skipped; `foreign` keys (certbot's, which
/// the caller maps or drops with a note; Some(takes a value)) are passed on as they are;
/// other unknown keys are an error.
pub fn to_args(
    entries: &[Entry],
    root: &Command,
    subcommand: Option<&str>,
    given: &[OsString],
    foreign: &dyn Fn(&str) -> Option<bool>,
) -> Result<Vec<OsString>, CliIniError> {
    let sub = subcommand.and_then(|name| root.find_subcommand(name));
    let mut out: Vec<(String, Vec<OsString>)> = Vec::new();
    for entry in entries {
        let arg = sub
            .and_then(|s| find_long(s, &entry.key))
            .or_else(|| find_long(root, &entry.key));
        let Some(arg) = arg else {
            if known_anywhere(root, &entry.key) {
                continue;
            }
            if let Some(value) = foreign(&entry.key) {
                let switch = Arg::new("x").long("x").action(if value {
                    ArgAction::Set
                } else {
                    ArgAction::SetTrue
                });
                out.push((entry.key.clone(), entry_args(entry, &switch, &entry.key)?));
                continue;
            }
            return Err(CliIniError {
                line: entry.line,
                reason: format!("unknown flag --{}", entry.key),
            });
        };
        if was_given(arg, given) {
            continue;
        }
        let long = arg.get_long().unwrap_or(&entry.key).to_string();
        let args = entry_args(entry, arg, &long)?;
        if matches!(arg.get_action(), ArgAction::Append) {
            out.push((long, args));
        } else {
            // Set and switches: the last line wins, as on a command line.
            out.retain(|(k, _)| *k != long);
            out.push((long, args));
        }
    }
    Ok(out.into_iter().flat_map(|(_, args)| args).collect())
}

fn entry_args(entry: &Entry, arg: &Arg, long: &str) -> Result<Vec<OsString>, CliIniError> {
    let err = |reason: String| CliIniError {
        line: entry.line,
        reason,
    };
    if !arg.get_action().takes_values() {
        let on = match entry
            .value
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("true" | "yes" | "on" | "1") => true,
            Some("false" | "no" | "off" | "0") => false,
            Some(other) => {
                return Err(err(format!(
                    "--{long} is a switch: {other:?} is not true or false"
                )))
            }
        };
        return Ok(if on {
            vec![format!("--{long}").into()]
        } else {
            Vec::new()
        });
    }
    let value = entry
        .value
        .as_deref()
        .ok_or_else(|| err(format!("--{long} needs a value")))?;
    let values: Vec<&str> = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(list) if matches!(arg.get_action(), ArgAction::Append) => list
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect(),
        _ => vec![value],
    };
    Ok(values
        .into_iter()
        .map(|v| OsString::from(format!("--{long}={v}")))
        .collect())
}

fn find_long<'a>(cmd: &'a Command, key: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(key) || a.get_visible_aliases().is_some_and(|v| v.contains(&key))
    })
}

fn known_anywhere(cmd: &Command, key: &str) -> bool {
    find_long(cmd, key).is_some() || cmd.get_subcommands().any(|s| known_anywhere(s, key))
}

fn was_given(arg: &Arg, given: &[OsString]) -> bool {
    let mut names: Vec<String> = arg
        .get_long_and_visible_aliases()
        .unwrap_or_default()
        .into_iter()
        .map(|l| format!("--{l}"))
        .collect();
    let short = arg.get_short().map(|c| format!("-{c}"));
    given.iter().filter_map(|g| g.to_str()).any(|g| {
        names
            .iter_mut()
            .any(|n| g == n || g.starts_with(&format!("{n}=")))
            || short.as_deref().is_some_and(|s| g.starts_with(s))
    })
}

fn strip_inline_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for i in 1..bytes.len() {
        if matches!(bytes[i], b'#' | b';') && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> Command {
        Command::new("certwright")
            .arg(Arg::new("config-dir").long("config-dir").global(true))
            .subcommand(
                Command::new("renew")
                    .arg(
                        Arg::new("notify-webhook")
                            .long("notify-webhook")
                            .action(ArgAction::Append),
                    )
                    .arg(Arg::new("smtp-server").long("smtp-server"))
                    .arg(
                        Arg::new("quiet")
                            .long("quiet")
                            .short('q')
                            .action(ArgAction::SetTrue),
                    )
                    .arg(
                        Arg::new("dry-run")
                            .long("dry-run")
                            .action(ArgAction::SetTrue),
                    ),
            )
            .subcommand(Command::new("revoke").arg(Arg::new("reason").long("reason")))
    }

    fn args(text: &str, sub: &str, given: &[&str]) -> Result<Vec<String>, CliIniError> {
        let given: Vec<OsString> = given.iter().map(OsString::from).collect();
        let foreign = |k: &str| (k == "max-log-backups").then_some(true);
        let out = to_args(&parse(text)?, &cli(), Some(sub), &given, &foreign)?;
        Ok(out.into_iter().map(|a| a.into_string().unwrap()).collect())
    }

    #[test]
    fn certbot_line_forms() {
        let text = "# alerts\n; old comment\n[section]\n\nsmtp-server = mail:587  # relay\n\
                    notify-webhook: \"https://h/x#frag\"\nnotify-webhook https://h/y\nquiet\n\
                    dry-run = false\n--config-dir=/etc/cw\n";
        assert_eq!(
            args(text, "renew", &[]).unwrap(),
            [
                "--smtp-server=mail:587",
                "--notify-webhook=https://h/x#frag",
                "--notify-webhook=https://h/y",
                "--quiet",
                "--config-dir=/etc/cw",
            ]
        );
    }

    #[test]
    fn command_line_wins_and_last_line_wins() {
        let text = "smtp-server = a:25\nsmtp-server = b:25\nnotify-webhook = [https://h/1, https://h/2]\nquiet = yes\n";
        assert_eq!(
            args(text, "renew", &["-q"]).unwrap(),
            [
                "--smtp-server=b:25",
                "--notify-webhook=https://h/1",
                "--notify-webhook=https://h/2"
            ]
        );
        assert_eq!(
            args(
                text,
                "renew",
                &["--smtp-server=c:25", "--notify-webhook", "x"]
            )
            .unwrap(),
            ["--quiet"]
        );
    }

    #[test]
    fn other_subcommands_flags_are_skipped_unknown_ones_refused() {
        assert_eq!(
            args("reason = keycompromise\n", "renew", &[]).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            args("reason = keycompromise\n", "revoke", &[]).unwrap(),
            ["--reason=keycompromise"]
        );
        let err = args("x\nnotify-hook = y\n", "renew", &[]).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.reason.contains("unknown flag --x"), "{err}");
        let err = args("smtp-server\n", "renew", &[]).unwrap_err();
        assert!(err.reason.contains("needs a value"), "{err}");
        let err = args("quiet = maybe\n", "renew", &[]).unwrap_err();
        assert!(err.reason.contains("switch"), "{err}");
    }
}
