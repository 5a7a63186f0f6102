//! `--csr` with `--cert-path`, `--fullchain-path`, `--chain-path`.

use crate::acme::keys;
use crate::error::{Error, InputError};
use crate::ops::issue::csr::CsrOutput;
use crate::types::DomainName;

use crate::cli::CsrArgs;

use super::{check_http01_names, read_public};

/// Read `--csr` (None without it); its names must be valid domain names for http-01.
pub(crate) fn csr(args: &CsrArgs) -> Result<Option<CsrOutput>, Error> {
    let Some(path) = &args.csr else {
        return Ok(None);
    };
    let bad = |reason: String| InputError::UnusableFile {
        flag: "--csr",
        path: path.clone(),
        reason,
    };
    let bytes = read_public(path).map_err(bad)?;
    let csr = keys::parse_csr(&bytes).map_err(bad)?;
    let mut domains: Vec<DomainName> = Vec::new();
    for raw in &csr.dns_names {
        let name: DomainName = raw.parse()?;
        if !domains.contains(&name) {
            domains.push(name);
        }
    }
    check_http01_names(&domains)?;
    let cert_path = args
        .cert_path
        .clone()
        .ok_or_else(|| bad("--cert-path is needed".into()))?;
    for p in [
        Some(&cert_path),
        args.fullchain_path.as_ref(),
        args.chain_path.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(InputError::Path {
                path: p.clone(),
                reason: "its directory does not exist".into(),
            }
            .into());
        }
    }
    Ok(Some(CsrOutput {
        csr,
        domains,
        cert_path,
        fullchain_path: args.fullchain_path.clone(),
        chain_path: args.chain_path.clone(),
    }))
}
