//! The `--deploy-*` flags: PKCS#12, combined PEM and directory copies.

use std::path::{Path, PathBuf};

use crate::config::{DeployTargets, DirTarget, Pkcs12Target};
use crate::error::{Error, InputError};

use crate::cli::DeployArgs;

/// The `--deploy-*` flags, checked as a deploy would (password file 0600, owner exists,
/// directory not writable by others); `None` when none is given (the saved ones stay).
pub(crate) fn deploy_targets(args: &DeployArgs) -> Result<Option<DeployTargets>, Error> {
    let absolute = |flag: &'static str, p: &Path| {
        if p.is_absolute() {
            Ok(p.to_path_buf())
        } else {
            Err(Error::from(InputError::BadPath {
                flag,
                path: p.to_path_buf(),
                problem: "must be an absolute path (renewals run elsewhere)".into(),
            }))
        }
    };
    let pkcs12 = match (&args.deploy_pkcs12, &args.deploy_pkcs12_password_file) {
        (Some(path), Some(file)) => Some(Pkcs12Target {
            path: absolute("--deploy-pkcs12", path)?,
            password_file: absolute("--deploy-pkcs12-password-file", file)?,
        }),
        _ => None,
    };
    let combined = args
        .deploy_combined
        .as_deref()
        .map(|p| absolute("--deploy-combined", p))
        .transpose()?;
    let dir = match (&args.deploy_dir, &args.deploy_owner) {
        (Some(path), Some(owner)) => Some(dir_target(
            absolute("--deploy-dir", path)?,
            owner,
            args.deploy_mode.as_deref(),
        )?),
        _ => None,
    };
    let targets = DeployTargets {
        pkcs12,
        combined,
        dir,
    };
    if targets.is_empty() {
        return Ok(None);
    }
    crate::ops::deploy::targets::check(&targets)
        .map_err(|reason| InputError::DeployTarget { reason })?;
    Ok(Some(targets))
}

/// `--deploy-dir`, `--deploy-owner USER[:GROUP]` and `--deploy-mode` (octal, default 0640).
fn dir_target(path: PathBuf, owner: &str, mode: Option<&str>) -> Result<DirTarget, Error> {
    let (user, group) = match owner.split_once(':') {
        Some((u, g)) => (u, Some(g.to_string())),
        None => (owner, None),
    };
    let mode = mode.unwrap_or("0640");
    let mode = u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| InputError::NotA {
            flag: "--deploy-mode",
            value: mode.to_string(),
            expected: "an octal mode",
        })?;
    if user.is_empty() || group.as_deref() == Some("") {
        return Err(InputError::BadValue {
            flag: "--deploy-owner",
            value: owner.to_string(),
            reason: "expected USER or USER:GROUP".into(),
        }
        .into());
    }
    Ok(DirTarget {
        path,
        owner: user.to_string(),
        group,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse, path_in};
    use super::*;
    use crate::cli::Command;

    fn install_deploy(args: &[&str]) -> Result<Option<DeployTargets>, Error> {
        let Command::Install(a) = parse(args).command else {
            panic!("not install")
        };
        deploy_targets(&a.deploy)
    }

    #[test]
    fn deploy_flags_resolve_to_targets() {
        let dir = tempfile::tempdir().unwrap();
        let combined = path_in(&dir, "combined.pem");
        let t = install_deploy(&[
            "install",
            "--cert-name",
            "a",
            "--deploy-combined",
            &combined,
        ])
        .unwrap()
        .expect("deploy targets");
        assert_eq!(t.combined, Some(PathBuf::from(&combined)));
        assert!(t.pkcs12.is_none() && t.dir.is_none());
        assert!(install_deploy(&["install", "--cert-name", "a"])
            .unwrap()
            .is_none());
        let d = dir_target(PathBuf::from("/srv/tls"), "root:root", Some("0600")).unwrap();
        assert_eq!(
            (d.owner.as_str(), d.group.as_deref(), d.mode),
            ("root", Some("root"), 0o600)
        );
    }

    #[test]
    fn relative_paths_bad_modes_and_owners_are_refused() {
        let e = input_error(install_deploy(&[
            "install",
            "--cert-name",
            "a",
            "--deploy-combined",
            "combined.pem",
        ]));
        assert!(
            matches!(
                e,
                InputError::BadPath {
                    flag: "--deploy-combined",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "--deploy-combined combined.pem must be an absolute path (renewals run elsewhere)"
        );
        let e = input_error(install_deploy(&[
            "install",
            "--cert-name",
            "a",
            "--deploy-dir",
            "/srv/tls",
            "--deploy-owner",
            "root",
            "--deploy-mode",
            "0899",
        ]));
        assert!(
            matches!(&e, InputError::NotA { flag: "--deploy-mode", value, .. } if value == "0899"),
            "{e:?}"
        );
        let e = input_error(dir_target(PathBuf::from("/srv/tls"), ":grp", None));
        assert!(
            matches!(
                e,
                InputError::BadValue {
                    flag: "--deploy-owner",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = input_error(install_deploy(&[
            "install",
            "--cert-name",
            "a",
            "--deploy-combined",
            "/no/such/dir/combined.pem",
        ]));
        assert!(matches!(e, InputError::DeployTarget { .. }), "{e:?}");
    }
}
