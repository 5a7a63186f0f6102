//! The server and account flags: `--server`/`--staging`, `--ca-bundle`, External Account Binding.

use std::path::{Path, PathBuf};

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::acme::ExternalAccount;
use crate::error::{Error, InputError};
use crate::ops::issue::accounts::{ServerChoice, EAB_HMAC_KEY_ENV};
use crate::ops::output::Ui;
use crate::safe::file::{self, Policy};
use crate::types::ServerUrl;

use crate::cli::{EabArgs, ServerArgs};

/// `--server`/`--staging`/`--ca-bundle`.
pub(crate) fn server_choice(args: &ServerArgs) -> Result<ServerChoice, Error> {
    Ok(ServerChoice {
        server: server(args.server.as_deref(), args.staging)?,
        ca_bundle: ca_bundle(args.ca_bundle.as_deref())?,
    })
}

/// `--server` / `--staging` / default, validated.
pub(crate) fn server(server: Option<&str>, staging: bool) -> Result<ServerUrl, Error> {
    let url = match (server, staging) {
        (Some(s), _) => s,
        (None, true) => ServerUrl::LETSENCRYPT_STAGING,
        (None, false) => ServerUrl::LETSENCRYPT,
    };
    Ok(url.parse()?)
}

/// `--ca-bundle` must be a readable file of PEM certificates; checked before anything else
/// happens (not first when the HTTP client is built, after the store was prepared).
pub(crate) fn ca_bundle(path: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let Some(path) = path else { return Ok(None) };
    let unusable = |reason: String| InputError::UnusableFile {
        flag: "--ca-bundle",
        path: path.to_path_buf(),
        reason,
    };
    let bad_path = |problem: &str| InputError::BadPath {
        flag: "--ca-bundle",
        path: path.to_path_buf(),
        problem: problem.into(),
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unusable(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad_path("contains no PEM certificate").into());
            }
            Ok(Some(
                std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            ))
        }
        Ok(_) => Err(bad_path("is not a file").into()),
        Err(e) => Err(unusable(e.to_string()).into()),
    }
}

/// The EAB key id and decoded HMAC key from `--eab-kid` and one of `--eab-hmac-key-file`,
/// `--eab-hmac-key` or `CERTWRIGHT_EAB_HMAC_KEY`. Messages never include the key.
pub(crate) fn eab(ui: &Ui, args: &EabArgs) -> Result<Option<ExternalAccount>, Error> {
    let Some(kid) = &args.eab_kid else {
        return Ok(None);
    };
    if kid.is_empty() || kid.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InputError::Flag {
            flag: "--eab-kid",
            problem: "must be a non-empty key id without spaces".into(),
        }
        .into());
    }
    let (encoded, source) = match (&args.eab_hmac_key_file, &args.eab_hmac_key) {
        (Some(path), _) => (read_key_file(path)?, path.display().to_string()),
        (None, Some(key)) => {
            ui.warn(
                "--eab-hmac-key puts the key where other users can see it (ps, \
                 /proc/<pid>/cmdline); prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY",
            );
            (key.clone(), "--eab-hmac-key".to_string())
        }
        (None, None) => match std::env::var(EAB_HMAC_KEY_ENV) {
            Ok(key) => (key, EAB_HMAC_KEY_ENV.to_string()),
            Err(_) => {
                return Err(InputError::Needs {
                    what: "--eab-kid".into(),
                    needs: format!(
                        "its HMAC key: pass --eab-hmac-key-file FILE or set {EAB_HMAC_KEY_ENV}"
                    ),
                }
                .into())
            }
        },
    };
    let hmac = decode_hmac_key(&encoded).ok_or(InputError::EabKey { from: source })?;
    Ok(Some(ExternalAccount::new(kid.clone(), hmac)))
}

