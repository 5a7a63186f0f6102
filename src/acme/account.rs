//! The account: register (with EAB), restore from stored credentials, contacts, key
//! rollover, deactivation and revocation.

use std::sync::Arc;

use instant_acme::{
    Account, AccountCredentials, ExternalAccountKey, NewAccount, RevocationReason,
    RevocationRequest,
};
use rustls_pki_types::CertificateDer;

use super::http::AcmeHttp;
use super::jws;
use super::problem::convert;
use super::retry::{pause_before_retry, retryable};
use crate::error::AcmeError;
use crate::types::ServerUrl;

/// A registered account, ready to order.
#[derive(Clone)]
pub(crate) struct AcmeAccount {
    pub(super) inner: Account,
    http: AcmeHttp,
    /// For the POST-as-GET requests instant-acme does not expose (alternate chains).
    post_as_get: Option<Arc<jws::PostAsGet>>,
    /// An RSA account's thumbprint: instant-acme's is its stand-in key's.
    rsa_thumbprint: Option<String>,
}

/// instant-acme credentials with the same id and directory and a fresh P-256 stand-in key
/// (what it signs with before `jws::Resigner` signs again with the RSA key).
fn stand_in_credentials(credentials_json: &str) -> Result<String, AcmeError> {
    let mut c: serde_json::Value = serde_json::from_str(credentials_json).map_err(unreadable)?;
    let (_, pkcs8) = instant_acme::Key::generate_pkcs8().map_err(unreadable)?;
    use base64::Engine;
    c["key_pkcs8"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(pkcs8.secret_pkcs8_der())
        .into();
    Ok(c.to_string())
}

/// Stored credentials that cannot be used.
fn unreadable(e: impl std::fmt::Display) -> AcmeError {
    AcmeError::Protocol(format!("stored account is unreadable: {e}"))
}

impl AcmeAccount {
    /// Register a new account. Returns it and its credentials as JSON (a secret: it holds
    /// the account key; the caller stores it 0600 and never logs it).
    #[cfg(test)]
    pub(crate) async fn register(
        http: &AcmeHttp,
        server: &ServerUrl,
        email: Option<&str>,
    ) -> Result<(Self, String), AcmeError> {
        let contact: Vec<String> = email.map(|e| format!("mailto:{e}")).into_iter().collect();
        Self::register_bound(http, server, &contact, None).await
    }

    /// `register`, bound to an account at the CA when `external` is given (RFC 8555 7.3.4).
    pub(crate) async fn register_bound(
        http: &AcmeHttp,
        server: &ServerUrl,
        contact: &[String],
        external: Option<&ExternalAccount>,
    ) -> Result<(Self, String), AcmeError> {
        let external_key = external.map(|e| ExternalAccountKey::new(e.kid.clone(), &e.hmac));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let mut attempt = 0;
        let (account, credentials) = loop {
            attempt += 1;
            let result = Account::builder_with_http(Box::new(http.clone()))
                .create(
                    &NewAccount {
                        contact: &contacts,
                        terms_of_service_agreed: true,
                        only_return_existing: false,
                    },
                    server.as_str().to_string(),
                    external_key.as_ref(),
                )
                .await;
            match result {
                Ok(ok) => break ok,
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(e) => return Err(convert(e, server.as_str())),
            }
        };
        let json = serde_json::to_string(&credentials)
            .map_err(|e| AcmeError::Protocol(format!("cannot serialise credentials: {e}")))?;
        Ok((Self::wrap(account, http, &json), json))
    }

    /// Restore an account from stored credentials JSON. An RSA account key (imported from
    /// certbot) is signed with through `jws::Resigner`.
    pub(crate) async fn restore(
        http: &AcmeHttp,
        credentials_json: &str,
    ) -> Result<Self, AcmeError> {
        let rsa = match jws::AccountKey::from_credentials(credentials_json) {
            Some(key @ jws::AccountKey::Rs256(_)) => Some(Arc::new(key)),
            _ => None,
        };
        let (json, transport, thumbprint) = match &rsa {
            None => (credentials_json.to_string(), http.clone(), None),
            Some(key) => (
                stand_in_credentials(credentials_json)?,
                http.resigning(key.clone()),
                key.rsa_thumbprint(),
            ),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let credentials: AccountCredentials =
                serde_json::from_str(&json).map_err(unreadable)?;
            match Account::builder_with_http(Box::new(transport.clone()))
                .from_credentials(credentials)
                .await
            {
                Ok(inner) => {
                    let mut account = Self::wrap(inner, http, credentials_json);
                    account.rsa_thumbprint = thumbprint;
                    return Ok(account);
                }
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(e) => return Err(convert(e, "the ACME server")),
            }
        }
    }

    fn wrap(inner: Account, http: &AcmeHttp, credentials_json: &str) -> Self {
        Self {
            inner,
            http: http.clone(),
            post_as_get: jws::PostAsGet::from_credentials(credentials_json).map(Arc::new),
            rsa_thumbprint: None,
        }
    }

    /// The profiles the CA's directory offers (`meta.profiles`), by name.
    pub(crate) fn profiles(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.profiles().map(|p| p.name.to_string()).collect();
        names.sort();
        names
    }

    /// The CA's alternate chains for a certificate (PEM each, leaf first), from the
    /// `Link: rel="alternate"` headers of its URL (RFC 8555 section 7.4.2).
    pub(crate) async fn alternate_chains(
        &self,
        certificate_url: &str,
    ) -> Result<Vec<String>, AcmeError> {
        let Some(signer) = &self.post_as_get else {
            return Err(AcmeError::Protocol(
                "the stored account credentials cannot sign requests for alternate chains".into(),
            ));
        };
        let fetch_pem = |url: String| async move {
            let (status, headers, body) = signer.fetch(&self.http, &url).await?;
            if status != 200 {
                return Err(AcmeError::Protocol(format!(
                    "certificate {url} answered HTTP {status}"
                )));
            }
            let pem = String::from_utf8(body.to_vec())
                .map_err(|_| AcmeError::Protocol(format!("certificate {url} is not PEM text")))?;
            Ok::<_, AcmeError>((headers, pem))
        };
        let (headers, _) = fetch_pem(certificate_url.to_string()).await?;
        let mut chains = Vec::new();
        for url in jws::alternate_links(&headers) {
            chains.push(fetch_pem(url).await?.1);
        }
        Ok(chains)
    }

    /// The account URL, which is also its identity at the CA.
    pub(crate) fn url(&self) -> &str {
        self.inner.id()
    }

    /// RFC 7638 thumbprint of the account key (base64url).
    pub(crate) fn key_thumbprint(&self) -> &str {
        self.rsa_thumbprint
            .as_deref()
            .unwrap_or_else(|| self.inner.key_thumbprint())
    }

    /// Replace the account's contacts at the CA (`mailto:` URLs).
    pub(crate) async fn update_email(&self, contact: &[String]) -> Result<(), AcmeError> {
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.inner.update_contacts(&contacts).await {
                Ok(()) => return Ok(()),
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(e) => return Err(convert(e, "account update")),
            }
        }
    }

    /// Roll the account over to a new key. Returns the new credentials JSON, which the
    /// caller must persist before anything else: the old key no longer works.
    pub(crate) async fn rollover_key(&mut self) -> Result<String, AcmeError> {
        if self.rsa_thumbprint.is_some() {
            return Err(AcmeError::Protocol(
                "key rollover of an RSA account (carried over from certbot) is not supported; \
                 register a new account instead"
                    .into(),
            ));
        }
        // Not retried: a keyChange whose answer was lost may have gone through, and a
        // second one would be signed with a key the CA no longer knows.
        let credentials = self
            .inner
            .update_key()
            .await
            .map_err(|e| convert(e, "key rollover"))?;
        serde_json::to_string(&credentials)
            .map_err(|e| AcmeError::Protocol(format!("cannot serialise credentials: {e}")))
    }

    /// Deactivate the account. instant-acme does not read the CA's answer to the
    /// deactivation, so it is confirmed by a contact update the CA must then refuse
    /// (`contact` is the account's current contact URLs, so an update that went through
    /// changes nothing).
    pub(crate) async fn deactivate(self, contact: &[String]) -> Result<(), AcmeError> {
        let probe = self.clone();
        self.inner
            .deactivate()
            .await
            .map_err(|e| convert(e, "account deactivation"))?;
        match probe.update_email(contact).await {
            Err(AcmeError::Problem(p)) if p.short_kind() == "unauthorized" => Ok(()),
            Err(AcmeError::Problem(p)) if p.status == Some(403) => Ok(()),
            Ok(()) => Err(AcmeError::Protocol(
                "the CA still accepts the account after deactivating it".into(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Revoke a certificate (DER of the leaf) with this account.
    pub(crate) async fn revoke(
        &self,
        leaf_der: &[u8],
        reason: RevokeReason,
    ) -> Result<(), AcmeError> {
        let certificate = CertificateDer::from(leaf_der.to_vec());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = RevocationRequest {
                certificate: &certificate,
                reason: Some(reason.into()),
            };
            match self.inner.revoke(&request).await {
                Ok(()) => return Ok(()),
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(e) => return Err(convert(e, "revocation")),
            }
        }
    }
}

/// External Account Binding credentials: the CA's key id and the decoded HMAC key.
/// A secret: Debug shows only the key id.
pub(crate) struct ExternalAccount {
    pub kid: String,
    hmac: Vec<u8>,
}

impl ExternalAccount {
    pub(crate) fn new(kid: String, hmac: Vec<u8>) -> Self {
        Self { kid, hmac }
    }
}

impl std::fmt::Debug for ExternalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalAccount")
            .field("kid", &self.kid)
            .field("hmac", &"<redacted>")
            .finish()
    }
}

/// RFC 5280 revocation reasons a subscriber may give (Let's Encrypt accepts these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
}

impl From<RevokeReason> for RevocationReason {
    fn from(r: RevokeReason) -> Self {
        match r {
            RevokeReason::Unspecified => RevocationReason::Unspecified,
            RevokeReason::KeyCompromise => RevocationReason::KeyCompromise,
            RevokeReason::AffiliationChanged => RevocationReason::AffiliationChanged,
            RevokeReason::Superseded => RevocationReason::Superseded,
            RevokeReason::CessationOfOperation => RevocationReason::CessationOfOperation,
        }
    }
}
