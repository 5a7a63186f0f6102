//! Unit tests of the directory store.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::types::{AccountId, InvalidValue, KeyAuthorization, NodeId};

const TTL: Duration = Duration::from_secs(60);
const SECRET_KEY: &str = "-----BEGIN PRIVATE KEY-----\nTUlHSEFnRUFNQk1HQnlxR1NNNDlBZ0VHQ0NxR1NNNDlBd0VIQkcwd2F3SUJBUVFn\n-----END PRIVATE KEY-----\n";
const ACCOUNT_SECRET: &str =
    r#"{"id":"acct","key_pkcs8":"QUNDT1VOVC1LRVktTUFURVJJQUwtZG8tbm90LWxlYWs"}"#;

fn sealer() -> Sealer {
    Sealer::from_base64(&STANDARD.encode([9u8; 32])).unwrap()
}

/// One "node": its own `DirStore` (own fds, own lock map) on the shared directory.
fn node(dir: &Path) -> DirStore {
    DirStore::new(&format!("file://{}", dir.display()), sealer()).unwrap()
}

fn bundle(node: &str, cert: &str) -> Bundle {
    Bundle {
        version: 0,
        cert_pem: cert.into(),
        chain_pem: "chain".into(),
        fullchain_pem: format!("{cert}chain"),
        privkey_pem: SECRET_KEY.into(),
        renewal: r#"{"schema":1}"#.into(),
        node: node_id(node),
    }
}

fn node_id(node: &str) -> NodeId {
    NodeId::new(node).unwrap()
}

/// Report as `node`; text that is not a node id is refused before it reaches the store.
async fn report(
    store: &DirStore,
    node: &str,
    installed: &BTreeMap<String, u64>,
) -> Result<(), String> {
    let node = NodeId::new(node).map_err(|e| e.to_string())?;
    store
        .report_node(&node, installed)
        .await
        .map_err(|e| e.to_string())
}

