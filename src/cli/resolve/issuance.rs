//! The key and issuance flags: key type, `--reuse-key`, profiles, `--ip-address`, fallback server.

use std::net::IpAddr;

use crate::error::{Error, InputError};
use crate::ops::issue::certify::IssuanceChoice;
use crate::types::{Curve, KeyType, ServerUrl};

use crate::cli::{CurveArg, IssuanceArgs, KeyTypeArg};

pub(super) fn curve(c: CurveArg) -> Curve {
    match c {
        CurveArg::Secp256r1 => Curve::P256,
        CurveArg::Secp384r1 => Curve::P384,
        CurveArg::Secp521r1 => Curve::P521,
    }
}

/// The key type from `--key-type`, `--elliptic-curve` and `--rsa-key-size`.
pub(crate) fn key_type(kind: KeyTypeArg, curve: CurveArg, rsa_bits: u32) -> KeyType {
    match kind {
        KeyTypeArg::Ecdsa => KeyType::Ecdsa {
            curve: self::curve(curve),
        },
        KeyTypeArg::Rsa => KeyType::Rsa { bits: rsa_bits },
    }
}

/// The issuance flags as given.
pub(super) fn issuance_choice(args: &IssuanceArgs) -> Result<IssuanceChoice, Error> {
    let mut ip_addresses: Vec<IpAddr> = Vec::new();
    for raw in &args.ip_address {
        let ip: IpAddr = raw.parse().map_err(|_| InputError::NotA {
            flag: "--ip-address",
            value: raw.clone(),
            expected: "an IP address",
        })?;
        if !ip_addresses.contains(&ip) {
            ip_addresses.push(ip);
        }
    }
    Ok(IssuanceChoice {
        reuse_key: match (args.keys.reuse_key, args.keys.new_key) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        preferred_chain: args.keys.preferred_chain.clone(),
        preferred_profile: args.preferred_profile.clone(),
        required_profile: args.required_profile.clone(),
        allow_subset_of_names: args.allow_subset_of_names,
        ip_addresses,
        issuance_timeout: args.issuance_timeout,
        fallback_server: match args.fallback_server.as_deref() {
            Some("") => Some(None),
            Some(url) => Some(Some(url.parse::<ServerUrl>()?)),
            None => None,
        },
    })
}
