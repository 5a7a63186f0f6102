//! Deploy targets: the lineage's certificate and key written again in the formats other
//! services read (PKCS#12 keystore, one combined PEM, a directory owned by a service user).
//! Every file is written with temp + fsync + rename; no key material reaches an error text.

use std::fs;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::config::{DeployTargets, DirTarget, Pkcs12Target};
use crate::error::HookError;
use crate::fsutil;
use crate::store::Store;
use crate::types::CertName;

/// Prefix of the versioned directories under a `--deploy-dir`.
const DIR_VERSION_PREFIX: &str = ".certwright-v";
/// The symlink in a `--deploy-dir` naming the current version directory.
const DIR_CURRENT: &str = "current";
const DIR_FILES: [&str; 4] = ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"];
/// The most a keystore password file may hold.
const MAX_PASSWORD_FILE: u64 = 4096;

/// Why a deploy target cannot be checked or written. No key material reaches a text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    /// A failure writing one target, prefixed with its path.
    #[error("{}: {error}", path.display())]
    At {
        path: PathBuf,
        error: Box<TargetError>,
    },
    #[error("password file {}: {error}", path.display())]
    PasswordFile {
        path: PathBuf,
        error: crate::safe::file::ReadError,
    },
    #[error("password file {} is empty", path.display())]
    EmptyPassword { path: PathBuf },
    #[error("{}: {error}", path.display())]
    LiveFile {
        path: PathBuf,
        error: crate::safe::file::ReadError,
    },
    #[error("{}: missing", path.display())]
    LiveFileMissing { path: PathBuf },
    #[error("fullchain.pem: {0}")]
    Fullchain(String),
    #[error("fullchain.pem holds no certificate")]
    NoCertificate,
    #[error("privkey.pem is not a usable PKCS#8 key")]
    UnusableKey,
    #[error("privkey.pem is not in PKCS#8 form (BEGIN PRIVATE KEY)")]
    NotPkcs8,
    #[error("privkey.pem holds no private key")]
    NoKey,
    #[error("building the keystore: {0}")]
    Keystore(String),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("{} belongs to uid {uid}, neither root nor the target's owner; chown it", path.display())]
    Owner { path: PathBuf, uid: u32 },
    #[error(
        "{} is writable by others than its owner (mode {mode:04o}): they could swap the key there; chmod go-w it",
        path.display()
    )]
    Writable { path: PathBuf, mode: u32 },
    #[error("looking up user {user}: {error}")]
    UserLookup { user: String, error: nix::Error },
    #[error("user {0} does not exist")]
    NoUser(String),
    #[error("looking up group {group}: {error}")]
    GroupLookup { group: String, error: nix::Error },
    #[error("group {0} does not exist")]
    NoGroup(String),
    #[error("mode {0:04o} gives more than 0640 (the files include the private key)")]
    Mode(u32),
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("directory {} does not exist", path.display())]
    NoDirectory { path: PathBuf },
}

impl TargetError {
    /// This error, as the failure of the target at `path`.
    fn at(path: &Path) -> impl FnOnce(TargetError) -> TargetError + '_ {
        move |error| TargetError::At {
            path: path.to_path_buf(),
            error: Box::new(error),
        }
    }
}

/// Check every target can be written (exit 2 at the command line, a deploy error later):
/// the password file exists and is 0600 or stricter, the owner exists, no directory
/// others can write. The reason as text: `cli::resolve` puts it into its input error.
pub(crate) fn check(targets: &DeployTargets) -> Result<(), String> {
    check_targets(targets).map_err(|e| e.to_string())
}

fn check_targets(targets: &DeployTargets) -> Result<(), TargetError> {
    if let Some(p) = &targets.pkcs12 {
        read_password(&p.password_file)?;
        check_parent(&p.path)?;
    }
    if let Some(c) = &targets.combined {
        check_parent(c)?;
    }
    if let Some(d) = &targets.dir {
        check_dir_target(d)?;
    }
    Ok(())
}

/// `write_all` as a failed deploy of the lineage (exit 1, reported with its renewal).
pub(crate) fn deploy(
    store: &Store,
    name: &CertName,
    targets: &DeployTargets,
) -> Result<(), HookError> {
    write_all(store, name, targets)
        .map_err(|e| HookError::Deploy(format!("deploy target of {name}: {e}")))
}

