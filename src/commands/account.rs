//! `register`, `show_account`, `update_account`, `unregister`: an ACME account's lifecycle.
//!
//! The account key lives only in `credentials.json` (0600); `meta.json` beside it keeps the
//! public facts (URL, server, contact). An EAB HMAC key is used for the one registration
//! request and never written or logged anywhere.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::acme::{self, AcmeAccount, AcmeHttp, ExternalAccount};
use crate::cli::{
    EabArgs, RegisterArgs, ServerArgs, ShowAccountArgs, UnregisterArgs, UpdateAccountArgs,
};
use crate::error::{AcmeError, Error, InputError, StoreError};
use crate::store::{self, Store};
use crate::types::{Email, ServerUrl};

use super::ui::{print_stdout, Ui};
use super::{block_on, init_logging, resolve_ca_bundle, resolve_server, Ctx};

/// Where the EAB HMAC key may come from besides the flags.
pub const EAB_HMAC_KEY_ENV: &str = "CERTWRIGHT_EAB_HMAC_KEY";

/// `--server`/`--staging`/`--ca-bundle`, validated.
pub(crate) struct ServerChoice {
    pub server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
}

impl ServerChoice {
    pub fn from_args(args: &ServerArgs) -> Result<Self, Error> {
        Ok(Self {
            server: resolve_server(args.server.as_deref(), args.staging)?,
            ca_bundle: resolve_ca_bundle(args.ca_bundle.as_deref())?,
        })
    }
}

pub fn run_register(ctx: &Ctx, args: RegisterArgs) -> Result<(), Error> {
    let a = &args.account;
    let email = a.email.as_deref().map(str::parse::<Email>).transpose()?;
    if email.is_none() && !a.register_unsafely_without_email {
        return Err(InputError::Other(
            "an ACME account needs a contact: pass -m EMAIL, or --register-unsafely-without-email"
                .into(),
        )
        .into());
    }
    let server = resolve_server(a.server.as_deref(), a.staging)?;
    let ca_bundle = resolve_ca_bundle(a.ca_bundle.as_deref())?;
    let eab = resolve_eab(&ctx.ui, &a.eab)?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    block_on(async {
        let server_dir = server.account_dir_name();
        if let Some((id, _)) = store.find_account(&server_dir)? {
            let url = account_meta(&store, &server_dir, &id)?
                .url
                .unwrap_or(id.clone());
            print_stdout(&format!(
                "An account is already registered at {server}: {url}\n\
                 (stored in {}). Nothing to do.\n",
                store.account_dir(&server_dir, &id).display()
            ));
            return Ok(());
        }
        let http = AcmeHttp::new(ca_bundle.as_deref())?;
        let directory = acme::fetch_directory(&http, &server).await?;
        if directory.meta.external_account_required && eab.is_none() {
            return Err(eab_required(&server));
        }
        if let Some(terms) = &directory.meta.terms_of_service {
            if !a.agree_tos && !ask_terms(terms, ctx.interactive()) {
                return Err(AcmeError::TermsNotAgreed {
                    terms: terms.clone(),
                }
                .into());
            }
        }
        let step = ctx.ui.step(format!("Registering an account at {server}"));
        let (account, credentials) = AcmeAccount::register_bound(
            &http,
            &server,
            email.as_ref().map(Email::as_str),
            eab.as_ref(),
        )
        .await
        .map_err(|e| explain_eab_refusal(e, eab.is_some(), &server))?;
        let id = store::account_id_from_url(account.url());
        let meta = serde_json::json!({
            "url": account.url(),
            "server": server.as_str(),
            "contact": email.as_ref().map(|e| format!("mailto:{e}")),
            "created": super::certonly::rfc3339(time::OffsetDateTime::now_utc()),
        });
        store.save_account(&server_dir, &id, &credentials, &meta.to_string())?;
        step.done();
        if !ctx.global.quiet {
            print_stdout(&format!(
                "Account registered.\nAccount URL: {}\n",
                account.url()
            ));
        }
        Ok(())
    })?
}

