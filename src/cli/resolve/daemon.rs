//! `daemon`: schedule, deploy hook, the fleet responder and the nginx challenge proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::error::{Error, InputError};
use crate::nginx::Ctl;
use crate::ops::daemon::DaemonRequest;
use crate::ops::deploy::hooks::check_hooks;
use crate::ops::solve::fleet_proxy::ChallengeProxy;
use crate::schedule::CronSchedule;
use crate::types::PathMap;

use crate::cli::DaemonArgs;

use super::{alerts, ca_bundle, nginx_settings};

/// `daemon`: schedule, hooks, the fleet responder and the nginx challenge proxy checked.
pub(crate) fn daemon(args: &DaemonArgs) -> Result<DaemonRequest, Error> {
    let cron = args
        .schedule
        .as_deref()
        .map(CronSchedule::parse)
        .transpose()
        .map_err(|e| InputError::BadFlag {
            flag: "--schedule",
            reason: e.to_string(),
        })?;
    check_hooks(&[("--deploy-hook", args.deploy_hook.as_deref())])?;
    Ok(DaemonRequest {
        cron,
        once: args.once,
        child_pass: args.child_pass,
        status_file: args.status_file.clone(),
        deploy_hook: args.deploy_hook.clone(),
        concurrency: usize::from(args.concurrency),
        http_01: args.http_01_port.map(|port| (args.http_01_address, port)),
        sync_interval: Duration::from_secs(args.sync_interval),
        proxy: challenge_proxy(args)?,
        alerts: alerts(&args.alerts)?,
        metrics_listen: args.metrics_listen,
        ca_bundle: ca_bundle(args.ca_bundle.as_deref())?,
    })
}

/// `daemon --nginx`; `None` without it, and in a pass (`--once`, or a child): the
/// responder, and so the proxy, belong to the long-lived daemon.
fn challenge_proxy(args: &DaemonArgs) -> Result<Option<ChallengeProxy>, Error> {
    if !args.nginx || args.once || args.child_pass {
        return Ok(None);
    }
    let port = args.http_01_port.ok_or_else(|| InputError::Needs {
        what: "daemon --nginx".into(),
        needs: "--http-01-port (the port to proxy to)".into(),
    })?;
    nginx_settings(&args.nginx_args)?;
    // A wildcard bind answers on loopback too; nginx must connect to a real address.
    let ip = match args.http_01_address {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let ctl = Ctl {
        binary: args.nginx_args.nginx_ctl.clone(),
        conf: args.nginx_args.nginx_server_root.join("nginx.conf"),
        path_map: PathMap::parse(&args.nginx_args.nginx_path_map)?,
    };
    let upstream = SocketAddr::new(ip, port);
    Ok(Some(ChallengeProxy::new(
        ctl,
        args.nginx_http_01_port,
        upstream,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse, path_in};
    use super::*;
    use crate::cli::Command;

    fn daemon_args(args: &[&str]) -> DaemonArgs {
        let Command::Daemon(a) = parse(args).command else {
            panic!("not daemon")
        };
        a
    }

    #[test]
    fn daemon_flags_resolve_to_the_request() {
        let r = daemon(&daemon_args(&[
            "daemon",
            "--schedule",
            "0 3 * * *",
            "--once",
            "--concurrency",
            "2",
            "--deploy-hook",
            "echo deployed",
            "--nginx",
            "--http-01-port",
            "8402",
        ]))
        .unwrap();
        assert!(r.cron.is_some() && r.once);
        assert_eq!(r.concurrency, 2);
        assert_eq!(r.deploy_hook.as_deref(), Some("echo deployed"));
        assert_eq!(r.http_01, Some((None, 8402)));
        // A pass (--once) leaves the proxy to the long-lived daemon.
        assert!(r.proxy.is_none());
    }

    #[test]
    fn a_bad_schedule_and_a_proxy_without_nginx_conf_are_refused() {
        let e = input_error(daemon(&daemon_args(&["daemon", "--schedule", "every day"])));
        assert!(
            matches!(
                e,
                InputError::BadFlag {
                    flag: "--schedule",
                    ..
                }
            ),
            "{e:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let e = input_error(daemon(&daemon_args(&[
            "daemon",
            "--nginx",
            "--http-01-port",
            "8402",
            "--nginx-server-root",
            &root,
        ])));
        assert!(
            matches!(&e, InputError::NoNginxConf { conf } if conf.display().to_string() == path_in(&dir, "nginx.conf")),
            "{e:?}"
        );
    }
}