/// Write every target from the lineage's live files. The first failure is the result.
pub(crate) fn write_all(
    store: &Store,
    name: &CertName,
    targets: &DeployTargets,
) -> Result<(), TargetError> {
    if targets.is_empty() {
        return Ok(());
    }
    let files = LiveFiles::read(store, name)?;
    if let Some(p) = &targets.pkcs12 {
        write_pkcs12(p, name, &files).map_err(TargetError::at(&p.path))?;
    }
    if let Some(c) = &targets.combined {
        let mut bytes = files.fullchain.clone();
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&files.privkey);
        fsutil::write_atomic(c, &bytes, 0o600)
            .map_err(TargetError::Io)
            .map_err(TargetError::at(c))?;
    }
    if let Some(d) = &targets.dir {
        write_dir(d, &files).map_err(TargetError::at(&d.path))?;
    }
    Ok(())
}

/// The four PEM files of the lineage's current version, read once so every target gets
/// the same pair.
struct LiveFiles {
    cert: Vec<u8>,
    chain: Vec<u8>,
    fullchain: Vec<u8>,
    privkey: Vec<u8>,
}

impl LiveFiles {
    fn read(store: &Store, name: &CertName) -> Result<Self, TargetError> {
        let paths = store.live_paths(name);
        let read = |p: &Path| {
            crate::safe::file::read(p, crate::safe::file::Policy::STORE)
                .map_err(|error| TargetError::LiveFile {
                    path: p.to_path_buf(),
                    error,
                })?
                .ok_or_else(|| TargetError::LiveFileMissing {
                    path: p.to_path_buf(),
                })
        };
        Ok(LiveFiles {
            cert: read(&paths.cert)?,
            chain: read(&paths.chain)?,
            fullchain: read(&paths.fullchain)?,
            privkey: read(&paths.privkey)?,
        })
    }

    fn by_name(&self, file: &str) -> &[u8] {
        match file {
            "cert.pem" => &self.cert,
            "chain.pem" => &self.chain,
            "fullchain.pem" => &self.fullchain,
            _ => &self.privkey,
        }
    }
}

/// The keystore password: the file's first line, read through `safe::file` as a secret.
fn read_password(file: &Path) -> Result<String, TargetError> {
    use crate::safe::file::{read_required, Policy};
    let path = file.to_path_buf();
    let text = read_required(file, Policy::SECRET.limited(MAX_PASSWORD_FILE)).map_err(|error| {
        TargetError::PasswordFile {
            path: path.clone(),
            error,
        }
    })?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(TargetError::EmptyPassword { path });
    }
    Ok(password)
}

/// Key, leaf and chain in one keystore entry named after the lineage; PBES2 (PBKDF2 with
/// HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC, as OpenSSL 3 writes by default.
fn write_pkcs12(t: &Pkcs12Target, name: &CertName, files: &LiveFiles) -> Result<(), TargetError> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
        PrivateKeyChain,
    };
    let password = read_password(&t.password_file)?;
    let certs = CertificateDer::pem_slice_iter(&files.fullchain)
        .map(|c| {
            let c = c.map_err(|e| TargetError::Fullchain(e.to_string()))?;
            Certificate::from_der(c.as_ref()).map_err(|e| TargetError::Fullchain(e.to_string()))
        })
        .collect::<Result<Vec<_>, TargetError>>()?;
    let leaf = certs.first().ok_or(TargetError::NoCertificate)?;
    let key = match PrivateKeyDer::from_pem_slice(&files.privkey) {
        Ok(PrivateKeyDer::Pkcs8(k)) => {
            PrivateKey::from_der(k.secret_pkcs8_der()).map_err(|_| TargetError::UnusableKey)?
        }
        Ok(_) => return Err(TargetError::NotPkcs8),
        Err(_) => return Err(TargetError::NoKey),
    };
    // The leaf's digest pairs key and certificate (localKeyId), as OpenSSL does with SHA-1.
    let key_id = Sha256::digest(leaf.as_der())[..20].to_vec();
    let mut store = KeyStore::new();
    let chain = PrivateKeyChain::new(key_id, key, certs);
    store.add_entry(name.as_str(), KeyStoreEntry::PrivateKeyChain(chain));
    let der = store
        .writer(&password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .mac_algorithm(MacAlgorithm::HmacSha256)
        .write()
        .map_err(|e| TargetError::Keystore(e.to_string()))?;
    fsutil::write_atomic(&t.path, &der, 0o600).map_err(TargetError::Io)
}

