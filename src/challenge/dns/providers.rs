//! `--dns PROVIDER --dns-credentials FILE`: the providers of the `dns-update` crate offered
//! here (those whose settings are a token or key pair in an INI file), their certbot-style
//! keys (`dns_PROVIDER_KEY = value`), and building a writer from a checked file.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use dns_update::DnsUpdater;

use super::credentials::{parse_ini, read_private_file, CredentialsError, Rfc2136Config};
use super::secret::Secret;
use super::writer::ProviderWriter;
use crate::error::DnsError;

/// One provider: its `--dns` name, the INI keys it needs (then optional ones), and a line of help.
pub struct Provider {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub about: &'static str,
}

/// The providers `--dns` takes, in `--help` order.
pub const PROVIDERS: &[Provider] = &[
    p(
        "rfc2136",
        &[
            "dns_rfc2136_server",
            "dns_rfc2136_name",
            "dns_rfc2136_secret",
        ],
        &[
            "dns_rfc2136_port",
            "dns_rfc2136_algorithm",
            "dns_rfc2136_sign_query",
        ],
        "RFC 2136 updates signed with TSIG: bind9, knot, PowerDNS",
    ),
    p(
        "pdns",
        &["dns_pdns_api_url", "dns_pdns_api_key"],
        &["dns_pdns_server_id"],
        "PowerDNS Authoritative HTTP API",
    ),
    p(
        "cloudflare",
        &["dns_cloudflare_api_token"],
        &[],
        "Cloudflare, an API token with Zone:DNS:Edit",
    ),
    p(
        "digitalocean",
        &["dns_digitalocean_token"],
        &[],
        "DigitalOcean",
    ),
    p("linode", &["dns_linode_key"], &[], "Linode / Akamai"),
    p("hetzner", &["dns_hetzner_api_token"], &[], "Hetzner DNS"),
    p("desec", &["dns_desec_token"], &[], "deSEC"),
    p(
        "gandi",
        &["dns_gandi_token"],
        &[],
        "Gandi LiveDNS, a personal access token",
    ),
    p(
        "godaddy",
        &["dns_godaddy_key", "dns_godaddy_secret"],
        &[],
        "GoDaddy",
    ),
    p(
        "porkbun",
        &["dns_porkbun_key", "dns_porkbun_secret"],
        &[],
        "Porkbun",
    ),
    p(
        "dnsimple",
        &["dns_dnsimple_token", "dns_dnsimple_account_id"],
        &[],
        "DNSimple",
    ),
    p("vultr", &["dns_vultr_key"], &[], "Vultr"),
    p("bunny", &["dns_bunny_api_key"], &[], "Bunny DNS"),
];

const fn p(
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    about: &'static str,
) -> Provider {
    Provider {
        name,
        required,
        optional,
        about,
    }
}

/// Bound on one provider API call (the library's own default is longer).
const API_TIMEOUT: Duration = Duration::from_secs(30);

pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// Reads `path` (refused if group or others can access it) and builds `provider`'s writer;
/// every key it needs must be there and no unknown one (a typo would be silently ignored).
pub fn writer_from_file(provider_name: &str, path: &Path) -> Result<ProviderWriter, DnsError> {
    let bad = |reason: String| DnsError::Credentials {
        path: path.to_path_buf(),
        reason,
    };
    let spec = provider(provider_name)
        .ok_or_else(|| bad(format!("--dns {provider_name} is not a known provider")))?;
    let text = read_private_file(path)?;
    if spec.name == "rfc2136" {
        let config = Rfc2136Config::parse(&text).map_err(|e| bad(e.to_string()))?;
        return ProviderWriter::rfc2136(&config);
    }
    let keys = parse_ini(&text).map_err(|e| bad(e.to_string()))?;
    // A provider's error may quote what it was sent: every credential value is scrubbed.
    for (key, value) in &keys {
        if ["token", "key", "secret", "password"]
            .iter()
            .any(|s| key.contains(s))
        {
            crate::safe::text::register_secret(value);
        }
    }
    check_keys(spec, &keys).map_err(|e| bad(e.to_string()))?;
    build(spec.name, &keys)
}

