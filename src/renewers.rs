//! What will renew certificates on this machine: systemd timers (enabled, and active when
//! systemd can be asked), cron entries (system crontab, cron.d, users' crontabs, the
//! periodic script dirs) and running `certwright daemon` processes, for certwright and for
//! certbot. Read from the files under a root directory ("/" normally, a temp dir in tests);
//! `doctor` turns what is found into warnings. A leaf: knows nothing of lineages.

use std::path::{Path, PathBuf};

/// Which ACME client a mechanism runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Client {
    Certwright,
    Certbot,
}

/// How it is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    Timer,
    Cron,
    Daemon,
}

/// One mechanism found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Renewer {
    pub client: Client,
    pub via: Via,
    /// `file:line`, the timer's enabling link, or `pid N`.
    pub place: String,
    /// The cron line, the unit name or the daemon's command line.
    pub text: String,
    /// Every renew it runs has `--dry-run`: it renews nothing.
    pub dry_run_only: bool,
    /// Why it will not run although present (a timer enabled but not active, a cron line
    /// that defers to systemd where systemd runs); None when it will.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inactive: Option<String>,
}

const TIMERS: [(&str, Client); 4] = [
    ("certwright-renew.timer", Client::Certwright),
    ("certbot.timer", Client::Certbot),
    ("snap.certbot.renew.timer", Client::Certbot),
    ("certbot-renew.timer", Client::Certbot),
];

/// Every mechanism under `root`, in the order timers, cron, daemons.
pub(crate) fn find(root: &Path) -> Vec<Renewer> {
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let systemd = at("/run/systemd/system").is_dir();
    let mut out = timers(root, systemd);
    let mut crontabs: Vec<(PathBuf, bool)> = vec![(at("/etc/crontab"), true)];
    crontabs.extend(dir_files(&at("/etc/cron.d")).into_iter().map(|p| (p, true)));
    crontabs.extend(
        dir_files(&at("/var/spool/cron/crontabs"))
            .into_iter()
            .map(|p| (p, false)),
    );
    for (path, with_user) in crontabs {
        out.extend(cron_file(&path, with_user, systemd));
    }
    for period in ["hourly", "daily", "weekly", "monthly"] {
        for script in dir_files(&at(&format!("/etc/cron.{period}"))) {
            out.extend(script_file(&script, systemd));
        }
    }
    out.extend(daemons(&at("/proc")));
    out
}

fn timers(root: &Path, systemd: bool) -> Vec<Renewer> {
    let wants = root.join("etc/systemd/system/timers.target.wants");
    let mut out = Vec::new();
    for (unit, client) in TIMERS {
        let link = wants.join(unit);
        if link.symlink_metadata().is_err() {
            continue;
        }
        let inactive = if !systemd {
            Some("systemd is not running here".to_string())
        } else if root == Path::new("/") && !is_active(unit) {
            Some(format!("enabled but not active (`systemctl start {unit}`)"))
        } else {
            None
        };
        out.push(Renewer {
            client,
            via: Via::Timer,
            place: link.display().to_string(),
            text: unit.to_string(),
            dry_run_only: false,
            inactive,
        });
    }
    out
}

/// `systemctl is-active`; a systemctl that cannot run counts as active (not our finding).
fn is_active(unit: &str) -> bool {
    use crate::safe::run::{run_blocking, Spec};
    let argv = ["systemctl", "is-active", "--quiet", unit].map(std::ffi::OsString::from);
    run_blocking(&Spec::argv(
        argv.to_vec(),
        std::time::Duration::from_secs(10),
    ))
    .map(|done| done.status.success())
    .unwrap_or(true)
}

/// A cron or periodic file's text: only read (never run), so any owner; no FIFO, capped.
fn read_cron(path: &Path) -> Option<String> {
    crate::safe::file::read_text(path, crate::safe::file::Policy::PUBLIC.limited(1 << 20))
        .ok()
        .flatten()
}

/// Files of a cron dir as cron reads them: no dotfiles, backups or package leftovers.
fn dir_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            !name.starts_with('.')
                && !name.ends_with('~')
                && !name.contains(".dpkg-")
                && p.is_file()
        })
        .collect();
    out.sort();
    out
}

fn cron_file(path: &Path, with_user: bool, systemd: bool) -> Vec<Renewer> {
    lines_of(path, systemd, Some(with_user))
}

