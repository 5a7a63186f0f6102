//! Reading certbot's configuration tree (`/etc/letsencrypt`) for `import-certbot`. Read-only:
//! nothing here writes, so certbot's files (and the nginx configs pointing at them) stay
//! exactly as they were.
//!
//! certbot's renewal files are configobj INI: top-level `key = value` lines, `[section]`s
//! and `[[subsection]]`s nested in the section above them, `#` comments, optional quotes,
//! and lists written as comma-separated values (`a, b,`). The parser below accepts that
//! subset and reports anything else with its line number.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Why a certbot file cannot be read or carried over. The texts name the file or the key,
/// as `import-certbot` shows them beside the lineage it skips.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertbotError {
    /// A renewal file line configobj would not read as certwright does.
    #[error("line {line}: {problem}")]
    Syntax { line: usize, problem: String },
    #[error("{key} = {value} is not a boolean")]
    NotBoolean { key: String, value: String },
    #[error("cannot read {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: crate::safe::file::ReadError,
    },
    #[error("account id {0:?} is not a directory name")]
    AccountId(String),
    #[error("server {0:?} is not a URL")]
    Server(String),
    #[error("{} is not JSON: {error}", path.display())]
    NotJson {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error("{} has no account URL (uri)", path.display())]
    NoAccountUrl { path: PathBuf },
    /// The account key (a JWK) is not one certwright can read: which part, and why.
    #[error("the {0}")]
    AccountKey(String),
    #[error("cannot encode the EC account key as PKCS#8")]
    EncodeEcKey,
}

/// One parsed renewal file: section path ("" for the top level, `renewalparams`,
/// `renewalparams/webroot_map`) to its keys.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RenewalConf {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl RenewalConf {
    pub(crate) fn parse(text: &str) -> Result<Self, CertbotError> {
        let syntax = |line: usize, problem: String| CertbotError::Syntax { line, problem };
        let mut conf = RenewalConf::default();
        let mut top_section = String::new();
        let mut current = String::new();
        conf.sections.insert(String::new(), BTreeMap::new());
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                let depth = line.bytes().take_while(|&b| b == b'[').count();
                let inner = line[depth..].trim_end();
                let Some(name) = inner.strip_suffix(&"]".repeat(depth)) else {
                    return Err(syntax(line_no, format!("unclosed section header {line:?}")));
                };
                let name = name.trim();
                if name.is_empty() || name.contains(['[', ']']) {
                    return Err(syntax(line_no, format!("bad section header {line:?}")));
                }
                current = match depth {
                    1 => {
                        top_section = name.to_string();
                        top_section.clone()
                    }
                    2 if !top_section.is_empty() => format!("{top_section}/{name}"),
                    _ => {
                        return Err(syntax(
                            line_no,
                            format!("section {line:?} is nested too deep"),
                        ))
                    }
                };
                if conf.sections.contains_key(&current) {
                    return Err(syntax(line_no, format!("duplicate section {name:?}")));
                }
                conf.sections.insert(current.clone(), BTreeMap::new());
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(syntax(
                    line_no,
                    format!("expected `key = value`, got {line:?}"),
                ));
            };
            let key =
                unquote(key.trim()).ok_or_else(|| syntax(line_no, format!("bad key {key:?}")))?;
            if key.is_empty() {
                return Err(syntax(line_no, "empty key".into()));
            }
            let value = parse_value(value.trim())
                .ok_or_else(|| syntax(line_no, format!("bad value for {key}")))?;
            let section = conf.sections.entry(current.clone()).or_default();
            if section.insert(key.clone(), value).is_some() {
                return Err(syntax(line_no, format!("duplicate key {key:?}")));
            }
        }
        Ok(conf)
    }

    /// A top-level key (`cert`, `privkey`, `archive_dir`, `renew_before_expiry`, ...).
    pub(crate) fn top(&self, key: &str) -> Option<&str> {
        self.get("", key)
    }

    /// A key of `[renewalparams]`; empty values and certbot's `None` count as absent.
    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.get("renewalparams", key)
    }

    /// A `[renewalparams]` boolean (configobj writes `True`/`False`).
    pub(crate) fn param_bool(&self, key: &str) -> Result<Option<bool>, CertbotError> {
        match self.param(key) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(Some(true)),
                "false" | "no" | "off" | "0" => Ok(Some(false)),
                _ => Err(CertbotError::NotBoolean {
                    key: key.to_string(),
                    value: v.to_string(),
                }),
            },
        }
    }

    /// A `[renewalparams]` list value (`/a, /b,`), in order.
    pub(crate) fn param_list(&self, key: &str) -> Vec<String> {
        self.param(key).map(split_list).unwrap_or_default()
    }

    /// `[[webroot_map]]`: domain to document root, sorted by domain.
    pub(crate) fn webroot_map(&self) -> Vec<(String, String)> {
        self.sections
            .get("renewalparams/webroot_map")
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)?
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty() && *v != "None")
    }
}

