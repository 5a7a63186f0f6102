//! Removing a lineage (`delete`, `revoke --delete-after-revoke`), but never while nginx
//! still uses its files: nginx that names a deleted file fails its next reload (and
//! restart), so every config under the server root is checked first. With `--uninstall`,
//! the lines certwright added (they carry `nginx::MARKER`) are removed as a tested,
//! checkpointed nginx change first; lines a person wrote are never edited, only listed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::error::{Error, InputError, NginxError};
use crate::nginx::{self, Ctl};
use crate::store::Store;
use crate::types::CertName;

use crate::ops::deploy::nginx_txn::checkpoint_root;
use crate::ops::output::{ask_line, print_stdout};
use crate::ops::Ctx;

/// Uninstall what `check` allowed, then delete. Callers confirm first.
/// certbot's `delete` without `--cert-name`: the lineages listed on the terminal, one chosen
/// by number. Without a terminal (or with -n) the name must be given.
pub(crate) fn choose(interactive: bool, store: &Store) -> Result<CertName, Error> {
    let missing = || InputError::MissingFlag {
        flags: "--cert-name NAME (see `certwright certificates`)",
    };
    if !interactive || !std::io::stdin().is_terminal() {
        return Err(missing().into());
    }
    let (names, _) = store.list_lineages()?;
    if names.is_empty() {
        return Err(InputError::NothingToDelete.into());
    }
    let mut menu = String::from("Which certificate would you like to delete?\n");
    for (i, name) in names.iter().enumerate() {
        menu.push_str(&format!("{}: {name}\n", i + 1));
    }
    eprint!("{menu}");
    let answer =
        ask_line(&format!("Select 1-{} (Enter to cancel)", names.len())).ok_or_else(missing)?;
    answer
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| names.get(i).cloned())
        .ok_or_else(|| {
            InputError::NoSuchChoice {
                answer: answer.to_string(),
            }
            .into()
        })
}

pub(crate) fn remove(
    ctx: &Ctx,
    store: &Store,
    name: &CertName,
    usage: NginxUsage,
) -> Result<(), Error> {
    usage.uninstall(ctx, store, name)?;
    let removed = store.delete_lineage(name)?;
    for path in &removed {
        tracing::info!("removed {}", path.display());
    }
    if !ctx.global.quiet {
        print_stdout(&format!("Deleted the certificate {name}.\n"));
    }
    Ok(())
}

/// Which nginx lines name the lineage's files, split into certwright's own and the rest.
pub(crate) struct NginxUsage {
    /// `None`: no nginx.conf under the server root, nothing to check.
    config: Option<(nginx::Config, Ctl)>,
    paths: Vec<PathBuf>,
    managed: Vec<Reference>,
    foreign: Vec<Reference>,
}

pub(crate) struct Reference {
    file: PathBuf,
    line: usize,
    text: String,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.text)
    }
}

impl NginxUsage {
    pub(crate) fn find(
        store: &Store,
        name: &CertName,
        server_root: &Path,
        nginx_ctl: &Path,
    ) -> Result<NginxUsage, Error> {
        let main = server_root.join("nginx.conf");
        let paths = lineage_paths(store, name)?;
        if !main.is_file() {
            tracing::info!("no {}: nginx is not checked", main.display());
            return Ok(NginxUsage {
                config: None,
                paths,
                managed: vec![],
                foreign: vec![],
            });
        }
        let config = nginx::load(&main)?;
        let (managed, foreign) = references(&config, &paths);
        let ctl = Ctl {
            binary: nginx_ctl.to_path_buf(),
            conf: main,
            path_map: Default::default(),
        };
        Ok(NginxUsage {
            config: Some((config, ctl)),
            paths,
            managed,
            foreign,
        })
    }

    /// Fails (exit 5) if nginx would still name the files after what `uninstall` may do.
    pub(crate) fn check(&self, name: &CertName, uninstall: bool) -> Result<(), Error> {
        if !self.foreign.is_empty() {
            let mut all: Vec<&Reference> = self.foreign.iter().collect();
            if !uninstall {
                all.extend(&self.managed);
            }
            return Err(in_use(
                name,
                &all,
                "remove or change these lines (certwright did not write them), reload nginx, \
                 then run delete again",
            ));
        }
        if !self.managed.is_empty() && !uninstall {
            let all: Vec<&Reference> = self.managed.iter().collect();
            return Err(in_use(
                name,
                &all,
                "pass --uninstall to remove these lines (certwright added them), or remove \
                 them yourself",
            ));
        }
        Ok(())
    }

    /// Remove certwright's lines naming the files: `nginx -t` before and after (restored on
    /// failure), reload if nginx runs, then make sure no reference is left.
    fn uninstall(self, ctx: &Ctx, store: &Store, name: &CertName) -> Result<(), Error> {
        let Some((config, ctl)) = self.config else {
            return Ok(());
        };
        if self.managed.is_empty() {
            return Ok(());
        }
        let paths: Vec<&Path> = self.paths.iter().map(PathBuf::as_path).collect();
        let edits = nginx::plan_uninstall(&config, &paths)?;
        let step = ctx
            .ui
            .step(format!("Removing certwright's nginx lines for {name}"));
        let checkpoint = nginx::apply(&edits, &checkpoint_root(store.work_dir()), &ctl)?;
        if ctl.is_running() {
            ctl.reload()?;
        }
        step.done();
        for file in &checkpoint.files {
            ctx.ui.note(format!("  changed {}", file.display()));
        }
        let after = nginx::load(&ctl.conf)?;
        let (managed, foreign) = references(&after, &self.paths);
        let left: Vec<&Reference> = managed.iter().chain(&foreign).collect();
        if !left.is_empty() {
            return Err(in_use(
                name,
                &left,
                "these lines remain after --uninstall; remove them, then run delete again",
            ));
        }
        Ok(())
    }
}

/// The lineage's files as a config may spell them: under the config dir as given and, if
/// different, under its canonical path.
fn lineage_paths(store: &Store, name: &CertName) -> Result<Vec<PathBuf>, Error> {
    let files = store.lineage_files(name)?;
    let mut paths = files.clone();
    let root = store.config_dir();
    if let Ok(canonical) = std::fs::canonicalize(root) {
        if canonical != root {
            for f in &files {
                if let Ok(rest) = f.strip_prefix(root) {
                    paths.push(canonical.join(rest));
                }
            }
        }
    }
    Ok(paths)
}

/// (lines carrying certwright's marker, all other lines) that name any of `paths`.
fn references(config: &nginx::Config, paths: &[PathBuf]) -> (Vec<Reference>, Vec<Reference>) {
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut managed = Vec::new();
    let mut foreign = Vec::new();
    for (file, line, text) in config.references(&refs) {
        let marked = config
            .files
            .iter()
            .find(|f| f.real_path == file)
            .and_then(|f| f.source.lines().nth(line.saturating_sub(1)))
            .is_some_and(|l| l.contains(nginx::MARKER));
        let r = Reference { file, line, text };
        if marked {
            managed.push(r);
        } else {
            foreign.push(r);
        }
    }
    (managed, foreign)
}

fn in_use(name: &CertName, refs: &[&Reference], advice: &str) -> Error {
    let list: Vec<String> = refs.iter().map(|r| format!("  {r}")).collect();
    NginxError::Other(format!(
        "nginx still uses the certificate {name}; deleting it would break nginx's next \
         reload:\n{}\n{advice}",
        list.join("\n")
    ))
    .into()
}
