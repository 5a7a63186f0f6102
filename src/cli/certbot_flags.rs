//! certbot's command line, read as certbot reads it: certbot parses every flag on every verb,
//! so scripts pass `--email` to `renew` or `--max-log-backups` to anything. Before clap sees
//! the arguments, `rewrite` maps certbot's plugin selection (`-a`/`--authenticator`,
//! `--configurator`, `--dns-<provider>`) onto certwright's flags and drops each certbot flag
//! the verb has no use for, with a note saying why. [`FLAGS`] is the one list of those
//! flags; the man page's CERTBOT COMPATIBILITY section is made from it.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::Command;

/// One certbot flag that certwright accepts even where it has no effect.
pub struct CertbotFlag {
    /// The long name, without dashes.
    pub long: &'static str,
    pub short: Option<char>,
    /// It takes a value (`--flag VALUE`).
    pub value: bool,
    /// Why it has no effect here; empty: certwright implements it on the verbs that use it,
    /// and the others ignore it as certbot's do.
    pub why: &'static str,
}

const fn f(long: &'static str, value: bool, why: &'static str) -> CertbotFlag {
    CertbotFlag {
        long,
        short: None,
        value,
        why,
    }
}

const fn s(long: &'static str, short: char, value: bool) -> CertbotFlag {
    CertbotFlag {
        long,
        short: Some(short),
        value,
        why: "",
    }
}

const NO_OCSP: &str = "Let's Encrypt ended OCSP in 2025, so there is nothing to staple";
const LOGS: &str = "certwright keeps one log file, certwright.log, in --logs-dir";
const AUTO: &str = "certbot-auto's; certwright is a single binary with nothing to bootstrap";
const EFF: &str = "certwright shares your email with no one but the CA";
const UA: &str =
    "certwright sends its own User-Agent (certwright/VERSION), as RFC 8555 asks, nothing else";

