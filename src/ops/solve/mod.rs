//! Answering the CA's challenges, behind one interface: prepare (bind the port, take
//! nginx's turn) before ordering, publish the order's tokens, clean up after validation.
//! Implemented by the standalone responder, the webroot writer, nginx and (fleet mode) the
//! shared store every node's responder answers from.

pub(crate) mod dns;
pub(crate) mod fleet_proxy;
pub(crate) mod manual;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acme::Challenge;
use crate::challenge::dns::CreatedRecord;
use crate::challenge::{self, ChallengeMap, WebrootFiles};
use crate::config::Authenticator;
use crate::error::Error;
use crate::nginx;
use crate::store::shared::SharedChallenge;
use crate::store::Store;
use crate::types::DomainName;

use crate::ops::fleet::SHARED_CHALLENGE_TTL;
use crate::ops::issue::session::Session;
use crate::ops::output::Ui;
use crate::ops::solve::dns::DnsSolver;
use crate::ops::solve::manual::{HookRun, ManualSolver};

/// Fleet mode: put the order's tokens in the shared store (so a probe landing on any node
/// is answered), or take them out again.
pub(crate) async fn share_challenges(
    session: &Session,
    challenges: &[Challenge],
    put: bool,
) -> Result<(), Error> {
    let Some(fleet) = session.fleet() else {
        return Ok(());
    };
    for c in challenges {
        if put {
            fleet
                .shared
                .put_challenge(
                    &SharedChallenge {
                        token: c.token.clone(),
                        identifier: host_form(&c.identifier),
                        key_authorization: c.key_authorization.clone(),
                    },
                    SHARED_CHALLENGE_TTL,
                )
                .await?;
        } else {
            fleet.shared.remove_challenge(&c.token).await?;
        }
    }
    Ok(())
}

/// An authenticator ready to publish (its port already bound, or nginx's turn taken).
pub(crate) enum Prepared<'s> {
    Standalone {
        map: ChallengeMap,
        /// The port, when a fleet daemon serves it (the run checks it answers).
        elsewhere: Option<u16>,
    },
    Webroot(Vec<(DomainName, PathBuf)>),
    Nginx {
        _turn: tokio::sync::MutexGuard<'s, ()>,
        ctl: nginx::Ctl,
        http_01_port: u16,
        checkpoints: PathBuf,
    },
    // Boxed: the writer and lookup are large next to the other variants.
    Dns(Box<DnsSolver>),
    Manual(Box<ManualSolver>),
}

/// What is being served right now, to be removed after validation.
pub(crate) enum Published {
    Standalone,
    Webroot(WebrootFiles),
    Nginx,
    Dns(Vec<CreatedRecord>),
    Manual(Vec<HookRun>),
}

