//! Issue 16, finding 8: secrets (the EAB key, the Redis password) reach no hook's
//! environment, and a Redis password is taken from the environment or a file, never argv.

use crate::support::fleet::{random_store_key, write_key_file};
use crate::support::redis::RedisServer;
use crate::support::rig::Rig;

const NAME: &str = "secrets.example.com";
const PASSWORD: &str = "redis-pass-8f3a1c";
const EAB_KEY: &str = "eab-key-5d7e2b";

#[test]
fn secrets_reach_no_hook_and_a_redis_password_never_argv() {
    let rig = Rig::new();
    rig.certonly(NAME, &[]).assert_success();
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("store.key");
    write_key_file(&key, random_store_key().as_bytes(), 0o600);
    let dump = dir.path().join("hook-env");
    let hook = format!("env >> {}", dump.display());
    redis.cmd(&["CONFIG", "SET", "requirepass", PASSWORD]);

    let renew = |url: &str, envs: &[(&str, &str)]| {
        let mut cli = rig
            .env
            .renew_cli(&["--force-renewal"])
            .args(["--pre-hook", &hook, "--deploy-hook", &hook])
            .args(["--store", url, "--store-key-file"])
            .arg(&key)
            .args(["--node-id", "n1"]);
        for (k, v) in envs {
            cli = cli.env(k, v);
        }
        cli.run()
    };

    // Without the password Redis refuses the node: the password is really needed.
    renew(&redis.url(), &[]).assert_code(6);

    // On the command line: refused before any I/O, and not echoed.
    let in_argv = format!("redis://:{PASSWORD}@127.0.0.1:{}/0", redis.port());
    let out = renew(&in_argv, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("CERTWRIGHT_STORE_PASSWORD"), "{out}");
    assert!(!out.stderr.contains(PASSWORD), "{out}");

    // From the environment: works, and no hook sees either secret.
    let out = renew(
        &redis.url(),
        &[
            ("CERTWRIGHT_STORE_PASSWORD", PASSWORD),
            ("CERTWRIGHT_EAB_HMAC_KEY", EAB_KEY),
        ],
    );
    out.assert_success();
    let seen = std::fs::read_to_string(&dump).expect("the hooks ran");
    assert!(seen.contains("RENEWED_LINEAGE="), "{seen}");
    assert!(!seen.contains(PASSWORD), "a hook saw the Redis password");
    assert!(!seen.contains(EAB_KEY), "a hook saw the EAB key");

    // From a file (0600).
    let file = dir.path().join("redis.pass");
    write_key_file(&file, format!("{PASSWORD}\n").as_bytes(), 0o600);
    let file_env = file.display().to_string();
    let out = renew(
        &redis.url(),
        &[("CERTWRIGHT_STORE_PASSWORD_FILE", file_env.as_str())],
    );
    out.assert_success();
    write_key_file(&file, PASSWORD.as_bytes(), 0o644);
    let out = renew(
        &redis.url(),
        &[("CERTWRIGHT_STORE_PASSWORD_FILE", file_env.as_str())],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("chmod 600"), "{out}");
}
