//! Writing DNS-01 TXT values: one interface, implemented over the `dns-update` crate's
//! providers (RFC 2136 with TSIG here; its HTTP-API providers plug in the same way).

use std::fmt;
use std::time::Duration;

use dns_update::providers::rfc2136::DnsAddress;
use dns_update::{DnsRecord, DnsRecordType, DnsUpdater};

use super::credentials::{Rfc2136Config, TsigAlgorithm};
use super::lookup::Lookup;
use super::propagation::Wait;
use super::secret::Secret;
use crate::error::DnsError;

/// TTL of the challenge records: short, so a stale value is not cached long by resolvers.
pub const TXT_TTL: u32 = 60;
/// Bound on one update (connect + answer); the library has no overall timeout of its own.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Adds and removes single TXT values. `add_txt` keeps any other values at the name (so
/// `*.example.com` and `example.com` sit side by side); `remove_txt` removes exactly that one
/// value. Both are idempotent.
#[async_trait::async_trait]
pub trait TxtWriter: Send + Sync {
    /// Stable description ("rfc2136 192.0.2.1:53 key NAME"): errors say it, and the journal
    /// keys its entries by it so a later run removes only what this writer can reach.
    fn label(&self) -> &str;
    async fn add_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError>;
    async fn remove_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError>;

    /// Returns once the provider reports every change made so far as applied on all its
    /// servers (Route53: the change is INSYNC), within `wait.timeout`. Most providers apply
    /// an update before answering it, so by default this returns at once; either way the
    /// propagation check follows.
    async fn wait_applied(&self, _wait: Wait) -> Result<(), DnsError> {
        Ok(())
    }
}

/// A `dns-update` provider as a `TxtWriter`.
pub struct ProviderWriter {
    updater: DnsUpdater,
    label: String,
    /// Added to update errors: what the usual cause of a refusal is for this provider.
    refusal_hint: String,
    /// Set for RFC 2136: a refused signature is reported as such (the library's text for an
    /// unsigned BADSIG answer is an unrelated-sounding hickory message).
    tsig_key: Option<String>,
}

impl fmt::Debug for ProviderWriter {
    // The updater holds credentials: show only the label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderWriter")
            .field("label", &self.label)
            .finish()
    }
}

impl ProviderWriter {
    /// Any other `dns-update` provider, built by the caller.
    pub fn from_updater(label: impl Into<String>, updater: DnsUpdater) -> ProviderWriter {
        ProviderWriter {
            updater,
            label: label.into(),
            refusal_hint: String::new(),
            tsig_key: None,
        }
    }

    /// What the usual cause of a refusal is, added to update errors.
    pub fn with_hint(mut self, hint: String) -> ProviderWriter {
        self.refusal_hint = hint;
        self
    }

    /// RFC 2136 dynamic updates signed with the TSIG key, over TCP as certbot sends them.
    pub fn rfc2136(config: &Rfc2136Config) -> Result<ProviderWriter, DnsError> {
        let updater = DnsUpdater::new_rfc2136_tsig(
            DnsAddress::Tcp(config.server),
            &config.key_name,
            config.key_bytes()?,
            match config.algorithm {
                TsigAlgorithm::HmacSha256 => dns_update::TsigAlgorithm::HmacSha256,
                TsigAlgorithm::HmacSha384 => dns_update::TsigAlgorithm::HmacSha384,
                TsigAlgorithm::HmacSha512 => dns_update::TsigAlgorithm::HmacSha512,
            },
        )
        .map_err(|e| DnsError::Other(format!("RFC 2136 setup: {e}")))?;
        Ok(ProviderWriter {
            updater,
            label: format!("rfc2136 {} key {}", config.server, config.key_name),
            refusal_hint: format!(
                " (does {} accept TSIG key {} with this secret and algorithm, and allow it to update TXT records in this zone?)",
                config.server, config.key_name
            ),
            tsig_key: Some(config.key_name.clone()),
        })
    }

    /// The PowerDNS Authoritative HTTP API (`api=yes`): `api_url` such as
    /// `http://127.0.0.1:8081`, the `X-API-Key`, and the server id (`localhost` by default).
    pub fn powerdns(
        api_url: &str,
        api_key: &Secret,
        server_id: Option<&str>,
    ) -> Result<ProviderWriter, DnsError> {
        let updater = DnsUpdater::new_pdns(
            api_key.expose(),
            Some(api_url),
            server_id,
            Some(UPDATE_TIMEOUT),
        )
        .map_err(|e| DnsError::Other(format!("PowerDNS setup: {e}")))?;
        Ok(ProviderWriter {
            updater,
            label: format!("powerdns {api_url}"),
            refusal_hint: format!(" (is {api_url} the PowerDNS API, and is the API key right?)"),
            tsig_key: None,
        })
    }

    async fn change(
        &self,
        action: &'static str,
        zone: &str,
        name: &str,
        value: &str,
    ) -> Result<(), DnsError> {
        let records = vec![DnsRecord::TXT(value.to_string())];
        let call = async {
            if action == "add" {
                let ttl = TXT_TTL;
                self.updater
                    .add_to_rrset(name, DnsRecordType::TXT, ttl, records, zone)
                    .await
            } else {
                self.updater
                    .remove_from_rrset(name, DnsRecordType::TXT, records, zone)
                    .await
            }
        };
        let err = |reason: String| DnsError::Update {
            writer: self.label.clone(),
            action,
            name: name.to_string(),
            zone: zone.to_string(),
            reason,
        };
        match tokio::time::timeout(UPDATE_TIMEOUT, call).await {
            Err(_) => Err(err(format!(
                "no answer within {} s",
                UPDATE_TIMEOUT.as_secs()
            ))),
            Ok(Err(e)) => Err(err(self.explain(&e.to_string()))),
            Ok(Ok(())) => Ok(()),
        }
    }
}

impl ProviderWriter {
    fn explain(&self, library_error: &str) -> String {
        let lower = library_error.to_ascii_lowercase();
        match &self.tsig_key {
            Some(key)
                if ["tsig", "hmac", "notauth", "badsig", "badkey"]
                    .iter()
                    .any(|w| lower.contains(w)) =>
            {
                format!(
                    "the server refused the TSIG signature of key {key} (NOTAUTH): check dns_rfc2136_name, dns_rfc2136_secret and dns_rfc2136_algorithm"
                )
            }
            _ => format!("{library_error}{}", self.refusal_hint),
        }
    }
}

#[async_trait::async_trait]
impl TxtWriter for ProviderWriter {
    fn label(&self) -> &str {
        &self.label
    }

    async fn add_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError> {
        self.change("add", zone, name, value).await
    }

    async fn remove_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError> {
        self.change("remove", zone, name, value).await
    }
}

impl Rfc2136Config {
    /// Where zone discovery and CNAME lookups go by default: the update server itself
    /// (certbot's behaviour), signed when `dns_rfc2136_sign_query` is set.
    pub fn lookup(&self) -> Result<Lookup, DnsError> {
        let lookup = Lookup::new(vec![self.server]);
        if !self.sign_query {
            return Ok(lookup);
        }
        let algorithm = match self.algorithm {
            TsigAlgorithm::HmacSha256 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha512,
        };
        let name = hickory_proto::rr::Name::from_ascii(&self.key_name)
            .map_err(|e| DnsError::Other(format!("TSIG key name: {e}")))?;
        let signer = hickory_proto::rr::TSigner::new(self.key_bytes()?, algorithm, name, 300)
            .map_err(|e| DnsError::Other(format!("TSIG signer: {e}")))?;
        Ok(lookup.signed(signer))
    }
}
