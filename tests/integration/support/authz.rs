//! Makes Pebble forget the valid authorizations an account holds, so the next order for the
//! same names must validate for real.
//!
//! Pebble 2.4 reuses a valid authorization unless `rand.Intn(100) > PEBBLE_AUTHZREUSE`: at 0 it
//! still reuses one in a hundred times, and a renewal a test broke on purpose then succeeds
//! without any probe (seen in CI). Tests that break a lineage after issuing it call
//! `Pebble::forget_authorizations` first.

use std::path::{Path, PathBuf};

use instant_acme::{Account, AccountCredentials, AuthorizationStatus};

use super::pebble::Pebble;
use super::{block_on, files_below};

impl Pebble {
    /// Deactivates every valid authorization of every account stored under `config_dir`
    /// (found through the orders Pebble logged); panics if one cannot be deactivated.
    pub fn forget_authorizations(&self, config_dir: &Path) {
        let orders = self.logged_order_urls();
        for credentials in account_credentials(config_dir) {
            block_on(self.deactivate_valid(credentials, &orders));
        }
    }

    /// The URL of every order Pebble's log says it created, of any account.
    fn logged_order_urls(&self) -> Vec<String> {
        let base = self.directory_url().trim_end_matches("/dir").to_string();
        let pattern = regex::Regex::new(r#"Added order "([A-Za-z0-9_-]+)" to the db"#)
            .expect("order pattern");
        pattern
            .captures_iter(&self.logs())
            .map(|c| format!("{base}/my-order/{}", &c[1]))
            .collect()
    }

    async fn deactivate_valid(&self, credentials: AccountCredentials, orders: &[String]) {
        let account = Account::builder_with_root(self.ca_bundle_path())
            .expect("account builder")
            .from_credentials(credentials)
            .await
            .expect("load the stored account");
        for url in orders {
            // Orders of other accounts are refused to this one: not ours to touch.
            let Ok(mut order) = account.order(url.clone()).await else {
                continue;
            };
            let mut authorizations = order.authorizations();
            while let Some(authz) = authorizations.next().await {
                let mut authz = authz.expect("fetch authorization");
                if authz.status == AuthorizationStatus::Valid {
                    let state = authz.deactivate().await.expect("deactivate authorization");
                    assert_eq!(state.status, AuthorizationStatus::Deactivated);
                }
            }
        }
    }
}

/// The instant-acme credentials of each account certwright stored under `config_dir`.
fn account_credentials(config_dir: &Path) -> Vec<AccountCredentials> {
    let files: Vec<PathBuf> = files_below(&config_dir.join("accounts"))
        .into_iter()
        .filter(|p| p.file_name() == Some("credentials.json".as_ref()))
        .collect();
    assert!(
        !files.is_empty(),
        "no account under {}",
        config_dir.display()
    );
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read credentials");
            serde_json::from_str(&text).expect("instant-acme credentials")
        })
        .collect()
}
