//! Answering HTTP-01: a standalone responder on port 80, or files in a webroot.
//! (The nginx-hosted variant is planned by the `nginx` module and wired in `commands`.)

mod standalone;
mod webroot;

pub use standalone::{ChallengeMap, Standalone};
pub use webroot::WebrootFiles;

/// Tokens are base64url (RFC 8555 8.3): anything else is refused before it reaches a path, a
/// config file or a response.
pub fn is_valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A key authorization is `token.thumbprint`, both base64url.
pub fn is_valid_key_authorization(key_auth: &str) -> bool {
    match key_auth.split_once('.') {
        Some((token, thumb)) => is_valid_token(token) && is_valid_token(thumb),
        None => false,
    }
}

pub const WELL_KNOWN: &str = "/.well-known/acme-challenge/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_base64url_only() {
        assert!(is_valid_token("abc-DEF_123"));
        for bad in ["", "../x", "a/b", "a.b", "a%2e", "a b", "ä"] {
            assert!(!is_valid_token(bad), "{bad:?}");
        }
        assert!(is_valid_key_authorization("tok.thumb"));
        assert!(!is_valid_key_authorization("tok"));
        assert!(!is_valid_key_authorization("tok.th/umb"));
    }
}