/// The four files in a new version directory owned by the service user, then one symlink
/// swap (`current`) switches them together: a reader never sees a key from one version
/// and a certificate from another. `DIR/<file>` are symlinks to `current/<file>`.
///
/// Everything is done through the deploy dir's fd (see `fsutil::DirFd`): its owner, the
/// service user, cannot make root write or chown anything outside it. The version dir is
/// handed to the service user only after its files are complete.
fn write_dir(t: &DirTarget, files: &LiveFiles) -> Result<(), TargetError> {
    let (uid, gid) = check_dir_target(t)?;
    let io = TargetError::Io;
    if !t.path.exists() {
        fsutil::create_dir_with_mode(&t.path, 0o755).map_err(io)?;
    }
    let dir = fsutil::DirFd::open(&t.path).map_err(io)?;
    let stat = dir.stat().map_err(io)?;
    check_dir_owner(&t.path, stat.st_uid, stat.st_mode, uid)?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let version = format!("{DIR_VERSION_PREFIX}{stamp}");
    let vdir = dir.create_dir(&version, 0o750).map_err(io)?;
    for file in DIR_FILES {
        vdir.write_new(file, files.by_name(file), t.mode, (uid, gid))
            .map_err(io)?;
    }
    vdir.sync().map_err(io)?;
    vdir.chown((uid, gid)).map_err(io)?;
    dir.swap_symlink(Path::new(&version), DIR_CURRENT)
        .map_err(io)?;
    for file in DIR_FILES {
        let target = Path::new(DIR_CURRENT).join(file);
        if dir.read_link(file).as_deref() != Some(target.as_path()) {
            dir.swap_symlink(&target, file).map_err(io)?;
        }
    }
    remove_old_versions(&t.path, &version);
    Ok(())
}

/// The deploy dir may belong to root or the target's owner, and no one else may write it:
/// a group member or another user could otherwise swap the key there.
fn check_dir_owner(path: &Path, uid: u32, mode: u32, owner: u32) -> Result<(), TargetError> {
    if uid != 0 && uid != owner {
        return Err(TargetError::Owner {
            path: path.to_path_buf(),
            uid,
        });
    }
    if mode & 0o022 != 0 {
        return Err(TargetError::Writable {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

/// Version directories other than `keep`; a failure leaves a stale copy, not an error.
fn remove_old_versions(dir: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(DIR_VERSION_PREFIX) && name != keep {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The owner's uid and gid, and a directory (if it exists) that is a real directory
/// others cannot write.
fn check_dir_target(t: &DirTarget) -> Result<(u32, u32), TargetError> {
    let user = nix::unistd::User::from_name(&t.owner)
        .map_err(|error| TargetError::UserLookup {
            user: t.owner.clone(),
            error,
        })?
        .ok_or_else(|| TargetError::NoUser(t.owner.clone()))?;
    let gid = match &t.group {
        None => user.gid.as_raw(),
        Some(g) => nix::unistd::Group::from_name(g)
            .map_err(|error| TargetError::GroupLookup {
                group: g.clone(),
                error,
            })?
            .ok_or_else(|| TargetError::NoGroup(g.clone()))?
            .gid
            .as_raw(),
    };
    if t.mode & !0o640 != 0 {
        return Err(TargetError::Mode(t.mode));
    }
    match fs::symlink_metadata(&t.path) {
        Ok(meta) if !meta.is_dir() => {
            return Err(TargetError::NotADirectory {
                path: t.path.clone(),
            })
        }
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            check_dir_owner(&t.path, meta.uid(), meta.mode(), user.uid.as_raw())?
        }
        Err(_) => check_parent(&t.path)?,
    }
    Ok((user.uid.as_raw(), gid))
}

/// The directory a target file goes into must exist.
fn check_parent(path: &Path) -> Result<(), TargetError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(TargetError::NoDirectory { path: parent });
    }
    Ok(())
}