/// `nodes()` keyed by the ids' text.
async fn nodes_by_name(store: &DirStore) -> BTreeMap<String, BTreeMap<String, u64>> {
    let nodes = store.nodes().await.unwrap();
    nodes.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

async fn lock(store: &DirStore, name: &str, owner: &str) -> Lease {
    match store.try_lock(name, owner, TTL).await.unwrap() {
        LockAttempt::Acquired(token) => Lease {
            name: name.into(),
            token,
        },
        other => panic!("{owner} did not get {name}: {other:?}"),
    }
}

/// A challenge from test text; one whose token or key authorization breaks its type's rule
/// cannot be made, so it never reaches a store.
fn chal(
    token: &str,
    identifier: &str,
    key_authorization: &str,
) -> Result<SharedChallenge, InvalidValue> {
    Ok(SharedChallenge {
        token: ChallengeToken::new(token)?,
        identifier: identifier.into(),
        key_authorization: KeyAuthorization::new(key_authorization)?,
    })
}

/// Publish a challenge made by `chal`: refused when it could not be made.
async fn put(
    store: &DirStore,
    c: Result<SharedChallenge, InvalidValue>,
    ttl: Duration,
) -> Result<(), String> {
    let c = c.map_err(|e| e.to_string())?;
    store
        .put_challenge(&c, ttl)
        .await
        .map_err(|e| e.to_string())
}

/// What a responder asking with `token` gets: `(identifier, key authorization)`; nothing
/// for text that is not a token (it never reaches the store).
async fn answer(store: &DirStore, token: &str) -> Result<Option<(String, String)>, Error> {
    let Ok(token) = ChallengeToken::new(token) else {
        return Ok(None);
    };
    let found = store.challenge(&token).await?;
    Ok(found.map(|c| (c.identifier, c.key_authorization.into())))
}

/// Remove the challenge of `token`; text that is not a token has none.
async fn unpublish(store: &DirStore, token: &str) -> Result<(), Error> {
    match ChallengeToken::new(token) {
        Ok(token) => store.remove_challenge(&token).await,
        Err(_) => Ok(()),
    }
}

fn account(id: &str) -> SharedAccount {
    SharedAccount {
        id: AccountId::new(id).unwrap(),
        credentials: ACCOUNT_SECRET.replace("acct", id),
        meta: Some(format!(r#"{{"contact":["{id}"]}}"#)),
    }
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_below(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn refuses_relative_missing_and_unsafe_directories_as_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    for (url, want) in [
        ("file://relative/dir".to_string(), "absolute"),
        ("file://".to_string(), "absolute"),
        (
            format!("file://{}/missing", dir.path().display()),
            "does not exist",
        ),
        (format!("file://{}", file.display()), "not a directory"),
        (format!("file://{}", link.display()), "symlink"),
        (format!("file://{}", open.display()), "chmod 700"),
    ] {
        let err = DirStore::new(&url, sealer()).err().unwrap();
        assert_eq!(err.exit_code(), 2, "{url}: {err}");
        assert!(err.to_string().contains(want), "{url}: {err}");
    }
    assert!(DirStore::new(&format!("file://{}/", dir.path().display()), sealer()).is_ok());
}

#[test]
fn open_takes_file_urls_and_refuses_a_prefix_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    fs::write(&key, STANDARD.encode([1u8; 32])).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let url = format!("file://{}", dir.path().display());
    let options = |url: &'static str, prefix: &'static str| super::super::SharedOptions {
        url,
        key_file: Some(Box::leak(key.clone().into_boxed_path())),
        ca_bundle: None,
        prefix,
    };
    let url: &'static str = Box::leak(url.into_boxed_str());
    let store = super::super::open(&options(url, "certwright")).unwrap();
    assert_eq!(store.describe(), url);
    let err = super::super::open(&options(url, "fleet-b")).err().unwrap();
    assert!(err.to_string().contains("redis:// stores only"), "{err}");
    let err = super::super::open(&options("ftp://x/y", "certwright"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("file:///ABSOLUTE/DIR"), "{err}");
}

#[tokio::test]
async fn ping_checks_the_directory_is_still_usable() {
    let dir = tempfile::tempdir().unwrap();
    let store = node(dir.path());
    store.ping().await.unwrap();
    assert!(files_below(dir.path()).is_empty(), "ping left a file");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
    let readonly = store.ping().await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    // Root writes anyway; everyone else is told.
    if !rustix::process::geteuid().is_root() {
        let err = readonly.err().unwrap();
        assert_eq!(err.exit_code(), 6, "{err}");
    }
    fs::remove_dir(dir.path()).unwrap();
    let err = store.ping().await.err().unwrap();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn lock_is_exclusive_between_two_nodes_and_released_only_by_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path()), node(dir.path()));
    let lease = lock(&a, "x.example", "node-a/1/aa").await;
    assert_eq!(
        b.try_lock("x.example", "node-b/2/bb", TTL).await.unwrap(),
        LockAttempt::HeldBy("node-a/1/aa".into())
    );
    // Two tasks of one node are excluded from each other too.
    assert_eq!(
        a.try_lock("x.example", "node-a/1/cc", TTL).await.unwrap(),
        LockAttempt::HeldBy("node-a/1/aa".into())
    );
    // Another lineage is another lock.
    lock(&b, "y.example", "node-b/2/dd").await;

    // Node b cannot refresh or release a's lock, even with a's token.
    assert!(!b.refresh(&lease, TTL).await.unwrap());
    b.unlock(&lease).await.unwrap();
    let wrong_name = Lease {
        name: "y.example".into(),
        token: lease.token.clone(),
    };
    a.unlock(&wrong_name).await.unwrap();
    assert!(a.refresh(&lease, TTL).await.unwrap());
    assert!(matches!(
        b.try_lock("x.example", "node-b/2/ee", TTL).await.unwrap(),
        LockAttempt::HeldBy(_)
    ));

    a.unlock(&lease).await.unwrap();
    assert!(!a.refresh(&lease, TTL).await.unwrap());
    lock(&b, "x.example", "node-b/2/ff").await;
    assert_eq!(
        a.try_lock("x.example", "node-a/1/gg", TTL).await.unwrap(),
        LockAttempt::HeldBy("node-b/2/ff".into())
    );
}

#[tokio::test]
async fn a_crashed_holders_lock_is_released_by_the_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path());
    lock(&a, "x.example", "node-a/1/aa").await;
    let b = node(dir.path());
    assert!(matches!(
        b.try_lock("x.example", "node-b/2/bb", TTL).await.unwrap(),
        LockAttempt::HeldBy(_)
    ));
    drop(a);
    lock(&b, "x.example", "node-b/2/bb").await;
}

