//! `certwright import-certbot` against files made by the real certbot (from PyPI, installed
//! once per machine by scripts/install-certbot.sh) talking to this test's own Pebble; then
//! certwright renews the imported lineage against the same Pebble.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::bind::Bind;
use crate::support::certs::{assert_mode, Lineage};
use crate::support::cli::Output;
use crate::support::rig::Rig;
use crate::support::{files_below, PebbleOpts, Snapshot};

/// The certbot executable, installing it first if this machine has none yet. The script
/// takes a file lock, so parallel test binaries do not race; this process runs it once.
fn certbot_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        crate::support::pip_venv("certbot", "CERTWRIGHT_CERTBOT_VENV").join("bin/certbot")
    })
    .clone()
}

/// certbot helpers on the shared rig: a certbot tree beside the certwright env
/// (`<env>/certbot/{config,work,logs}`).
impl Rig {
    fn certbot_dir(&self) -> PathBuf {
        self.env.root().join("certbot/config")
    }

    fn certbot_live(&self, name: &str) -> PathBuf {
        self.certbot_dir().join("live").join(name)
    }

    /// Runs a program of certbot's venv with Pebble's TLS CA trusted.
    fn venv_cmd(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("REQUESTS_CA_BUNDLE", self.pebble.ca_bundle_path())
            .current_dir(self.env.root());
        cmd
    }

    /// A Pebble that reads DNS from `bind` (for certbot's dns-rfc2136 plugin).
    fn with_dns(bind: &Bind) -> Rig {
        Rig::with(PebbleOpts::default().dns_server(bind.addr()))
    }

    /// `certbot certonly --standalone` for `names` on Pebble's HTTP-01 port.
    fn certbot_certonly(&self, names: &[&str], extra: &[&str]) {
        let port = self.pebble.http_port().to_string();
        let standalone = ["--standalone", "--http-01-address", "127.0.0.1"];
        let auth: Vec<&str> = standalone
            .into_iter()
            .chain(["--http-01-port", &port])
            .collect();
        self.certbot_certonly_with(&auth, names, extra);
    }

    /// `certbot certonly` with authenticator flags `auth` for `names`.
    fn certbot_certonly_with(&self, auth: &[&str], names: &[&str], extra: &[&str]) {
        let root = self.env.root().join("certbot");
        let mut cmd = self.venv_cmd(&certbot_bin());
        cmd.arg("certonly")
            .args(auth)
            .arg("--server")
            .arg(self.pebble.directory_url())
            .arg("--config-dir")
            .arg(root.join("config"))
            .arg("--work-dir")
            .arg(root.join("work"))
            .arg("--logs-dir")
            .arg(root.join("logs"))
            .args(["--agree-tos", "-m", "a@example.com", "--no-eff-email", "-n"])
            .args(["--key-type", "ecdsa"]);
        for n in names {
            cmd.args(["-d", n]);
        }
        cmd.args(extra);
        let out = cmd.output().expect("run certbot");
        assert!(
            out.status.success(),
            "certbot certonly failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn import(&self, extra: &[&str]) -> Output {
        self.env
            .cli()
            .arg("import-certbot")
            .args(self.env.dir_flags())
            .arg("--certbot-dir")
            .arg(self.certbot_dir())
            .arg("--ca-bundle")
            .arg(self.pebble.ca_bundle_path())
            .args(extra)
            .run()
    }

    fn renew(&self) -> Output {
        self.env.renew(&["--force-renewal"])
    }

    fn renewal_json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.env.renewal_conf(name))
            .unwrap_or_else(|e| panic!("renewal/{name}.json: {e}"));
        serde_json::from_str(&text).expect("renewal config is JSON")
    }

    /// Account directories certwright stores for this Pebble.
    fn certwright_accounts(&self) -> Vec<String> {
        let port = self
            .pebble
            .directory_url()
            .trim_start_matches("https://localhost:")
            .trim_end_matches("/dir")
            .to_string();
        let dir = self
            .env
            .config_dir()
            .join("accounts")
            .join(format!("localhost_{port}"));
        let mut ids: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// certwright's config and work dirs together (what a dry run must leave alone).
    fn certwright_snapshot(&self) -> (Snapshot, Snapshot) {
        (
            Snapshot::of(&self.env.config_dir()),
            Snapshot::of(&self.env.work_dir()),
        )
    }

    fn version(&self, name: &str) -> String {
        std::fs::read_link(self.env.live(name))
            .unwrap_or_else(|e| panic!("live/{name}: {e}"))
            .display()
            .to_string()
    }
}

