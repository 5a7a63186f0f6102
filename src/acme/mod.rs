//! ACME protocol use on top of instant-acme: directory, account, order, validation,
//! finalize, download. Never touches disk or nginx: the caller persists what it returns and
//! publishes the challenges it is handed.

mod http;
mod jws;
pub(crate) mod keys;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, CertificateIdentifier, ChallengeType,
    ExternalAccountKey, Identifier, NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
    RevocationReason, RevocationRequest,
};
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

pub(crate) use http::AcmeHttp;

use crate::error::{AcmeError, Problem};
use crate::types::{DomainName, ServerUrl};

/// How often one step is retried on its own after instant-acme's three badNonce retries
/// are used up (a CA rejecting many nonces is a passing condition, not a verdict).
const STEP_ATTEMPTS: u32 = 6;
/// Attempts of one step the CA answered with `serverInternal`, waiting `SERVER_ERROR_BACKOFF`,
/// then twice that, between them (3 s in all).
const SERVER_ERROR_ATTEMPTS: u32 = 3;
const SERVER_ERROR_BACKOFF: Duration = Duration::from_secs(1);

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

/// A registered account, ready to order.
#[derive(Clone)]
pub(crate) struct AcmeAccount {
    inner: Account,
    http: AcmeHttp,
    /// For the POST-as-GET requests instant-acme does not expose (alternate chains).
    post_as_get: Option<Arc<jws::PostAsGet>>,
    /// An RSA account's thumbprint: instant-acme's is its stand-in key's.
    rsa_thumbprint: Option<String>,
}

/// instant-acme credentials with the same id and directory and a fresh P-256 stand-in key
/// (what it signs with before `jws::Resigner` signs again with the RSA key).
fn stand_in_credentials(credentials_json: &str) -> Result<String, String> {
    let mut c: serde_json::Value =
        serde_json::from_str(credentials_json).map_err(|e| e.to_string())?;
    let (_, pkcs8) = instant_acme::Key::generate_pkcs8().map_err(|e| e.to_string())?;
    use base64::Engine;
    c["key_pkcs8"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(pkcs8.secret_pkcs8_der())
        .into();
    Ok(c.to_string())
}

/// What to order: names, IP addresses (RFC 8738), the certificate replaced (ARI), and the
/// profile (already checked against the directory by the caller).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OrderSpec<'a> {
    pub names: &'a [DomainName],
    pub ip_addresses: &'a [IpAddr],
    pub replaces: Option<&'a AriCertId>,
    pub profile: Option<&'a str>,
    /// Which challenge type to collect and answer.
    pub challenge: ChallengeKind,
    /// Dry runs: deactivate the authorizations the CA hands back already valid and order
    /// again, so every name is validated for real (as certbot's `--dry-run` does).
    pub revalidate: bool,
    /// Set on that second order: an authorization still valid then is an error, not a skip.
    pub revalidated: bool,
}

pub(crate) use crate::types::ChallengeKind;