#[tokio::test]
async fn publish_is_fenced_by_the_lease_and_counts_up_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path()), node(dir.path()));
    let name = "x.example";
    let never_taken = Lease {
        name: name.into(),
        token: "node-a/1/aa".into(),
    };
    let err = a
        .publish(&never_taken, &bundle("node-a", "c0"))
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("no longer holds the lock"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 6);

    let lease = lock(&a, name, "node-a/1/aa").await;
    // Node b holds no such lock, whatever token it claims.
    assert!(b.publish(&lease, &bundle("node-b", "cb")).await.is_err());
    assert_eq!(a.publish(&lease, &bundle("node-a", "c1")).await.unwrap(), 1);
    assert_eq!(a.publish(&lease, &bundle("node-a", "c2")).await.unwrap(), 2);
    a.unlock(&lease).await.unwrap();
    assert!(a.publish(&lease, &bundle("node-a", "c3")).await.is_err());

    let lease = lock(&b, name, "node-b/2/bb").await;
    assert_eq!(b.publish(&lease, &bundle("node-b", "c3")).await.unwrap(), 3);
    // A lock file removed by hand is a lost lock: refresh says so, publish refuses.
    fs::remove_file(dir.path().join("locks").join(name)).unwrap();
    assert!(!b.refresh(&lease, TTL).await.unwrap());
    assert!(b.publish(&lease, &bundle("node-b", "c4")).await.is_err());

    let got = a.fetch(name).await.unwrap().unwrap();
    assert_eq!(got.version, 3);
    assert_eq!(got.cert_pem, "c3");
    assert_eq!(got.fullchain_pem, "c3chain");
    assert_eq!(got.privkey_pem, SECRET_KEY);
    assert_eq!(got.node, "node-b");
    assert_eq!(
        a.versions().await.unwrap(),
        BTreeMap::from([(name.to_string(), 3)])
    );
    let history = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
    let published: Vec<u64> = history
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "publish")
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(published, [1, 2, 3]);
}

#[tokio::test]
async fn versions_remove_and_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path());
    assert!(a.versions().await.unwrap().is_empty());
    assert!(a.nodes().await.unwrap().is_empty());
    assert!(a.fetch("x.example").await.unwrap().is_none());
    for name in ["x.example", "y.example"] {
        let lease = lock(&a, name, &format!("node-a/1/{name}")).await;
        a.publish(&lease, &bundle("node-a", "c")).await.unwrap();
        a.unlock(&lease).await.unwrap();
    }
    // Temp files and foreign names are not lineages.
    fs::write(dir.path().join("certs/.certwright-tmp-1-z.json"), "{").unwrap();
    fs::write(dir.path().join("certs/README"), "").unwrap();
    a.remove("x.example").await.unwrap();
    a.remove("x.example").await.unwrap();
    assert_eq!(
        a.versions().await.unwrap(),
        BTreeMap::from([("y.example".to_string(), 1)])
    );
    assert!(a.fetch("x.example").await.unwrap().is_none());

    let installed = BTreeMap::from([("y.example".to_string(), 1)]);
    report(&a, "node-a", &installed).await.unwrap();
    report(&a, "node-b", &BTreeMap::new()).await.unwrap();
    report(&a, "node-a", &installed).await.unwrap();
    assert_eq!(
        nodes_by_name(&a).await,
        BTreeMap::from([
            ("node-a".to_string(), installed),
            ("node-b".to_string(), BTreeMap::new())
        ])
    );
}