/// Every certbot flag (certbot 5 `--help all`, its nginx and DNS plugins, and flags old
/// tutorials still print) that certwright accepts on every verb.
pub const FLAGS: &[CertbotFlag] = &[
    f("max-log-backups", true, LOGS),
    f("force-interactive", false, "certwright prompts only when stdin is a terminal"),
    f("eab-hmac-alg", true, "HS256, the only algorithm CAs use"),
    f("debug-challenges", false, "use -v: each challenge is logged before the CA is asked"),
    f("user-agent", true, UA),
    f("user-agent-comment", true, UA),
    f("keep-until-expiring", false, "certwright's default: an unexpired certificate is kept"),
    f("keep", false, "certwright's default: an unexpired certificate is kept"),
    f("reinstall", false, "certwright's default: an unexpired certificate is kept (and installed)"),
    f("duplicate", false, "a lineage is one directory; pick another with --cert-name"),
    f("renew-with-new-domains", false, "certwright replaces a lineage's names when -d changes them (--expand is implied)"),
    f("must-staple", false, NO_OCSP),
    f("staple-ocsp", false, NO_OCSP),
    f("no-staple-ocsp", false, NO_OCSP),
    f("uir", false, "the nginx installer adds no Content-Security-Policy header; add it by hand"),
    f("no-uir", false, "the nginx installer adds no Content-Security-Policy header"),
    f("auto-hsts", false, "use --hsts (one year at once)"),
    f("no-hsts", false, "no Strict-Transport-Security header is added without --hsts"),
    f("strict-permissions", false, "certwright always checks the owner and mode of what it reads"),
    f("debug", false, "errors are always printed as a chain; -v logs more"),
    f("no-verify-ssl", false, "refused in effect: the ACME server's TLS is always verified; trust a private CA with --ca-bundle"),
    f("break-my-certs", false, "a staging certificate never replaces a trusted one here"),
    f("disable-renew-updates", false, "renew never edits the nginx configuration"),
    f("no-autorenew", false, "every lineage renews; `certwright delete` removes one"),
    f("autorenew", false, "every lineage renews"),
    f("eff-email", false, EFF),
    f("no-eff-email", false, EFF),
    f("account", true, "certwright keeps one account per ACME server"),
    f("init", false, "plugins need no initialisation"),
    f("prepare", false, "plugins need no preparation"),
    f("nginx-sleep-seconds", true, "certwright waits for nginx's reload by polling"),
    f("no-self-upgrade", false, AUTO),
    f("no-bootstrap", false, AUTO),
    f("no-permissions-check", false, "certwright always checks permissions"),
    f("enable-hook-validation", false, "hooks are always validated unless --disable-hook-validation"),
    f("manual-public-ip-logging-ok", false, "certbot deprecated it too"),
    f("text", false, "output is always text (or --json)"),
    f("random-sleep-on-renew", false, "renew from cron already waits a random 0-8 minutes"),
    // Implemented on the verbs that use them; other verbs ignore them, as certbot's do.
    s("config", 'c', true),
    s("verbose", 'v', false),
    s("non-interactive", 'n', false),
    f("noninteractive", false, ""),
    s("quiet", 'q', false),
    s("domains", 'd', true),
    f("domain", true, ""),
    f("ip-address", true, ""),
    s("email", 'm', true),
    f("eab-kid", true, ""),
    f("eab-hmac-key", true, ""),
    f("cert-name", true, ""),
    f("required-profile", true, ""),
    f("preferred-profile", true, ""),
    f("preferred-chain", true, ""),
    f("issuance-timeout", true, ""),
    f("preferred-challenges", true, ""),
    f("expand", false, ""),
    f("force-renewal", false, ""),
    f("renew-by-default", false, ""),
    f("reuse-key", false, ""),
    f("no-reuse-key", false, ""),
    f("new-key", false, ""),
    f("allow-subset-of-names", false, ""),
    f("agree-tos", false, ""),
    f("register-unsafely-without-email", false, ""),
    f("rsa-key-size", true, ""),
    f("key-type", true, ""),
    f("elliptic-curve", true, ""),
    f("redirect", false, ""),
    f("no-redirect", false, ""),
    f("hsts", false, ""),
    f("run-deploy-hooks", false, ""),
    f("test-cert", false, ""),
    f("staging", false, ""),
    f("http-01-port", true, ""),
    f("http-01-address", true, ""),
    f("https-port", true, ""),
    f("cert-path", true, ""),
    f("key-path", true, ""),
    f("fullchain-path", true, ""),
    f("chain-path", true, ""),
    f("server", true, ""),
    f("pre-hook", true, ""),
    f("post-hook", true, ""),
    f("deploy-hook", true, ""),
    f("renew-hook", true, ""),
    f(
        "disable-hook-validation",
        false,
        "certwright checks only who can write a hook's files, and that check always applies",
    ),
    f("no-directory-hooks", false, ""),
    f("no-random-sleep-on-renew", false, ""),
    f("reason", true, ""),
    f("delete-after-revoke", false, ""),
    f("no-delete-after-revoke", false, ""),
    f("checkpoints", true, ""),
    f("authenticators", false, ""),
    f("installers", false, ""),
    s("installer", 'i', true),
    s("authenticator", 'a', true),
    f("configurator", true, ""),
    f("nginx", false, ""),
    f("standalone", false, ""),
    f("webroot", false, ""),
    f("manual", false, ""),
    s("webroot-path", 'w', true),
    f("webroot-map", true, ""),
    f("manual-auth-hook", true, ""),
    f("manual-cleanup-hook", true, ""),
    f("nginx-server-root", true, ""),
    f("nginx-ctl", true, ""),
    f("dns-rfc2136", false, ""),
    f("dns-rfc2136-credentials", true, ""),
    f("dns-rfc2136-propagation-seconds", true, ""),
    f("dns-cloudflare", false, ""),
    f("dns-cloudflare-credentials", true, ""),
    f("dns-cloudflare-propagation-seconds", true, ""),
    f("dns-route53", false, ""),
    f("dns-route53-propagation-seconds", true, ""),
];

