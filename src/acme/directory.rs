//! The ACME directory: the parts instant-acme does not expose (nonce URL, ARI, meta).

use serde::Deserialize;

use super::http::AcmeHttp;
use crate::error::AcmeError;
use crate::types::ServerUrl;

/// The parts of the directory instant-acme does not expose.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Directory {
    #[serde(default)]
    pub new_nonce: String,
    #[serde(default)]
    pub renewal_info: Option<String>,
    #[serde(default)]
    pub meta: DirectoryMeta,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DirectoryMeta {
    #[serde(default)]
    pub terms_of_service: Option<String>,
    /// The issuer domains CAA records name this CA by (RFC 8555 7.1.1).
    #[serde(default)]
    pub caa_identities: Vec<String>,
    #[serde(default)]
    pub external_account_required: bool,
}

/// Fetch the directory once, before any account exists, to learn the terms URL and
/// whether ARI is offered.
pub(crate) async fn fetch_directory(
    http: &AcmeHttp,
    server: &ServerUrl,
) -> Result<Directory, AcmeError> {
    Ok(fetch_directory_dated(http, server).await?.0)
}

/// The directory and the server's `Date` header (for `doctor`'s clock check).
pub(crate) async fn fetch_directory_dated(
    http: &AcmeHttp,
    server: &ServerUrl,
) -> Result<(Directory, Option<String>), AcmeError> {
    let (status, headers, body) = http.get(server.as_str()).await?;
    if status != 200 {
        return Err(AcmeError::Protocol(format!(
            "the ACME directory {server} answered HTTP {status}"
        )));
    }
    let date = headers
        .get(::http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let directory = serde_json::from_slice(&body)
        .map_err(|e| AcmeError::Protocol(format!("{server} is not an ACME directory: {e}")))?;
    Ok((directory, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_meta_is_read() {
        let json = r#"{"newNonce":"https://x/n","newAccount":"https://x/a","newOrder":"https://x/o",
            "renewalInfo":"https://x/ari","meta":{"termsOfService":"https://x/tos","externalAccountRequired":true}}"#;
        let d: Directory = serde_json::from_str(json).unwrap();
        assert_eq!(d.renewal_info.as_deref(), Some("https://x/ari"));
        assert_eq!(d.meta.terms_of_service.as_deref(), Some("https://x/tos"));
        assert!(d.meta.external_account_required);
        let bare: Directory = serde_json::from_str(r#"{"newNonce":"n"}"#).unwrap();
        assert!(bare.renewal_info.is_none());
    }
}
