//! certbot's per-run overrides of the saved renewal settings (`renew --webroot -w DIR`,
//! `--key-type rsa`, `--deploy-hook CMD`, ...): applied to each lineage the pass reads, and
//! saved in its renewal config when its renewal succeeds, as certbot saves them.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::config::{Authenticator, Hooks, Installer, RenewalConfig, WebrootEntry};
use crate::types::{Curve, KeyType};

/// What the command line changes; the default changes nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub hooks: Hooks,
    /// A solver chosen on the command line.
    pub solver: Option<Solver>,
    pub http_01_port: Option<u16>,
    pub http_01_address: Option<IpAddr>,
    /// `-w DIR` without a solver flag: the document root of every name of a webroot lineage.
    pub webroot: Option<PathBuf>,
    pub nginx_server_root: Option<PathBuf>,
    pub nginx_ctl: Option<PathBuf>,
    pub propagation_seconds: Option<u64>,
    /// Some(true): `--key-type rsa`; Some(false): ecdsa.
    pub rsa: Option<bool>,
    pub rsa_bits: Option<u32>,
    pub curve: Option<Curve>,
    pub reuse_key: Option<bool>,
    pub allow_subset_of_names: bool,
    pub preferred_chain: Option<String>,
    pub issuance_timeout: Option<u64>,
}

/// `--standalone`, `--webroot -w DIR`, `--nginx`, or a DNS solver built from its flags.
#[derive(Debug, Clone)]
pub(crate) enum Solver {
    Standalone,
    Webroot(PathBuf),
    Nginx,
    Ready(Authenticator),
}

impl Overrides {
    /// `config` with these overrides applied.
    pub(crate) fn apply(&self, config: &RenewalConfig) -> RenewalConfig {
        let mut new = config.clone();
        new.hooks = config.hooks.overridden_by(&self.hooks);
        new.authenticator = self.authenticator(config);
        if let Some(Installer::Nginx {
            server_root, ctl, ..
        }) = &mut new.installer
        {
            if let Some(root) = &self.nginx_server_root {
                *server_root = root.clone();
            }
            if let Some(c) = &self.nginx_ctl {
                *ctl = c.clone();
            }
        }
        new.key_type = self.key_type(config.key_type);
        if let Some(reuse) = self.reuse_key {
            new.issuance.reuse_key = reuse;
        }
        new.issuance.allow_subset_of_names |= self.allow_subset_of_names;
        if let Some(chain) = &self.preferred_chain {
            new.issuance.preferred_chain = (!chain.is_empty()).then(|| chain.clone());
        }
        if let Some(secs) = self.issuance_timeout {
            new.issuance.issuance_timeout = Some(secs);
        }
        new
    }

    fn authenticator(&self, config: &RenewalConfig) -> Authenticator {
        let webroot_map = |root: &PathBuf| Authenticator::Webroot {
            map: config
                .domains
                .iter()
                .map(|d| WebrootEntry {
                    domain: d.clone(),
                    path: root.clone(),
                })
                .collect(),
        };
        let mut auth = match &self.solver {
            Some(Solver::Ready(a)) => return a.clone(),
            Some(Solver::Webroot(root)) => return webroot_map(root),
            Some(Solver::Standalone) => Authenticator::Standalone {
                http_01_port: 80,
                http_01_address: None,
            },
            Some(Solver::Nginx) => self.nginx_from(config),
            None => config.authenticator.clone(),
        };
        match &mut auth {
            Authenticator::Standalone {
                http_01_port,
                http_01_address,
            } => {
                *http_01_port = self.http_01_port.unwrap_or(*http_01_port);
                *http_01_address = self.http_01_address.or(*http_01_address);
            }
            Authenticator::Nginx {
                server_root,
                ctl,
                http_01_port,
            } => {
                *http_01_port = self.http_01_port.unwrap_or(*http_01_port);
                if let Some(root) = &self.nginx_server_root {
                    *server_root = root.clone();
                }
                if let Some(c) = &self.nginx_ctl {
                    *ctl = c.clone();
                }
            }
            Authenticator::Webroot { .. } => {
                if let Some(root) = &self.webroot {
                    return webroot_map(root);
                }
            }
            Authenticator::DnsRfc2136 {
                propagation_seconds,
                ..
            }
            | Authenticator::Dns {
                propagation_seconds,
                ..
            }
            | Authenticator::DnsRoute53 {
                propagation_seconds,
                ..
            } => {
                *propagation_seconds = self.propagation_seconds.unwrap_or(*propagation_seconds);
            }
            Authenticator::Manual { .. } => {}
        }
        auth
    }

    /// `--nginx` on renew: the lineage's nginx settings (its installer's) unless given.
    fn nginx_from(&self, config: &RenewalConfig) -> Authenticator {
        let (root, ctl) = match (&config.authenticator, &config.installer) {
            (
                Authenticator::Nginx {
                    server_root, ctl, ..
                },
                _,
            )
            | (
                _,
                Some(Installer::Nginx {
                    server_root, ctl, ..
                }),
            ) => (server_root.clone(), ctl.clone()),
            _ => (PathBuf::from("/etc/nginx"), PathBuf::from("nginx")),
        };
        Authenticator::Nginx {
            server_root: root,
            ctl,
            http_01_port: 80,
        }
    }

    /// The key type asked for; what is not asked for stays as it was.
    fn key_type(&self, old: KeyType) -> KeyType {
        let rsa = self.rsa.unwrap_or(matches!(old, KeyType::Rsa { .. }));
        if rsa {
            KeyType::Rsa {
                bits: self.rsa_bits.unwrap_or(match old {
                    KeyType::Rsa { bits } => bits,
                    KeyType::Ecdsa { .. } => 2048,
                }),
            }
        } else {
            KeyType::Ecdsa {
                curve: self.curve.unwrap_or(match old {
                    KeyType::Ecdsa { curve } => curve,
                    KeyType::Rsa { .. } => Curve::P256,
                }),
            }
        }
    }

    /// What changed between `old` and `new`, for the note saying what was saved.
    pub(crate) fn describe_change(old: &RenewalConfig, new: &RenewalConfig) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if old.authenticator != new.authenticator {
            changed.push("authenticator");
        }
        if old.installer != new.installer {
            changed.push("installer");
        }
        if old.key_type != new.key_type {
            changed.push("key type");
        }
        if old.issuance != new.issuance {
            changed.push("issuance options");
        }
        if old.hooks != new.hooks {
            changed.push("hooks");
        }
        changed
    }
}