/// instant-acme's name for the challenge type.
fn acme_type(kind: ChallengeKind) -> ChallengeType {
    match kind {
        ChallengeKind::Http01 => ChallengeType::Http01,
        ChallengeKind::Dns01 => ChallengeType::Dns01,
    }
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
        let unreadable = |e: &dyn std::fmt::Display| {
            AcmeError::Protocol(format!("stored account is unreadable: {e}"))
        };
        let rsa = match jws::AccountKey::from_credentials(credentials_json) {
            Some(key @ jws::AccountKey::Rs256(_)) => Some(Arc::new(key)),
            _ => None,
        };
        let (json, transport, thumbprint) = match &rsa {
            None => (credentials_json.to_string(), http.clone(), None),
            Some(key) => (
                stand_in_credentials(credentials_json).map_err(|e| unreadable(&e))?,
                http.resigning(key.clone()),
                key.rsa_thumbprint(),
            ),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let credentials: AccountCredentials =
                serde_json::from_str(&json).map_err(|e| unreadable(&e))?;
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

    /// Create an order and collect the challenges to answer. With `replaces`, an
    /// ARI-capable CA is told which certificate this one replaces; `replaces` never blocks a
    /// renewal: an order the CA returns without it is used as it is, and a refusal of it
    /// (already replaced, issued to another account, malformed...) is answered by ordering
    /// once more without it. Both are logged as warnings.
    pub(crate) async fn new_order_for(
        &self,
        spec: &OrderSpec<'_>,
    ) -> Result<PendingOrder, AcmeError> {
        let identifiers: Vec<Identifier> = spec
            .names
            .iter()
            .map(|n| Identifier::Dns(n.as_str().to_string()))
            .chain(spec.ip_addresses.iter().map(|ip| Identifier::Ip(*ip)))
            .collect();
        let mut replaces = spec.replaces.map(|r| CertificateIdentifier {
            authority_key_identifier: r.aki_b64.clone().into(),
            serial: r.serial_b64.clone().into(),
        });
        let mut attempt = 0;
        let mut order = loop {
            attempt += 1;
            let mut request = NewOrder::new(&identifiers);
            if let Some(r) = &replaces {
                request = request.replaces(r.clone());
            }
            if let Some(profile) = spec.profile {
                request = request.profile(profile);
            }
            let (result, captured) = http::with_capture(self.inner.new_order(&request)).await;
            match result {
                Ok(order) => break order,
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(e) if replaces.is_some() && replaces_refused(&e) => {
                    replaces = None;
                    if let Some(order) = self.unreflected_replaces(&e, captured.created).await {
                        break order;
                    }
                }
                Err(e) => return Err(convert(e, "newOrder")),
            }
        };
        if spec.revalidate && deactivate(&mut order, AuthorizationStatus::Valid).await? > 0 {
            // The order counted the deactivated authorizations: a new one gets fresh ones.
            return Box::pin(self.new_order_for(&OrderSpec {
                replaces: spec.replaces.filter(|_| replaces.is_some()),
                revalidate: false,
                revalidated: true,
                ..*spec
            }))
            .await;
        }
        let challenges = collect_challenges(&mut order, spec, self.key_thumbprint()).await?;
        Ok(PendingOrder {
            order,
            challenges,
            kind: spec.challenge,
        })
    }

    /// After a `replaces` problem: the order the CA created anyway when it only failed to
    /// reflect `replaces` (found by its URL), else None to order again without it.
    async fn unreflected_replaces(
        &self,
        e: &instant_acme::Error,
        created: Option<String>,
    ) -> Option<Order> {
        let mismatch = matches!(e, instant_acme::Error::Other(_));
        if let (true, Some(url)) = (mismatch, created) {
            tracing::warn!(
                "the CA created order {url} without the \"replaces\" sent (RFC 9773 section 5); \
                 going on with it"
            );
            match self.inner.order(url.clone()).await {
                Ok(order) => return Some(order),
                Err(e) => tracing::warn!("cannot read order {url} again ({e}); ordering anew"),
            }
        }
        tracing::warn!("the CA refused the order's \"replaces\" ({e}); ordering again without it");
        None
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

/// RFC 9773 certificate identifier parts, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AriCertId {
    pub aki_b64: String,
    pub serial_b64: String,
}

impl AriCertId {
    /// From the leaf's authority key identifier and the DER content of its serial.
    pub(crate) fn new(authority_key_id: &[u8], serial_der: &[u8]) -> Self {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Self {
            aki_b64: b64.encode(authority_key_id),
            serial_b64: b64.encode(serial_der),
        }
    }

    /// `<aki>.<serial>`, the path segment of a renewalInfo URL.
    pub(crate) fn path_segment(&self) -> String {
        format!("{}.{}", self.aki_b64, self.serial_b64)
    }
}

/// The raw renewalInfo answer: body for the schedule module to parse, and Retry-After.
pub(crate) struct RenewalInfoResponse {
    pub body: Vec<u8>,
    pub retry_after: Option<String>,
}

/// GET `<renewalInfo>/<aki>.<serial>` (unauthenticated, RFC 9773 section 4.1).
pub(crate) async fn fetch_renewal_info(
    http: &AcmeHttp,
    renewal_info_url: &str,
    id: &AriCertId,
) -> Result<RenewalInfoResponse, AcmeError> {
    let url = format!(
        "{}/{}",
        renewal_info_url.trim_end_matches('/'),
        id.path_segment()
    );
    let (status, headers, body) = http.get(&url).await?;
    if status != 200 {
        return Err(AcmeError::Protocol(format!(
            "renewalInfo {url} answered HTTP {status}"
        )));
    }
    Ok(RenewalInfoResponse {
        body: body.to_vec(),
        retry_after: headers
            .get(::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    })
}

/// Whether a newOrder failure is about `replaces`: a problem naming it (any type: CAs say
/// `alreadyReplaced`, `unauthorized`, `malformed`, or their own), instant-acme's check that
/// the CA reflected it, or ARI missing from the directory.
fn replaces_refused(e: &instant_acme::Error) -> bool {
    match e {
        instant_acme::Error::Api(p) => {
            p.r#type.as_deref() == Some("urn:ietf:params:acme:error:alreadyReplaced")
                || p.detail
                    .as_deref()
                    .is_some_and(|d| d.to_ascii_lowercase().contains("replace"))
        }
        instant_acme::Error::Other(b) => b.to_string().contains("replaces field mismatch"),
        instant_acme::Error::Unsupported(_) => true,
        _ => false,
    }
}

/// One challenge to publish before validation: HTTP-01 serves `key_authorization` at
/// `token`; DNS-01 publishes `dns_value` as TXT (the name is kept from the HTTP-01 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Http01Challenge {
    /// As ordered: a wildcard keeps its `*.`.
    pub identifier: String,
    pub token: String,
    pub key_authorization: String,
    /// base64url(SHA-256(key_authorization)), the DNS-01 TXT value.
    pub dns_value: String,
}

/// An order whose challenges the caller publishes before calling `validate`.
pub(crate) struct PendingOrder {
    order: Order,
    pub challenges: Vec<Http01Challenge>,
    kind: ChallengeKind,
}

impl PendingOrder {
    /// Where the issued certificate is (after `finalize`).
    pub(crate) fn certificate_url(&mut self) -> Option<String> {
        self.order.state().certificate.clone()
    }

    /// Give the order up: deactivate its pending authorizations so they do not linger at
    /// the CA (counting against pending-authorization limits). Best effort: logged, not
    /// returned, as the caller is already reporting why it gave up.
    pub(crate) async fn abandon(&mut self) {
        if let Err(e) = deactivate(&mut self.order, AuthorizationStatus::Pending).await {
            tracing::warn!(
                "could not deactivate the pending authorizations of abandoned order {}: {e}",
                self.order.url()
            );
        }
    }

    /// After a failed `validate`: the identifiers whose authorization is invalid.
    pub(crate) async fn invalid_identifiers(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut authorizations = self.order.authorizations();
        while let Some(Ok(mut authz)) = authorizations.next().await {
            if authz.status == AuthorizationStatus::Pending {
                // Validation of this one may still be running when the order turned invalid.
                for _ in 0..50 {
                    match authz.refresh().await {
                        Ok(s) if s.status != AuthorizationStatus::Pending => break,
                        Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                        Err(_) => break,
                    }
                }
            }
            if authz.status == AuthorizationStatus::Invalid {
                out.push(authz.identifier().to_string());
            }
        }
        out
    }

    /// Tell the CA every challenge is ready and wait (at most `deadline`) until the order is
    /// ready to finalize. A failed validation names the identifier and the CA's detail.
    pub(crate) async fn validate(&mut self, deadline: Duration) -> Result<(), AcmeError> {
        let tokens: Vec<String> = self.challenges.iter().map(|c| c.token.clone()).collect();
        for token in &tokens {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = set_ready(&mut self.order, token, self.kind).await;
                match result {
                    Ok(()) => break,
                    Err(e) if retryable(&e, attempt) => {
                        pause_before_retry(&e, attempt).await;
                        continue;
                    }
                    Err(e) => return Err(convert(e, "challenge")),
                }
            }
        }
        let policy = RetryPolicy::new()
            .initial_delay(Duration::from_millis(20))
            .backoff(1.5)
            .timeout(deadline);
        let mut attempt = 0;
        let status = loop {
            attempt += 1;
            match self.order.poll_ready(&policy).await {
                Ok(status) => break status,
                Err(instant_acme::Error::Timeout(_)) => {
                    return Err(AcmeError::Timeout {
                        what: "validation".into(),
                        seconds: deadline.as_secs(),
                    })
                }
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue;
                }
                Err(instant_acme::Error::Api(_)) => break OrderStatus::Invalid,
                Err(e) => return Err(convert(e, "order")),
            }
        };
        match status {
            OrderStatus::Ready => Ok(()),
            _ => Err(self.validation_failure().await),
        }
    }

    /// Submit the CSR and download the certificate chain (PEM, leaf first), waiting at
    /// most `timeout` for an order the CA keeps `processing` (see `wait_issued`).
    pub(crate) async fn finalize(
        &mut self,
        csr_der: &[u8],
        timeout: Duration,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, AcmeError> {
        let start = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.order.finalize_csr(csr_der).await {
                Ok(()) => break,
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    // A finalize that went through but whose answer was lost leaves the
                    // order `processing`/`valid`: refresh instead of finalizing twice.
                    if let Ok(state) = self.order.refresh().await {
                        if matches!(state.status, OrderStatus::Processing | OrderStatus::Valid) {
                            break;
                        }
                    }
                    continue;
                }
                Err(e) => return Err(convert(e, "finalize")),
            }
        }
        self.wait_issued(start + timeout, timeout, progress).await
    }

    /// Poll a `processing` order until it is valid, then download its certificate. The wait
    /// between polls is the CA's Retry-After (delay-seconds; AWS asks for minutes, Sectigo
    /// takes 45 s) cut to the time left, else 20 ms growing by half up to 5 s. A line goes to
    /// `progress` once a wait is noticeable and then every 10 s; past `deadline` the error
    /// names the order URL, which the CA may still complete.
    async fn wait_issued(
        &mut self,
        deadline: tokio::time::Instant,
        timeout: Duration,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, AcmeError> {
        let start = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(20);
        let mut retry_after: Option<String> = None;
        let mut noted: Option<tokio::time::Instant> = None;
        let mut attempt = 0;
        loop {
            match self.order.state().status {
                OrderStatus::Valid => return self.download().await,
                OrderStatus::Invalid => {
                    return Err(match self.order.state().error.clone() {
                        Some(p) => AcmeError::Problem(problem_from(p)),
                        None => AcmeError::Protocol(format!(
                            "order {} became invalid after finalizing",
                            self.order.url()
                        )),
                    })
                }
                _ => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(AcmeError::Timeout {
                    what: format!(
                        "certificate issuance (order {} is still processing at the CA; raise \
                         --issuance-timeout to wait longer)",
                        self.order.url()
                    ),
                    seconds: timeout.as_secs(),
                });
            }
            let asked = retry_after
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
            let wait = asked.unwrap_or(backoff).min(deadline - now);
            let waited = now - start;
            if waited + wait >= Duration::from_secs(2)
                && noted.is_none_or(|at| now - at >= Duration::from_secs(10))
            {
                progress(format!(
                    "order {} is still processing after {} s; next check in {} s (waiting up to {} s)",
                    self.order.url(),
                    waited.as_secs(),
                    wait.as_secs_f32().ceil(),
                    timeout.as_secs()
                ));
                noted = Some(now);
            }
            tokio::time::sleep(wait).await;
            backoff = backoff.mul_f32(1.5).min(Duration::from_secs(5));
            attempt += 1;
            let (result, captured) = http::with_capture(self.order.refresh()).await;
            retry_after = captured.retry_after;
            match result {
                Ok(_) => attempt = 0,
                Err(e) if retryable(&e, attempt) => pause_before_retry(&e, attempt).await,
                Err(e) => return Err(convert(e, "order")),
            }
        }
    }

    /// Download the certificate of a valid order.
    async fn download(&mut self) -> Result<String, AcmeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.order.certificate().await {
                Ok(Some(pem)) => return Ok(pem),
                Ok(None) => {
                    return Err(AcmeError::Protocol(
                        "the CA gave no certificate for a valid order".into(),
                    ))
                }
                Err(e) if retryable(&e, attempt) => pause_before_retry(&e, attempt).await,
                Err(e) => return Err(convert(e, "certificate download")),
            }
        }
    }

    /// Find which authorization failed and why.
    async fn validation_failure(&mut self) -> AcmeError {
        let order_error = self.order.state().error.clone();
        let mut authorizations = self.order.authorizations();
        while let Some(Ok(mut authz)) = authorizations.next().await {
            if authz.status == AuthorizationStatus::Valid {
                continue;
            }
            let _ = authz.refresh().await;
            let identifier = authz.identifier().to_string();
            let problem = authz
                .challenges
                .iter()
                .find_map(|c| c.error.clone())
                .map(problem_from);
            if let Some(problem) = problem {
                return AcmeError::Validation {
                    identifier: identifier.into(),
                    problem,
                    diagnosis: None,
                };
            }
        }
        match order_error {
            Some(p) => AcmeError::Problem(problem_from(p)),
            None => AcmeError::Protocol("the order became invalid without a reason".into()),
        }
    }
}

