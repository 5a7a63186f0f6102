//! `certonly --csr FILE`: issue for a certificate signing request the user made. The names
//! come from the CSR, the key never reaches certwright, no lineage is created (certbot's
//! behaviour), and the certificate files go to --cert-path / --fullchain-path / --chain-path.

use std::path::{Path, PathBuf};

use crate::acme::keys::{self, UserCsr};
use crate::cli::CsrArgs;
use crate::config::IssuanceSettings;
use crate::error::{Error, InputError, StoreError};
use crate::types::DomainName;

use super::certonly::Request;
use super::obtain::{self, CsrSource};
use super::ui::print_stdout;
use super::Ctx;

/// A CSR read and checked, and where its certificate goes.
pub struct CsrOutput {
    pub csr: UserCsr,
    pub domains: Vec<DomainName>,
    pub cert_path: PathBuf,
    pub fullchain_path: Option<PathBuf>,
    pub chain_path: Option<PathBuf>,
}

/// Read `--csr` (None without it); its names must be valid domain names for http-01.
pub fn read(args: &CsrArgs) -> Result<Option<CsrOutput>, Error> {
    let Some(path) = &args.csr else {
        return Ok(None);
    };
    let bad = |reason: String| InputError::Other(format!("--csr {}: {reason}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let csr = keys::parse_csr(&bytes).map_err(bad)?;
    let mut domains: Vec<DomainName> = Vec::new();
    for raw in &csr.dns_names {
        let name: DomainName = raw.parse()?;
        if !domains.contains(&name) {
            domains.push(name);
        }
    }
    obtain::check_http01_names(&domains)?;
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
            return Err(InputError::Other(format!(
                "{}: its directory does not exist",
                p.display()
            ))
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

pub async fn execute(ctx: &Ctx, req: &Request, out: &CsrOutput) -> Result<(), Error> {
    let store = ctx.store();
    if req.email.is_none() && !req.without_email {
        let server_dir = req.server.account_dir_name();
        if store.find_account(&server_dir)?.is_none() {
            return Err(InputError::Other(
                "a new ACME account needs a contact: pass -m EMAIL, or --register-unsafely-without-email".into(),
            )
            .into());
        }
    }
    let issuance = IssuanceSettings {
        ip_addresses: out.csr.ip_addresses.clone(),
        ..req.issuance.settings(None)
    };
    let session = req.session();
    let issued = obtain::issue(
        &ctx.ui,
        &session,
        &store,
        &store,
        &req.obtain_request(ctx, &out.domains, &issuance),
        CsrSource::Given(&out.csr.der),
    )
    .await;
    session.shutdown().await;
    let issued = issued?;
    let (files, info) = obtain::check_chain(
        &issued.chain_pem,
        &out.csr.spki_der,
        &issued.domains,
        &issuance.ip_addresses,
    )?;
    write_public(&out.cert_path, &files.cert_pem)?;
    if let Some(p) = &out.fullchain_path {
        write_public(p, &files.fullchain_pem)?;
    }
    if let Some(p) = &out.chain_path {
        write_public(p, &files.chain_pem)?;
    }
    if req.json {
        let json = serde_json::json!({
            "schema": 1,
            "result": "issued",
            "domains": info.domains,
            "not_after": super::certonly::rfc3339(info.not_after),
            "paths": {
                "cert": out.cert_path,
                "fullchain": out.fullchain_path,
                "chain": out.chain_path,
            },
        });
        print_stdout(&format!("{json}\n"));
    } else if !ctx.global.quiet {
        let mut text = format!(
            "Successfully received certificate.\nCertificate is saved at: {}\n",
            out.cert_path.display()
        );
        if let Some(p) = &out.fullchain_path {
            text.push_str(&format!("Full chain is saved at:  {}\n", p.display()));
        }
        if let Some(p) = &out.chain_path {
            text.push_str(&format!("Chain is saved at:       {}\n", p.display()));
        }
        text.push_str(&format!(
            "This certificate expires on {}. It is not renewed automatically (--csr).\n",
            super::certonly::date(info.not_after)
        ));
        print_stdout(&text);
    }
    Ok(())
}

/// Certificates are public: 0644, written atomically.
fn write_public(path: &Path, pem: &str) -> Result<(), Error> {
    crate::fsutil::write_atomic(path, pem.as_bytes(), 0o644).map_err(|e| {
        StoreError::Io {
            action: "cannot write",
            path: path.to_path_buf(),
            source: e,
        }
        .into()
    })
}
