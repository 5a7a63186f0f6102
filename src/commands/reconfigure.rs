//! `certwright reconfigure`: change a lineage's saved renewal settings. The new settings are
//! tried first with a dry-run renewal; only if it succeeds is the renewal config replaced
//! (see `ops::reconfigure`).

use crate::cli::{CurveArg, KeyTypeArg, ReconfigureArgs};
use crate::config::{Authenticator, RenewalConfig, WebrootEntry};
use crate::error::{Error, InputError};
use crate::types::{CertName, Curve, KeyType, ServerUrl};

use crate::ops::output::print_stdout;
use crate::ops::reconfigure::save_after_dry_run;
use crate::ops::renew::lineage::require_config;
use crate::ops::Ctx;

pub(super) async fn run(ctx: &Ctx, args: ReconfigureArgs) -> Result<(), Error> {
    let name: CertName = args.cert_name.parse()?;
    let dry_run_server = args
        .dry_run_server
        .as_deref()
        .map(str::parse::<ServerUrl>)
        .transpose()?;
    let (store, lock) = ctx.open_store()?;
    let path = store.renewal_file(&name);
    let old = require_config(&store, &name)?;
    let new = apply(&old, &args)?;
    if new == old {
        ctx.ui.note(format!("{name}: nothing to change"));
        return Ok(());
    }
    save_after_dry_run(&ctx.ui, &store, &lock, &new, dry_run_server).await?;
    if !ctx.global.quiet {
        print_stdout(&format!(
            "The dry-run renewal with the new settings succeeded; saved them in {}.\n",
            path.display()
        ));
    }
    // The dry run skipped the deploy targets: write them now from the live files.
    if new.deploy != old.deploy {
        crate::ops::deploy::targets::deploy(&store, &name, &new.deploy)?;
    }
    Ok(())
}

/// The old config with the flags given applied.
fn apply(old: &RenewalConfig, args: &ReconfigureArgs) -> Result<RenewalConfig, Error> {
    let mut new = old.clone();
    new.key_type = key_type(old.key_type, args);
    if let Some(targets) = crate::cli::resolve::deploy_targets(&args.deploy)? {
        new.deploy = targets;
    }
    if args.keys.reuse_key {
        new.issuance.reuse_key = true;
    }
    if args.keys.new_key {
        new.issuance.reuse_key = false;
    }
    if let Some(chain) = &args.keys.preferred_chain {
        new.issuance.preferred_chain = (!chain.is_empty()).then(|| chain.clone());
    }
    new.authenticator = authenticator(old, args)?;
    let given = crate::cli::resolve::hooks(&args.hooks)?;
    new.hooks = old.hooks.overridden_by(&given);
    Ok(new)
}

/// The key type and size asked for; what is not asked for stays as it was.
fn key_type(old: KeyType, args: &ReconfigureArgs) -> KeyType {
    let curve = |c: CurveArg| match c {
        CurveArg::Secp256r1 => Curve::P256,
        CurveArg::Secp384r1 => Curve::P384,
        CurveArg::Secp521r1 => Curve::P521,
    };
    match (args.key_type, old) {
        (Some(KeyTypeArg::Rsa), _) | (None, KeyType::Rsa { .. }) => KeyType::Rsa {
            bits: args.rsa_key_size.unwrap_or(match old {
                KeyType::Rsa { bits } => bits,
                KeyType::Ecdsa { .. } => 2048,
            }),
        },
        (Some(KeyTypeArg::Ecdsa), _) | (None, KeyType::Ecdsa { .. }) => KeyType::Ecdsa {
            curve: args.elliptic_curve.map(curve).unwrap_or(match old {
                KeyType::Ecdsa { curve } => curve,
                KeyType::Rsa { .. } => Curve::P256,
            }),
        },
    }
}

/// The authenticator asked for, or the old one with `--http-01-port` applied.
fn authenticator(old: &RenewalConfig, args: &ReconfigureArgs) -> Result<Authenticator, Error> {
    let port = args.http_01_port;
    if args.standalone {
        return Ok(Authenticator::Standalone {
            http_01_port: port.unwrap_or(80),
            http_01_address: None,
        });
    }
    if args.nginx {
        crate::cli::resolve::nginx_settings(&args.nginx_args)?;
        return Ok(Authenticator::Nginx {
            server_root: args.nginx_args.nginx_server_root.clone(),
            ctl: args.nginx_args.nginx_ctl.clone(),
            http_01_port: port.unwrap_or(80),
        });
    }
    if let Some(root) = &args.webroot_path {
        let root = crate::cli::resolve::canonical_webroot(root)?;
        let map = old
            .domains
            .iter()
            .map(|d| WebrootEntry {
                domain: d.clone(),
                path: root.clone(),
            })
            .collect();
        return Ok(Authenticator::Webroot { map });
    }
    let mut same = old.authenticator.clone();
    if let Some(p) = port {
        match &mut same {
            Authenticator::Standalone { http_01_port, .. }
            | Authenticator::Nginx { http_01_port, .. } => *http_01_port = p,
            Authenticator::Webroot { .. }
            | Authenticator::DnsRfc2136 { .. }
            | Authenticator::Dns { .. }
            | Authenticator::DnsRoute53 { .. }
            | Authenticator::Manual { .. } => {
                return Err(InputError::Flag {
                    flag: "--http-01-port",
                    problem: "has no meaning for a webroot, dns or manual lineage".into(),
                }
                .into())
            }
        }
    }
    Ok(same)
}
