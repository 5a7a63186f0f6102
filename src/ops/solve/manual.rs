//! certbot's `--manual` with hooks: the auth hook publishes each challenge's value (a TXT
//! record for dns-01, a file for http-01) with certbot's environment, dns-01 values are
//! looked up until served, and the cleanup hook undoes each one afterwards: on success, on
//! failure, on SIGINT/SIGTERM, and (from the work dir's journal) after a run killed outright.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::acme::Challenge;
use crate::challenge::dns::{self, CreatedRecord};
use crate::error::{Error, HookError};
use crate::types::ChallengeKind;

use crate::ops::deploy::hooks::{check_hooks, run_hook, run_hook_capturing};
use crate::ops::output::Ui;
use crate::ops::solve::dns::{expected, read_state, write_state, Propagation};

/// Auth hooks that ran (or were about to) and whose cleanup hook has not run yet.
const JOURNAL_FILE: &str = "manual-hook-runs.json";

/// One auth hook run: what its cleanup must be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HookRun {
    /// The cleanup hook that undoes it (a later run cleans only what its own hook can).
    pub cleanup_hook: String,
    /// The CERTBOT_* variables the auth hook got.
    pub env: Vec<(String, String)>,
    /// CERTBOT_AUTH_OUTPUT: the auth hook's stdout (empty if it did not finish).
    #[serde(default)]
    pub auth_output: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    runs: Vec<HookRun>,
}

pub(crate) struct ManualSolver {
    auth_hook: String,
    cleanup_hook: Option<String>,
    /// dns-01: the propagation check; None for http-01 (the hook's web server is its own).
    check: Option<Propagation>,
    journal_path: PathBuf,
}

impl ManualSolver {
    /// Runs the cleanup hook for what an earlier, killed run's auth hook left behind.
    pub(crate) async fn new(
        ui: &Ui,
        challenge: ChallengeKind,
        auth_hook: &str,
        cleanup_hook: Option<&str>,
        resolvers: &[SocketAddr],
        work_dir: &Path,
    ) -> Result<ManualSolver, Error> {
        // Saved hooks are checked again: the files may have changed since they were given.
        check_hooks(&[
            ("--manual-auth-hook", Some(auth_hook)),
            ("--manual-cleanup-hook", cleanup_hook),
        ])?;
        let check = (challenge == ChallengeKind::Dns01)
            .then(|| Propagation::resolving(resolvers, Duration::ZERO));
        let solver = ManualSolver {
            auth_hook: auth_hook.to_string(),
            cleanup_hook: cleanup_hook.map(str::to_string),
            check,
            journal_path: work_dir.join(JOURNAL_FILE),
        };
        solver.cleanup_leftovers(ui).await?;
        Ok(solver)
    }

    /// Runs the auth hook once per challenge (noted in the journal first), then, for dns-01,
    /// waits until the values are served. On error, the cleanup hook runs for each started.
    pub(crate) async fn publish(
        &self,
        ui: &Ui,
        challenges: &[Challenge],
    ) -> Result<Vec<HookRun>, Error> {
        let mut runs = Vec::new();
        if let Err(e) = self.run_auth_hooks(ui, challenges, &mut runs).await {
            self.cleanup(ui, &runs).await;
            return Err(e);
        }
        if let Some(check) = &self.check {
            if let Err(e) = wait_served(check, challenges).await {
                self.cleanup(ui, &runs).await;
                return Err(e);
            }
        }
        crate::crash::crash_point("manual-auth-done");
        Ok(runs)
    }

    async fn run_auth_hooks(
        &self,
        ui: &Ui,
        challenges: &[Challenge],
        runs: &mut Vec<HookRun>,
    ) -> Result<(), Error> {
        let dns = self.check.is_some();
        for (i, c) in challenges.iter().enumerate() {
            let mut run = HookRun {
                cleanup_hook: self.cleanup_hook.clone().unwrap_or_default(),
                env: certbot_env(challenges, i, dns),
                auth_output: String::new(),
            };
            self.update_journal(|j| j.runs.push(run.clone()))?;
            runs.push(run.clone());
            let env = borrowed(&run.env);
            let output = run_hook_capturing(ui, "manual auth hook", &self.auth_hook, &env).await;
            let output = output.map_err(|e| auth_failed(e, &c.identifier))?;
            let noted = run.clone();
            run.auth_output = output;
            self.update_journal(|j| replace(&mut j.runs, &noted, run.clone()))?;
            replace(runs, &noted, run);
        }
        Ok(())
    }

    /// Runs the cleanup hook once per auth hook run; a failure is a warning (the journal
    /// keeps the run for the next `--manual` run with this cleanup hook).
    pub(crate) async fn cleanup(&self, ui: &Ui, runs: &[HookRun]) {
        let Some(hook) = &self.cleanup_hook else {
            return;
        };
        for run in runs {
            let mut env = borrowed(&run.env);
            env.push(("CERTBOT_AUTH_OUTPUT", &run.auth_output));
            match run_hook(ui, "manual cleanup hook", hook, &env).await {
                Ok(()) => {
                    if let Err(e) = self.update_journal(|j| j.runs.retain(|r| r != run)) {
                        ui.warn(e.to_string());
                    }
                }
                Err(e) => ui.warn(format!("{e} (it runs again on the next --manual run)")),
            }
        }
    }