/// A value after `=`: quoted (the quotes removed) or bare (up to an inline ` #` comment).
/// Lists stay as written; `split_list` splits them.
fn parse_value(value: &str) -> Option<String> {
    if value.starts_with(['"', '\'']) && !value.contains(',') {
        let quote = value.chars().next()?;
        let end = value[1..].find(quote)? + 1;
        let rest = value[end + 1..].trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            return None;
        }
        return Some(value[1..end].to_string());
    }
    let bare = match value.find(" #") {
        Some(i) => &value[..i],
        None => value,
    };
    Some(bare.trim().to_string())
}

fn unquote(s: &str) -> Option<String> {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q) {
            return inner.strip_suffix(q).map(str::to_string);
        }
    }
    Some(s.to_string())
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(unquote)
        .collect()
}

/// `renewal/*.conf`, sorted by name.
pub(crate) fn renewal_confs(certbot_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let dir = certbot_dir.join("renewal");
    let mut out: Vec<PathBuf> = fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    out.sort();
    Ok(out)
}

/// The current files of a lineage, read through certbot's `live/<name>/*.pem` symlinks.
#[derive(Debug, Clone)]
pub(crate) struct LineagePems {
    pub cert: String,
    pub chain: String,
    pub fullchain: String,
    pub privkey: String,
}

/// Read the four files the renewal conf names (falling back to `live/<name>/`).
pub(crate) fn read_lineage_pems(
    certbot_dir: &Path,
    name: &str,
    conf: &RenewalConf,
) -> Result<LineagePems, CertbotError> {
    let read = |key: &str| -> Result<String, CertbotError> {
        let path = conf.top(key).map(PathBuf::from).unwrap_or_else(|| {
            certbot_dir
                .join("live")
                .join(name)
                .join(format!("{key}.pem"))
        });
        read_certbot_file(&path)
    };
    Ok(LineagePems {
        cert: read("cert")?,
        chain: read("chain")?,
        fullchain: read("fullchain")?,
        privkey: read("privkey")?,
    })
}

/// A file of certbot's tree, through `safe::file`: its `live/` symlinks are followed, but
/// what they lead to must be root's (or ours) and writable by no one else, since what it
/// says becomes certwright's configuration.
pub(crate) fn read_certbot_file(path: &Path) -> Result<String, CertbotError> {
    use crate::safe::file::{read_required, Policy};
    read_required(path, Policy::CONFIG.followed()).map_err(|error| CertbotError::Unreadable {
        path: path.to_path_buf(),
        error,
    })
}

/// What certbot's account key can become in certwright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccountKey {
    /// ECDSA P-256 (what instant-acme signs with): the key as PKCS#8 v1 DER.
    EcP256 { pkcs8: Vec<u8> },
    /// RSA (certbot's default; signed with RS256): the key as PKCS#8 DER.
    Rsa { pkcs8: Vec<u8> },
    /// Any other key (ECDSA on another curve, OKP...): cannot be carried over.
    Unsupported { kind: String },
}

/// One certbot account: `accounts/<host><path>/<id>/`.
#[derive(Debug, Clone)]
pub(crate) struct CertbotAccount {
    pub dir: PathBuf,
    /// The account URL at the CA (`regr.json`'s `uri`).
    pub url: String,
    pub key: AccountKey,
}