#[test]
fn imports_a_certbot_lineage_keeps_certbot_files_and_renews_it() {
    let rig = Rig::new();
    let name = "shop.example.com";
    let names = ["shop.example.com", "www.shop.example.com"];
    rig.certbot_certonly(&names, &[]);
    let certbot_leaf = Lineage::at(rig.certbot_live(name)).leaf();
    let certbot_before = Snapshot::of(&rig.env.root().join("certbot/config"));

    // Dry run: reports the lineage, writes nothing.
    let before = rig.certwright_snapshot();
    let dry = rig.import(&["--dry-run"]);
    dry.assert_success();
    assert!(
        dry.stdout.contains(&format!("would import {name}")),
        "{dry}"
    );
    for n in names {
        assert!(dry.stdout.contains(n), "{n} missing\n{dry}");
    }
    assert!(dry.stdout.contains("standalone"), "{dry}");
    let after = rig.certwright_snapshot();
    before
        .0
        .assert_unchanged(&after.0, "config dir after --dry-run");
    before
        .1
        .assert_unchanged(&after.1, "work dir after --dry-run");

    // The import: version 1 is certbot's certificate, with certwright's modes.
    let out = rig.import(&[]);
    out.assert_success();
    assert!(out.stdout.contains(&format!("imported {name}")), "{out}");
    assert!(
        out.stdout
            .contains(&format!("certwright install --nginx --cert-name {name}")),
        "the switch to certwright's paths is not shown\n{out}"
    );
    assert!(out.stdout.contains("not changed"), "{out}");
    assert_eq!(rig.version(name), format!("../archive/{name}/1"));
    let imported = Lineage::at(rig.env.live(name));
    imported.assert_valid_for(&names, &rig.pebble.root_pem_path());
    imported.assert_key_matches();
    assert_eq!(imported.leaf().serial_hex, certbot_leaf.serial_hex);
    let certbot_files = Lineage::at(rig.certbot_live(name));
    assert_eq!(imported.fullchain_pem(), certbot_files.fullchain_pem());
    assert_eq!(imported.privkey_pem(), certbot_files.privkey_pem());
    assert_mode(&rig.env.archive(name).join("1/privkey.pem"), 0o600);

    let config = rig.renewal_json(name);
    assert_eq!(config["server"], rig.pebble.directory_url(), "{config}");
    assert_eq!(config["authenticator"]["type"], "standalone", "{config}");
    assert_eq!(
        config["authenticator"]["http_01_port"],
        rig.pebble.http_port(),
        "{config}"
    );
    assert_eq!(config["key_type"]["type"], "ecdsa", "{config}");
    // certbot 5 registers RSA account keys: carried over, signed with RS256.
    let account_url = certbot_account_url(&rig);
    let id = account_url.rsplit('/').next().unwrap().to_string();
    assert_eq!(config["account"], id.as_str(), "{config}");
    assert_eq!(
        rig.certwright_accounts(),
        std::slice::from_ref(&id),
        "{out}"
    );

    // `certificates` shows it, valid, with certbot's serial.
    let list = rig
        .env
        .cli()
        .args(["certificates", "--json"])
        .args(rig.env.dir_flags())
        .run();
    list.assert_success();
    let json = list.json();
    let entry = json["certificates"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("{name} not listed\n{list}"));
    assert_eq!(entry["valid"], true, "{list}");
    let serial = entry["serial"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert_eq!(serial.replace(':', ""), certbot_leaf.serial_hex, "{list}");
    assert_eq!(rig.pebble.cert_status(&certbot_leaf.serial_hex), "Valid");

    // Importing again skips the existing lineage and changes nothing.
    let before = rig.certwright_snapshot();
    let again = rig.import(&[]);
    again.assert_success();
    assert!(again.stderr.contains("skipped"), "{again}");
    let after = rig.certwright_snapshot();
    before
        .0
        .assert_unchanged(&after.0, "config dir after a second import");

    // Renewal against the same Pebble: version 2, a new certificate, certbot's account (the
    // CA knows its URL and RS256 signatures; no new account appears).
    let renewed = rig.renew();
    renewed.assert_success();
    assert!(
        renewed.stderr.contains(&format!("Using account {id}")),
        "{renewed}"
    );
    assert_eq!(
        rig.version(name),
        format!("../archive/{name}/2"),
        "{renewed}"
    );
    let v2 = Lineage::at(rig.env.live(name));
    v2.assert_valid_for(&names, &rig.pebble.root_pem_path());
    assert_ne!(v2.leaf().serial_hex, certbot_leaf.serial_hex);
    assert_eq!(rig.certwright_accounts(), [id], "{renewed}");

    // certbot's tree is byte-identical after all of it.
    let certbot_after = Snapshot::of(&rig.env.root().join("certbot/config"));
    certbot_before.assert_unchanged(&certbot_after, "certbot's config dir");
}

/// The account URL in certbot's one `regr.json`.
fn certbot_account_url(rig: &Rig) -> String {
    let regr = files_below(&rig.certbot_dir().join("accounts"))
        .into_iter()
        .find(|f| f.ends_with("regr.json"))
        .expect("certbot stored no account");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&regr).expect("regr.json")).expect("JSON");
    json["uri"].as_str().expect("regr.json uri").to_string()
}

