//! Orders: create one (with ARI `replaces` and a profile), collect its challenges, validate,
//! finalize and download the certificate.

use std::net::IpAddr;
use std::time::Duration;

use instant_acme::{
    AuthorizationStatus, CertificateIdentifier, ChallengeType, Identifier, NewOrder, Order,
    OrderStatus, RetryPolicy,
};

use super::account::AcmeAccount;
use super::ari::AriCertId;
use super::http;
use super::problem::{convert, problem_from};
use super::retry::{pause_before_retry, retryable};
use crate::error::AcmeError;
use crate::types::{ChallengeKind, ChallengeToken, DomainName, KeyAuthorization};

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

/// instant-acme's name for the challenge type.
fn acme_type(kind: ChallengeKind) -> ChallengeType {
    match kind {
        ChallengeKind::Http01 => ChallengeType::Http01,
        ChallengeKind::Dns01 => ChallengeType::Dns01,
    }
}

impl AcmeAccount {
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
/// `token`; DNS-01 publishes its digest (`KeyAuthorization::dns_txt_value`) as TXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// As ordered: a wildcard keeps its `*.`.
    pub identifier: String,
    pub token: ChallengeToken,
    pub key_authorization: KeyAuthorization,
}

impl Challenge {
    /// A challenge no CA issued, with random base64url values as real ones (what `doctor`
    /// publishes to test a solver).
    pub(crate) fn made_up(identifier: &str) -> Challenge {
        let token = ChallengeToken::random();
        Challenge {
            identifier: identifier.to_string(),
            key_authorization: KeyAuthorization::random_for(&token),
            token,
        }
    }
}

/// An order whose challenges the caller publishes before calling `validate`.
pub(crate) struct PendingOrder {
    pub(super) order: Order,
    pub challenges: Vec<Challenge>,
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
        let tokens: Vec<ChallengeToken> = self.challenges.iter().map(|c| c.token.clone()).collect();
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
) -> Result<Vec<Challenge>, AcmeError> {
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
            let malformed =
                |_| AcmeError::Protocol(format!("the CA sent a malformed token for {identifier}"));
            let token = ChallengeToken::new(&challenge.token).map_err(malformed)?;
            let key_authorization =
                KeyAuthorization::for_token(&token, thumbprint).map_err(malformed)?;
            out.push(Challenge {
                identifier,
                token,
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
    token: &ChallengeToken,
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
            .any(|c| c.r#type == acme_type(kind) && c.token == token.as_str());
        if !matches {
            continue;
        }
        if let Some(mut challenge) = authz.challenge(acme_type(kind)) {
            return challenge.set_ready().await;
        }
    }
    Ok(())
}