async fn collect_challenges(
    order: &mut Order,
    spec: &OrderSpec<'_>,
    thumbprint: &str,
) -> Result<Vec<Http01Challenge>, AcmeError> {
    let kind = spec.challenge;
    let mut out = Vec::new();
    let mut attempt = 0;
    'again: loop {
        attempt += 1;
        out.clear();
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authz = match next {
                Ok(a) => a,
                Err(e) if retryable(&e, attempt) => {
                    pause_before_retry(&e, attempt).await;
                    continue 'again;
                }
                Err(e) => return Err(convert(e, "authorization")),
            };
            match authz.status {
                AuthorizationStatus::Valid if spec.revalidated => {
                    return Err(AcmeError::Protocol(format!(
                        "the CA still holds {} as validated after its authorization was \
                         deactivated: the dry run cannot prove the challenge path",
                        authz.identifier()
                    )))
                }
                // Pre-approved or reused: nothing to solve.
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(AcmeError::Protocol(format!(
                        "authorization for {} is {other:?}",
                        authz.identifier()
                    )))
                }
            }
            let identifier = authz.identifier().to_string();
            let Some(challenge) = authz.challenge(acme_type(kind)) else {
                return Err(AcmeError::Protocol(format!(
                    "the CA offers no {} challenge for {identifier}",
                    kind.name()
                )));
            };
            // From the account's own thumbprint, not instant-acme's (an RSA account's key
            // is not the one instant-acme holds).
            let key_authorization = format!("{}.{thumbprint}", challenge.token);
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
            use base64::Engine;
            out.push(Http01Challenge {
                identifier,
                token: challenge.token.clone(),
                dns_value: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
                key_authorization,
            });
        }
        return Ok(out);
    }
}

