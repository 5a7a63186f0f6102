//! Authenticated POST-as-GET (RFC 8555 section 6.3) for the resources instant-acme 0.8.5
//! reads but does not expose: the certificate URL's `Link: rel="alternate"` headers and the
//! alternate chains behind them. Account keys are ES256 (the only kind instant-acme makes).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use instant_acme::BodyWrapper;
use serde::Deserialize;

use super::http::{user_agent, AcmeHttp};
use super::Directory;
use crate::error::error_chain;
use crate::error::AcmeError;

/// The fields of instant-acme's serialised `AccountCredentials` we sign with.
#[derive(Deserialize)]
struct StoredCredentials {
    id: String,
    key_pkcs8: String,
    directory: Option<String>,
}

/// Signs POST-as-GET requests as the account.
pub(crate) struct PostAsGet {
    kid: String,
    key: EcdsaKeyPair,
    directory_url: String,
}

impl PostAsGet {
    /// From the credentials JSON instant-acme serialised (None if it lacks what we need,
    /// e.g. credentials from an old version without the directory URL).
    pub(crate) fn from_credentials(json: &str) -> Option<Self> {
        let c: StoredCredentials = serde_json::from_str(json).ok()?;
        let der = URL_SAFE_NO_PAD.decode(c.key_pkcs8).ok()?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).ok()?;
        Some(Self {
            kid: c.id,
            key,
            directory_url: c.directory?,
        })
    }

    /// POST-as-GET `url`; returns status, headers and body.
    pub(crate) async fn fetch(
        &self,
        http: &AcmeHttp,
        url: &str,
    ) -> Result<(u16, http::HeaderMap, Bytes), AcmeError> {
        let transport = |message: String| AcmeError::Transport {
            url: url.to_string(),
            message,
        };
        // A badNonce answer is retried with the nonce it carries, as instant-acme does.
        let mut nonce = self.new_nonce(http).await?;
        for _ in 0..3 {
            let body = self.sign(&nonce, url)?;
            let req = http::Request::post(url)
                .header(http::header::USER_AGENT, user_agent())
                .header(http::header::CONTENT_TYPE, "application/jose+json")
                .body(BodyWrapper::from(body))
                .map_err(|e| transport(e.to_string()))?;
            let mut rsp = instant_acme::HttpClient::request(http, req)
                .await
                .map_err(|e| transport(error_chain(&e)))?;
            let status = rsp.parts.status.as_u16();
            let headers = rsp.parts.headers.clone();
            let bytes = rsp
                .body
                .into_bytes()
                .await
                .map_err(|e| transport(e.to_string()))?;
            let bad_nonce = status == 400
                && serde_json::from_slice::<serde_json::Value>(&bytes)
                    .is_ok_and(|p| p["type"] == "urn:ietf:params:acme:error:badNonce");
            match headers.get("replay-nonce").and_then(|v| v.to_str().ok()) {
                Some(next) if bad_nonce => nonce = next.to_string(),
                _ => return Ok((status, headers, bytes)),
            }
        }
        Err(transport("the CA kept rejecting nonces".into()))
    }

    async fn new_nonce(&self, http: &AcmeHttp) -> Result<String, AcmeError> {
        let (status, _, body) = http.get(&self.directory_url).await?;
        let directory: Directory = match status {
            200 => serde_json::from_slice(&body).map_err(|e| {
                AcmeError::Protocol(format!("{} is not a directory: {e}", self.directory_url))
            })?,
            _ => {
                return Err(AcmeError::Protocol(format!(
                    "the ACME directory {} answered HTTP {status}",
                    self.directory_url
                )))
            }
        };
        let url = directory.new_nonce;
        let (_, headers) = http.head(&url).await?;
        headers
            .get("replay-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| AcmeError::Protocol(format!("{url} gave no Replay-Nonce")))
    }

    /// Flattened JWS with an empty payload (POST-as-GET).
    fn sign(&self, nonce: &str, url: &str) -> Result<Vec<u8>, AcmeError> {
        let protected = serde_json::json!({
            "alg": "ES256",
            "kid": self.kid,
            "nonce": nonce,
            "url": url,
        });
        let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
        let signing_input = format!("{protected}.");
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| AcmeError::Protocol("cannot sign with the account key".into()))?;
        let body = serde_json::json!({
            "protected": protected,
            "payload": "",
            "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
        });
        Ok(body.to_string().into_bytes())
    }
}

/// The targets of `Link: <url>;rel="alternate"` headers (RFC 8555 section 7.4.2).
pub(crate) fn alternate_links(headers: &http::HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        // One header may carry several comma-separated links.
        for link in value.split(',') {
            let mut parts = link.split(';');
            let Some(target) = parts.next().map(str::trim) else {
                continue;
            };
            let is_alternate = parts.any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"alternate\"" || p == "rel=alternate"
            });
            if let Some(url) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
                if is_alternate {
                    out.push(url.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_links_are_found() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::LINK,
            "<https://ca/dir>;rel=\"index\"".parse().unwrap(),
        );
        h.append(
            http::header::LINK,
            "<https://ca/cert/1/1>;rel=\"alternate\", <https://ca/cert/1/2>; rel=alternate"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            alternate_links(&h),
            vec!["https://ca/cert/1/1", "https://ca/cert/1/2"]
        );
    }
}