#[test]
fn a_broken_renewal_conf_is_reported_by_name_and_the_others_imported() {
    let rig = Rig::new();
    rig.certbot_certonly(&["good.example.com"], &[]);
    let broken = rig.certbot_dir().join("renewal/broken.example.com.conf");
    std::fs::write(&broken, "version = 5.8.0\n[renewalparams\nserver = x\n").unwrap();
    // A conf whose certificate files are gone is broken too.
    let gone = rig.certbot_dir().join("renewal/gone.example.com.conf");
    let good_conf =
        std::fs::read_to_string(rig.certbot_dir().join("renewal/good.example.com.conf")).unwrap();
    std::fs::write(
        &gone,
        good_conf.replace("good.example.com", "gone.example.com"),
    )
    .unwrap();

    let out = rig.import(&[]);
    out.assert_code(1);
    assert!(out.stderr.contains("broken.example.com.conf"), "{out}");
    assert!(out.stderr.contains("gone.example.com.conf"), "{out}");
    assert!(out.stderr.contains("2 of 3"), "{out}");
    assert!(out.stdout.contains("imported good.example.com"), "{out}");
    Lineage::at(rig.env.live("good.example.com"))
        .assert_valid_for(&["good.example.com"], &rig.pebble.root_pem_path());
    for missing in ["broken.example.com", "gone.example.com"] {
        assert!(
            !rig.env.renewal_conf(missing).exists() && !rig.env.live(missing).exists(),
            "{missing} was half imported\n{out}"
        );
    }
}

/// Registers an ECDSA P-256 account with certbot's own ACME library and stores it the way
/// certbot's AccountFileStorage does (certbot loads and signs with EC keys, it only never
/// generates them). Returns certbot's account id.
const REGISTER_EC_ACCOUNT: &str = r#"
import os, sys, json
import josepy as jose
from cryptography.hazmat.primitives.asymmetric import ec
from urllib.parse import urlparse
from acme import client, messages
from certbot._internal import account

