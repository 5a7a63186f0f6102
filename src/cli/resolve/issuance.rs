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

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;
    use crate::cli::Command;
    use crate::error::InputError;

    fn certonly_args(args: &[&str]) -> crate::cli::CertonlyArgs {
        let Command::Certonly(a) = parse(args).command else {
            panic!("not certonly")
        };
        a
    }

    /// The key type as `certonly` resolves it.
    fn key_of(a: &crate::cli::CertonlyArgs) -> KeyType {
        let r = &a.request;
        key_type(r.key_type, r.elliptic_curve, r.rsa_key_size)
    }

    #[test]
    fn key_and_issuance_flags_resolve() {
        let a = certonly_args(&[
            "certonly",
            "-d",
            "a.example.com",
            "--key-type",
            "rsa",
            "--rsa-key-size",
            "3072",
            "--reuse-key",
            "--ip-address",
            "192.0.2.1",
            "--ip-address",
            "192.0.2.1",
            "--preferred-profile",
            "shortlived",
            "--fallback-server",
            "",
        ]);
        assert_eq!(key_of(&a), KeyType::Rsa { bits: 3072 });
        let c = issuance_choice(&a.request.issuance).unwrap();
        assert_eq!(c.reuse_key, Some(true));
        assert_eq!(c.ip_addresses, [IpAddr::from([192, 0, 2, 1])]);
        assert_eq!(c.preferred_profile.as_deref(), Some("shortlived"));
        assert_eq!(c.fallback_server, Some(None));
        let a = certonly_args(&[
            "certonly",
            "-d",
            "a.example.com",
            "--elliptic-curve",
            "secp384r1",
            "--new-key",
        ]);
        assert_eq!(key_of(&a), KeyType::Ecdsa { curve: Curve::P384 });
        let c = issuance_choice(&a.request.issuance).unwrap();
        assert_eq!(c.reuse_key, Some(false));
    }

    #[test]
    fn bad_addresses_and_servers_are_refused() {
        let a = certonly_args(&["certonly", "--ip-address", "192.0.2.300"]);
        let e = input_error(issuance_choice(&a.request.issuance));
        assert!(
            matches!(&e, InputError::NotA { flag: "--ip-address", value, expected: "an IP address" } if value == "192.0.2.300"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            r#"--ip-address "192.0.2.300" is not an IP address"#
        );
        let a = certonly_args(&[
            "certonly",
            "-d",
            "a.example.com",
            "--fallback-server",
            "not a url",
        ]);
        let e = input_error(issuance_choice(&a.request.issuance));
        assert!(matches!(e, InputError::Server { .. }), "{e:?}");
    }
}
