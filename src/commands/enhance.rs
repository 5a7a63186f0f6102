//! `certwright enhance` (certbot's): add the nginx installer's enhancements (the redirect to
//! https, HSTS) to a lineage already installed, through the same transaction as `install`.

use crate::cli::EnhanceArgs;
use crate::config::Installer;
use crate::error::{Error, InputError};
use crate::ops::deploy::nginx_txn::{install_lineage, report_install};
use crate::ops::renew::lineage::{require_config, write_config};
use crate::ops::Ctx;
use crate::types::CertName;

pub(super) fn run(ctx: &Ctx, args: EnhanceArgs) -> Result<(), Error> {
    if !args.redirect && !args.hsts {
        return Err(InputError::Needs {
            what: "enhance".into(),
            needs: "an enhancement: --redirect and/or --hsts".into(),
        }
        .into());
    }
    let name: CertName = args.cert_name.parse()?;
    let (store, _lock) = ctx.open_store()?;
    let mut config = require_config(&store, &name)?;
    let given_root = (args.nginx_args.nginx_server_root.as_path()
        != std::path::Path::new(crate::cli::DEFAULT_NGINX_ROOT))
    .then(|| args.nginx_args.nginx_server_root.clone());
    let installer = match config.installer.clone() {
        Some(Installer::Nginx {
            server_root,
            ctl,
            http_01_port,
            https_port,
            redirect,
            hsts,
            path_map,
        }) => Installer::Nginx {
            server_root: given_root.unwrap_or(server_root),
            ctl,
            http_01_port,
            https_port,
            redirect: redirect || args.redirect,
            hsts: hsts || args.hsts,
            path_map,
        },
        None => {
            return Err(InputError::NotInstalled {
                name: name.to_string(),
            }
            .into())
        }
    };
    let installed = install_lineage(&ctx.ui, &store, &name, &config, &installer, args.dry_run)?;
    report_install(&ctx.ui, &name, &installed);
    if !args.dry_run && config.installer.as_ref() != Some(&installer) {
        config.installer = Some(installer);
        write_config(&store, &config)?;
    }
    Ok(())
}