/// A periodic script (cron.daily...): any line that runs a renewal.
fn script_file(path: &Path, systemd: bool) -> Vec<Renewer> {
    lines_of(path, systemd, None)
}

/// The renewals in a file's lines: crontab lines (with or without a user field), or, for
/// `None`, every uncommented line of a script.
fn lines_of(path: &Path, systemd: bool, crontab_user: Option<bool>) -> Vec<Renewer> {
    let Some(text) = read_cron(path) else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let command = match crontab_user {
                Some(with_user) => cron_command(line, with_user)?,
                None if line.trim_start().starts_with('#') => return None,
                None => line,
            };
            let (client, dry_run_only, inactive) = renewer_in(command, systemd)?;
            Some(Renewer {
                client,
                via: Via::Cron,
                place: format!("{}:{}", path.display(), i + 1),
                text: line.trim().to_string(),
                dry_run_only,
                inactive,
            })
        })
        .collect()
}

/// The command of a crontab line: after the schedule (5 fields or one `@word`) and, in
/// system crontabs, the user. None for comments, blank lines and variable settings.
fn cron_command(line: &str, with_user: bool) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let first = line.split_whitespace().next()?;
    if !first.starts_with('@') && first.contains('=') {
        return None;
    }
    let fields = if first.starts_with('@') { 1 } else { 5 } + usize::from(with_user);
    let mut rest = line;
    for _ in 0..fields {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        rest = &rest[end..];
    }
    Some(rest.trim())
}

/// Whether a shell command runs `certwright renew` or `certbot renew`: the client, whether
/// every renew in it has `--dry-run`, and why it would not run.
fn renewer_in(command: &str, systemd: bool) -> Option<(Client, bool, Option<String>)> {
    let mut found: Option<(Client, bool)> = None;
    for segment in command.split(['&', '|', ';']) {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let program = |name: &str| words.iter().any(|w| w.rsplit('/').next() == Some(name));
        let client = if program("certwright") {
            Client::Certwright
        } else if program("certbot") || program("letsencrypt") {
            Client::Certbot
        } else {
            continue;
        };
        if !words.contains(&"renew") {
            continue;
        }
        let dry = words.contains(&"--dry-run");
        found = Some(match found {
            Some((c, was_dry)) => (c, was_dry && dry),
            None => (client, dry),
        });
    }
    let (client, dry_run_only) = found?;
    let inactive = (systemd && command.contains("/run/systemd/system"))
        .then(|| "skips itself where systemd runs (the timer does the job)".to_string());
    Some((client, dry_run_only, inactive))
}

/// Running `certwright daemon` processes (other than this one).
fn daemons(proc_dir: &Path) -> Vec<Renewer> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return Vec::new();
    };
    let own = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == own {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_certwright = args
            .first()
            .is_some_and(|a| a.rsplit('/').next() == Some("certwright"));
        if is_certwright && args.iter().any(|a| a == "daemon") {
            out.push(Renewer {
                client: Client::Certwright,
                via: Via::Daemon,
                place: format!("pid {pid}"),
                text: args.join(" ").trim().to_string(),
                dry_run_only: false,
                inactive: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crontab_lines_give_their_command() {
        assert_eq!(
            cron_command("0 0 1 * * certbot renew --dry-run", false),
            Some("certbot renew --dry-run")
        );
        assert_eq!(
            cron_command("@daily root certwright -q renew", true),
            Some("certwright -q renew")
        );
        assert_eq!(cron_command("PATH=/bin:/usr/bin", true), None);
        assert_eq!(cron_command("# 0 0 * * * certwright renew", false), None);
    }

    #[test]
    fn dry_run_only_and_systemd_guards_are_recognised() {
        assert_eq!(
            renewer_in("certbot renew --dry-run", false),
            Some((Client::Certbot, true, None))
        );
        assert_eq!(
            renewer_in("/usr/bin/certwright -q renew -n", false),
            Some((Client::Certwright, false, None))
        );
        let guarded =
            "test -x /usr/bin/certwright && ! [ -d /run/systemd/system ] && certwright -q renew -n";
        assert!(renewer_in(guarded, true).unwrap().2.is_some());
        assert!(renewer_in(guarded, false).unwrap().2.is_none());
        assert_eq!(renewer_in("certwright certificates", false), None);
    }
}
