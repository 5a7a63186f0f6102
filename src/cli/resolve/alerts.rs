//! The alert flags (`--notify-webhook`, `--notify-email`, SMTP, `--failure-hook`) and metrics.

use crate::error::{Error, InputError};
use crate::notify::email::{EmailTarget, SmtpCredentials, SmtpServer};
use crate::notify::hook::HookCommand;
use crate::notify::{Target as AlertTarget, WebhookUrl};
use crate::ops::deploy::alerts::{host_name, AlertSettings};
use crate::ops::deploy::hooks::check_hooks;

use crate::cli::{AlertArgs, AlertTargetArgs};

use super::read_public;

/// Alert targets and the metrics textfile; reads the SMTP credentials file (refused unless
/// 0600). Errors never quote a webhook URL or the password.
pub(crate) fn alerts(args: &AlertArgs) -> Result<AlertSettings, Error> {
    Ok(AlertSettings {
        metrics_textfile: args.metrics_textfile.clone(),
        ..alert_targets(&args.targets)?
    })
}

/// The alert targets alone (`install`, `run`: they write no metrics).
pub(crate) fn alert_targets(args: &AlertTargetArgs) -> Result<AlertSettings, Error> {
    let bad = |flag: &'static str, reason: String| InputError::BadFlag { flag, reason };
    let mut targets = Vec::new();
    for url in &args.notify_webhook {
        let url = WebhookUrl::parse(url).map_err(|e| bad("--notify-webhook", e))?;
        targets.push(AlertTarget::Webhook(url));
    }
    if let Some(server) = &args.smtp_server {
        if args.notify_email.is_empty() {
            return Err(bad("--smtp-server", "give --notify-email too".into()).into());
        }
        let server = SmtpServer::parse(server).map_err(|e| bad("--smtp-server", e))?;
        let mut email = EmailTarget::new(
            &args.notify_email,
            args.smtp_from.as_deref(),
            &host_name(),
            server,
        )
        .map_err(|e| bad("--notify-email", e))?;
        if let Some(path) = &args.smtp_credentials {
            let creds =
                SmtpCredentials::from_file(path).map_err(|e| bad("--smtp-credentials", e))?;
            email.credentials = Some(creds);
        }
        if let Some(path) = &args.smtp_ca_bundle {
            let pem = read_public(path)
                .map_err(|e| bad("--smtp-ca-bundle", format!("{}: {e}", path.display())))?;
            email.extra_roots_pem = Some(pem);
        }
        targets.push(AlertTarget::Email(email));
    }
    if let Some(hook) = &args.failure_hook {
        check_hooks(&[("--failure-hook", Some(hook.as_str()))])?;
        targets.push(AlertTarget::Hook(HookCommand(hook.clone())));
    }
    Ok(AlertSettings {
        targets,
        ..AlertSettings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;
    use crate::cli::Command;

    fn notify_alerts(args: &[&str]) -> Result<AlertSettings, Error> {
        let Command::Notify(a) = parse(args).command else {
            panic!("not notify")
        };
        alerts(&a.alerts)
    }

    #[test]
    fn alert_flags_resolve_to_targets() {
        let s = notify_alerts(&[
            "notify",
            "--test",
            "--notify-webhook",
            "https://hooks.example.com/certwright",
            "--notify-email",
            "ops@example.com",
            "--smtp-server",
            "127.0.0.1:2525",
            "--failure-hook",
            "echo failed",
            "--metrics-textfile",
            "/var/lib/node_exporter/certwright.prom",
        ])
        .unwrap();
        assert!(matches!(
            s.targets.as_slice(),
            [
                AlertTarget::Webhook(_),
                AlertTarget::Email(_),
                AlertTarget::Hook(HookCommand(h))
            ] if h == "echo failed"
        ));
        assert!(s.metrics_textfile.is_some());
        assert!(notify_alerts(&["notify", "--test"])
            .unwrap()
            .targets
            .is_empty());
    }

    #[test]
    fn bad_alert_flags_are_refused_naming_the_flag() {
        let e = input_error(notify_alerts(&[
            "notify",
            "--test",
            "--smtp-server",
            "127.0.0.1:25",
        ]));
        assert!(
            matches!(
                e,
                InputError::BadFlag {
                    flag: "--smtp-server",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "--smtp-server: give --notify-email too");
        let e = input_error(notify_alerts(&[
            "notify",
            "--test",
            "--notify-webhook",
            "ftp://secret@x/",
        ]));
        assert!(
            matches!(
                e,
                InputError::BadFlag {
                    flag: "--notify-webhook",
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