impl Prepared<'_> {
    pub(crate) async fn publish(
        &mut self,
        ui: &Ui,
        challenges: &[Challenge],
    ) -> Result<Published, Error> {
        match self {
            Prepared::Standalone { map, elsewhere } => {
                for c in challenges {
                    let (token, key_auth) = (c.token.as_str(), c.key_authorization.as_str());
                    map.insert(&host_form(&c.identifier), token, key_auth);
                }
                if let Some(port) = elsewhere {
                    wait_served(*port, challenges).await?;
                }
                Ok(Published::Standalone)
            }
            Prepared::Webroot(map) => {
                let mut files = WebrootFiles::default();
                for c in challenges {
                    // IP addresses (RFC 8738) are served from the first document root.
                    let root = match c.identifier.parse::<IpAddr>() {
                        Ok(_) => map.first(),
                        Err(_) => map.iter().find(|(d, _)| d.as_str() == c.identifier),
                    };
                    let Some((_, root)) = root else {
                        return Err(Error::Challenge(format!(
                            "no webroot configured for {}",
                            c.identifier
                        )));
                    };
                    files
                        .publish(root, c.token.as_str(), c.key_authorization.as_str())
                        .map_err(|e| {
                            Error::Challenge(format!(
                                "cannot write the challenge file under {}: {e}",
                                root.display()
                            ))
                        })?;
                }
                Ok(Published::Webroot(files))
            }
            Prepared::Nginx {
                ctl,
                http_01_port,
                checkpoints,
                ..
            } => {
                if challenges.is_empty() {
                    return Ok(Published::Nginx);
                }
                publish_nginx(ui, ctl, *http_01_port, checkpoints, challenges).await?;
                Ok(Published::Nginx)
            }
            Prepared::Dns(solver) => Ok(Published::Dns(solver.publish(ui, challenges).await?)),
            Prepared::Manual(solver) => {
                Ok(Published::Manual(solver.publish(ui, challenges).await?))
            }
        }
    }

    /// Whether what `publish` does lives outside this process (DNS records, hooks' work),
    /// so a SIGINT/SIGTERM must undo it before the run ends.
    fn undo_on_signal(&self) -> bool {
        matches!(self, Prepared::Dns(_) | Prepared::Manual(_))
    }

    /// The signal half of the cleanup guard (the other is [`abandon`](Self::abandon)): for
    /// the DNS and manual solvers, SIGINT or SIGTERM, whichever comes first; None for the
    /// others or if the handlers cannot be installed. Once installed they stay for the
    /// process (tokio cannot restore the default action), so only solvers that need it ask.
    pub(crate) fn stop_signal(&self) -> Option<impl std::future::Future<Output = &'static str>> {
        use tokio::signal::unix::{signal, SignalKind};
        if !self.undo_on_signal() {
            return None;
        }
        let mut term = signal(SignalKind::terminate()).ok()?;
        let mut int = signal(SignalKind::interrupt()).ok()?;
        Some(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }

    /// After a signal dropped `publish` or the validation mid-way: undo everything the
    /// journal holds (what was published, and what was about to be).
    pub(crate) async fn abandon(&mut self, ui: &Ui) {
        let result = match self {
            Prepared::Dns(solver) => solver.remove_leftovers(ui).await,
            Prepared::Manual(solver) => solver.cleanup_leftovers(ui).await,
            _ => Ok(()),
        };
        if let Err(e) = result {
            ui.warn(format!("cleanup after the signal: {e}"));
        }
    }

    pub(crate) async fn cleanup(
        &mut self,
        ui: &Ui,
        published: Published,
        challenges: &[Challenge],
    ) {
        match (self, published) {
            (Prepared::Standalone { map, .. }, _) => {
                for c in challenges {
                    map.remove(c.token.as_str());
                }
            }
            (_, Published::Webroot(mut files)) => files.cleanup(),
            (Prepared::Dns(solver), Published::Dns(created)) => solver.cleanup(ui, &created).await,
            (Prepared::Manual(solver), Published::Manual(runs)) => solver.cleanup(ui, &runs).await,
            (
                Prepared::Nginx {
                    ctl, checkpoints, ..
                },
                Published::Nginx,
            ) => {
                if let Err(e) = revert_nginx(ctl, checkpoints) {
                    ui.warn(format!(
                        "could not remove the temporary challenge locations from nginx: {e}"
                    ));
                }
            }
            _ => {}
        }
    }
}