/// Flags whose silent omission would do something else than asked: refused on the verbs
/// that do not take them.
const REFUSED_ELSEWHERE: &[(&str, &str)] = &[
    (
        "dry-run",
        "certonly, run, renew, install, enhance and import-certbot",
    ),
    ("csr", "certonly"),
];

/// certbot plugins certwright does not have.
const MISSING_PLUGINS: &[&str] = &["apache"];

/// The arguments with certbot's plugin selection mapped and the flags `sub` cannot use
/// dropped, and one note per dropped flag.
pub(crate) fn rewrite(
    args: Vec<OsString>,
    root: &Command,
) -> Result<(Vec<OsString>, Vec<String>), clap::Error> {
    let Some((at, name)) = super::ini::subcommand_at(&args, root) else {
        return Ok((args, Vec::new()));
    };
    let Some(sub) = root.find_subcommand(&name) else {
        return Ok((args, Vec::new()));
    };
    let mut out: Vec<OsString> = args[..=at].to_vec();
    let mut notes = Vec::new();
    let mut rest = args[at + 1..].iter().cloned();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str().map(str::to_string) else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(rest.by_ref());
            break;
        }
        let Some((long, inline)) = split_flag(&text) else {
            out.push(arg);
            continue;
        };
        let value = |rest: &mut dyn Iterator<Item = OsString>| -> Option<String> {
            inline
                .clone()
                .or_else(|| rest.next().and_then(|v| v.into_string().ok()))
        };
        if matches!(long.as_str(), "authenticator" | "configurator") {
            let plugin = value(&mut rest).unwrap_or_default();
            match plugin_flag(&plugin, &long, sub)? {
                Some(mapped) => out.push(mapped.into()),
                None => notes.push(format!(
                    "ignoring --{long} {plugin} (certbot compatibility): {name} obtains nothing"
                )),
            }
            continue;
        }
        if let Some(takes_value) = known_here(sub, root, &long) {
            out.push(arg);
            if takes_value && inline.is_none() {
                out.extend(rest.next());
            }
            continue;
        }
        if let Some(mapped) = dns_plugin(&long, sub) {
            let valued = long.ends_with("-credentials") || long.ends_with("-propagation-seconds");
            let given = valued.then(|| value(&mut rest)).flatten();
            match mapped {
                Some(flag) => out.extend([flag].into_iter().chain(given).map(OsString::from)),
                None => notes.push(format!(
                    "ignoring --{long} (certbot compatibility): {name} has no use for it"
                )),
            }
            continue;
        }
        if MISSING_PLUGINS.contains(&long.as_str()) || is_other_dns_plugin(&long) {
            return Err(no_plugin(&long));
        }
        if let Some((_, verbs)) = REFUSED_ELSEWHERE.iter().find(|(l, _)| *l == long) {
            return Err(clap::Error::raw(
                ErrorKind::UnknownArgument,
                format!("--{long} works with {verbs} only, not with {name}\n"),
            ));
        }
        let Some(flag) = lookup(&long) else {
            out.push(arg);
            continue;
        };
        if flag.value && inline.is_none() {
            rest.next();
        }
        notes.push(note(flag, &name));
    }
    Ok((out, notes))
}

/// `--long[=value]` or `-x` as (long name, inline value); None for a value or a short
/// cluster (`-vvv`).
fn split_flag(text: &str) -> Option<(String, Option<String>)> {
    if let Some(long) = text.strip_prefix("--") {
        return Some(match long.split_once('=') {
            Some((l, v)) => (l.to_string(), Some(v.to_string())),
            None => (long.to_string(), None),
        });
    }
    let short = text.strip_prefix('-')?;
    let mut chars = short.chars();
    let c = chars.next()?;
    let flag = FLAGS.iter().find(|f| f.short == Some(c))?;
    let attached: String = chars.collect();
    match (attached.is_empty(), flag.value) {
        (true, _) => Some((flag.long.to_string(), None)),
        (false, true) => Some((flag.long.to_string(), Some(attached))),
        (false, false) => None,
    }
}

