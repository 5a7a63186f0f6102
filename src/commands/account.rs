//! `register`, `show_account`, `update_account`, `unregister`: an ACME account's lifecycle.

use crate::acme::AcmeHttp;
use crate::cli::{resolve, RegisterArgs, ShowAccountArgs, UnregisterArgs, UpdateAccountArgs};
use crate::error::{Error, InputError, StoreError};
use crate::ops::issue::accounts::{account_meta, load_account, no_account, register, Registration};
use crate::ops::output::{confirm, print_stdout, require_confirmation_possible};
use crate::ops::Ctx;
use crate::types::Email;

pub(super) async fn run_register(ctx: &Ctx, args: RegisterArgs) -> Result<(), Error> {
    let a = &args.account;
    let email = a.email.as_deref().map(str::parse::<Email>).transpose()?;
    if email.is_none() && !a.register_unsafely_without_email {
        return Err(InputError::Needs {
            what: "an ACME account".into(),
            needs: "a contact: pass -m EMAIL, or --register-unsafely-without-email".into(),
        }
        .into());
    }
    let server = resolve::server(a.server.as_deref(), a.staging)?;
    let ca_bundle = resolve::ca_bundle(a.ca_bundle.as_deref())?;
    let eab = resolve::eab(&ctx.ui, &a.eab)?;
    let (store, _lock) = ctx.open_store()?;
    let server_dir = server.account_dir_name();
    if let Some((stored, _)) = store.find_account(&server_dir)? {
        let url = account_meta(&store, &stored)?
            .url
            .unwrap_or(stored.id().to_string());
        print_stdout(&format!(
            "An account is already registered at {server}: {url}\n\
             (stored in {}). Nothing to do.\n",
            store.account_dir(&stored).display()
        ));
        return Ok(());
    }
    let http = AcmeHttp::new(ca_bundle.as_deref())?;
    let reg = Registration {
        email: email.as_ref(),
        agree_tos: a.agree_tos,
        interactive: ctx.interactive(),
        eab: eab.as_ref(),
    };
    let (account, _) = register(&ctx.ui, &store, &http, &server, &reg).await?;
    if !ctx.global.quiet {
        print_stdout(&format!(
            "Account registered.\nAccount URL: {}\n",
            account.url()
        ));
    }
    Ok(())
}

pub(super) async fn run_show(ctx: &Ctx, args: ShowAccountArgs) -> Result<(), Error> {
    let choice = resolve::server_choice(&args.server)?;
    let (store, _lock) = ctx.open_store()?;
    let (account, stored, meta) = load_account(&store, &choice).await?;
    let contact = meta
        .contact
        .as_deref()
        .map(|c| c.replace("mailto:", ""))
        .unwrap_or_else(|| "none".into());
    print_stdout(&format!(
        "Account details for server {}:\n\
         \x20 Account URL: {}\n\
         \x20 Account thumbprint: {}\n\
         \x20 Email contact: {contact}\n\
         \x20 Stored in: {}\n",
        choice.server,
        account.url(),
        account.key_thumbprint(),
        store.account_dir(&stored).display(),
    ));
    Ok(())
}

pub(super) async fn run_update(ctx: &Ctx, args: UpdateAccountArgs) -> Result<(), Error> {
    let email = args.email.as_deref().map(str::parse::<Email>).transpose()?;
    let choice = resolve::server_choice(&args.server)?;
    let (store, _lock) = ctx.open_store()?;
    let (mut account, stored, mut meta) = load_account(&store, &choice).await?;
    if args.rollover_key {
        let step = ctx.ui.step("Replacing the account key");
        let credentials = account.rollover_key().await?;
        // The CA accepts only the new key from now on: save it before anything else.
        store
            .write_account_credentials(&stored, &credentials)
            .map_err(|e| {
                StoreError::Other(format!(
                    "the CA switched the account to a new key, but it could not be saved \
                     ({e}); the account can no longer be used from this machine"
                ))
            })?;
        step.done();
        print_stdout(&format!(
            "Account key replaced; new thumbprint {}.\n",
            account.key_thumbprint()
        ));
    }
    if let Some(email) = &email {
        let step = ctx.ui.step(format!("Changing the contact to {email}"));
        account.update_email(&email.mailto()).await?;
        meta.set_contact(Some(email));
        store.write_account_meta(&stored, &meta.json.to_string())?;
        step.done();
        print_stdout(&format!("Account contact updated to {email}.\n"));
    }
    Ok(())
}

pub(super) async fn run_unregister(ctx: &Ctx, args: UnregisterArgs) -> Result<(), Error> {
    let choice = resolve::server_choice(&args.server)?;
    require_confirmation_possible(ctx.interactive(), "unregister")?;
    let (store, _lock) = ctx.open_store()?;
    let server_dir = choice.server.account_dir_name();
    let Some((stored, _)) = store.find_account(&server_dir)? else {
        return Err(no_account(&store, &choice.server));
    };
    let meta = account_meta(&store, &stored)?;
    let shown = meta.url.clone().unwrap_or_else(|| stored.id().to_string());
    if !confirm(
        ctx.interactive(),
        &format!(
            "Deactivate the account {shown} at {}? The CA will refuse it from then on; \
             this cannot be undone.",
            choice.server
        ),
    )? {
        ctx.ui.note("Not deactivated; nothing changed.");
        return Ok(());
    }
    let (account, _, meta) = load_account(&store, &choice).await?;
    let step = ctx.ui.step(format!("Deactivating account {shown}"));
    let contact: Vec<String> = meta
        .contact
        .as_deref()
        .map(|c| c.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    account.deactivate(&contact).await?;
    step.done();
    store.remove_account(&stored)?;
    if !ctx.global.quiet {
        print_stdout(&format!(
            "Account deactivated and removed from {}.\n",
            store.account_dir(&stored).display()
        ));
    }
    Ok(())
}