/// Every required key present and non-empty, no key the provider does not know.
fn check_keys(spec: &Provider, keys: &BTreeMap<String, String>) -> Result<(), CredentialsError> {
    if spec.name == "cloudflare"
        && (keys.contains_key("dns_cloudflare_api_key")
            || keys.contains_key("dns_cloudflare_email"))
    {
        return Err(CredentialsError::CloudflareGlobalKey);
    }
    if let Some(missing) = spec
        .required
        .iter()
        .find(|k| keys.get(**k).is_none_or(|v| v.is_empty()))
    {
        return Err(CredentialsError::MissingFor {
            key: missing.to_string(),
            provider: spec.name,
            needs: spec.required.join(", "),
        });
    }
    if let Some(unknown) = keys
        .keys()
        .find(|k| !spec.required.contains(&k.as_str()) && !spec.optional.contains(&k.as_str()))
    {
        return Err(CredentialsError::Unknown {
            key: unknown.clone(),
            provider: spec.name,
            known: spec
                .required
                .iter()
                .chain(spec.optional)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

/// The writer for a checked key set. Labels name the provider and never a secret.
fn build(name: &str, keys: &BTreeMap<String, String>) -> Result<ProviderWriter, DnsError> {
    let get = |k: &str| keys.get(k).map(String::as_str).unwrap_or_default();
    let t = Some(API_TIMEOUT);
    if name == "pdns" {
        let server = keys.get("dns_pdns_server_id").map(String::as_str);
        return ProviderWriter::powerdns(
            get("dns_pdns_api_url"),
            &Secret::new(get("dns_pdns_api_key")),
            server,
        );
    }
    let updater = match name {
        "cloudflare" => DnsUpdater::new_cloudflare(get("dns_cloudflare_api_token"), t),
        "digitalocean" => DnsUpdater::new_digitalocean(get("dns_digitalocean_token"), t),
        "linode" => DnsUpdater::new_linode(get("dns_linode_key"), t),
        "hetzner" => DnsUpdater::new_hetzner(get("dns_hetzner_api_token"), t),
        "desec" => DnsUpdater::new_desec(get("dns_desec_token"), t),
        "gandi" => DnsUpdater::new_gandiv5(get("dns_gandi_token"), t),
        "godaddy" => DnsUpdater::new_godaddy(get("dns_godaddy_key"), get("dns_godaddy_secret"), t),
        "porkbun" => DnsUpdater::new_porkbun(get("dns_porkbun_key"), get("dns_porkbun_secret"), t),
        "dnsimple" => {
            DnsUpdater::new_dnsimple(get("dns_dnsimple_token"), get("dns_dnsimple_account_id"), t)
        }
        "vultr" => DnsUpdater::new_vultr(get("dns_vultr_key"), t),
        "bunny" => DnsUpdater::new_bunny(get("dns_bunny_api_key"), t),
        other => return Err(DnsError::Other(format!("no writer for provider {other}"))),
    }
    .map_err(|e| DnsError::Other(format!("{name} setup: {e}")))?;
    Ok(
        ProviderWriter::from_updater(name, updater).with_hint(format!(
            " (is the {name} API token or key right, and may it edit this zone?)"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> BTreeMap<String, String> {
        parse_ini(text).expect("ini")
    }

    #[test]
    fn every_provider_builds_from_its_required_keys() {
        for spec in PROVIDERS.iter().filter(|p| p.name != "rfc2136") {
            let text: String = spec
                .required
                .iter()
                .map(|k| {
                    let v = if k.ends_with("_url") {
                        "http://127.0.0.1:8081"
                    } else {
                        "c2VjcmV0LXZhbHVl"
                    };
                    format!("{k} = {v}\n")
                })
                .collect();
            let keys = keys(&text);
            check_keys(spec, &keys).expect(spec.name);
            let writer = build(spec.name, &keys).expect(spec.name);
            assert!(
                !format!("{:?}", writer).contains("c2VjcmV0"),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn missing_unknown_and_global_key_settings_are_named() {
        let spec = provider("cloudflare").expect("cloudflare");
        let err = check_keys(spec, &keys("dns_cloudflare_api_tokn = x\n"))
            .expect_err("typo")
            .to_string();
        assert!(err.contains("dns_cloudflare_api_token is missing"), "{err}");
        let err = check_keys(
            spec,
            &keys("dns_cloudflare_api_token = x\ndns_cloudflare_zone = y\n"),
        )
        .expect_err("unknown")
        .to_string();
        assert!(
            err.contains("dns_cloudflare_zone is not a cloudflare setting"),
            "{err}"
        );
        let err = check_keys(
            spec,
            &keys("dns_cloudflare_email = a@b\ndns_cloudflare_api_key = k\n"),
        )
        .expect_err("global key")
        .to_string();
        assert!(err.contains("API token"), "{err}");
        assert!(provider("nope").is_none());
    }
}
