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

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse, path_in};
    use super::*;
    use crate::cli::Command;

    fn install_args(args: &[&str]) -> crate::cli::InstallArgs {
        let Command::Install(a) = parse(args).command else {
            panic!("not install")
        };
        a
    }

    #[test]
    fn nginx_and_installer_flags_resolve_to_the_installer() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), "events {}\n").unwrap();
        let root = dir.path().display().to_string();
        let a = install_args(&[
            "install",
            "--nginx",
            "--cert-name",
            "a.example.com",
            "--nginx-server-root",
            &root,
            "--nginx-path-map",
            "/srv/certs=/etc/certs",
            "--https-port",
            "8443",
            "--no-redirect",
            "--hsts",
        ]);
        nginx_settings(&a.nginx_args).unwrap();
        let Installer::Nginx {
            server_root,
            https_port,
            redirect,
            hsts,
            path_map,
            ..
        } = installer(&a.nginx_args, &a.installer, a.http_01_port).unwrap();
        assert_eq!(server_root, dir.path());
        assert_eq!((https_port, redirect, hsts), (8443, false, true));
        assert!(!path_map.is_empty());
    }

    #[test]
    fn a_root_without_nginx_conf_and_a_bad_path_map_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let a = install_args(&["install", "--cert-name", "a", "--nginx-server-root", &root]);
        let e = input_error(nginx_settings(&a.nginx_args));
        assert!(
            matches!(&e, InputError::NoNginxConf { conf } if *conf == dir.path().join("nginx.conf")),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "no nginx configuration at {} (set --nginx-server-root)",
                path_in(&dir, "nginx.conf")
            )
        );
        let a = install_args(&[
            "install",
            "--cert-name",
            "a",
            "--nginx-path-map",
            "relative=/x",
        ]);
        let e = input_error(installer(&a.nginx_args, &a.installer, 80));
        assert!(
            matches!(&e, InputError::BadValue { flag: "--nginx-path-map", value, .. } if value == "relative=/x"),
            "{e:?}"
        );
    }
}
