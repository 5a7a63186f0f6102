//! `--webroot`, `-w DIR`, `--webroot-map`: each name with its document root.

use std::path::{Path, PathBuf};

use crate::config::{Authenticator, WebrootEntry};
use crate::error::{Error, InputError};
use crate::types::DomainName;

use crate::cli::AuthenticatorArgs;

/// A document root: an existing directory, made absolute.
pub(crate) fn canonical_webroot(p: &Path) -> Result<PathBuf, Error> {
    let bad_path = |problem: String| InputError::BadPath {
        flag: "webroot",
        path: p.to_path_buf(),
        problem,
    };
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::fs::canonicalize(p).map_err(|e| {
            InputError::UnusableFile {
                flag: "webroot",
                path: p.to_path_buf(),
                reason: e.to_string(),
            }
            .into()
        }),
        Ok(_) => Err(bad_path("is not a directory".into()).into()),
        Err(e) => Err(bad_path(format!("does not exist or is unreadable: {e}")).into()),
    }
}

/// `-w DIR -d NAME...` with `--webroot-map` winning for the names it lists; every name
/// needs a root.
pub(super) fn webroot_with_map(
    auth: &AuthenticatorArgs,
    domains: &[DomainName],
    webroot_index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    let mut result = webroot_authenticator(&auth.webroot_path, domains, webroot_index)?;
    if let Authenticator::Webroot { map } = &mut result {
        for (name, root) in webroot_map(auth.webroot_map.as_deref())? {
            let name: DomainName = name.parse()?;
            let root = canonical_webroot(&root)?;
            match map.iter_mut().find(|e| e.domain == name) {
                Some(e) => e.path = root,
                None => map.push(WebrootEntry {
                    domain: name,
                    path: root,
                }),
            }
        }
        if domains.iter().any(|d| !map.iter().any(|e| e.domain == *d)) {
            return Err(InputError::Needs {
                what: "--webroot".into(),
                needs: "a document root: -w DIR before the -d names".into(),
            }
            .into());
        }
    }
    Ok(result)
}

/// certbot's `--webroot-map '{"a.example.com,www.a.example.com": "/var/www/a"}'`: each
/// name with its document root, in the map's order.
pub(super) fn webroot_map(json: Option<&str>) -> Result<Vec<(String, PathBuf)>, Error> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let bad = |reason: String| InputError::BadFlag {
        flag: "--webroot-map",
        reason,
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    let mut out = Vec::new();
    for (names, root) in map {
        let root = root
            .as_str()
            .ok_or_else(|| bad(format!("the root of {names:?} is not a string")))?;
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            out.push((name.to_string(), PathBuf::from(root)));
        }
    }
    Ok(out)
}

fn webroot_authenticator(
    paths: &[PathBuf],
    domains: &[DomainName],
    index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    if paths.is_empty() {
        // Every name must then be in --webroot-map: the caller checks.
        return Ok(Authenticator::Webroot { map: Vec::new() });
    }
    let mut canonical = Vec::new();
    for p in paths {
        canonical.push(canonical_webroot(p)?);
    }
    let mut map = Vec::new();
    for (domain, idx) in domains.iter().zip(index) {
        // certbot: a name before any -w takes the first webroot.
        let path = canonical[idx.unwrap_or(0)].clone();
        map.push(WebrootEntry {
            domain: domain.clone(),
            path,
        });
    }
    Ok(Authenticator::Webroot { map })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{domains, input_error, path_in};
    use super::*;
    use crate::cli::Command;

    /// Parsed as `main` does (the `-w`/`-d` order is recorded there), without a cli.ini.
    fn certonly_webroot(args: &[&str]) -> Result<Authenticator, Error> {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = dir.path().display().to_string();
        let argv = ["certwright", "--config-dir", &config_dir]
            .iter()
            .chain(args)
            .map(std::ffi::OsString::from)
            .collect();
        let cli = crate::cli::parse(argv).unwrap();
        let Command::Certonly(a) = cli.command else {
            panic!("not certonly")
        };
        let domains = domains(&a.request.domains);
        webroot_with_map(&a.auth, &domains, &cli.webroots)
    }

    #[test]
    fn each_name_takes_the_webroot_before_it_or_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (path_in(&dir, "a"), path_in(&dir, "b"), path_in(&dir, "c"));
        for d in [&a, &b, &c] {
            std::fs::create_dir(d).unwrap();
        }
        let map = format!(r#"{{"z.example.com": "{c}"}}"#);
        let result = certonly_webroot(&[
            "certonly",
            "--webroot",
            "-w",
            &a,
            "-d",
            "x.example.com",
            "-w",
            &b,
            "-d",
            "y.example.com,z.example.com",
            "--webroot-map",
            &map,
        ])
        .unwrap();
        let Authenticator::Webroot { map } = result else {
            panic!("{result:?}")
        };
        let got: Vec<(String, PathBuf)> = map
            .iter()
            .map(|e| (e.domain.to_string(), e.path.clone()))
            .collect();
        let canonical = |p: &str| std::fs::canonicalize(p).unwrap();
        assert_eq!(
            got,
            [
                ("x.example.com".to_string(), canonical(&a)),
                ("y.example.com".to_string(), canonical(&b)),
                ("z.example.com".to_string(), canonical(&c)),
            ]
        );
    }

    #[test]
    fn missing_roots_and_bad_maps_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let gone = path_in(&dir, "gone");
        let e = input_error(certonly_webroot(&[
            "certonly",
            "--webroot",
            "-w",
            &gone,
            "-d",
            "a.example.com",
        ]));
        assert!(
            matches!(&e, InputError::BadPath { flag: "webroot", problem, .. } if problem.starts_with("does not exist or is unreadable")),
            "{e:?}"
        );
        let e = input_error(certonly_webroot(&[
            "certonly",
            "--webroot",
            "-d",
            "a.example.com",
        ]));
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--webroot"),
            "{e:?}"
        );
        let e = input_error(webroot_map(Some("[1]")));
        assert!(
            matches!(
                e,
                InputError::BadFlag {
                    flag: "--webroot-map",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = input_error(webroot_map(Some(r#"{"a.example.com": 1}"#)));
        assert_eq!(
            e.to_string(),
            r#"--webroot-map: the root of "a.example.com" is not a string"#
        );
        let file = path_in(&dir, "file");
        std::fs::write(&file, "").unwrap();
        let e = input_error(canonical_webroot(Path::new(&file)));
        assert_eq!(e.to_string(), format!("webroot {file} is not a directory"));
    }
}