/// Read the account `id` that certbot registered at `server`.
pub(crate) fn read_account(
    certbot_dir: &Path,
    server: &str,
    id: &str,
) -> Result<CertbotAccount, CertbotError> {
    if id.is_empty() || id.contains(['/', '\0']) || id.starts_with('.') {
        return Err(CertbotError::AccountId(id.to_string()));
    }
    let rest = server
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| CertbotError::Server(server.to_string()))?;
    let dir = certbot_dir.join("accounts").join(rest).join(id);
    let read_json = |file: &str| -> Result<serde_json::Value, CertbotError> {
        let path = dir.join(file);
        let text = read_certbot_file(&path)?;
        serde_json::from_str(&text).map_err(|error| CertbotError::NotJson { path, error })
    };
    let regr = read_json("regr.json")?;
    let url = regr
        .get("uri")
        .and_then(|u| u.as_str())
        .filter(|u| u.starts_with("https://"))
        .ok_or_else(|| CertbotError::NoAccountUrl {
            path: dir.join("regr.json"),
        })?
        .to_string();
    let key = jwk_to_account_key(&read_json("private_key.json")?)?;
    Ok(CertbotAccount { dir, url, key })
}

/// Convert certbot's JWK account key. EC P-256 becomes PKCS#8 (checked: `x`, `y` must be
/// the public point of `d`); anything else is reported by its kind.
pub(crate) fn jwk_to_account_key(jwk: &serde_json::Value) -> Result<AccountKey, CertbotError> {
    let bad = |what: String| CertbotError::AccountKey(what);
    let field = |k: &str| jwk.get(k).and_then(|v| v.as_str());
    let kty = field("kty").ok_or_else(|| bad("account key has no kty".into()))?;
    match (kty, field("crv")) {
        ("EC", Some("P-256")) => {}
        ("EC", crv) => {
            return Ok(AccountKey::Unsupported {
                kind: format!("ECDSA {}", crv.unwrap_or("(no curve)")),
            })
        }
        ("RSA", _) => return rsa_jwk_to_pkcs8(jwk).map(|pkcs8| AccountKey::Rsa { pkcs8 }),
        (other, _) => {
            return Ok(AccountKey::Unsupported {
                kind: other.to_string(),
            })
        }
    }
    let coord = |k: &str| -> Result<Vec<u8>, CertbotError> {
        let bytes = field(k)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
            .ok_or_else(|| bad(format!("EC account key has no valid {k}")))?;
        // JWK coordinates are exactly 32 bytes for P-256; tolerate a missing leading zero.
        if bytes.len() > 32 {
            return Err(bad(format!("EC account key's {k} is too long")));
        }
        let mut padded = vec![0; 32 - bytes.len()];
        padded.extend(bytes);
        Ok(padded)
    };
    let (d, x, y) = (coord("d")?, coord("x")?, coord("y")?);
    let mut public = Vec::with_capacity(65);
    public.push(0x04);
    public.extend(&x);
    public.extend(&y);
    let pair = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &d,
        &public,
    )
    .map_err(|_| bad("EC account key is invalid (its public point does not match d)".into()))?;
    let doc = pair.to_pkcs8v1().map_err(|_| CertbotError::EncodeEcKey)?;
    Ok(AccountKey::EcP256 {
        pkcs8: doc.as_ref().to_vec(),
    })
}

/// certbot's RSA JWK (n, e, d, p, q, dp, dq, qi) as PKCS#8 DER, checked by parsing it back.
fn rsa_jwk_to_pkcs8(jwk: &serde_json::Value) -> Result<Vec<u8>, CertbotError> {
    let mut pkcs1 = der_integer(&[0]);
    for k in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        let bytes = jwk
            .get(k)
            .and_then(|v| v.as_str())
            .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
            .ok_or_else(|| CertbotError::AccountKey(format!("RSA account key has no valid {k}")))?;
        pkcs1.extend(der_integer(&bytes));
    }
    let pkcs1 = der(0x30, &pkcs1);
    // PrivateKeyInfo: version 0, rsaEncryption with NULL parameters, the key.
    let algorithm: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut info = der_integer(&[0]);
    info.extend(algorithm);
    info.extend(der(0x04, &pkcs1));
    let pkcs8 = der(0x30, &info);
    aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8)
        .map_err(|e| CertbotError::AccountKey(format!("RSA account key is invalid: {e}")))?;
    Ok(pkcs8)
}