/// Whether `sub` (or the global flags) has `--long`: Some(takes a value), None if not.
fn known_here(sub: &Command, root: &Command, long: &str) -> Option<bool> {
    sub.get_arguments()
        .chain(root.get_arguments().filter(|a| a.is_global_set()))
        .find(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|all| all.contains(&long))
        })
        .map(|a| a.get_action().takes_values())
}

/// The certbot flag of this name.
pub fn lookup(long: &str) -> Option<&'static CertbotFlag> {
    FLAGS.iter().find(|f| f.long == long)
}

/// The note for a dropped flag.
fn note(flag: &CertbotFlag, verb: &str) -> String {
    if flag.why.is_empty() {
        format!(
            "ignoring --{} (certbot compatibility): {verb} has no use for it",
            flag.long
        )
    } else {
        format!(
            "ignoring --{} (certbot compatibility): {}",
            flag.long, flag.why
        )
    }
}

/// A flag of one of certbot's DNS plugins certwright does not have (`--dns-google`,
/// `--dns-ovh-credentials`): refused, not ignored, since nothing would answer the challenge.
fn is_other_dns_plugin(long: &str) -> bool {
    const CERTBOT_DNS: &[&str] = &[
        "dnsmadeeasy",
        "gehirn",
        "google",
        "luadns",
        "nsone",
        "ovh",
        "sakuracloud",
    ];
    long.strip_prefix("dns-")
        .map(|rest| rest.split('-').next().unwrap_or(""))
        .is_some_and(|p| CERTBOT_DNS.contains(&p))
}

fn no_plugin(plugin: &str) -> clap::Error {
    clap::Error::raw(
        ErrorKind::InvalidValue,
        format!(
            "certwright has no {plugin} plugin: authenticators are standalone, webroot, nginx, \
             manual and dns-<provider>; the installer is nginx\n"
        ),
    )
}

/// certbot's `-a PLUGIN` / `--configurator PLUGIN` as the certwright flag selecting it; None
/// on a verb that obtains nothing (certbot ignores the selection there too).
fn plugin_flag(plugin: &str, flag: &str, sub: &Command) -> Result<Option<String>, clap::Error> {
    let plugin = plugin.trim().to_ascii_lowercase();
    let plugin = plugin
        .strip_prefix("certbot-")
        .unwrap_or(&plugin)
        .to_string();
    if plugin.is_empty() {
        return Err(clap::Error::raw(
            ErrorKind::InvalidValue,
            format!("--{flag} needs a plugin name\n"),
        ));
    }
    let known = ["standalone", "webroot", "nginx", "manual"].contains(&plugin.as_str())
        || (plugin.starts_with("dns-") && lookup(&plugin).is_some())
        || plugin
            .strip_prefix("dns-")
            .is_some_and(|p| crate::challenge::dns::PROVIDERS.iter().any(|d| d.name == p));
    if !known {
        return Err(no_plugin(&plugin));
    }
    if known_here(sub, sub, &plugin).is_some() {
        return Ok(Some(format!("--{plugin}")));
    }
    Ok(dns_plugin(&plugin, sub).flatten())
}