server, config_dir = sys.argv[1], sys.argv[2]
key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
net = client.ClientNetwork(key, alg=jose.ES256, user_agent="certwright-test")
acme = client.ClientV2(client.ClientV2.get_directory(server, net), net)
regr = acme.new_account(messages.NewRegistration.from_data(
    email="ec@example.com", terms_of_service_agreed=True))
acc = account.Account(regr, key)
u = urlparse(server)
d = os.path.join(config_dir, "accounts", u.netloc + u.path, acc.id)
os.makedirs(d, mode=0o700)
with open(os.path.join(d, "private_key.json"), "w") as f:
    f.write(key.json_dumps())
with open(os.path.join(d, "regr.json"), "w") as f:
    f.write(messages.RegistrationResource(body={}, uri=regr.uri).json_dumps())
with open(os.path.join(d, "meta.json"), "w") as f:
    f.write(acc.meta.json_dumps())
print(acc.id)
print(regr.uri)
"#;

#[test]
fn an_ec_certbot_account_is_carried_over_and_reused() {
    let rig = Rig::new();
    let python = certbot_bin().with_file_name("python3");
    let out = rig
        .venv_cmd(&python)
        .arg("-c")
        .arg(REGISTER_EC_ACCOUNT)
        .arg(rig.pebble.directory_url())
        .arg(rig.certbot_dir())
        .output()
        .expect("run the venv's python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "registering an EC account failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    let certbot_id = lines.next().expect("account id").to_string();
    let account_url = lines.next().expect("account URL").to_string();
    let name = "ec.example.com";
    rig.certbot_certonly(&[name], &["--account", &certbot_id]);

    let imported = rig.import(&[]);
    imported.assert_success();
    assert!(
        imported.stdout.contains("carried over (ECDSA P-256"),
        "{imported}"
    );
    let id = account_url.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        rig.certwright_accounts(),
        std::slice::from_ref(&id),
        "{imported}"
    );
    assert_eq!(rig.renewal_json(name)["account"], id.as_str());
    let account_dir = files_below(&rig.env.config_dir().join("accounts"));
    for f in &account_dir {
        assert_mode(f, 0o600);
    }

    // The renewal signs with the imported key: the CA knows it, no new account appears.
    let renewed = rig.renew();
    renewed.assert_success();
    assert!(
        renewed.stderr.contains(&format!("Using account {id}")),
        "{renewed}"
    );
    assert_eq!(rig.certwright_accounts(), [id], "{renewed}");
    assert_eq!(rig.version(name), format!("../archive/{name}/2"));
    Lineage::at(rig.env.live(name)).assert_valid_for(&[name], &rig.pebble.root_pem_path());
}

#[test]
fn a_lineage_made_by_certbots_dns_rfc2136_plugin_is_imported_and_renewed_over_dns() {
    let bind = Bind::start();
    let rig = Rig::with_dns(&bind);
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), bind.secret());
    let creds_arg = creds.display().to_string();
    let names = ["*.example.test", "example.test"];
    rig.certbot_certonly_with(
        &[
            "--dns-rfc2136",
            "--dns-rfc2136-credentials",
            &creds_arg,
            "--dns-rfc2136-propagation-seconds",
            "1",
        ],
        &names,
        &[],
    );
    let out = rig.import(&[]);
    out.assert_success();
    assert!(
        out.stdout.contains("imported example.test") && out.stdout.contains("dns-rfc2136"),
        "{out}"
    );
    assert!(out.stdout.contains("propagation_seconds = 1"), "{out}");
    let mut config = rig.renewal_json("example.test");
    assert_eq!(config["authenticator"]["type"], "dns-rfc2136", "{config}");
    assert_eq!(
        config["authenticator"]["credentials"], creds_arg,
        "{config}"
    );

    // bind listens on a free port, not 53: point the propagation check at it, as
    // --dns-resolver would have.
    config["authenticator"]["resolvers"] = serde_json::json!([bind.addr().to_string()]);
    std::fs::write(
        rig.env.renewal_conf("example.test"),
        serde_json::to_string_pretty(&config).expect("json"),
    )
    .expect("write renewal config");
    let renewed = rig.renew();
    renewed.assert_success();
    assert_eq!(rig.version("example.test"), "../archive/example.test/2");
    Lineage::at(rig.env.live("example.test")).assert_valid_for(&names, &rig.pebble.root_pem_path());
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    for dir in [rig.env.config_dir(), rig.env.work_dir(), rig.env.logs_dir()] {
        crate::support::assert_secret_nowhere(bind.secret(), &dir, &[&out, &renewed]);
    }
}

