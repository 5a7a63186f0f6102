//! One view of a lineage (renewal config, bookkeeping, live certificate) and the one due
//! decision made from it: used by renew, the daemon, plan, certonly/run (is the existing
//! certificate still fresh?) and certificates.

use time::OffsetDateTime;

use crate::config::RenewalConfig;
use crate::error::{Error, StoreError};
use crate::schedule::{self, CertValidity, Decision, DueInput};
use crate::store::inspect::{self, CertInfo};
use crate::store::Store;
use crate::types::CertName;

use crate::ops::output::Ui;
use crate::ops::renew::state::LineageState;

/// The lineage's renewal config, parsed; `None` when it has none.
pub(crate) fn read_config(store: &Store, name: &CertName) -> Result<Option<RenewalConfig>, Error> {
    match store.read_renewal(name)? {
        Some(json) => Ok(Some(RenewalConfig::parse(
            &json,
            &store.renewal_file(name),
        )?)),
        None => Ok(None),
    }
}

/// The lineage's renewal config; a lineage without one does not exist.
pub(crate) fn require_config(store: &Store, name: &CertName) -> Result<RenewalConfig, Error> {
    read_config(store, name)?.ok_or_else(|| StoreError::NoSuchLineage(name.to_string()).into())
}

pub(crate) fn write_config(store: &Store, config: &RenewalConfig) -> Result<(), Error> {
    Ok(store.write_renewal(&config.cert_name, &config.to_json())?)
}

/// certbot's `install --cert-path C --key-path K [--fullchain-path F] [--chain-path P]`:
/// the lineage whose live certificate is C's leaf (any copy: certbot's live files after
/// `import-certbot` too), with the other files checked to be that lineage's.
pub(crate) fn lineage_of_files(
    store: &Store,
    cert: &std::path::Path,
    others: &[(&str, Option<&std::path::Path>)],
) -> Result<CertName, Error> {
    use crate::safe::file::{read, Policy};
    let bad = |flag: &'static str, path: &std::path::Path, problem: String| {
        Error::from(crate::error::InputError::BadPath {
            flag,
            path: path.to_path_buf(),
            problem,
        })
    };
    let leaf = |bytes: &[u8]| inspect::split_pem_chain(bytes).ok()?.into_iter().next();
    // Files the user named (any owner: only compared), and the store's own.
    let given_file = |p: &std::path::Path| read(p, Policy::PUBLIC).ok().flatten();
    let ours_file = |p: &std::path::Path| read(p, Policy::STORE).ok().flatten();
    let given = given_file(cert).ok_or_else(|| crate::error::InputError::UnusableFile {
        flag: "--cert-path",
        path: cert.to_path_buf(),
        reason: "cannot read it".into(),
    })?;
    let given =
        leaf(&given).ok_or_else(|| bad("--cert-path", cert, "holds no PEM certificate".into()))?;
    let (names, _) = store.list_lineages()?;
    let name = names
        .into_iter()
        .find(|n| {
            ours_file(&store.live_paths(n).cert)
                .and_then(|b| leaf(&b))
                .is_some_and(|l| l == given)
        })
        .ok_or_else(|| {
            bad(
                "--cert-path",
                cert,
                "is the current certificate of no lineage (see `certwright certificates`; import \
                 certbot's with `certwright import-certbot`)"
                    .into(),
            )
        })?;
    let live = store.live_paths(&name);
    for (flag, path) in others {
        let Some(path) = path else { continue };
        let (flag, ours) = match *flag {
            "--key-path" => ("--key-path", &live.privkey),
            "--fullchain-path" => ("--fullchain-path", &live.fullchain),
            _ => ("--chain-path", &live.chain),
        };
        let same = matches!((given_file(path), ours_file(ours)),
            (Some(a), Some(b)) if a.trim_ascii() == b.trim_ascii());
        if !same {
            return Err(bad(
                flag,
                path,
                format!("is not the file of lineage {name} ({})", ours.display()),
            ));
        }
    }
    Ok(name)
}