/// certbot's `--dns-<provider>[-credentials|-propagation-seconds]` for a provider that
/// certwright serves through `--dns PROVIDER`: Some(the matching certwright flag), or
/// Some(None) on a verb without `--dns`, which has no use for it.
fn dns_plugin(long: &str, sub: &Command) -> Option<Option<String>> {
    let rest = long.strip_prefix("dns-")?;
    let (provider, suffix) = match rest.split_once('-') {
        Some((p, s)) => (p, Some(s)),
        None => (rest, None),
    };
    crate::challenge::dns::PROVIDERS
        .iter()
        .find(|p| p.name == provider)?;
    let mapped = match suffix {
        None => format!("--dns={provider}"),
        Some("credentials") => "--dns-credentials".into(),
        Some("propagation-seconds") => "--dns-propagation-seconds".into(),
        Some(_) => return None,
    };
    Some(known_here(sub, sub, "dns").map(|_| mapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<(Vec<String>, Vec<String>), clap::Error> {
        let args = args.iter().map(OsString::from).collect();
        let (out, notes) = rewrite(args, &super::super::command())?;
        let out = out.into_iter().map(|a| a.into_string().unwrap()).collect();
        Ok((out, notes))
    }

    #[test]
    fn plugins_map_to_flags() {
        let (out, notes) =
            run(&["cw", "certonly", "-a", "webroot", "-w", "/x", "-d", "a"]).unwrap();
        assert_eq!(out, ["cw", "certonly", "--webroot", "-w", "/x", "-d", "a"]);
        assert!(notes.is_empty());
        let (out, _) = run(&["cw", "run", "--authenticator=standalone", "-i", "nginx"]).unwrap();
        assert_eq!(out, ["cw", "run", "--standalone", "-i", "nginx"]);
        let (out, _) = run(&[
            "cw",
            "certonly",
            "--dns-digitalocean",
            "--dns-digitalocean-credentials",
            "/f",
            "-a",
            "dns-rfc2136",
        ])
        .unwrap();
        assert_eq!(
            out,
            [
                "cw",
                "certonly",
                "--dns=digitalocean",
                "--dns-credentials",
                "/f",
                "--dns-rfc2136"
            ]
        );
        assert!(run(&["cw", "certonly", "-a", "apache"]).is_err());
        assert!(run(&["cw", "certonly", "--apache"]).is_err());
        assert!(run(&["cw", "certonly", "--dns-google-credentials", "/f"]).is_err());
    }

    #[test]
    fn provider_flags_and_issuance_timeout_are_dropped_where_nothing_is_obtained() {
        let (out, notes) = run(&[
            "cw",
            "delete",
            "--dns-digitalocean",
            "--dns-linode-credentials",
            "/f",
            "--issuance-timeout",
            "30",
            "--cert-name",
            "x",
        ])
        .unwrap();
        assert_eq!(out, ["cw", "delete", "--cert-name", "x"]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[1].contains("--dns-linode-credentials"), "{notes:?}");
        let (out, notes) = run(&["cw", "renew", "--issuance-timeout", "30"]).unwrap();
        assert_eq!(out, ["cw", "renew", "--issuance-timeout", "30"]);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn flags_a_verb_cannot_use_are_dropped_with_a_note() {
        let (out, notes) = run(&[
            "cw",
            "renew",
            "--max-log-backups",
            "0",
            "-m",
            "a@example.com",
            "--deploy-hook",
            "--uir",
            "--uir",
        ])
        .unwrap();
        assert_eq!(out, ["cw", "renew", "--deploy-hook", "--uir"]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("--max-log-backups"), "{notes:?}");
        assert!(notes[1].contains("renew has no use"), "{notes:?}");
        let err = run(&["cw", "delete", "--dry-run", "--cert-name", "x"]).unwrap_err();
        assert!(err.to_string().contains("--dry-run works with"), "{err}");
        // Unknown flags are left to clap's own error.
        let (out, _) = run(&["cw", "renew", "--no-such-flag"]).unwrap();
        assert_eq!(out, ["cw", "renew", "--no-such-flag"]);
    }

    #[test]
    fn every_flag_parses_on_every_verb() {
        let cmd = super::super::command();
        for sub in cmd.get_subcommands().map(|s| s.get_name().to_string()) {
            for flag in FLAGS.iter().filter(|f| !f.why.is_empty()) {
                let mut argv = vec!["cw".to_string(), sub.clone(), format!("--{}", flag.long)];
                if flag.value {
                    argv.push("1".into());
                }
                let args: Vec<OsString> = argv.iter().map(OsString::from).collect();
                let (args, _) = rewrite(args, &cmd).unwrap();
                let err = cmd.clone().try_get_matches_from(&args).err();
                let unknown = err
                    .as_ref()
                    .is_some_and(|e| e.kind() == ErrorKind::UnknownArgument);
                assert!(!unknown, "{argv:?}: {err:?}");
            }
        }
    }
}