#[tokio::test]
async fn no_secret_is_stored_in_clear_and_modes_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path());
    let lease = lock(&a, "x.example", "node-a/1/aa").await;
    a.publish(&lease, &bundle("node-a", "c1")).await.unwrap();
    a.offer_account("ca_14000", &account("acct-1"))
        .await
        .unwrap();
    put(&a, chal("tok", "x.example", "tok.thumb"), TTL)
        .await
        .unwrap();
    report(&a, "node-a", &BTreeMap::new()).await.unwrap();
    a.record("order", "x.example", &node_id("node-a"))
        .await
        .unwrap();

    let body = SECRET_KEY.lines().nth(1).unwrap();
    let files = files_below(dir.path());
    assert!(files.len() >= 7, "{files:?}");
    for file in &files {
        let bytes = fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [
            "PRIVATE KEY",
            body,
            "QUNDT1VOVC1LRVktTUFURVJJQUwtZG8tbm90LWxlYWs",
        ] {
            assert!(
                !text.contains(secret),
                "{} holds {secret:?}",
                file.display()
            );
        }
        let mode = fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    for sub in ["locks", "certs", "chal", "accounts", "nodes"] {
        let mode = fs::metadata(dir.path().join(sub))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "{sub}");
    }
    // Not vacuous: the sealed values are there and open again.
    assert_eq!(
        a.fetch("x.example").await.unwrap().unwrap().privkey_pem,
        SECRET_KEY
    );
    assert_eq!(
        a.account("ca_14000").await.unwrap().unwrap().credentials,
        account("acct-1").credentials
    );
    // Another key cannot open them.
    let other = DirStore::new(
        &format!("file://{}", dir.path().display()),
        Sealer::from_base64(&STANDARD.encode([8u8; 32])).unwrap(),
    )
    .unwrap();
    assert!(other.fetch("x.example").await.is_err());
}