    /// Every run in the journal this cleanup hook undoes: an earlier killed run's, or this
    /// run's when a signal stopped it mid-way.
    pub(crate) async fn cleanup_leftovers(&self, ui: &Ui) -> Result<(), Error> {
        let Some(hook) = &self.cleanup_hook else {
            return self.write_journal(&Journal::default());
        };
        let mine: Vec<HookRun> = self
            .read_journal()?
            .runs
            .into_iter()
            .filter(|r| &r.cleanup_hook == hook)
            .collect();
        if !mine.is_empty() {
            ui.note(format!(
                "running the cleanup hook for {} challenge(s) an interrupted run left",
                mine.len()
            ));
            self.cleanup(ui, &mine).await;
        }
        Ok(())
    }

    fn update_journal(&self, change: impl FnOnce(&mut Journal)) -> Result<(), Error> {
        // Without a cleanup hook nothing could be undone: no journal is kept.
        if self.cleanup_hook.is_none() {
            return Ok(());
        }
        let mut journal = self.read_journal()?;
        change(&mut journal);
        self.write_journal(&journal)
    }

    fn read_journal(&self) -> Result<Journal, Error> {
        Ok(match read_state(&self.journal_path)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                Error::Config(format!("{}: corrupt: {e}", self.journal_path.display()))
            })?,
            None => Journal::default(),
        })
    }

    fn write_journal(&self, journal: &Journal) -> Result<(), Error> {
        // Plain strings and vectors: serialising cannot fail.
        let text = serde_json::to_string_pretty(journal).unwrap_or_default();
        write_state(
            &self.journal_path,
            (!journal.runs.is_empty()).then_some(&*text),
        )
    }
}

/// certbot's environment for challenge `i`: CERTBOT_DOMAIN is the name without a wildcard's
/// `*.` (the authorization's identifier), CERTBOT_TOKEN is set for http-01 only (hook
/// scripts test it to tell the two apart).
fn certbot_env(challenges: &[Challenge], i: usize, dns: bool) -> Vec<(String, String)> {
    let domain = |c: &Challenge| c.identifier.trim_start_matches("*.").to_string();
    let c = &challenges[i];
    let all: Vec<String> = challenges.iter().map(domain).collect();
    let mut env = vec![
        ("CERTBOT_DOMAIN".to_string(), domain(c)),
        (
            "CERTBOT_VALIDATION".to_string(),
            if dns {
                c.key_authorization.dns_txt_value()
            } else {
                c.key_authorization.to_string()
            },
        ),
        (
            "CERTBOT_REMAINING_CHALLENGES".to_string(),
            (challenges.len() - i - 1).to_string(),
        ),
        ("CERTBOT_ALL_DOMAINS".to_string(), all.join(",")),
    ];
    if !dns {
        env.push(("CERTBOT_TOKEN".to_string(), c.token.to_string()));
    }
    env
}

fn borrowed(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn replace(runs: &mut [HookRun], old: &HookRun, new: HookRun) {
    if let Some(slot) = runs.iter_mut().find(|r| *r == old) {
        *slot = new;
    }
}

fn auth_failed(e: HookError, identifier: &str) -> Error {
    match e {
        HookError::Exited {
            kind,
            command,
            status,
        } => HookError::Exited {
            kind,
            command,
            status: format!("{status} for {identifier}; the CA was not asked"),
        },
        other => other,
    }
    .into()
}

/// dns-01: where each value lands (after any CNAME), then wait until it is served.
async fn wait_served(check: &Propagation, challenges: &[Challenge]) -> Result<(), Error> {
    let mut records = Vec::new();
    for c in challenges {
        let target = dns::locate(&c.identifier, &check.lookup).await?;
        records.push(CreatedRecord {
            writer: "manual".into(),
            zone: target.zone,
            name: target.name,
            value: c.key_authorization.dns_txt_value(),
        });
    }
    check.wait(&expected(&records)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChallengeToken, KeyAuthorization};

    fn challenge(identifier: &str, n: u8) -> Challenge {
        let token = ChallengeToken::new(&format!("token{n}")).unwrap();
        Challenge {
            identifier: identifier.into(),
            key_authorization: KeyAuthorization::for_token(&token, "thumb").unwrap(),
            token,
        }
    }

    #[test]
    fn certbots_environment_for_dns_and_http() {
        let cs = [challenge("*.example.com", 1), challenge("example.com", 2)];
        let env = certbot_env(&cs, 0, true);
        let get = |env: &[(String, String)], k: &str| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        };
        assert_eq!(get(&env, "CERTBOT_DOMAIN").as_deref(), Some("example.com"));
        // The DNS-01 value is derived from the key authorization now, no longer set apart.
        let value1 = cs[0].key_authorization.dns_txt_value();
        assert_eq!(get(&env, "CERTBOT_VALIDATION"), Some(value1));
        assert_eq!(
            get(&env, "CERTBOT_REMAINING_CHALLENGES").as_deref(),
            Some("1")
        );
        assert_eq!(
            get(&env, "CERTBOT_ALL_DOMAINS").as_deref(),
            Some("example.com,example.com")
        );
        assert_eq!(get(&env, "CERTBOT_TOKEN"), None);
        let env = certbot_env(&cs, 1, false);
        assert_eq!(
            get(&env, "CERTBOT_VALIDATION").as_deref(),
            Some("token2.thumb")
        );
        assert_eq!(get(&env, "CERTBOT_TOKEN").as_deref(), Some("token2"));
        assert_eq!(
            get(&env, "CERTBOT_REMAINING_CHALLENGES").as_deref(),
            Some("0")
        );
    }
}
