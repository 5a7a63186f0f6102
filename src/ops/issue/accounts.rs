//! ACME accounts: the one registration (terms prompt, EAB, saved credentials and public
//! facts), reuse of a stored account, and what `register`/`show_account`/`update_account`/
//! `unregister` share. The account key lives only in `credentials.json` (0600); `meta.json`
//! beside it keeps the public facts (URL, server, contact). An EAB HMAC key is used for the
//! one registration request and never written or logged anywhere.

use std::path::PathBuf;

use crate::acme::{self, AcmeAccount, AcmeHttp, ExternalAccount};
use crate::error::{AcmeError, Error, InputError, StoreError};
use crate::store::{AccountRef, Store};
use crate::types::{AccountId, Email, ServerUrl};

use crate::ops::output::{ask_terms, rfc3339, Ui};

/// Where the EAB HMAC key may come from besides the flags.
pub(crate) const EAB_HMAC_KEY_ENV: &str = "CERTWRIGHT_EAB_HMAC_KEY";

/// `--server`/`--staging`/`--ca-bundle`, validated.
#[derive(Debug, Clone)]
pub(crate) struct ServerChoice {
    pub server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
}

/// Who a new account is for and whether its terms were accepted.
#[derive(Clone, Copy)]
pub(crate) struct Registration<'a> {
    pub email: Option<&'a Email>,
    pub agree_tos: bool,
    pub interactive: bool,
    /// External Account Binding (None: the CA does not require it).
    pub eab: Option<&'a ExternalAccount>,
}

/// Register a new account at `server` and save it: the directory's EAB requirement and
/// terms are checked first (the terms asked on a terminal unless `--agree-tos`).
pub(crate) async fn register(
    ui: &Ui,
    store: &Store,
    http: &AcmeHttp,
    server: &ServerUrl,
    reg: &Registration<'_>,
) -> Result<(AcmeAccount, String), Error> {
    let directory = acme::fetch_directory(http, server).await?;
    if directory.meta.external_account_required && reg.eab.is_none() {
        return Err(eab_required(server));
    }
    if let Some(terms) = &directory.meta.terms_of_service {
        if !reg.agree_tos && !ask_terms(terms, reg.interactive) {
            return Err(AcmeError::TermsNotAgreed {
                terms: terms.clone(),
            }
            .into());
        }
    }
    let step = ui.step(format!("Registering an account at {server}"));
    let (account, credentials) =
        AcmeAccount::register_bound(http, server, &contact_urls(reg.email), reg.eab)
            .await
            .map_err(|e| explain_eab_refusal(e, reg.eab.is_some(), server))?;
    let id = AccountId::from_url(account.url());
    let meta = serde_json::json!({
        "url": account.url(),
        "server": server.as_str(),
        "contact": reg.email.map(|e| e.mailto().join(",")),
        "created": rfc3339(time::OffsetDateTime::now_utc()),
    });
    let stored = AccountRef::new(&server.account_dir_name(), id.as_str())?;
    store.save_account(&stored, &credentials, &meta.to_string())?;
    step.done();
    Ok((account, id.to_string()))
}

/// Reuse the stored account for this server (`account_id` if given and present, else the
/// server's first), or register one.
pub(crate) async fn ensure_account(
    ui: &Ui,
    store: &Store,
    http: &AcmeHttp,
    server: &ServerUrl,
    account_id: Option<&str>,
    reg: &Registration<'_>,
) -> Result<(AcmeAccount, String), Error> {
    let Some((stored, credentials)) = stored_account(store, server, account_id)? else {
        return register(ui, store, http, server, reg).await;
    };
    let step = ui.step(format!("Using account {} at {server}", stored.id()));
    let account = AcmeAccount::restore(http, &credentials).await?;
    step.done();
    Ok((account, stored.id().to_string()))
}

/// The stored account `account_id` for `server` with its credentials, else the server's
/// first stored account: a saved id that names none (or is "") falls back to it.
pub(crate) fn stored_account(
    store: &Store,
    server: &ServerUrl,
    account_id: Option<&str>,
) -> Result<Option<(AccountRef, String)>, Error> {
    let server_dir = server.account_dir_name();
    if let Some(account) = account_id.and_then(|id| AccountRef::new(&server_dir, id).ok()) {
        if let Some(credentials) = store.read_account(&account)? {
            return Ok(Some((account, credentials)));
        }
    }
    Ok(store.find_account(&server_dir)?)
}

/// The CA lost or removed a stored account (a reset test CA does).
pub(crate) fn is_account_gone(err: &AcmeError) -> bool {
    matches!(err, AcmeError::Problem(p)
        if p.kind.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist"))
}

/// The public facts kept beside an account's credentials.
pub(crate) struct AccountMeta {
    pub url: Option<String>,
    pub contact: Option<String>,
    pub json: serde_json::Value,
}

impl AccountMeta {
    pub(crate) fn set_contact(&mut self, email: Option<&Email>) {
        let contact = email.map(|e| e.mailto().join(","));
        self.contact = contact.clone();
        if let Some(obj) = self.json.as_object_mut() {
            obj.insert("contact".into(), contact.into());
        }
    }
}

/// The account's `mailto:` contact URLs (none without an email).
pub(crate) fn contact_urls(email: Option<&Email>) -> Vec<String> {
    email.map(Email::mailto).unwrap_or_default()
}

pub(crate) fn account_meta(store: &Store, account: &AccountRef) -> Result<AccountMeta, Error> {
    let json: serde_json::Value = match store.read_account_meta(account)? {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: store.account_dir(account).join("meta.json"),
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
pub(crate) async fn load_account(
    store: &Store,
    choice: &ServerChoice,
) -> Result<(AcmeAccount, AccountRef, AccountMeta), Error> {
    let server_dir = choice.server.account_dir_name();
    let Some((stored, credentials)) = store.find_account(&server_dir)? else {
        return Err(no_account(store, &choice.server));
    };
    let meta = account_meta(store, &stored)?;
    let http = AcmeHttp::new(choice.ca_bundle.as_deref())?;
    let account = AcmeAccount::restore(&http, &credentials).await?;
    Ok((account, stored, meta))
}

pub(crate) fn no_account(store: &Store, server: &ServerUrl) -> Error {
    StoreError::Other(format!(
        "no account for {server} is stored under {}; create one with `certwright register`",
        store.config_dir().join("accounts").display()
    ))
    .into()
}

fn eab_required(server: &ServerUrl) -> Error {
    InputError::EabRequired {
        server: server.to_string(),
        env: EAB_HMAC_KEY_ENV,
    }
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
