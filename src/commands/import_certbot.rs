//! `certwright import-certbot`: take over certbot's lineages (see `ops::import_certbot`).

use crate::certbot;
use crate::cli::{resolve, ImportCertbotArgs};
use crate::error::{Error, InputError};
use crate::ops::import_certbot::{adopt_hook_dirs, copy_tls_snippets, import_one, next_steps};
use crate::ops::output::print_stdout;
use crate::ops::Ctx;
use crate::store::Store;
use std::path::Path;

/// certbot's shared TLS settings copied for certwright (see `copy_tls_snippets`), and what
/// `install` does with them.
fn offer_tls_snippets(ctx: &Ctx, store: &Store, certbot_dir: &Path, dry_run: bool) {
    match copy_tls_snippets(store, certbot_dir, dry_run) {
        Ok(copied) if copied.is_empty() => {}
        Ok(copied) => {
            let list: Vec<String> = copied.iter().map(|p| p.display().to_string()).collect();
            print_stdout(&format!(
                "{} certbot's shared TLS settings to {}: `install` points the sites that \
                 include certbot's copies at these instead, so nginx no longer needs {}.\n",
                if dry_run { "Would copy" } else { "Copied" },
                list.join(" and "),
                certbot_dir.display()
            ));
        }
        Err(e) => ctx
            .ui
            .warn(format!("{e}; sites keep including certbot's TLS settings")),
    }
}

pub(super) fn run(ctx: &Ctx, args: ImportCertbotArgs) -> Result<(), Error> {
    let ca_bundle = resolve::ca_bundle(args.ca_bundle.as_deref())?;
    let confs =
        certbot::renewal_confs(&args.certbot_dir).map_err(|e| InputError::NotCertbotDir {
            dir: args.certbot_dir.clone(),
            renewal: args.certbot_dir.join("renewal"),
            reason: e.to_string(),
        })?;
    let store = ctx.store();
    // A dry run writes nothing: no store layout, no lock file (it only reads).
    let _lock = if args.dry_run {
        None
    } else {
        store.prepare()?;
        Some(store.lock()?)
    };
    ctx.init_logging();
    if confs.is_empty() {
        ctx.ui.note(format!(
            "No certbot lineages under {}; nothing to import.",
            args.certbot_dir.join("renewal").display()
        ));
        return Ok(());
    }
    let (mut failed, mut imported) = (0, Vec::new());
    for path in &confs {
        let bundle = ca_bundle.as_deref();
        match import_one(
            &ctx.ui,
            &store,
            &args.certbot_dir,
            path,
            bundle,
            args.dry_run,
        ) {
            Ok(Some(name)) => imported.push(name),
            Ok(None) => {}
            Err(reason) => {
                failed += 1;
                let file = path.file_name().unwrap_or_default().to_string_lossy();
                ctx.ui
                    .warn(format!("renewal/{file}: not imported: {reason}"));
            }
        }
    }
    if !imported.is_empty() {
        if !args.dry_run {
            if let Some(note) = adopt_hook_dirs(&store, &args.certbot_dir)? {
                print_stdout(&format!("{note}\n"));
            }
        }
        print_stdout(&next_steps(&args.certbot_dir, &imported, args.dry_run));
        offer_tls_snippets(ctx, &store, &args.certbot_dir, args.dry_run);
    }
    if failed > 0 {
        return Err(Error::NotImported {
            failed,
            total: confs.len(),
        });
    }
    Ok(())
}