pub fn run_show(ctx: &Ctx, args: ShowAccountArgs) -> Result<(), Error> {
    let choice = ServerChoice::from_args(&args.server)?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    block_on(async {
        let (account, id, meta) = load_account(&store, &choice).await?;
        let server_dir = choice.server.account_dir_name();
        let contact = meta
            .contact
            .as_deref()
            .map(|c| c.trim_start_matches("mailto:").to_string())
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
            store.account_dir(&server_dir, &id).display(),
        ));
        Ok(())
    })?
}

pub fn run_update(ctx: &Ctx, args: UpdateAccountArgs) -> Result<(), Error> {
    let email = args.email.as_deref().map(str::parse::<Email>).transpose()?;
    let choice = ServerChoice::from_args(&args.server)?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    block_on(async {
        let (mut account, id, mut meta) = load_account(&store, &choice).await?;
        let server_dir = choice.server.account_dir_name();
        if args.rollover_key {
            let step = ctx.ui.step("Replacing the account key");
            let credentials = account.rollover_key().await?;
            // The CA accepts only the new key from now on: save it before anything else.
            store
                .write_account_credentials(&server_dir, &id, &credentials)
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
            account.update_email(Some(email.as_str())).await?;
            meta.set_contact(Some(email));
            store.write_account_meta(&server_dir, &id, &meta.json.to_string())?;
            step.done();
            print_stdout(&format!("Account contact updated to {email}.\n"));
        }
        Ok(())
    })?
}

pub fn run_unregister(ctx: &Ctx, args: UnregisterArgs) -> Result<(), Error> {
    let choice = ServerChoice::from_args(&args.server)?;
    require_confirmation_possible(ctx, "unregister")?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    let server_dir = choice.server.account_dir_name();
    let Some((id, _)) = store.find_account(&server_dir)? else {
        return Err(no_account(&store, &choice.server));
    };
    let meta = account_meta(&store, &server_dir, &id)?;
    let shown = meta.url.clone().unwrap_or_else(|| id.clone());
    if !confirm(
        ctx,
        &format!(
            "Deactivate the account {shown} at {}? The CA will refuse it from then on; \
             this cannot be undone.",
            choice.server
        ),
    )? {
        ctx.ui.note("Not deactivated; nothing changed.");
        return Ok(());
    }
    block_on(async {
        let (account, _, meta) = load_account(&store, &choice).await?;
        let step = ctx.ui.step(format!("Deactivating account {shown}"));
        let contact = meta
            .contact
            .as_deref()
            .map(|c| c.trim_start_matches("mailto:").to_string());
        account.deactivate(contact.as_deref()).await?;
        step.done();
        store.remove_account(&server_dir, &id)?;
        if !ctx.global.quiet {
            print_stdout(&format!(
                "Account deactivated and removed from {}.\n",
                store.account_dir(&server_dir, &id).display()
            ));
        }
        Ok(())
    })?
}

/// The public facts kept beside an account's credentials.
pub(crate) struct AccountMeta {
    pub url: Option<String>,
    pub contact: Option<String>,
    json: serde_json::Value,
}

impl AccountMeta {
    fn set_contact(&mut self, email: Option<&Email>) {
        let contact = email.map(|e| format!("mailto:{e}"));
        self.contact = contact.clone();
        if let Some(obj) = self.json.as_object_mut() {
            obj.insert("contact".into(), contact.into());
        }
    }
}

fn account_meta(store: &Store, server_dir: &str, id: &str) -> Result<AccountMeta, Error> {
    let json: serde_json::Value = match store.read_account_meta(server_dir, id)? {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: store.account_dir(server_dir, id).join("meta.json"),
            reason: e.to_string(),
        })?,
        None => serde_json::json!({}),
    };
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(AccountMeta {
        url: field("url"),
        contact: field("contact"),
        json,
    })
}