/// The port is held by another process (this node's fleet daemon, serving the shared store):
/// it must answer every token before the CA is asked, else the port's holder is named.
async fn wait_served(port: u16, challenges: &[Challenge]) -> Result<(), Error> {
    for c in challenges {
        let host = host_form(&c.identifier);
        let mut answered = false;
        for _ in 0..20 {
            if challenge::probe_local(port, &host, c.token.as_str(), c.key_authorization.as_str())
                .await
            {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if !answered {
            let owner = challenge::port_owner(port)
                .map(|o| format!(" by {o}"))
                .unwrap_or_default();
            return Err(Error::Challenge(format!(
                "port {port} is held{owner}, which does not answer the fleet's challenges (run `certwright daemon --store ... --http-01-port {port}` there, or free the port)"
            )));
        }
    }
    Ok(())
}

/// Add a location per challenge, test, reload, and wait until nginx answers them locally.
async fn publish_nginx(
    ui: &Ui,
    ctl: &nginx::Ctl,
    port: u16,
    checkpoints: &Path,
    challenges: &[Challenge],
) -> Result<(), Error> {
    // A run killed mid-validation left its locations behind: undo them first.
    revert_nginx(ctl, checkpoints)?;
    let config = nginx::load(&ctl.conf)?;
    let mut wanted = Vec::new();
    for c in challenges {
        wanted.push(nginx::Challenge {
            name: c.identifier.parse()?,
            token: c.token.to_string(),
            key_authorization: c.key_authorization.to_string(),
        });
    }
    let edits = nginx::plan_challenges(&config, &wanted, port)?;
    nginx::apply(&edits, checkpoints, ctl)?;
    let handed_over = match ctl.reload_and_wait() {
        Ok(seen) => seen,
        Err(e) => {
            let _ = revert_nginx(ctl, checkpoints);
            return Err(e.into());
        }
    };
    // Every name at once: the wait is one reload's, not one per name.
    let probes = challenges.iter().map(|c| {
        let ip = nginx::challenge_probe_ip(&config, &c.identifier, port);
        answered_after_reload((ip, port), c, handed_over)
    });
    let answered = futures_util::future::join_all(probes).await;
    for (c, ok) in challenges.iter().zip(answered) {
        if !ok {
            ui.warn(format!(
                "nginx on port {port} does not answer the challenge for {} locally; asking the CA anyway",
                c.identifier
            ));
        }
    }
    Ok(())
}

/// Whether nginx answers the challenge. Once the old workers are known to be gone one
/// answer is enough; otherwise only several in a row show that the CA's probe will not
/// land on an old worker. A redirect to https counts: the planner put the challenge into
/// the https blocks too, and the CA follows the redirect there.
async fn answered_after_reload(
    (ip, port): (IpAddr, u16),
    c: &Challenge,
    handed_over: bool,
) -> bool {
    use challenge::LocalAnswer;
    let needed = if handed_over { 1 } else { 3 };
    let mut in_a_row = 0;
    for _ in 0..100 {
        let (name, token, key_auth) = (
            &c.identifier,
            c.token.as_str(),
            c.key_authorization.as_str(),
        );
        let answer = challenge::probe_local_answer(ip, port, name, token, key_auth).await;
        if answer != LocalAnswer::Other {
            in_a_row += 1;
            if in_a_row == needed {
                return true;
            }
        } else {
            in_a_row = 0;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    false
}

/// Restore the config as it was before the challenge locations, byte for byte, and reload.
fn revert_nginx(ctl: &nginx::Ctl, checkpoints: &Path) -> Result<(), Error> {
    if !checkpoints.exists() {
        return Ok(());
    }
    let report = nginx::rollback(checkpoints, &ctl.conf, usize::MAX)?;
    let _ = std::fs::remove_dir_all(checkpoints);
    if !report.checkpoints.is_empty() && ctl.is_running() {
        ctl.reload()?;
    }
    Ok(())
}

pub(crate) async fn prepare_authenticator<'s>(
    ui: &Ui,
    session: &'s Session,
    store: &Store,
    auth: &Authenticator,
) -> Result<Prepared<'s>, Error> {
    match auth {
        Authenticator::Standalone {
            http_01_port,
            http_01_address,
        } => {
            let map = session.standalone(*http_01_address, *http_01_port).await?;
            let elsewhere = session
                .served_elsewhere(&(*http_01_address, *http_01_port))
                .await
                .then_some(*http_01_port);
            Ok(Prepared::Standalone { map, elsewhere })
        }
        Authenticator::Webroot { map } => Ok(Prepared::Webroot(
            map.iter()
                .map(|e| (e.domain.clone(), e.path.clone()))
                .collect(),
        )),
        Authenticator::Nginx {
            server_root,
            ctl,
            http_01_port,
        } => {
            let ctl = nginx::Ctl {
                binary: ctl.clone(),
                conf: server_root.join("nginx.conf"),
                path_map: Default::default(),
            };
            // Fail on a broken or missing config before spending an order.
            ctl.test()?;
            Ok(Prepared::Nginx {
                _turn: session.nginx.lock().await,
                ctl,
                http_01_port: *http_01_port,
                checkpoints: store.work_dir().join("nginx-challenge-checkpoints"),
            })
        }
        dns_or_manual => prepare_dns(ui, dns_or_manual, store.work_dir()).await,
    }
}

/// The DNS-01 solvers and `--manual`: their credentials read and an earlier run's leftovers
/// removed before ordering.
async fn prepare_dns<'s>(
    ui: &Ui,
    auth: &Authenticator,
    work_dir: &Path,
) -> Result<Prepared<'s>, Error> {
    match auth {
        Authenticator::DnsRfc2136 {
            credentials,
            resolvers,
            propagation_seconds,
        } => Ok(Prepared::Dns(Box::new(
            DnsSolver::rfc2136(ui, credentials, resolvers, *propagation_seconds, work_dir).await?,
        ))),
        Authenticator::Dns {
            provider,
            credentials,
            resolvers,
            propagation_seconds,
        } => Ok(Prepared::Dns(Box::new(
            DnsSolver::provider(
                ui,
                provider,
                credentials,
                resolvers,
                *propagation_seconds,
                work_dir,
            )
            .await?,
        ))),
        Authenticator::DnsRoute53 {
            resolvers,
            propagation_seconds,
        } => Ok(Prepared::Dns(Box::new(
            DnsSolver::route53(ui, resolvers, *propagation_seconds, work_dir).await?,
        ))),
        Authenticator::Manual {
            challenge,
            auth_hook,
            cleanup_hook,
            resolvers,
        } => Ok(Prepared::Manual(Box::new(
            ManualSolver::new(
                ui,
                *challenge,
                auth_hook,
                cleanup_hook.as_deref(),
                resolvers,
                work_dir,
            )
            .await?,
        ))),
        Authenticator::Standalone { .. }
        | Authenticator::Webroot { .. }
        | Authenticator::Nginx { .. } => Err(Error::Internal(format!(
            "{} is not a DNS-01 or manual solver",
            auth.name()
        ))),
    }
}

/// How an identifier appears in the Host header the CA sends: IPv6 in brackets.
pub(crate) fn host_form(identifier: &str) -> String {
    match identifier.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => identifier.to_string(),
    }
}