/// The live certificate as read from disk.
pub(crate) struct LiveCert {
    pub info: CertInfo,
    /// The live private key belongs to the certificate.
    pub key_matches: bool,
}

/// `None` when the files are missing or the certificate is unreadable.
pub(crate) fn read_live_cert(store: &Store, name: &CertName) -> Result<Option<LiveCert>, Error> {
    let Some((fullchain, key)) = store.read_live(name)? else {
        return Ok(None);
    };
    Ok(inspect::inspect_chain(&fullchain)
        .ok()
        .map(|info| LiveCert {
            key_matches: inspect::key_matches(&key, &info),
            info,
        }))
}

/// A lineage as read from disk, with its renewal decision.
pub(crate) struct Lineage {
    pub name: CertName,
    pub config: RenewalConfig,
    pub state: LineageState,
    pub info: Option<CertInfo>,
    pub decision: Decision,
}

/// Read a lineage and decide whether it is due at `now` (`force`: --force-renewal).
pub(crate) fn load_lineage(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    force: bool,
    now: OffsetDateTime,
) -> Result<Lineage, Error> {
    load_with_config(ui, store, name, require_config(store, name)?, force, now)
}

/// `load_lineage` with a renewal config given in memory instead of the stored one.
pub(crate) fn load_with_config(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    config: RenewalConfig,
    force: bool,
    now: OffsetDateTime,
) -> Result<Lineage, Error> {
    let state = LineageState::load(ui, store, name);
    let live = read_live_cert(store, name)?;
    let decision = decide(&config, &state, live.as_ref(), force, now);
    if matches!(decision.reason, schedule::Reason::NotYetValid { .. }) {
        ui.warn(format!(
            "{name}: the certificate is not valid yet (check this machine's clock)"
        ));
    }
    Ok(Lineage {
        name: name.clone(),
        config,
        state,
        info: live.map(|l| l.info),
        decision,
    })
}

/// `load_lineage` for many lineages, in their order, spread over the CPUs: with 10,000
/// lineages a no-op `renew` is mostly reading files and parsing certificates and keys.
pub(crate) fn load_many(
    ui: &Ui,
    store: &Store,
    names: &[CertName],
    force: bool,
    now: OffsetDateTime,
) -> impl Iterator<Item = (CertName, Result<Lineage, Error>)> {
    let load = |names: &[CertName]| -> Vec<_> {
        names
            .iter()
            .map(|n| (n.clone(), load_lineage(ui, store, n, force, now)))
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || names.len() < PARALLEL_FROM {
        return vec![load(names)].into_iter().flatten();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = names
            .chunks(names.len().div_ceil(threads))
            .map(|chunk| s.spawn(move || load(chunk)))
            .collect();
        // Handed on chunk by chunk, not collected again: 10,000 lineages are megabytes.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
}

/// Below this many lineages a thread costs more than it saves.
const PARALLEL_FROM: usize = 64;

/// The due decision: lifetime, ARI window, `renew_before_expiry`, files, names.
pub(crate) fn decide(
    config: &RenewalConfig,
    state: &LineageState,
    live: Option<&LiveCert>,
    force: bool,
    now: OffsetDateTime,
) -> Decision {
    let info = live.map(|l| &l.info);
    let domains_changed = info.is_some_and(|i| {
        let mut have: Vec<&str> = i.domains.iter().map(String::as_str).collect();
        // IP addresses are SANs too: leaving them out renewed IP lineages on every run.
        let identifiers = config.identifiers();
        let mut want: Vec<&str> = identifiers.iter().map(String::as_str).collect();
        have.sort_unstable();
        want.sort_unstable();
        have != want
    });
    schedule::renewal_decision(&DueInput {
        now,
        validity: info.map(|i| CertValidity {
            not_before: i.not_before,
            not_after: i.not_after,
        }),
        files_match: live.is_some_and(|l| l.key_matches),
        domains_changed,
        renew_before_expiry: config
            .renew_before_expiry_days
            .map(|d| time::Duration::days(i64::from(d))),
        ari: info.and_then(|i| state.ari_for(&i.serial)),
        force,
    })
}
