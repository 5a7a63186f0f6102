//! Identifiers that come from outside (the CA, the shared store, `--node-id`) and end up in
//! URL paths, file names, store keys and log lines: each checked once, when it is made.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that breaks its type's rule: which kind of value, the value, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?}: {rule}")]
pub struct InvalidValue {
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

/// The longest token or thumbprint accepted: a token becomes a file name in a `file://`
/// store, beside a suffix, under the 255-byte limit (CAs send 43 characters).
const MAX_TOKEN: usize = 240;

/// Whether `s` is 1 to `max` characters of the base64url alphabet (RFC 4648 section 5).
fn is_base64url(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 32 random bytes in base64url: 43 characters, the length of real tokens and thumbprints.
fn random_base64url() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The string newtype's `as_str`, `Display`, `FromStr` and serde conversions, all through
/// its one checking constructor `new`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                Self::new(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An ACME challenge token (RFC 8555 section 8.3): base64url, so it is safe in a URL path,
/// a file name, a store key and an nginx config.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChallengeToken(String);

impl ChallengeToken {
    pub fn new(token: &str) -> Result<Self, InvalidValue> {
        if !is_base64url(token, MAX_TOKEN) {
            return Err(InvalidValue {
                what: "challenge token",
                value: token.to_string(),
                rule: "not base64url (1 to 240 letters, digits, '-' and '_')",
            });
        }
        Ok(Self(token.to_string()))
    }

    /// A token no CA issued, as long as real ones (for `doctor`'s test publications).
    pub fn random() -> Self {
        Self(random_base64url())
    }
}

string_newtype!(ChallengeToken);

/// A key authorization, `token.thumbprint` (RFC 8555 section 8.1): what HTTP-01 serves and
/// what DNS-01's TXT value is the digest of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyAuthorization(String);

impl KeyAuthorization {
    pub fn new(key_authorization: &str) -> Result<Self, InvalidValue> {
        let valid = key_authorization
            .split_once('.')
            .is_some_and(|(t, thumb)| is_base64url(t, MAX_TOKEN) && is_base64url(thumb, MAX_TOKEN));
        if !valid {
            return Err(InvalidValue {
                what: "key authorization",
                value: key_authorization.to_string(),
                rule: "not token.thumbprint, both base64url",
            });
        }
        Ok(Self(key_authorization.to_string()))
    }

    /// The key authorization of `token` for the account key whose RFC 7638 thumbprint
    /// (base64url) is `thumbprint`.
    pub fn for_token(token: &ChallengeToken, thumbprint: &str) -> Result<Self, InvalidValue> {
        Self::new(&format!("{token}.{thumbprint}"))
    }

    /// `token` with a random thumbprint: a key authorization no account made.
    pub fn random_for(token: &ChallengeToken) -> Self {
        Self(format!("{token}.{}", random_base64url()))
    }

    /// The token part.
    pub fn token(&self) -> &str {
        self.0.split_once('.').map_or("", |(t, _)| t)
    }

    /// The DNS-01 TXT record value: base64url(SHA-256(key authorization)), RFC 8555 8.4.
    pub fn dns_txt_value(&self) -> String {
        use base64::Engine;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}

string_newtype!(KeyAuthorization);

/// An account's id: the directory name under `accounts/<server>/` on every node, so one
/// plain path component (no `/`, no `..`, no dot names: those are retired accounts).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn new(id: &str) -> Result<Self, InvalidValue> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !valid {
            return Err(InvalidValue {
                what: "account id",
                value: id.to_string(),
                rule: "not 1 to 64 letters, digits, '-' and '_'",
            });
        }
        Ok(Self(id.to_string()))
    }

    /// The id of the account at `url`: its last path segment's allowed characters, else
    /// `account`.
    pub fn from_url(url: &str) -> Self {
        let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let clean: String = last
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        if clean.is_empty() {
            Self("account".into())
        } else {
            Self(clean)
        }
    }
}

string_newtype!(AccountId);

/// A fleet node's name (`--node-id`, the host name by default): nothing that could break a
/// log line or a store key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

impl NodeId {
    pub fn new(node: &str) -> Result<Self, InvalidValue> {
        let valid = !node.is_empty()
            && node.len() <= 240
            && node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(InvalidValue {
                what: "node id",
                value: node.to_string(),
                rule: "use letters, digits and - _ . only",
            });
        }
        Ok(Self(node.to_string()))
    }
}

string_newtype!(NodeId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_base64url_and_bounded() {
        assert!(ChallengeToken::new("abc-DEF_123").is_ok());
        let long = "a".repeat(MAX_TOKEN + 1);
        for bad in ["", "a/b", "a.b", "../x", "a b", "a=", long.as_str()] {
            assert!(ChallengeToken::new(bad).is_err(), "{bad:?}");
        }
        let err = ChallengeToken::new("a/b").unwrap_err();
        assert!(err.to_string().contains("\"a/b\""), "{err}");
    }

    #[test]
    fn key_authorizations_are_token_dot_thumbprint() {
        let token = ChallengeToken::new("tok").unwrap();
        let ka = KeyAuthorization::for_token(&token, "thumb").unwrap();
        assert_eq!(ka.as_str(), "tok.thumb");
        assert_eq!(ka.token(), "tok");
        let made_up = ChallengeToken::random();
        assert!(ChallengeToken::new(made_up.as_str()).is_ok());
        let ka = KeyAuthorization::random_for(&made_up);
        assert!(KeyAuthorization::new(ka.as_str()).is_ok());
        assert_eq!(ka.token(), made_up.as_str());
        for bad in [
            "tok",
            "tok.",
            ".thumb",
            "tok.th.umb",
            "tok.th umb",
            "t/k.thumb",
        ] {
            assert!(KeyAuthorization::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_dns_value_is_the_rfc_8555_digest() {
        // `printf tok.thumb | openssl dgst -sha256 -binary | basenc --base64url`, unpadded.
        let ka = KeyAuthorization::new("tok.thumb").unwrap();
        assert_eq!(
            ka.dns_txt_value(),
            "sYAwVrqDtVOuJZvAHurSAYPoEt5fFV_C4bdSOOW-o5Y"
        );
    }

    #[test]
    fn ids_are_plain_names() {
        assert!(AccountId::new("12345").is_ok());
        for bad in ["", "../x", "a/b", ".retired-1", "a.b", &"a".repeat(65)] {
            assert!(AccountId::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(AccountId::from_url("https://ca/acct/12/").as_str(), "12");
        assert_eq!(
            AccountId::from_url("https://ca/acct/..").as_str(),
            "account"
        );
        assert!(NodeId::new("web-1.example").is_ok());
        for bad in ["", "a b", "a/b", "a\nb", &"a".repeat(241)] {
            assert!(NodeId::new(bad).is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&NodeId::new("n1").unwrap()).unwrap();
        assert!(serde_json::from_str::<NodeId>(&json).is_ok());
        assert!(serde_json::from_str::<NodeId>("\"a b\"").is_err());
    }
}