/// Deactivate the order's authorizations in `status` (valid ones for a dry run, pending
/// ones of an abandoned order); returns how many were deactivated.
async fn deactivate(order: &mut Order, status: AuthorizationStatus) -> Result<usize, AcmeError> {
    let mut done = 0;
    let mut authorizations = order.authorizations();
    while let Some(next) = authorizations.next().await {
        let mut authz = next.map_err(|e| convert(e, "authorization"))?;
        if authz.status != status {
            continue;
        }
        let identifier = authz.identifier().to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match authz.deactivate().await {
                Ok(_) => break,
                Err(e) if retryable(&e, attempt) => pause_before_retry(&e, attempt).await,
                Err(e) => {
                    return Err(convert(
                        e,
                        &format!("deactivating the authorization for {identifier}"),
                    ))
                }
            }
        }
        tracing::debug!("deactivated the {status:?} authorization for {identifier}");
        done += 1;
    }
    Ok(done)
}

async fn set_ready(
    order: &mut Order,
    token: &str,
    kind: ChallengeKind,
) -> Result<(), instant_acme::Error> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let matches = authz
            .challenges
            .iter()
            .any(|c| c.r#type == acme_type(kind) && c.token == token);
        if !matches {
            continue;
        }
        if let Some(mut challenge) = authz.challenge(acme_type(kind)) {
            return challenge.set_ready().await;
        }
    }
    Ok(())
}

