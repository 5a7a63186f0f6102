//! `certonly --csr FILE`: issue for a certificate signing request the user made. The names
//! come from the CSR, the key never reaches certwright, no lineage is created (certbot's
//! behaviour), and the certificate files go to --cert-path / --fullchain-path / --chain-path.

use std::path::{Path, PathBuf};

use crate::acme::keys::UserCsr;
use crate::config::IssuanceSettings;
use crate::error::{Error, StoreError};
use crate::types::DomainName;

use crate::ops::issue::certify::Request;
use crate::ops::issue::{self, CsrSource};
use crate::ops::output::{date, print_stdout, rfc3339};
use crate::ops::Ctx;

/// A CSR read and checked, and where its certificate goes.
pub(crate) struct CsrOutput {
    pub csr: UserCsr,
    pub domains: Vec<DomainName>,
    pub cert_path: PathBuf,
    pub fullchain_path: Option<PathBuf>,
    pub chain_path: Option<PathBuf>,
}

pub(crate) async fn execute(ctx: &Ctx, req: &Request, out: &CsrOutput) -> Result<(), Error> {
    let store = ctx.store();
    req.check_contact(&store)?;
    let issuance = IssuanceSettings {
        ip_addresses: out.csr.ip_addresses.clone(),
        ..req.issuance.settings(None)
    };
    let session = req.session();
    let issued = issue::issue(
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
    let (files, info) = issue::check_chain(
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
            "not_after": rfc3339(info.not_after),
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
            date(info.not_after)
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
