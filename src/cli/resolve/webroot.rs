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