/// Whether a failed step is tried again (`attempt` counts from 1): badNonce that outlived
/// instant-acme's own retries, up to `STEP_ATTEMPTS`, and `serverInternal` (a passing CA
/// fault), up to `SERVER_ERROR_ATTEMPTS`. Nothing else: `malformed`, `unauthorized` and the
/// like would fail the same way again, and an answer with `Retry-After` (rate limits, 503)
/// is the CA asking us to stay away, which the caller schedules.
fn retryable(err: &instant_acme::Error, attempt: u32) -> bool {
    let instant_acme::Error::Api(p) = err else {
        return false;
    };
    match p.r#type.as_deref() {
        Some("urn:ietf:params:acme:error:badNonce") => attempt < STEP_ATTEMPTS,
        Some("urn:ietf:params:acme:error:serverInternal") => attempt < SERVER_ERROR_ATTEMPTS,
        _ => false,
    }
}

/// The wait before retrying a step that `retryable` allowed: none for a bad nonce (the next
/// one is fresh), exponential for a server error (1 s, 2 s, ...).
async fn pause_before_retry(err: &instant_acme::Error, attempt: u32) {
    let server_error = matches!(
        err,
        instant_acme::Error::Api(p)
            if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:serverInternal")
    );
    if server_error {
        tokio::time::sleep(SERVER_ERROR_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1)))
            .await;
    }
}

fn problem_from(p: instant_acme::Problem) -> Problem {
    Problem {
        retry_after: None,
        kind: p.r#type,
        detail: p.detail,
        status: p.status,
        subproblems: p
            .subproblems
            .into_iter()
            .map(|s| {
                let id = match s.identifier {
                    Some(Identifier::Dns(d)) => d,
                    Some(Identifier::Ip(ip)) => ip.to_string(),
                    _ => "?".into(),
                };
                format!(
                    "{id}: {}: {}",
                    s.r#type.as_deref().unwrap_or("unknown"),
                    s.detail.as_deref().unwrap_or("")
                )
            })
            .collect(),
    }
}

