//! `--dns PROVIDER --dns-credentials FILE` end to end through the CLI: PowerDNS's HTTP API
//! (a real pdns_server) and RFC 2136 (a real bind9), Pebble reading the records from them;
//! `--dns-cloudflare`'s input checks (no Cloudflare API emulator exists and dns-update's
//! endpoint is not configurable, so nothing here reaches an API); secrets appear in no output,
//! file or hook environment.

use std::path::{Path, PathBuf};

use crate::support::bind::Bind;
use crate::support::certs::Lineage;
use crate::support::cli::{Cli, Output};
use crate::support::pdns::Pdns;
use crate::support::rig::Rig;
use crate::support::{assert_secret_nowhere, PebbleOpts};

fn private_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write credentials");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

fn dns_cli(rig: &Rig, provider_flags: &[&str], creds: &Path, resolver: &str) -> Cli {
    rig.env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .args(provider_flags)
        .arg(creds)
        .args(["--dns-resolver", resolver])
}

/// `renew --force-renewal` with a deploy hook that saves its environment to `env_file`.
fn renew_with_env_hook(rig: &Rig, env_file: &Path) -> Output {
    let hook = format!("env > {}", env_file.display());
    rig.env.renew(&["--force-renewal", "--deploy-hook", &hook])
}

#[test]
fn dns_pdns_issues_a_wildcard_through_the_powerdns_api_and_keeps_the_key_secret() {
    let pdns = Pdns::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(pdns.dns_addr()));
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = private_file(
        dir.path(),
        "pdns.ini",
        &format!(
            "dns_pdns_api_url = {}\ndns_pdns_api_key = {}\n",
            pdns.api_url(),
            pdns.api_key()
        ),
        0o600,
    );
    let resolver = pdns.dns_addr().to_string();
    let out = dns_cli(
        &rig,
        &["--dns", "pdns", "--dns-credentials"],
        &creds,
        &resolver,
    )
    .args(["-d", "*.example.test", "-d", "example.test", "-vv"])
    .run();
    out.assert_success();
    assert!(out.stderr.contains("dns-01"), "{out:?}");
    Lineage::at(rig.env.live("example.test")).assert_valid_for(
        &["*.example.test", "example.test"],
        &rig.pebble.root_pem_path(),
    );
    assert!(pdns.txt("_acme-challenge.example.test").is_empty());
    let conf = std::fs::read_to_string(rig.env.renewal_conf("example.test")).expect("conf");
    assert!(
        conf.contains("\"pdns\"") && conf.contains("pdns.ini"),
        "{conf}"
    );

    let env_file = dir.path().join("hook.env");
    let renewed = renew_with_env_hook(&rig, &env_file);
    renewed.assert_success();
    assert!(pdns.txt("_acme-challenge.example.test").is_empty());
    let hook_env = std::fs::read_to_string(&env_file).expect("deploy hook ran");
    assert!(hook_env.contains("RENEWED_LINEAGE"), "{hook_env}");
    assert!(!hook_env.contains(pdns.api_key()), "{hook_env}");
    // -vv logged at trace level (every crate's), and still no key.
    let log = std::fs::read_to_string(rig.env.logs_dir().join("certwright.log")).expect("log");
    assert!(log.contains("TRACE"), "{log}");
    assert_secret_nowhere(pdns.api_key(), rig.env.root(), &[&out, &renewed]);
}

#[test]
fn dns_rfc2136_through_the_generic_flag_and_the_tsig_secret_stays_secret() {
    let bind = Bind::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), bind.secret());
    let resolver = bind.addr().to_string();
    let out = dns_cli(
        &rig,
        &["--dns", "rfc2136", "--dns-credentials"],
        &creds,
        &resolver,
    )
    .args(["-d", "*.example.test", "-vv"])
    .run();
    out.assert_success();
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    let conf = std::fs::read_to_string(rig.env.renewal_conf("example.test")).expect("conf");
    assert!(conf.contains("dns-rfc2136"), "{conf}");
    let env_file = dir.path().join("hook.env");
    let renewed = renew_with_env_hook(&rig, &env_file);
    renewed.assert_success();
    let hook_env = std::fs::read_to_string(&env_file).expect("deploy hook ran");
    assert!(!hook_env.contains(bind.secret()), "{hook_env}");
    assert_secret_nowhere(bind.secret(), rig.env.root(), &[&out, &renewed]);
}