/// The stored account for `choice.server`, restored (one request to the CA's directory).
async fn load_account(
    store: &Store,
    choice: &ServerChoice,
) -> Result<(AcmeAccount, String, AccountMeta), Error> {
    let server_dir = choice.server.account_dir_name();
    let Some((id, credentials)) = store.find_account(&server_dir)? else {
        return Err(no_account(store, &choice.server));
    };
    let meta = account_meta(store, &server_dir, &id)?;
    let http = AcmeHttp::new(choice.ca_bundle.as_deref())?;
    let account = AcmeAccount::restore(&http, &credentials).await?;
    Ok((account, id, meta))
}

fn no_account(store: &Store, server: &ServerUrl) -> Error {
    StoreError::Other(format!(
        "no account for {server} is stored under {}; create one with `certwright register`",
        store.config_dir().join("accounts").display()
    ))
    .into()
}

fn eab_required(server: &ServerUrl) -> Error {
    InputError::Other(format!(
        "{server} requires External Account Binding (EAB): pass --eab-kid KID with \
         --eab-hmac-key-file FILE (or {EAB_HMAC_KEY_ENV}), as shown in the CA's dashboard"
    ))
    .into()
}

/// A CA that requires EAB but did not say so in its directory refuses the registration
/// itself; name EAB in that case so the user knows what is missing.
pub(crate) fn explain_eab_refusal(err: AcmeError, had_eab: bool, server: &ServerUrl) -> Error {
    if let AcmeError::Problem(p) = &err {
        let mentions_eab = p.short_kind() == "externalAccountRequired"
            || p.detail
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains("external account"));
        if mentions_eab && !had_eab {
            return eab_required(server);
        }
    }
    err.into()
}

/// The EAB key id and decoded HMAC key from `--eab-kid` and one of `--eab-hmac-key-file`,
/// `--eab-hmac-key` or `CERTWRIGHT_EAB_HMAC_KEY`. Messages never include the key.
pub(crate) fn resolve_eab(ui: &Ui, args: &EabArgs) -> Result<Option<ExternalAccount>, Error> {
    let Some(kid) = &args.eab_kid else {
        return Ok(None);
    };
    if kid.is_empty() || kid.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InputError::Other(
            "--eab-kid must be a non-empty key id without spaces".into(),
        )
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
                return Err(InputError::Other(format!(
                    "--eab-kid needs its HMAC key: pass --eab-hmac-key-file FILE or set \
                     {EAB_HMAC_KEY_ENV}"
                ))
                .into())
            }
        },
    };
    let hmac = decode_hmac_key(&encoded).ok_or_else(|| {
        InputError::Other(format!(
            "the EAB HMAC key from {source} is not base64url (the form CAs show it in)"
        ))
    })?;
    Ok(Some(ExternalAccount::new(kid.clone(), hmac)))
}

fn read_key_file(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        InputError::Other(format!("--eab-hmac-key-file {}: {e}", path.display())).into()
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

/// An irreversible command run without -n must be able to ask: checked before any I/O.
pub(crate) fn require_confirmation_possible(ctx: &Ctx, command: &str) -> Result<(), Error> {
    if ctx.interactive() && !std::io::stdin().is_terminal() {
        return Err(InputError::Other(format!(
            "{command} asks for confirmation, but stdin is not a terminal: pass -n \
             (--non-interactive) to go ahead without asking"
        ))
        .into());
    }
    Ok(())
}

/// -n goes ahead; otherwise the terminal is asked (see `require_confirmation_possible`).
pub(crate) fn confirm(ctx: &Ctx, question: &str) -> Result<bool, Error> {
    if !ctx.interactive() {
        return Ok(true);
    }
    ask_yes_no(question).ok_or_else(|| {
        InputError::Other("cannot ask for confirmation: stdin is not a terminal".into()).into()
    })
}

/// Ask on the terminal; None when there is no terminal to ask on.
pub(crate) fn ask_yes_no(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question} (y/N): ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    Some(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn ask_terms(terms: &str, interactive: bool) -> bool {
    interactive
        && ask_yes_no(&format!(
            "Please read the terms of service at {terms}\n\
             You must agree to register with the ACME server. Agree?"
        ))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

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
