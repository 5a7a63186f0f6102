//! Our own JWS signing, where instant-acme 0.8.5 falls short: authenticated POST-as-GET
//! (RFC 8555 section 6.3) for the resources it reads but does not expose (the certificate
//! URL's `Link: rel="alternate"` headers and the alternate chains behind them), and RS256
//! for RSA account keys (certbot's), which it cannot sign with (see `Resigner`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use instant_acme::BodyWrapper;
use serde::Deserialize;

use super::directory::Directory;
use super::http::{user_agent, AcmeHttp};
use crate::error::error_chain;
use crate::error::AcmeError;

/// The fields of instant-acme's serialised `AccountCredentials` we sign with.
#[derive(Deserialize)]
struct StoredCredentials {
    id: String,
    key_pkcs8: String,
    directory: Option<String>,
}

/// An account key: ECDSA P-256 (ES256, what instant-acme makes) or RSA (RS256, certbot's).
pub(crate) enum AccountKey {
    Es256(EcdsaKeyPair),
    Rs256(aws_lc_rs::rsa::KeyPair),
}

impl AccountKey {
    /// From PKCS#8 DER of either kind.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Option<Self> {
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            return Some(Self::Es256(k));
        }
        aws_lc_rs::rsa::KeyPair::from_pkcs8(der)
            .ok()
            .map(Self::Rs256)
    }

    /// From instant-acme's credentials JSON.
    pub(crate) fn from_credentials(json: &str) -> Option<Self> {
        let c: StoredCredentials = serde_json::from_str(json).ok()?;
        Self::from_pkcs8(&URL_SAFE_NO_PAD.decode(c.key_pkcs8).ok()?)
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::Rs256(_) => "RS256",
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AcmeError> {
        let failed = |_| AcmeError::Protocol("cannot sign with the account key".into());
        match self {
            Self::Es256(k) => Ok(k
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Self::Rs256(k) => {
                let mut signature = vec![0; k.public_modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
        }
    }

    /// RFC 7638 thumbprint of an RSA key (instant-acme computes its own key's).
    pub(crate) fn rsa_thumbprint(&self) -> Option<String> {
        let Self::Rs256(k) = self else { return None };
        let (n, e) = rsa_public_numbers(k.public_key().as_ref())?;
        // Members in lexicographic order, no whitespace (RFC 7638 section 3).
        let jwk = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(e),
            URL_SAFE_NO_PAD.encode(n)
        );
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jwk.as_bytes());
        Some(URL_SAFE_NO_PAD.encode(digest.as_ref()))
    }
}

/// `n` and `e` of a DER `RSAPublicKey` (SEQUENCE of two INTEGERs), without leading zeros.
fn rsa_public_numbers(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, body, _) = der_item(der)?;
    if tag != 0x30 {
        return None;
    }
    let (t1, n, rest) = der_item(body)?;
    let (t2, e, _) = der_item(rest)?;
    if t1 != 0x02 || t2 != 0x02 {
        return None;
    }
    let strip = |v: &'_ [u8]| -> usize { v.iter().take_while(|b| **b == 0).count() };
    Some((&n[strip(n)..], &e[strip(e)..]))
}

/// One DER item: tag, content, and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Signs POST-as-GET requests as the account.
pub(crate) struct PostAsGet {
    kid: String,
    key: AccountKey,
    directory_url: String,
}

impl PostAsGet {
    /// From the credentials JSON instant-acme serialised (None if it lacks what we need,
    /// e.g. credentials from an old version without the directory URL).
    pub(crate) fn from_credentials(json: &str) -> Option<Self> {
        let c: StoredCredentials = serde_json::from_str(json).ok()?;
        let key = AccountKey::from_pkcs8(&URL_SAFE_NO_PAD.decode(c.key_pkcs8).ok()?)?;
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
            "alg": self.key.alg(),
            "kid": self.kid,
            "nonce": nonce,
            "url": url,
        });
        let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
        let signing_input = format!("{protected}.");
        let signature = self.key.sign(signing_input.as_bytes())?;
        let body = serde_json::json!({
            "protected": protected,
            "payload": "",
            "signature": URL_SAFE_NO_PAD.encode(signature),
        });
        Ok(body.to_string().into_bytes())
    }
}

