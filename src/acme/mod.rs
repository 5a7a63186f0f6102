//! ACME protocol use on top of instant-acme: directory, account, order, validation,
//! finalize, download. Never touches disk or nginx: the caller persists what it returns and
//! publishes the challenges it is handed.

mod http;
pub mod keys;

use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, Order, OrderStatus, RetryPolicy,
};
use serde::Deserialize;

pub use http::AcmeHttp;

use crate::error::{AcmeError, Problem};
use crate::types::{DomainName, ServerUrl};

/// How often one step is retried on its own after instant-acme's three badNonce retries
/// are used up (a CA rejecting many nonces is a passing condition, not a verdict).
const STEP_ATTEMPTS: u32 = 6;

/// The parts of the directory instant-acme does not expose.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    #[serde(default)]
    pub renewal_info: Option<String>,
    #[serde(default)]
    pub meta: DirectoryMeta,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryMeta {
    #[serde(default)]
    pub terms_of_service: Option<String>,
    #[serde(default)]
    pub external_account_required: bool,
}

/// Fetch the directory once, before any account exists, to learn the terms URL and
/// whether ARI is offered.
pub async fn fetch_directory(http: &AcmeHttp, server: &ServerUrl) -> Result<Directory, AcmeError> {
    let (status, _, body) = http.get(server.as_str()).await?;
    if status != 200 {
        return Err(AcmeError::Protocol(format!(
            "the ACME directory {server} answered HTTP {status}"
        )));
    }
    serde_json::from_slice(&body)
        .map_err(|e| AcmeError::Protocol(format!("{server} is not an ACME directory: {e}")))
}

/// A registered account, ready to order.
pub struct AcmeAccount {
    inner: Account,
}

impl AcmeAccount {
    /// Register a new account. Returns it and its credentials as JSON (a secret: it holds
    /// the account key; the caller stores it 0600 and never logs it).
    pub async fn register(
        http: &AcmeHttp,
        server: &ServerUrl,
        email: Option<&str>,
    ) -> Result<(Self, String), AcmeError> {
        let contact = email.map(|e| format!("mailto:{e}"));
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
                    None,
                )
                .await;
            match result {
                Ok(ok) => break ok,
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
                Err(e) => return Err(convert(e, server.as_str())),
            }
        };
        let json = serde_json::to_string(&credentials)
            .map_err(|e| AcmeError::Protocol(format!("cannot serialise credentials: {e}")))?;
        Ok((Self { inner: account }, json))
    }

    /// Restore an account from stored credentials JSON.
    pub async fn restore(http: &AcmeHttp, credentials_json: &str) -> Result<Self, AcmeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let credentials: AccountCredentials = serde_json::from_str(credentials_json)
                .map_err(|e| AcmeError::Protocol(format!("stored account is unreadable: {e}")))?;
            match Account::builder_with_http(Box::new(http.clone()))
                .from_credentials(credentials)
                .await
            {
                Ok(inner) => return Ok(Self { inner }),
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
                Err(e) => return Err(convert(e, "the ACME server")),
            }
        }
    }

    /// The account URL, which is also its identity at the CA.
    pub fn url(&self) -> &str {
        self.inner.id()
    }

    /// Create an order for `names` and collect the HTTP-01 challenges still to answer
    /// (authorizations the CA already holds as valid are skipped).
    pub async fn new_order(&self, names: &[DomainName]) -> Result<PendingOrder, AcmeError> {
        let identifiers: Vec<Identifier> = names
            .iter()
            .map(|n| Identifier::Dns(n.as_str().to_string()))
            .collect();
        let mut attempt = 0;
        let mut order = loop {
            attempt += 1;
            match self.inner.new_order(&NewOrder::new(&identifiers)).await {
                Ok(order) => break order,
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
                Err(e) => return Err(convert(e, "newOrder")),
            }
        };
        let challenges = collect_challenges(&mut order).await?;
        Ok(PendingOrder { order, challenges })
    }
}

/// One HTTP-01 challenge to publish before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http01Challenge {
    pub identifier: String,
    pub token: String,
    pub key_authorization: String,
}

/// An order whose challenges the caller publishes before calling `validate`.
pub struct PendingOrder {
    order: Order,
    pub challenges: Vec<Http01Challenge>,
}

