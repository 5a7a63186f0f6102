//! Encryption at rest for secrets in the shared store (private keys, account credentials):
//! AES-256-GCM with a key every node reads from `--store-key-file`, a fresh random nonce per
//! blob, and the blob's purpose and name as associated data, so a blob copied to another
//! key (another lineage's privkey field) fails to open instead of being served.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Marks the format, so a clear PEM (or a future format) is never mistaken for a blob.
const PREFIX: &str = "cw-sealed-1:";

/// Why the key file is unusable, or a blob cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SealError {
    #[error("{}: {error}", path.display())]
    KeyFileUnreadable {
        path: PathBuf,
        error: crate::safe::file::ReadError,
    },
    #[error("{}: No such file or directory", path.display())]
    KeyFileMissing { path: PathBuf },
    // Raw random bytes (`head -c 32 /dev/urandom`) are the likely mistake: name the format.
    #[error(
        "{}: not text; the key file holds 32 random bytes in base64 \
         (make one with `openssl rand -base64 32 > FILE`)",
        path.display()
    )]
    KeyFileNotText { path: PathBuf },
    #[error("{}: {error}", path.display())]
    KeyFile {
        path: PathBuf,
        error: Box<SealError>,
    },
    #[error("not base64 (make one with `openssl rand -base64 32`)")]
    NotBase64,
    #[error("holds {0} bytes, a 32-byte key is needed (`openssl rand -base64 32`)")]
    KeyLength(usize),
    #[error("unusable key")]
    UnusableKey,
    #[error("no randomness for a nonce")]
    NoRandomness,
    #[error("encryption failed")]
    EncryptionFailed,
    #[error("the sealed {context} is not text")]
    NotText { context: String },
    #[error(
        "the sealed {context} does not open with this --store-key-file (another key, or altered)"
    )]
    DoesNotOpen { context: String },
}

/// The fleet's data key. Deliberately not `Debug`: it must never reach a log line.
pub(crate) struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// Read the key file: base64 of exactly 32 bytes, readable by its owner only.
    pub(crate) fn from_file(path: &Path) -> Result<Sealer, SealError> {
        let path_buf = || path.to_path_buf();
        let bytes = crate::safe::file::read(path, crate::safe::file::Policy::SECRET)
            .map_err(|error| SealError::KeyFileUnreadable {
                path: path_buf(),
                error,
            })?
            .ok_or_else(|| SealError::KeyFileMissing { path: path_buf() })?;
        let text =
            String::from_utf8(bytes).map_err(|_| SealError::KeyFileNotText { path: path_buf() })?;
        Sealer::from_base64(text.trim()).map_err(|e| SealError::KeyFile {
            path: path_buf(),
            error: Box::new(e),
        })
    }

    pub(crate) fn from_base64(text: &str) -> Result<Sealer, SealError> {
        let bytes = STANDARD.decode(text).map_err(|_| SealError::NotBase64)?;
        if bytes.len() != 32 {
            return Err(SealError::KeyLength(bytes.len()));
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::UnusableKey)?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
        })
    }

    /// `context` names what the blob is (e.g. `privkey:example.com`); opening needs the same.
    pub(crate) fn seal(&self, context: &str, clear: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::NoRandomness)?;
        let mut data = clear.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::EncryptionFailed)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", STANDARD.encode(blob)))
    }

    /// `seal` for text.
    pub(crate) fn seal_text(&self, context: &str, clear: &str) -> Result<String, SealError> {
        self.seal(context, clear.as_bytes())
    }

    /// `open` for what `seal_text` sealed.
    pub(crate) fn open_text(&self, context: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| SealError::NotText {
            context: context.to_string(),
        })
    }

    /// An authentication tag over `fields` (AES-GCM over no clear text: a GMAC), for what
    /// the store keeps in clear but a writer without the key must not be able to change.
    /// Each field is length-prefixed, so bytes cannot move from one field to the next.
    pub(crate) fn tag(&self, purpose: &str, fields: &[&str]) -> Result<String, SealError> {
        self.seal(&tagged_data(purpose, fields), b"")
    }

    /// Whether `tag` is what `tag(purpose, fields)` made with this key.
    pub(crate) fn verify(&self, purpose: &str, fields: &[&str], tag: &str) -> bool {
        self.open(&tagged_data(purpose, fields), tag)
            .is_ok_and(|clear| clear.is_empty())
    }

    pub(crate) fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bad = || SealError::DoesNotOpen {
            context: context.to_string(),
        };
        let encoded = sealed.strip_prefix(PREFIX).ok_or_else(bad)?;
        let mut blob = STANDARD.decode(encoded).map_err(|_| bad())?;
        if blob.len() < NONCE_LEN {
            return Err(bad());
        }
        let mut data = blob.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&blob).map_err(|_| bad())?;
        let clear = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| bad())?;
        Ok(clear.to_vec())
    }
}