#[tokio::test]
async fn challenges_expire_with_their_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path()), node(dir.path()));
    put(
        &a,
        chal("short_-1", "x.example", "short.ka"),
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    put(&a, chal("long", "y.example", "long.ka"), TTL)
        .await
        .unwrap();
    assert_eq!(
        answer(&b, "short_-1").await.unwrap(),
        Some(("x.example".into(), "short.ka".into()))
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(answer(&b, "short_-1").await.unwrap(), None);
    assert!(
        !dir.path().join("chal/short_-1").exists(),
        "expired file stayed"
    );

    // Expired ones are swept when another is published, even if never read again.
    put(
        &a,
        chal("gone", "z.example", "gone.ka"),
        Duration::from_millis(50),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    put(&a, chal("fresh", "z.example", "fresh.ka"), TTL)
        .await
        .unwrap();
    assert!(
        !dir.path().join("chal/gone").exists(),
        "expired file stayed"
    );

    assert_eq!(
        answer(&b, "long").await.unwrap(),
        Some(("y.example".into(), "long.ka".into()))
    );
    unpublish(&b, "long").await.unwrap();
    unpublish(&b, "long").await.unwrap();
    assert_eq!(answer(&a, "long").await.unwrap(), None);
    assert_eq!(answer(&a, "never").await.unwrap(), None);
}

#[tokio::test]
async fn path_traversal_names_and_tokens_never_leave_the_directory() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("store");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let a = node(&dir);
    let bad_tokens = [
        "../escape",
        "..",
        ".",
        "a/b",
        "/etc/passwd",
        "",
        "a.b",
        "%2e%2e",
        "a\0b",
        "a b",
    ];
    for token in bad_tokens {
        let err = put(&a, chal(token, "x", "y"), TTL).await.err();
        assert!(err.is_some(), "{token:?} was stored");
        assert_eq!(answer(&a, token).await.unwrap(), None, "{token:?}");
        unpublish(&a, token).await.unwrap();
    }
    let long = "a".repeat(300);
    assert!(put(&a, chal(&long, "x", "y"), TTL).await.is_err());
    for name in ["../escape", "..", ".hidden", "a/b", ""] {
        assert!(
            a.try_lock(name, "node-a/1/aa", TTL).await.is_err(),
            "{name:?}"
        );
        assert!(a.fetch(name).await.is_err(), "{name:?}");
        assert!(a.remove(name).await.is_err(), "{name:?}");
        assert!(a.account(name).await.is_err(), "{name:?}");
        assert!(
            a.offer_account(name, &account("x")).await.is_err(),
            "{name:?}"
        );
        assert!(
            report(&a, name, &BTreeMap::new()).await.is_err(),
            "{name:?}"
        );
    }
    let escape = Lease {
        name: "../escape".into(),
        token: "node-a/1/aa".into(),
    };
    assert!(a.publish(&escape, &bundle("node-a", "c")).await.is_err());
    let outside: Vec<_> = fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        outside,
        ["store"],
        "something was written outside the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offer_account_keeps_the_first_writer_across_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path()), node(dir.path()));
    assert!(a.account("ca_14000").await.unwrap().is_none());
    let first = a
        .offer_account("ca_14000", &account("acct-1"))
        .await
        .unwrap();
    assert!(first == account("acct-1"), "{}", first.id);
    let kept = b
        .offer_account("ca_14000", &account("acct-2"))
        .await
        .unwrap();
    assert!(kept == account("acct-1"), "{}", kept.id);
    assert!(b.account("ca_14000").await.unwrap() == Some(account("acct-1")));

    // Eight nodes registering at once: all end up with the same one account.
    let nodes: Vec<DirStore> = (0..8).map(|_| node(dir.path())).collect();
    let offers = nodes.iter().enumerate().map(|(i, n)| async move {
        n.offer_account("race_1", &account(&format!("acct-{i}")))
            .await
            .unwrap()
    });
    let kept = futures_util::future::join_all(offers).await;
    assert!(
        kept.iter().all(|k| *k == kept[0]),
        "{:?}",
        kept.iter().map(|k| &k.id).collect::<Vec<_>>()
    );
    assert!(a.account("race_1").await.unwrap() == Some(kept[0].clone()));
    let accounts: Vec<_> = fs::read_dir(dir.path().join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(accounts.len(), 2, "leftover temp files: {accounts:?}");
}

/// Issue 16: a writer of the directory without the key gets nothing past a node.
#[tokio::test]
async fn entries_written_without_the_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path());
    let chal = dir.path().join("chal");
    fs::create_dir(&chal).unwrap();
    let forged = serde_json::json!({"sealed": "x.example\ntok.evil", "expires_ms": u64::MAX});
    fs::write(chal.join("tok"), forged.to_string()).unwrap();
    assert_eq!(answer(&a, "tok").await.unwrap(), None);

    a.offer_account("ca_1", &account("acct-1")).await.unwrap();
    let path = dir.path().join("accounts/ca_1.json");
    let mut entry: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    entry["id"] = "/etc".into();
    fs::write(&path, entry.to_string()).unwrap();
    let err = a.account("ca_1").await.err().unwrap().to_string();
    assert!(err.contains("not authenticated"), "{err}");

    let lease = lock(&a, "x.example", "a/1/1").await;
    a.publish(&lease, &bundle("a", "cert-1")).await.unwrap();
    let path = dir.path().join("certs/x.example.json");
    let good = fs::read_to_string(&path).unwrap();
    for (field, value) in [
        ("version", 9.into()),
        ("chain", "".into()),
        ("node", "a\nb".into()),
    ] {
        let mut entry: serde_json::Value = serde_json::from_str(&good).unwrap();
        entry[field] = value;
        fs::write(&path, entry.to_string()).unwrap();
        let err = a.fetch("x.example").await.err().unwrap().to_string();
        assert!(err.contains("not authenticated"), "{field}: {err}");
    }
    // The next version counts from the last one that verifies (none now), not from 9.
    let version = a.publish(&lease, &bundle("a", "cert-2")).await.unwrap();
    assert_eq!(version, 1);
    // A file that is not JSON does not hide the others from `versions`.
    fs::write(dir.path().join("certs/junk.json"), "not json").unwrap();
    assert_eq!(a.versions().await.unwrap().get("x.example"), Some(&1));
}

#[tokio::test]
async fn history_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path()), node(dir.path()));
    for i in 0..=HISTORY_MAX {
        let store = if i % 2 == 0 { &a } else { &b };
        store
            .record("order", &format!("n{i}"), &node_id("node-a"))
            .await
            .unwrap();
    }
    let text = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["name"].to_string())
        .collect();
    assert_eq!(names.len(), HISTORY_KEEP);
    assert_eq!(names.last().unwrap(), &format!("\"n{HISTORY_MAX}\""));
    assert_eq!(names[0], format!("\"n{}\"", HISTORY_MAX + 1 - HISTORY_KEEP));
    // A torn last line (a node died mid-append) is ended, not joined.
    let mut file = OpenOptions::new()
        .append(true)
        .open(dir.path().join(HISTORY_FILE))
        .unwrap();
    file.write_all(b"{\"event\":\"ord").unwrap();
    a.record("publish", "after", &node_id("node-a"))
        .await
        .unwrap();
    let text = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["name"], "after");
}