fn convert(err: instant_acme::Error, what: &str) -> AcmeError {
    match err {
        instant_acme::Error::Api(p) => AcmeError::Problem(problem_from(p)),
        instant_acme::Error::Timeout(_) => AcmeError::Timeout {
            what: what.to_string(),
            seconds: 0,
        },
        instant_acme::Error::Other(e) => match e.downcast::<http::ProblemWithRetryAfter>() {
            Ok(lifted) => AcmeError::Problem(Problem {
                retry_after: Some(lifted.retry_after.into()),
                ..problem_from(lifted.problem)
            }),
            Err(e) => match e.downcast::<http::Unanswered>() {
                Ok(unanswered) => AcmeError::Transport {
                    url: unanswered.url,
                    message: format!("{} ({what})", unanswered.message),
                },
                // The CA answered, with something we could not use.
                Err(e) => AcmeError::Protocol(format!(
                    "{what}: the CA's answer is unusable: {}",
                    crate::error::error_chain(e.as_ref())
                )),
            },
        },
        other => AcmeError::Protocol(format!(
            "{what}: the CA's answer is unusable: {}",
            crate::error::error_chain(&other)
        )),
    }
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

    #[test]
    fn ari_cert_id_is_base64url() {
        // RFC 9773 section 4.1 example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4
        // and serial 00:87:65:43:21 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
        let aki = [
            0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
            0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4,
        ];
        let serial = [0x00, 0x87, 0x65, 0x43, 0x21];
        assert_eq!(
            AriCertId::new(&aki, &serial).path_segment(),
            "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
        );
    }

    #[test]
    fn only_bad_nonce_and_server_internal_are_retried() {
        let problem = |t: &str| {
            instant_acme::Error::Api(
                serde_json::from_value(serde_json::json!({"type": t, "detail": "x"})).unwrap(),
            )
        };
        let kind = |k: &str| format!("urn:ietf:params:acme:error:{k}");
        assert!(retryable(&problem(&kind("badNonce")), 1));
        assert!(!retryable(&problem(&kind("badNonce")), STEP_ATTEMPTS));
        assert!(retryable(&problem(&kind("serverInternal")), 1));
        assert!(!retryable(
            &problem(&kind("serverInternal")),
            SERVER_ERROR_ATTEMPTS
        ));
        for k in [
            "malformed",
            "unauthorized",
            "rateLimited",
            "rejectedIdentifier",
        ] {
            assert!(!retryable(&problem(&kind(k)), 1), "{k}");
        }
    }

    /// A scripted CA behind `AcmeHttp` (the transport is the only fake): it serves a
    /// directory and nonces, and answers newAccount POSTs from a script, then with success.
    mod fake_ca {
        use super::super::*;
        use std::collections::VecDeque;
        use std::future::Future;
        use std::pin::Pin;
        use std::sync::{Arc, Mutex};

        use bytes::Bytes;
        use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

        const DIR: &str = "https://ca.test/dir";

        struct Reply {
            status: u16,
            headers: Vec<(&'static str, String)>,
            body: String,
        }

        #[derive(Clone, Default)]
        struct FakeCa {
            script: Arc<Mutex<VecDeque<Reply>>>,
            account_posts: Arc<Mutex<u32>>,
            /// Answers to newOrder (then: created, without `replaces`), and the payloads sent.
            order_script: Arc<Mutex<VecDeque<Reply>>>,
            order_payloads: Arc<Mutex<Vec<serde_json::Value>>>,
        }

        impl FakeCa {
            fn new(script: Vec<Reply>) -> Self {
                Self {
                    script: Arc::new(Mutex::new(script.into())),
                    ..Self::default()
                }
            }

            fn posts(&self) -> u32 {
                *self.account_posts.lock().unwrap()
            }

            fn answer(&self, req: &::http::request::Parts, body: &[u8]) -> Reply {
                let ok = |body: &str| Reply {
                    status: 200,
                    headers: vec![],
                    body: body.into(),
                };
                match (req.method.as_str(), req.uri.path()) {
                    ("GET", "/dir") => ok(r#"{"newNonce":"https://ca.test/nonce",
                        "newAccount":"https://ca.test/acct","newOrder":"https://ca.test/order",
                        "revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key",
                        "renewalInfo":"https://ca.test/ari"}"#),
                    ("POST", "/order") => {
                        self.order_payloads.lock().unwrap().push(jws_payload(body));
                        self.order_script
                            .lock()
                            .unwrap()
                            .pop_front()
                            .unwrap_or(Reply {
                                status: 201,
                                headers: vec![("location", "https://ca.test/order/1".into())],
                                body: ORDER.into(),
                            })
                    }
                    ("POST", "/order/1") => ok(ORDER),
                    ("HEAD", "/nonce") => ok(""),
                    ("POST", "/acct") => {
                        *self.account_posts.lock().unwrap() += 1;
                        self.script.lock().unwrap().pop_front().unwrap_or(Reply {
                            status: 201,
                            headers: vec![("location", "https://ca.test/acct/1".into())],
                            body: r#"{"status":"valid"}"#.into(),
                        })
                    }
                    _ => Reply {
                        status: 404,
                        headers: vec![],
                        body: String::new(),
                    },
                }
            }
        }

        impl HttpClient for FakeCa {
            fn request(
                &self,
                req: ::http::Request<BodyWrapper<Bytes>>,
            ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>>
            {
                let ca = self.clone();
                let (parts, body) = req.into_parts();
                Box::pin(async move {
                    use http_body_util::BodyExt;
                    let body = match body.collect().await {
                        Ok(collected) => collected.to_bytes(),
                        Err(_) => Bytes::new(),
                    };
                    let reply = ca.answer(&parts, &body);
                    let mut rsp = ::http::Response::builder()
                        .status(reply.status)
                        .header("replay-nonce", "bm9uY2U")
                        .header("content-type", "application/problem+json");
                    for (k, v) in reply.headers {
                        rsp = rsp.header(k, v);
                    }
                    let rsp = rsp
                        .body(http_body_util::Full::new(Bytes::from(reply.body)))
                        .unwrap();
                    Ok(BytesResponse::from(rsp))
                })
            }
        }

        /// A ready order with nothing to authorize, and no `replaces`.
        const ORDER: &str = r#"{"status":"ready","identifiers":[{"type":"dns","value":"a.test"}],
            "authorizations":[],"finalize":"https://ca.test/order/1/finalize"}"#;

        fn jws_payload(body: &[u8]) -> serde_json::Value {
            use base64::Engine;
            let jws: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let payload = jws["payload"].as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap_or_default();
            serde_json::from_slice(&bytes).unwrap_or_default()
        }

        fn problem(status: u16, kind: &str, retry_after: Option<&str>) -> Reply {
            Reply {
                status,
                headers: retry_after
                    .map(|r| vec![("retry-after", r.to_string())])
                    .unwrap_or_default(),
                body: serde_json::json!({
                    "type": format!("urn:ietf:params:acme:error:{kind}"),
                    "detail": format!("scripted {kind}"),
                    "status": status,
                })
                .to_string(),
            }
        }

        async fn register(ca: &FakeCa) -> Result<(), AcmeError> {
            let http = AcmeHttp::with_client(ca.clone());
            let server: ServerUrl = DIR.parse().unwrap();
            AcmeAccount::register(&http, &server, None)
                .await
                .map(|_| ())
        }

        fn expect_problem(result: Result<(), AcmeError>) -> Problem {
            match result {
                Err(AcmeError::Problem(p)) => p,
                other => panic!("expected a CA problem, got {other:?}"),
            }
        }

        async fn order_replacing(ca: &FakeCa) -> Result<PendingOrder, AcmeError> {
            let http = AcmeHttp::with_client(ca.clone());
            let server: ServerUrl = DIR.parse().unwrap();
            let (account, _) = AcmeAccount::register(&http, &server, None).await?;
            let names: Vec<DomainName> = vec!["a.test".parse().unwrap()];
            let replaced = AriCertId::new(&[1, 2, 3], &[4, 5]);
            let spec = OrderSpec {
                names: &names,
                replaces: Some(&replaced),
                ..OrderSpec::default()
            };
            account.new_order_for(&spec).await
        }

        fn sent_replaces(ca: &FakeCa) -> Vec<bool> {
            let payloads = ca.order_payloads.lock().unwrap();
            payloads
                .iter()
                .map(|p| p.get("replaces").is_some())
                .collect()
        }

        #[tokio::test(start_paused = true)]
        async fn an_order_returned_without_replaces_is_used_as_it_is() {
            let ca = FakeCa::new(vec![]);
            let order = order_replacing(&ca).await.unwrap();
            assert_eq!(order.order.url(), "https://ca.test/order/1");
            // One order, no second one left pending at the CA.
            assert_eq!(sent_replaces(&ca), vec![true]);
        }

        #[tokio::test(start_paused = true)]
        async fn a_refused_replaces_is_dropped_once() {
            for (status, kind, detail) in [
                (409, "alreadyReplaced", "certificate already replaced"),
                (
                    403,
                    "unauthorized",
                    "requester account did not request the certificate being replaced",
                ),
                (400, "malformed", "invalid replaces value"),
                (400, "badCSR", "the server cannot handle Replaces here"),
            ] {
                let ca = FakeCa::new(vec![]);
                let mut refusal = problem(status, kind, None);
                refusal.body = serde_json::json!({
                    "type": format!("urn:ietf:params:acme:error:{kind}"),
                    "detail": detail,
                    "status": status,
                })
                .to_string();
                ca.order_script.lock().unwrap().push_back(refusal);
                order_replacing(&ca).await.unwrap();
                assert_eq!(sent_replaces(&ca), vec![true, false], "{kind}");
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_refusal_not_about_replaces_is_not_retried() {
            let ca = FakeCa::new(vec![]);
            ca.order_script
                .lock()
                .unwrap()
                .push_back(problem(400, "rejectedIdentifier", None));
            let err = order_replacing(&ca).await.err().unwrap();
            assert!(matches!(err, AcmeError::Problem(_)), "{err}");
            assert_eq!(sent_replaces(&ca), vec![true]);
        }

        #[tokio::test(start_paused = true)]
        async fn only_a_request_nothing_answered_is_unreachable() {
            #[derive(Clone)]
            struct Refused;
            impl HttpClient for Refused {
                fn request(
                    &self,
                    _req: ::http::Request<BodyWrapper<Bytes>>,
                ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>>
                {
                    Box::pin(async { Err(instant_acme::Error::Str("connection refused")) })
                }
            }
            let http = AcmeHttp::with_client(Refused);
            let server: ServerUrl = DIR.parse().unwrap();
            let err = AcmeAccount::register(&http, &server, None)
                .await
                .err()
                .unwrap();
            assert!(matches!(err, AcmeError::Transport { .. }), "{err}");
            assert!(err.to_string().contains("could not reach"), "{err}");

            // An answer that is not what ACME expects is not "could not reach".
            let ca = FakeCa::new(vec![Reply {
                status: 201,
                headers: vec![],
                body: "{}".into(),
            }]);
            let err = register(&ca).await.err().unwrap();
            assert!(!err.to_string().contains("could not reach"), "{err}");
        }

        #[tokio::test(start_paused = true)]
        async fn the_script_is_followed_by_success() {
            let ca = FakeCa::new(vec![]);
            register(&ca).await.unwrap();
            assert_eq!(ca.posts(), 1);
        }

        #[tokio::test(start_paused = true)]
        async fn server_internal_is_retried_with_backoff() {
            let ca = FakeCa::new(vec![
                problem(500, "serverInternal", None),
                problem(500, "serverInternal", None),
            ]);
            let start = tokio::time::Instant::now();
            register(&ca).await.unwrap();
            assert_eq!(ca.posts(), 3);
            // 1 s then 2 s on the paused clock: a backoff, not a hammering.
            assert!(
                start.elapsed() >= Duration::from_secs(3),
                "{:?}",
                start.elapsed()
            );
        }

        #[tokio::test(start_paused = true)]
        async fn server_internal_retries_are_bounded() {
            let ca = FakeCa::new(
                (0..20)
                    .map(|_| problem(500, "serverInternal", None))
                    .collect(),
            );
            let p = expect_problem(register(&ca).await);
            assert_eq!(p.short_kind(), "serverInternal");
            assert_eq!(p.status, Some(500));
            assert_eq!(ca.posts(), SERVER_ERROR_ATTEMPTS);
        }

        #[tokio::test(start_paused = true)]
        async fn bad_nonce_retries_are_bounded() {
            let ca = FakeCa::new((0..100).map(|_| problem(400, "badNonce", None)).collect());
            let p = expect_problem(register(&ca).await);
            assert_eq!(p.short_kind(), "badNonce");
            // instant-acme's 3 tries inside each of our STEP_ATTEMPTS.
            assert_eq!(ca.posts(), 3 * STEP_ATTEMPTS);
        }

        #[tokio::test(start_paused = true)]
        async fn client_errors_are_not_retried() {
            for (status, kind) in [
                (400, "malformed"),
                (403, "unauthorized"),
                (400, "invalidContact"),
                (429, "rateLimited"),
            ] {
                let ca = FakeCa::new(vec![problem(status, kind, None)]);
                let p = expect_problem(register(&ca).await);
                assert_eq!(p.short_kind(), kind);
                assert_eq!(p.status, Some(status), "{kind}");
                assert_eq!(p.retry_after, None, "{kind}");
                assert_eq!(ca.posts(), 1, "{kind} was retried");
            }
        }

        #[tokio::test(start_paused = true)]
        async fn retry_after_reaches_the_caller_raw_and_is_not_retried() {
            let year = "31536000";
            let date = "Wed, 21 Oct 2037 07:28:00 GMT";
            for (status, kind, header) in [
                (429, "rateLimited", "3600"),
                (429, "rateLimited", year),
                (429, "rateLimited", date),
                (503, "serverInternal", "120"),
                (503, "serverInternal", "soon"),
                (503, "rateLimited", "  30 "),
            ] {
                let ca = FakeCa::new(vec![problem(status, kind, Some(header))]);
                let p = expect_problem(register(&ca).await);
                assert_eq!(p.short_kind(), kind, "{header}");
                assert_eq!(p.status, Some(status), "{header}");
                assert_eq!(p.retry_after.as_deref(), Some(header.trim()), "{kind}");
                assert_eq!(
                    ca.posts(),
                    1,
                    "{kind} with Retry-After {header} was retried"
                );
                let shown = AcmeError::Problem(p).to_string();
                assert!(shown.contains(header.trim()), "{shown}");
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_503_page_that_is_not_a_problem_keeps_its_retry_after() {
            let ca = FakeCa::new(vec![Reply {
                status: 503,
                headers: vec![("retry-after", "60".into())],
                body: "<html>maintenance</html>".into(),
            }]);
            let p = expect_problem(register(&ca).await);
            assert_eq!(p.status, Some(503));
            assert_eq!(p.retry_after.as_deref(), Some("60"));
            assert!(p.detail.unwrap_or_default().contains("503"));
        }

        #[tokio::test(start_paused = true)]
        async fn a_rate_limited_directory_is_a_problem_too() {
            // Retry-After on the very first request (the directory), before any account.
            #[derive(Clone)]
            struct Closed;
            impl HttpClient for Closed {
                fn request(
                    &self,
                    _req: ::http::Request<BodyWrapper<Bytes>>,
                ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>>
                {
                    let rsp = ::http::Response::builder()
                        .status(503)
                        .header("retry-after", "90")
                        .body(http_body_util::Full::new(Bytes::from_static(b"busy")))
                        .unwrap();
                    Box::pin(async move { Ok(BytesResponse::from(rsp)) })
                }
            }
            let http = AcmeHttp::with_client(Closed);
            let server: ServerUrl = DIR.parse().unwrap();
            let p = match AcmeAccount::register(&http, &server, None).await {
                Err(AcmeError::Problem(p)) => p,
                other => panic!("expected a problem, got {:?}", other.map(|_| ())),
            };
            assert_eq!(p.retry_after.as_deref(), Some("90"));
        }
    }
}
