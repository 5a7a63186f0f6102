//! ACME Renewal Information (RFC 9773): the certificate identifier and the renewalInfo GET.

use super::http::AcmeHttp;
use crate::error::AcmeError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