/// instant-acme 0.8 signs only with ECDSA P-256 keys. For an RSA account it is given a
/// stand-in P-256 key, and this transport re-signs each JWS it sends with the real key
/// (RS256), leaving kid, nonce, url and payload as instant-acme made them. Wrapping keeps
/// every flow (orders, retries, nonces) in instant-acme rather than in a second client;
/// the key authorization, which instant-acme derives from its own key, is computed from
/// the real key's thumbprint by the caller.
pub(crate) struct Resigner {
    pub inner: Arc<dyn instant_acme::HttpClient>,
    pub key: Arc<AccountKey>,
}

impl instant_acme::HttpClient for Resigner {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<
        Box<dyn Future<Output = Result<instant_acme::BytesResponse, instant_acme::Error>> + Send>,
    > {
        let (inner, key) = (self.inner.clone(), self.key.clone());
        Box::pin(async move {
            use http_body_util::BodyExt;
            let (parts, body) = req.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| instant_acme::Error::Other(e.into()))?
                .to_bytes();
            let body = if bytes.is_empty() {
                bytes
            } else {
                Bytes::from(
                    resign(&bytes, &key)
                        .map_err(|e| instant_acme::Error::Other(e.to_string().into()))?,
                )
            };
            let req = http::Request::from_parts(parts, BodyWrapper::from(body.to_vec()));
            inner.request(req).await
        })
    }
}

/// A flattened JWS signed again with `key`: `alg` replaced, everything else kept.
fn resign(jws: &[u8], key: &AccountKey) -> Result<Vec<u8>, AcmeError> {
    let bad = || AcmeError::Protocol("instant-acme sent a JWS we cannot re-sign".into());
    let mut jws: serde_json::Value = serde_json::from_slice(jws).map_err(|_| bad())?;
    let protected = jws["protected"].as_str().ok_or_else(bad)?;
    let header = URL_SAFE_NO_PAD.decode(protected).map_err(|_| bad())?;
    let mut header: serde_json::Value = serde_json::from_slice(&header).map_err(|_| bad())?;
    header["alg"] = key.alg().into();
    let protected = URL_SAFE_NO_PAD.encode(header.to_string());
    let payload = jws["payload"].as_str().ok_or_else(bad)?.to_string();
    let signature = key.sign(format!("{protected}.{payload}").as_bytes())?;
    jws["protected"] = protected.into();
    jws["signature"] = URL_SAFE_NO_PAD.encode(signature).into();
    Ok(jws.to_string().into_bytes())
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
    fn a_jws_is_resigned_with_rs256_keeping_header_and_payload() {
        use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = rsa.public_key().as_ref().to_vec();
        let key = AccountKey::Rs256(rsa);
        let b64 = |v: &str| URL_SAFE_NO_PAD.encode(v);
        let header =
            r#"{"alg":"ES256","kid":"https://ca/acct/1","nonce":"n","url":"https://ca/o"}"#;
        let jws = serde_json::json!({
            "protected": b64(header), "payload": b64("{}"), "signature": "AAAA",
        });
        let out: serde_json::Value =
            serde_json::from_slice(&resign(jws.to_string().as_bytes(), &key).unwrap()).unwrap();
        let protected = out["protected"].as_str().unwrap();
        let decoded: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
        assert_eq!(decoded["alg"], "RS256");
        assert_eq!(decoded["kid"], "https://ca/acct/1");
        assert_eq!(decoded["nonce"], "n");
        assert_eq!(out["payload"], jws["payload"]);
        let signature = URL_SAFE_NO_PAD
            .decode(out["signature"].as_str().unwrap())
            .unwrap();
        let message = format!("{protected}.{}", jws["payload"].as_str().unwrap());
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(message.as_bytes(), &signature)
            .expect("a valid RS256 signature");
        // 43 base64url characters: a SHA-256 thumbprint.
        assert_eq!(key.rsa_thumbprint().unwrap().len(), 43);
    }

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
