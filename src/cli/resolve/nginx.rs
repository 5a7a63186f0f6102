//! The nginx flags: `--nginx-server-root`, `--nginx-ctl`, `--nginx-path-map` and the installer's.

use std::path::Path;

use crate::config::Installer;
use crate::error::{Error, InputError};
use crate::types::PathMap;

use crate::cli::{InstallerArgs, NginxArgs};

/// The nginx installer from `--nginx-server-root`, `--nginx-ctl`, `--nginx-path-map` and the
/// installer flags.
pub(crate) fn installer(
    nginx: &NginxArgs,
    installer: &InstallerArgs,
    http_01_port: u16,
) -> Result<Installer, Error> {
    check_nginx_ctl(&nginx.nginx_ctl)?;
    Ok(Installer::Nginx {
        path_map: PathMap::parse(&nginx.nginx_path_map)?,
        server_root: nginx.nginx_server_root.clone(),
        ctl: nginx.nginx_ctl.clone(),
        http_01_port,
        https_port: installer.https_port,
        redirect: !installer.no_redirect,
        hsts: installer.hsts,
    })
}

/// `--nginx-server-root` must hold nginx.conf; checked before anything is sent.
pub(crate) fn nginx_settings(args: &NginxArgs) -> Result<(), Error> {
    check_nginx_ctl(&args.nginx_ctl)?;
    let conf = args.nginx_server_root.join("nginx.conf");
    if !conf.is_file() {
        return Err(InputError::NoNginxConf { conf }.into());
    }
    Ok(())
}

/// `--nginx-ctl` runs as root at install and at every renewal: refused (exit 2) when another
/// user could replace it, as hooks are. Taken whole when it is a file, else split as sh would.
fn check_nginx_ctl(ctl: &Path) -> Result<(), Error> {
    let text = ctl.to_string_lossy();
    let line = if ctl.is_file() {
        shlex::try_quote(&text)
            .map(|q| q.into_owned())
            .unwrap_or_default()
    } else {
        text.into_owned()
    };
    crate::ops::deploy::hooks::check_hook_location("--nginx-ctl", &line)
}