#[test]
fn dns_cloudflare_credentials_are_checked_before_anything_is_sent() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "cf-token-must-not-leak-0123456789";
    let run = |creds: &Path| {
        rig.env
            .cli()
            .arg("certonly")
            .args(rig.env.flags(&rig.pebble))
            .args(["--dns-cloudflare", "--dns-cloudflare-credentials"])
            .arg(creds)
            .args(["-d", "*.example.test"])
            .run()
    };
    // A credentials file `text` with `mode`: refused with exit 2 saying `why`, token unsaid.
    let refused = |text: String, mode: u32, why: &str| -> Output {
        let out = run(&private_file(dir.path(), "cf.ini", &text, mode));
        out.assert_code(2);
        assert!(out.stderr.contains(why), "{why}: {out:?}");
        assert!(!out.stderr.contains(token), "{out:?}");
        out
    };
    let api_token = format!("dns_cloudflare_api_token = {token}\n");
    refused(api_token, 0o644, "chmod 600");
    let typo = format!("dns_cloudflare_api_tokn = {token}\n");
    refused(typo, 0o600, "dns_cloudflare_api_token is missing");
    let global =
        format!("dns_cloudflare_email = a@example.test\ndns_cloudflare_api_key = {token}\n");
    let out = refused(global, 0o600, "API token");
    assert!(!rig.env.live("example.test").exists());
    assert_secret_nowhere(token, rig.env.root(), &[&out]);

    let help = rig.env.cli().args(["certonly", "--help"]).run();
    help.assert_success();
    for provider in ["pdns", "cloudflare", "rfc2136", "hetzner", "digitalocean"] {
        assert!(
            help.stdout.contains(provider),
            "{provider}: {}",
            help.stdout
        );
    }
    let bad = rig
        .env
        .cli()
        .args(["certonly", "--dns", "nosuchdns", "--dns-credentials", "x"])
        .args(["-d", "example.test"])
        .run();
    bad.assert_code(2);
}

/// A certbot-format tree (what certbot 2.x/5.x writes; self-signed files: the import checks
/// names and key, not the issuer) for `names`, whose renewal conf has `params`.
fn certbot_fixture(root: &Path, names: &[&str], params: &str) -> PathBuf {
    let certbot = root.join("certbot-fixture");
    let lineage = names[0].trim_start_matches("*.");
    let live = certbot.join("live").join(lineage);
    std::fs::create_dir_all(&live).expect("live dir");
    std::fs::create_dir_all(certbot.join("renewal")).expect("renewal dir");
    let key = rcgen::KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = rcgen::CertificateParams::new(names)
        .expect("params")
        .self_signed(&key)
        .expect("self-signed");
    for (file, pem) in [
        ("cert.pem", cert.pem()),
        ("chain.pem", String::new()),
        ("fullchain.pem", cert.pem()),
        ("privkey.pem", key.serialize_pem()),
    ] {
        std::fs::write(live.join(file), pem).expect("write pem");
    }
    std::fs::write(
        certbot.join("renewal").join(format!("{lineage}.conf")),
        format!("version = 2.11.0\n[renewalparams]\n{params}\n"),
    )
    .expect("write renewal conf");
    certbot
}

#[test]
fn import_certbot_takes_a_dns_rfc2136_wildcard_lineage_and_renew_uses_it() {
    let bind = Bind::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), bind.secret());
    let certbot = certbot_fixture(
        rig.env.root(),
        &["*.example.test", "example.test"],
        &format!(
            "authenticator = dns-rfc2136\nserver = {}\ndns_rfc2136_credentials = {}\n\
             dns_rfc2136_propagation_seconds = 60\n",
            rig.pebble.directory_url(),
            creds.display()
        ),
    );
    let out = rig
        .env
        .cli()
        .arg("import-certbot")
        .args(rig.env.dir_flags())
        .arg("--certbot-dir")
        .arg(&certbot)
        .arg("--ca-bundle")
        .arg(rig.pebble.ca_bundle_path())
        .run();
    out.assert_success();
    assert!(
        out.stdout.contains("imported example.test") && out.stdout.contains("dns-rfc2136"),
        "{out:?}"
    );
    assert!(out.stdout.contains("propagation_seconds = 60"), "{out:?}");
    let path = rig.env.renewal_conf("example.test");
    let text = std::fs::read_to_string(&path).expect("conf");
    let mut conf: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(conf["authenticator"]["type"], "dns-rfc2136", "{conf}");
    assert_eq!(
        conf["authenticator"]["credentials"],
        creds.display().to_string()
    );
    // The test's bind is on a free port, not 53: point the check at it, as --dns-resolver does.
    conf["authenticator"]["resolvers"] = serde_json::json!([bind.addr().to_string()]);
    std::fs::write(&path, serde_json::to_string_pretty(&conf).expect("json")).expect("write");

    let renewed = rig.env.renew(&["--force-renewal"]);
    renewed.assert_success();
    Lineage::at(rig.env.live("example.test")).assert_valid_for(
        &["*.example.test", "example.test"],
        &rig.pebble.root_pem_path(),
    );
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert_secret_nowhere(bind.secret(), rig.env.root(), &[&out, &renewed]);
}