fn read_key_file(path: &Path) -> Result<String, Error> {
    file::read_required(path, Policy::SECRET).map_err(|e| {
        InputError::UnusableFile {
            flag: "--eab-hmac-key-file",
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// base64url with or without padding, surrounding whitespace ignored; None if not that or empty.
fn decode_hmac_key(encoded: &str) -> Option<Vec<u8>> {
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine
        .decode(encoded.trim())
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse, path_in, UI};
    use super::*;
    use crate::cli::Command;

    fn revoke_server(args: &[&str]) -> Result<ServerChoice, Error> {
        let Command::Revoke(a) = parse(args).command else {
            panic!("not revoke")
        };
        server_choice(&a.server)
    }

    #[test]
    fn server_flags_choose_the_ca() {
        let c = revoke_server(&["revoke", "--cert-name", "a", "--staging"]).unwrap();
        assert_eq!(c.server.as_str(), ServerUrl::LETSENCRYPT_STAGING);
        assert!(c.ca_bundle.is_none());
        let url = "https://ca.example.com/dir";
        let c = revoke_server(&["revoke", "--cert-name", "a", "--server", url]).unwrap();
        assert_eq!(c.server.as_str(), url);
    }

    #[test]
    fn bad_server_and_ca_bundle_are_input_errors() {
        let e = input_error(revoke_server(&[
            "revoke",
            "--cert-name",
            "a",
            "--server",
            "ftp://ca",
        ]));
        assert!(matches!(e, InputError::Server { .. }), "{e:?}");
        let dir = tempfile::tempdir().unwrap();
        let missing = path_in(&dir, "ca.pem");
        let e = input_error(revoke_server(&[
            "revoke",
            "--cert-name",
            "a",
            "--ca-bundle",
            &missing,
        ]));
        assert!(
            matches!(&e, InputError::UnusableFile { flag: "--ca-bundle", path, .. } if path == Path::new(&missing)),
            "{e:?}"
        );
        let e = input_error(ca_bundle(Some(dir.path())));
        assert!(
            matches!(&e, InputError::BadPath { flag: "--ca-bundle", problem, .. } if problem == "is not a file"),
            "{e:?}"
        );
        std::fs::write(&missing, "no pem here\n").unwrap();
        let e = input_error(ca_bundle(Some(Path::new(&missing))));
        assert_eq!(
            e.to_string(),
            format!("--ca-bundle {missing} contains no PEM certificate")
        );
    }

    fn certonly_eab(args: &[&str]) -> Result<Option<ExternalAccount>, Error> {
        let Command::Certonly(a) = parse(args).command else {
            panic!("not certonly")
        };
        eab(&UI, &a.account.eab)
    }

    #[test]
    fn eab_flags_give_the_key_id_and_decoded_key() {
        let key = "9YDPRsusormLUJ6GYPn4rYweEoSIkgGowP0PkVxySrI";
        let dir = tempfile::tempdir().unwrap();
        let file = path_in(&dir, "hmac");
        std::fs::write(&file, format!("{key}\n")).unwrap();
        let mut perms = std::fs::metadata(&file).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        std::fs::set_permissions(&file, perms).unwrap();
        let given = ["certonly", "-d", "a.example.com", "--eab-kid", "kid-1"];
        for extra in [["--eab-hmac-key", key], ["--eab-hmac-key-file", &file]] {
            let args: Vec<&str> = given.iter().chain(&extra).copied().collect();
            let eab = certonly_eab(&args).unwrap().expect("an EAB key");
            assert!(format!("{eab:?}").contains("kid-1"));
        }
        assert!(certonly_eab(&["certonly", "-d", "a.example.com"])
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_eab_flags_name_the_flag_never_the_key() {
        let e = input_error(certonly_eab(&[
            "certonly",
            "-d",
            "a.example.com",
            "--eab-kid",
            "a b",
            "--eab-hmac-key",
            "AAAA",
        ]));
        assert!(
            matches!(
                e,
                InputError::Flag {
                    flag: "--eab-kid",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = input_error(certonly_eab(&[
            "certonly",
            "-d",
            "a.example.com",
            "--eab-kid",
            "kid",
            "--eab-hmac-key",
            "not+base64url/",
        ]));
        assert!(
            matches!(&e, InputError::EabKey { from } if from == "--eab-hmac-key"),
            "{e:?}"
        );
        assert!(!e.to_string().contains("not+base64url"));
    }

    #[test]
    fn hmac_keys_decode_padded_and_unpadded() {
        // 32 bytes: unpadded base64url has 43 characters, padded 44.
        let unpadded = "9YDPRsusormLUJ6GYPn4rYweEoSIkgGowP0PkVxySrI";
        let padded = format!("{unpadded}=");
        let a = decode_hmac_key(unpadded).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(decode_hmac_key(&padded).unwrap(), a);
        assert_eq!(decode_hmac_key(&format!("{unpadded}\n")).unwrap(), a);
        // Standard-alphabet characters and empty keys are refused.
        assert!(decode_hmac_key("ab+/").is_none());
        assert!(decode_hmac_key("").is_none());
        assert!(decode_hmac_key("  \n").is_none());
    }

    #[test]
    fn eab_debug_hides_the_key() {
        let eab = ExternalAccount::new("kid-1".into(), vec![0xAB; 8]);
        let shown = format!("{eab:?}");
        assert!(shown.contains("kid-1"));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "));
    }
}