/// `purpose` and each field, each preceded by its length.
fn tagged_data(purpose: &str, fields: &[&str]) -> String {
    let mut data = format!("{}:{purpose}", purpose.len());
    for f in fields {
        data.push_str(&format!("|{}:{f}", f.len()));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sealer(byte: u8) -> Sealer {
        Sealer::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn round_trips_and_hides_the_clear_text() {
        let s = sealer(7);
        let pem = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n";
        let blob = s.seal("privkey:a.example", pem).unwrap();
        assert!(!blob.contains("PRIVATE KEY"));
        assert!(!blob.contains("MIGHAgEA"));
        assert_eq!(s.open("privkey:a.example", &blob).unwrap(), pem);
        // A fresh nonce each time: the same key never gives the same blob.
        assert_ne!(blob, s.seal("privkey:a.example", pem).unwrap());
    }

    #[test]
    fn refuses_another_context_another_key_or_an_altered_blob() {
        let s = sealer(7);
        let blob = s.seal("privkey:a.example", b"secret").unwrap();
        assert!(s.open("privkey:b.example", &blob).is_err());
        assert!(sealer(8).open("privkey:a.example", &blob).is_err());
        let mut altered = blob.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(s
            .open("privkey:a.example", &String::from_utf8(altered).unwrap())
            .is_err());
        assert!(s.open("privkey:a.example", "secret").is_err());
    }

    #[test]
    fn tags_verify_only_the_same_fields_under_the_same_key() {
        let s = sealer(7);
        let tag = s.tag("bundle", &["a.example", "3", "cert"]).unwrap();
        assert!(s.verify("bundle", &["a.example", "3", "cert"], &tag));
        assert!(!s.verify("bundle", &["a.example", "4", "cert"], &tag));
        assert!(!s.verify("account", &["a.example", "3", "cert"], &tag));
        // Moving bytes between fields changes the tagged data.
        assert!(!s.verify("bundle", &["a.example", "3c", "ert"], &tag));
        assert!(!sealer(8).verify("bundle", &["a.example", "3", "cert"], &tag));
        assert!(!s.verify("bundle", &["a.example", "3", "cert"], "junk"));
        // A sealed blob with clear text is not a tag.
        let blob = s.seal(&tagged_data("bundle", &["x"]), b"clear").unwrap();
        assert!(!s.verify("bundle", &["x"], &blob));
    }

    #[test]
    fn key_must_be_32_bytes_of_base64() {
        assert!(Sealer::from_base64("not base64!").is_err());
        let short = Sealer::from_base64(&STANDARD.encode([1u8; 16]))
            .err()
            .unwrap()
            .to_string();
        assert!(short.contains("16 bytes"), "{short}");
    }

    #[test]
    fn key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, STANDARD.encode([3u8; 32])).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Sealer::from_file(&path).err().unwrap().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Sealer::from_file(&path).is_ok());
    }
}