/// A DER INTEGER from unsigned big-endian bytes.
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    der(0x02, &content)
}

/// A DER item: tag, definite length, content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend(content);
    out
}

/// instant-acme's `AccountCredentials` JSON for an imported account.
pub(crate) fn credentials_json(account_url: &str, pkcs8: &[u8], directory: &str) -> String {
    serde_json::json!({
        "id": account_url,
        "key_pkcs8": URL_SAFE_NO_PAD.encode(pkcs8),
        "directory": directory,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# renew_before_expiry = 30 days
version = 5.8.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = /etc/letsencrypt/live/example.com/cert.pem
privkey = /etc/letsencrypt/live/example.com/privkey.pem
chain = /etc/letsencrypt/live/example.com/chain.pem
fullchain = /etc/letsencrypt/live/example.com/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 0123456789abcdef0123456789abcdef
server = https://acme-v02.api.letsencrypt.org/directory
authenticator = webroot
webroot_path = /var/www/html, /srv/other,
key_type = \"ecdsa\"
reuse_key = True
pref_challs = http-01,
installer = None
[[webroot_map]]
example.com = /var/www/html
www.example.com = /srv/other # the blog
";

    #[test]
    fn parses_certbot_renewal_files() {
        let c = RenewalConf::parse(SAMPLE).unwrap();
        assert_eq!(c.top("version"), Some("5.8.0"));
        assert_eq!(c.top("renew_before_expiry"), None);
        assert_eq!(
            c.top("fullchain"),
            Some("/etc/letsencrypt/live/example.com/fullchain.pem")
        );
        assert_eq!(c.param("authenticator"), Some("webroot"));
        assert_eq!(c.param("key_type"), Some("ecdsa"));
        assert_eq!(c.param("installer"), None);
        assert_eq!(
            c.param_bool("reuse_key").map_err(|e| e.to_string()),
            Ok(Some(true))
        );
        assert_eq!(
            c.param_list("webroot_path"),
            ["/var/www/html", "/srv/other"]
        );
        assert_eq!(c.param_list("pref_challs"), ["http-01"]);
        assert_eq!(
            c.webroot_map(),
            [
                ("example.com".to_string(), "/var/www/html".to_string()),
                ("www.example.com".to_string(), "/srv/other".to_string()),
            ]
        );
    }

    #[test]
    fn rejects_what_configobj_would_reject() {
        for bad in [
            "cert /x",
            "[renewalparams\nx = 1",
            "[[webroot_map]]\na = b",
            "[a]\n[a]",
            "a = 1\na = 2",
            "a = \"unterminated",
            " = 1",
        ] {
            assert!(RenewalConf::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn converts_an_ec_p256_jwk_and_checks_the_point() {
        use aws_lc_rs::encoding::AsBigEndian;
        use aws_lc_rs::signature::KeyPair;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let alg = &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let d = pair.private_key().as_be_bytes().unwrap();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "d": b64(d.as_ref()), "x": b64(&public[1..33]), "y": b64(&public[33..]),
        });
        let AccountKey::EcP256 { pkcs8: converted } = jwk_to_account_key(&jwk).unwrap() else {
            panic!("not converted");
        };
        let back = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, &converted).unwrap();
        assert_eq!(back.public_key().as_ref(), public.as_slice());

        let mut wrong = jwk.clone();
        wrong["y"] = b64(&[7; 32]).into();
        assert!(jwk_to_account_key(&wrong).is_err());

        // An RSA JWK without its private parts is not a key (a whole one is converted; the
        // import_certbot integration tests renew with certbot's real RSA accounts).
        let rsa = serde_json::json!({"kty": "RSA", "n": b64(&[0xc5; 256]), "e": "AQAB"});
        let err = jwk_to_account_key(&rsa).unwrap_err().to_string();
        assert!(err.contains("no valid d"), "{err}");
    }
}