impl PendingOrder {
    pub fn url(&self) -> &str {
        self.order.url()
    }

    /// Tell the CA every challenge is ready and wait (at most `deadline`) until the order is
    /// ready to finalize. A failed validation names the identifier and the CA's detail.
    pub async fn validate(&mut self, deadline: Duration) -> Result<(), AcmeError> {
        let tokens: Vec<String> = self.challenges.iter().map(|c| c.token.clone()).collect();
        for token in &tokens {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = set_ready(&mut self.order, token).await;
                match result {
                    Ok(()) => break,
                    Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
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
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
                Err(instant_acme::Error::Api(_)) => break OrderStatus::Invalid,
                Err(e) => return Err(convert(e, "order")),
            }
        };
        match status {
            OrderStatus::Ready => Ok(()),
            _ => Err(self.validation_failure().await),
        }
    }

    /// Submit the CSR and download the certificate chain (PEM, leaf first).
    pub async fn finalize(
        &mut self,
        csr_der: &[u8],
        deadline: Duration,
    ) -> Result<String, AcmeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.order.finalize_csr(csr_der).await {
                Ok(()) => break,
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => {
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
        let policy = RetryPolicy::new()
            .initial_delay(Duration::from_millis(20))
            .backoff(1.5)
            .timeout(deadline);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.order.poll_certificate(&policy).await {
                Ok(pem) => return Ok(pem),
                Err(instant_acme::Error::Timeout(_)) => {
                    return Err(AcmeError::Timeout {
                        what: "certificate issuance".into(),
                        seconds: deadline.as_secs(),
                    })
                }
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue,
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
                    identifier,
                    problem,
                };
            }
        }
        match order_error {
            Some(p) => AcmeError::Problem(problem_from(p)),
            None => AcmeError::Protocol("the order became invalid without a reason".into()),
        }
    }
}

async fn collect_challenges(order: &mut Order) -> Result<Vec<Http01Challenge>, AcmeError> {
    let mut out = Vec::new();
    let mut attempt = 0;
    'again: loop {
        attempt += 1;
        out.clear();
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authz = match next {
                Ok(a) => a,
                Err(e) if attempt < STEP_ATTEMPTS && retryable(&e) => continue 'again,
                Err(e) => return Err(convert(e, "authorization")),
            };
            match authz.status {
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
            let Some(challenge) = authz.challenge(ChallengeType::Http01) else {
                return Err(AcmeError::Protocol(format!(
                    "the CA offers no http-01 challenge for {identifier}"
                )));
            };
            out.push(Http01Challenge {
                identifier,
                token: challenge.token.clone(),
                key_authorization: challenge.key_authorization().as_str().to_string(),
            });
        }
        return Ok(out);
    }
}

async fn set_ready(order: &mut Order, token: &str) -> Result<(), instant_acme::Error> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let matches = authz
            .challenges
            .iter()
            .any(|c| c.r#type == ChallengeType::Http01 && c.token == token);
        if !matches {
            continue;
        }
        if let Some(mut challenge) = authz.challenge(ChallengeType::Http01) {
            return challenge.set_ready().await;
        }
    }
    Ok(())
}

/// badNonce that outlived instant-acme's own retries, and transient server errors.
fn retryable(err: &instant_acme::Error) -> bool {
    match err {
        instant_acme::Error::Api(p) => matches!(
            p.r#type.as_deref(),
            Some("urn:ietf:params:acme:error:badNonce")
        ),
        _ => false,
    }
}

fn problem_from(p: instant_acme::Problem) -> Problem {
    Problem {
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
        instant_acme::Error::Other(e) => AcmeError::Transport {
            url: what.to_string(),
            message: http::error_chain(e.as_ref()),
        },
        other => AcmeError::Protocol(format!("{what}: {}", http::error_chain(&other))),
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
    fn only_bad_nonce_is_retried() {
        let problem = |t: &str| {
            instant_acme::Error::Api(
                serde_json::from_value(serde_json::json!({"type": t, "detail": "x"})).unwrap(),
            )
        };
        assert!(retryable(&problem("urn:ietf:params:acme:error:badNonce")));
        assert!(!retryable(&problem("urn:ietf:params:acme:error:malformed")));
        assert!(!retryable(&problem(
            "urn:ietf:params:acme:error:unauthorized"
        )));
    }
}
