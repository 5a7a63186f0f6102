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

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse, path_in};
    use super::*;
    use crate::cli::Command;
    use crate::types::KeyType;
    use std::path::PathBuf;

    fn certonly_csr(args: &[&str]) -> Result<Option<CsrOutput>, Error> {
        let Command::Certonly(a) = parse(args).command else {
            panic!("not certonly")
        };
        csr(&a.csr)
    }

    /// A DER CSR for a.example.com at `file`; its names.
    fn write_csr(file: &str) -> Vec<DomainName> {
        let names: Vec<DomainName> = vec!["a.example.com".parse().unwrap()];
        let made = keys::new_key_and_csr(&names, &[], KeyType::default()).unwrap();
        std::fs::write(file, &made.csr_der).unwrap();
        names
    }

    #[test]
    fn a_csr_gives_its_names_and_the_output_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = path_in(&dir, "req.der");
        let names = write_csr(&file);
        let cert = path_in(&dir, "cert.pem");
        let out = certonly_csr(&["certonly", "--csr", &file, "--cert-path", &cert])
            .unwrap()
            .expect("a CSR");
        assert_eq!(out.domains, names);
        assert_eq!(out.cert_path, PathBuf::from(&cert));
        assert!(out.fullchain_path.is_none());
        assert!(certonly_csr(&["certonly", "-d", "a.example.com"])
            .unwrap()
            .is_none());
    }

    #[test]
    fn unreadable_csrs_and_missing_output_dirs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = path_in(&dir, "req.der");
        let cert = path_in(&dir, "cert.pem");
        let line = ["certonly", "--csr", &file, "--cert-path", &cert];
        let e = input_error(certonly_csr(&line));
        assert!(
            matches!(&e, InputError::UnusableFile { flag: "--csr", path, .. } if path == std::path::Path::new(&file)),
            "{e:?}"
        );
        std::fs::write(&file, b"hello").unwrap();
        let e = input_error(certonly_csr(&line));
        assert!(
            matches!(e, InputError::UnusableFile { flag: "--csr", .. }),
            "{e:?}"
        );
        write_csr(&file);
        let nowhere = path_in(&dir, "no/such/dir/cert.pem");
        let e = input_error(certonly_csr(&[
            "certonly",
            "--csr",
            &file,
            "--cert-path",
            &nowhere,
        ]));
        assert_eq!(
            e.to_string(),
            format!("{nowhere}: its directory does not exist")
        );
    }
}