/// Migration with hooks (issue 22): a certbot lineage with pre-, post- and deploy hooks
/// (given to certbot's certonly, saved by it) and executables in certbot's renewal-hooks
/// directories, imported, renews with the same hooks run, in certbot's order, with
/// RENEWED_LINEAGE naming certwright's live directory.
#[test]
fn an_imported_lineage_renews_with_its_certbot_hooks_and_certbots_hook_directories() {
    use std::os::unix::fs::PermissionsExt;
    let rig = Rig::new();
    let log = rig.env.root().join("hooks.log");
    let hook = rig.env.root().join("hook.sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho \"$1 ${{RENEWED_LINEAGE:-}}\" >> {}\n",
            log.display()
        ),
    )
    .expect("write hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let h = |word: &str| format!("{} {word}", hook.display());
    let (pre, post, deploy) = (h("pre"), h("post"), h("deploy"));
    rig.certbot_certonly(
        &["mig.example.com"],
        &[
            "--pre-hook",
            &pre,
            "--post-hook",
            &post,
            "--deploy-hook",
            &deploy,
        ],
    );
    let certbot_ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        certbot_ran.contains("deploy "),
        "certbot ran no deploy hook: {certbot_ran}"
    );
    for kind in ["pre", "deploy"] {
        let dir = rig.certbot_dir().join("renewal-hooks").join(kind);
        std::fs::create_dir_all(&dir).expect("certbot hook dir");
        let file = dir.join("10-certbot");
        let body = format!(
            "#!/bin/sh\necho \"certbot-dir-{kind} ${{RENEWED_LINEAGE:-}}\" >> {}\n",
            log.display()
        );
        std::fs::write(&file, body).expect("write certbot dir hook");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    let out = rig.import(&[]);
    out.assert_success();
    assert!(out.stdout.contains("hook directories"), "{out}");
    let json = rig.renewal_json("mig.example.com");
    assert_eq!(json["hooks"]["deploy_hook"], deploy.as_str(), "{json}");
    assert_eq!(json["hooks"]["pre_hook"], pre.as_str(), "{json}");
    assert_eq!(json["hooks"]["post_hook"], post.as_str(), "{json}");

    std::fs::remove_file(&log).expect("clear the hook log");
    rig.renew().assert_success();
    let ran: Vec<String> = std::fs::read_to_string(&log)
        .expect("hooks ran")
        .lines()
        .map(str::to_string)
        .collect();
    let live = rig.env.live("mig.example.com").display().to_string();
    let at = |prefix: &str| {
        ran.iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} hook ran: {ran:?}"))
    };
    assert!(at("certbot-dir-pre") < at("pre "), "{ran:?}");
    assert!(at("pre ") < at("certbot-dir-deploy"), "{ran:?}");
    assert!(at("certbot-dir-deploy") < at("deploy "), "{ran:?}");
    assert!(at("deploy ") < at("post "), "{ran:?}");
    assert_eq!(ran[at("deploy ")], format!("deploy {live}"), "{ran:?}");
    assert_eq!(
        ran[at("certbot-dir-deploy")],
        format!("certbot-dir-deploy {live}")
    );
}
