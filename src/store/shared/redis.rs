//! The shared store on Redis (one instance, or a primary with replicas). Layout, every key
//! under `<prefix>:`:
//!
//! ```text
//! lock:<name>      owner token, SET NX PX; refreshed and released by an owner-checking script
//! cert:<name>      hash: version, cert, chain, fullchain, privkey (sealed), renewal (sealed),
//!                  node, at, mac (a tag over name, version and every field but `at`)
//! versions         hash: name -> version (the one key nodes poll; a hint, `cert:` decides)
//! chal:<token>     "identifier\nkey authorization" sealed under the token, expires by itself
//! account:<server> hash: id, credentials (sealed), meta, mac (a tag over all three)
//! node:<id>        hash: name -> installed version, plus "_seen"
//! nodes            set of node ids
//! history          list of JSON events, newest first, capped
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, IntoConnectionInfo, Script};
use tokio::sync::OnceCell;

use super::{
    now, open_account, open_challenge, seal_account, seal_challenge, Bundle, Lease, LockAttempt,
    Sealer, SharedAccount, SharedChallenge, SharedStore, StoredAccount, StoredBundle,
};
use crate::error::{Error, InputError};
use crate::types::{ChallengeToken, NodeId};

const HISTORY_LEN: isize = 1000;

/// Extend only our own lock.
const REFRESH: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0";

/// Delete only our own lock.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Check the lease and that the version is still the one the node read (ARGV[11], '' for
/// none), then write the whole version, the version index and the history entry in one
/// step: -1 when the lease is no longer ours, -2 when the version moved meanwhile. The
/// version travels as a string: the node chose it (and tagged it), Lua doubles would round.
const PUBLISH: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if (redis.call('HGET', KEYS[2], 'version') or '') ~= ARGV[11] then return -2 end
local v = ARGV[12]
redis.call('HSET', KEYS[2], 'version', v, 'cert', ARGV[3], 'chain', ARGV[4],
  'fullchain', ARGV[5], 'privkey', ARGV[6], 'renewal', ARGV[7], 'node', ARGV[8], 'at', ARGV[9],
  'mac', ARGV[13])
redis.call('HSET', KEYS[3], ARGV[2], v)
redis.call('LPUSH', KEYS[4], cjson.encode({event='publish', name=ARGV[2], node=ARGV[8],
  version=tonumber(v), at=ARGV[9]}))
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[10]) - 1)
return 1";

pub(super) struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    described: String,
    prefix: String,
    sealer: Sealer,
}

/// `redis://user:secret@host` -> `redis://***@host`: a password never reaches a message.
pub(super) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// The Redis password, from the environment, never from argv (`ps` shows argv to every
/// user, and the daemon's passes would repeat it).
pub(super) const PASSWORD_ENV: &str = "CERTWRIGHT_STORE_PASSWORD";
/// A file holding the Redis password (mode 0600 or stricter).
pub(super) const PASSWORD_FILE_ENV: &str = "CERTWRIGHT_STORE_PASSWORD_FILE";

/// Whether `url` carries a password (`redis://user:secret@host`, `redis://:secret@host`).
pub(super) fn has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
}

fn password_from_env() -> Result<Option<String>, String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(Some(password));
    }
    let Some(path) = std::env::var_os(PASSWORD_FILE_ENV) else {
        return Ok(None);
    };
    let path = std::path::Path::new(&path);
    let shown = || format!("{PASSWORD_FILE_ENV}={}", path.display());
    let text = crate::safe::file::read_required(path, crate::safe::file::Policy::SECRET)
        .map_err(|e| format!("{}: {e}", shown()))?;
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
}

impl RedisStore {
    /// `root_certs`: PEM CAs for a rediss:// server (None: the system's roots).
    pub(super) fn new(
        url: &str,
        prefix: &str,
        sealer: Sealer,
        root_certs: Option<Vec<u8>>,
    ) -> Result<RedisStore, Error> {
        let described = redact(url);
        let bad = |reason: String| InputError::StoreUrl {
            url: described.clone(),
            reason,
        };
        let mut info = url.into_connection_info().map_err(|e| bad(e.to_string()))?;
        if let Some(password) = password_from_env().map_err(bad)? {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let client = match root_certs {
            Some(root_cert) => {
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                redis::Client::build_with_tls(info, certs)
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| bad(e.to_string()))?;
        Ok(RedisStore {
            client,
            conn: OnceCell::new(),
            described,
            prefix: prefix.to_string(),
            sealer,
        })
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for p in parts {
            key.push(':');
            key.push_str(p);
        }
        key
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Shared {
            store: self.described.clone(),
            reason: format!("{what}: {e}"),
        }
    }

    /// One multiplexed connection per run, reconnecting once on a drop; every command has
    /// a timeout, so a hung Redis is an error, not a hung renewal.
    async fn conn(&self) -> Result<ConnectionManager, Error> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(3)))
                    .set_response_timeout(Some(Duration::from_secs(5)))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(100))
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .map_err(|e| self.connect_failed(e))?;
        Ok(conn.clone())
    }

    /// A TLS failure names the certificate problem; the hint says where the trust comes from.
    fn connect_failed(&self, e: redis::RedisError) -> Error {
        let text = e.to_string();
        let hint = if text.to_ascii_lowercase().contains("certificate") {
            " (the server's certificate must chain to a CA in --store-ca-bundle, or to the \
             system's roots without it)"
        } else {
            ""
        };
        self.fail("cannot connect", format!("{text}{hint}"))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl SharedStore for RedisStore {
    fn describe(&self) -> &str {
        &self.described
    }

    async fn ping(&self) -> Result<(), Error> {
        let attempt = async {
            let mut c = self.client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut c).await
        };
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.connect_failed(e)),
            Err(_) => Err(self.fail("cannot connect", "no answer within 5 s")),
        }
    }

    async fn try_lock(&self, name: &str, owner: &str, ttl: Duration) -> Result<LockAttempt, Error> {
        let mut c = self.conn().await?;
        let key = self.key(&["lock", name]);
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut c)
            .await
            .map_err(|e| self.fail("cannot take the lineage lock", e))?;
        if set.is_some() {
            return Ok(LockAttempt::Acquired(owner.to_string()));
        }
        let holder: Option<String> = c
            .get(&key)
            .await
            .map_err(|e| self.fail("cannot read the lineage lock", e))?;
        Ok(LockAttempt::HeldBy(holder.unwrap_or_default()))
    }

    async fn refresh(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error> {
        let mut c = self.conn().await?;
        let extended: i64 = Script::new(REFRESH)
            .key(self.key(&["lock", &lease.name]))
            .arg(&lease.token)
            .arg(millis(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(|e| self.fail("cannot refresh the lineage lock", e))?;
        Ok(extended == 1)
    }

    async fn unlock(&self, lease: &Lease) -> Result<(), Error> {
        let mut c = self.conn().await?;
        let _: i64 = Script::new(RELEASE)
            .key(self.key(&["lock", &lease.name]))
            .arg(&lease.token)
            .invoke_async(&mut c)
            .await
            .map_err(|e| self.fail("cannot release the lineage lock", e))?;
        Ok(())
    }

    async fn publish(&self, lease: &Lease, bundle: &Bundle) -> Result<u64, Error> {
        let mut c = self.conn().await?;
        let current: Option<String> = c
            .hget(self.key(&["cert", &lease.name]), "version")
            .await
            .map_err(|e| self.fail("cannot read the certificate", e))?;
        let version = super::next_version(self.fetch(&lease.name).await, bundle.version)
            .ok_or_else(|| self.fail("refused the certificate", "no version number left"))?;
        // Sealed and tagged: the key is secret, the renewal config names programs a node
        // runs, and no field or the version may change without the fleet key.
        let stored = StoredBundle::seal(&self.sealer, &lease.name, version, bundle)
            .map_err(|e| self.fail("cannot encrypt", e))?;
        let outcome: i64 = Script::new(PUBLISH)
            .key(self.key(&["lock", &lease.name]))
            .key(self.key(&["cert", &lease.name]))
            .key(self.key(&["versions"]))
            .key(self.key(&["history"]))
            .arg(&lease.token)
            .arg(&lease.name)
            .arg(&stored.cert)
            .arg(&stored.chain)
            .arg(&stored.fullchain)
            .arg(&stored.privkey)
            .arg(&stored.renewal)
            .arg(&stored.node)
            .arg(now())
            .arg(HISTORY_LEN)
            .arg(current.unwrap_or_default())
            .arg(version.to_string())
            .arg(&stored.mac)
            .invoke_async(&mut c)
            .await
            .map_err(|e| self.fail("cannot publish the certificate", e))?;
        match outcome {
            1 => Ok(version),
            -2 => Err(self.fail(
                "refused the certificate",
                format!(
                    "{}'s version changed in the store while this node held its lock (written by something without the lock)",
                    lease.name
                ),
            )),
            _ => Err(self.fail(
                "refused the certificate",
                format!(
                    "this node no longer holds the lock on {} (it expired or another node took it over)",
                    lease.name
                ),
            )),
        }
    }

    async fn fetch(&self, name: &str) -> Result<Option<Bundle>, Error> {
        let mut c = self.conn().await?;
        let fields: BTreeMap<String, String> = c
            .hgetall(self.key(&["cert", name]))
            .await
            .map_err(|e| self.fail("cannot read the certificate", e))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let get = |f: &str| {
            fields
                .get(f)
                .cloned()
                .ok_or_else(|| self.fail("incomplete certificate entry", format!("{name}: no {f}")))
        };
        let version = get("version")?
            .parse()
            .map_err(|_| self.fail("bad certificate entry", format!("{name}: version")))?;
        let stored = StoredBundle {
            version,
            cert: get("cert")?,
            chain: get("chain")?,
            fullchain: get("fullchain")?,
            privkey: get("privkey")?,
            renewal: get("renewal")?,
            node: get("node")?,
            // Missing (an entry written without the key): refused as not authenticated.
            mac: fields.get("mac").cloned().unwrap_or_default(),
        };
        stored
            .open(&self.sealer, name)
            .map(Some)
            .map_err(|e| self.fail("refused the certificate entry", e))
    }

    /// An entry that is not a number is skipped (and logged): one bad field must not stop
    /// every node from syncing the other lineages.
    async fn versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        let mut c = self.conn().await?;
        let all: BTreeMap<String, String> = c
            .hgetall(self.key(&["versions"]))
            .await
            .map_err(|e| self.fail("cannot read the versions", e))?;
        Ok(all
            .into_iter()
            .filter_map(|(name, v)| match v.parse() {
                Ok(v) => Some((name, v)),
                Err(_) => {
                    tracing::warn!("the store's version of {name:?} is not a number: skipped");
                    None
                }
            })
            .collect())
    }

    async fn remove(&self, name: &str) -> Result<(), Error> {
        let mut c = self.conn().await?;
        redis::pipe()
            .atomic()
            .del(self.key(&["cert", name]))
            .hdel(self.key(&["versions"]), name)
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| self.fail("cannot remove the certificate", e))
    }

    async fn put_challenge(&self, chal: &SharedChallenge, ttl: Duration) -> Result<(), Error> {
        let sealed =
            seal_challenge(&self.sealer, chal).map_err(|e| self.fail("cannot encrypt", e))?;
        let mut c = self.conn().await?;
        c.pset_ex::<_, _, ()>(
            self.key(&["chal", chal.token.as_str()]),
            sealed,
            millis(ttl),
        )
        .await
        .map_err(|e| self.fail("cannot publish the challenge", e))
    }

    async fn challenge(&self, token: &ChallengeToken) -> Result<Option<SharedChallenge>, Error> {
        let mut c = self.conn().await?;
        let value: Option<String> = c
            .get(self.key(&["chal", token.as_str()]))
            .await
            .map_err(|e| self.fail("cannot read the challenge", e))?;
        Ok(value.and_then(|v| open_challenge(&self.sealer, token, &v)))
    }

    async fn remove_challenge(&self, token: &ChallengeToken) -> Result<(), Error> {
        let mut c = self.conn().await?;
        c.del::<_, ()>(self.key(&["chal", token.as_str()]))
            .await
            .map_err(|e| self.fail("cannot remove the challenge", e))
    }

    async fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error> {
        let mut c = self.conn().await?;
        let fields: BTreeMap<String, String> = c
            .hgetall(self.key(&["account", server_dir]))
            .await
            .map_err(|e| self.fail("cannot read the account", e))?;
        // Credentials and tag are written in one HSET: an id alone is a write in flight;
        // credentials without a tag were not written by a node holding the key (or by a
        // certwright before tags) and are refused below.
        let (Some(id), Some(sealed)) = (fields.get("id"), fields.get("credentials")) else {
            return Ok(None);
        };
        let mac = fields.get("mac").map_or("", String::as_str);
        let stored = StoredAccount {
            id: id.clone(),
            credentials: sealed.clone(),
            meta: fields.get("meta").cloned(),
        };
        open_account(&self.sealer, server_dir, stored, mac)
            .map(Some)
            .map_err(|e| {
                let key = self.key(&["account", server_dir]);
                self.fail(
                    "refused the account",
                    format!("{e}; delete {key} to let a node register anew"),
                )
            })
    }

    async fn offer_account(
        &self,
        server_dir: &str,
        account: &SharedAccount,
    ) -> Result<SharedAccount, Error> {
        let (sealed, mac) = seal_account(&self.sealer, server_dir, account)
            .map_err(|e| self.fail("cannot encrypt", e))?;
        let mut c = self.conn().await?;
        let key = self.key(&["account", server_dir]);
        // HSETNX on "id" decides the winner; only the winner writes the rest.
        let won: bool = c
            .hset_nx(&key, "id", account.id.as_str())
            .await
            .map_err(|e| self.fail("cannot store the account", e))?;
        if won {
            let mut fields = vec![("credentials", sealed), ("mac", mac)];
            if let Some(meta) = &account.meta {
                fields.push(("meta", meta.clone()));
            }
            c.hset_multiple::<_, _, _, ()>(&key, &fields)
                .await
                .map_err(|e| self.fail("cannot store the account", e))?;
            return Ok(account.clone());
        }
        // Another node's registration won; it writes its credentials right after its id.
        for _ in 0..20 {
            if let Some(kept) = self.account(server_dir).await? {
                return Ok(kept);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.fail(
            "incomplete account entry",
            format!("{key} has an id but no credentials"),
        ))
    }

    async fn report_node(
        &self,
        node: &NodeId,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error> {
        let mut c = self.conn().await?;
        let key = self.key(&["node", node.as_str()]);
        let mut fields: Vec<(String, String)> = installed
            .iter()
            .map(|(n, v)| (n.clone(), v.to_string()))
            .collect();
        fields.push(("_seen".into(), now()));
        redis::pipe()
            .atomic()
            .del(&key)
            .hset_multiple(&key, &fields)
            .sadd(self.key(&["nodes"]), node.as_str())
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| self.fail("cannot report this node", e))
    }

    async fn nodes(&self) -> Result<BTreeMap<NodeId, BTreeMap<String, u64>>, Error> {
        let mut c = self.conn().await?;
        let ids: Vec<String> = c
            .smembers(self.key(&["nodes"]))
            .await
            .map_err(|e| self.fail("cannot list the nodes", e))?;
        let mut out = BTreeMap::new();
        for id in ids.into_iter().filter_map(|id| NodeId::new(&id).ok()) {
            let fields: BTreeMap<String, String> = c
                .hgetall(self.key(&["node", id.as_str()]))
                .await
                .map_err(|e| self.fail("cannot read a node", e))?;
            let versions = fields
                .into_iter()
                .filter_map(|(n, v)| Some((n, v.parse().ok()?)))
                .collect();
            out.insert(id, versions);
        }
        Ok(out)
    }

    async fn record(&self, event: &str, name: &str, node: &NodeId) -> Result<(), Error> {
        let entry = serde_json::json!({ "event": event, "name": name, "node": node, "at": now() });
        let key = self.key(&["history"]);
        let mut c = self.conn().await?;
        redis::pipe()
            .lpush(&key, entry.to_string())
            .ltrim(&key, 0, HISTORY_LEN - 1)
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| self.fail("cannot record history", e))
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_in_urls_are_found() {
        use super::has_password;
        assert!(has_password("redis://:hunter2@10.0.0.1:6379/0"));
        assert!(has_password("redis://user:hunter2@10.0.0.1/0"));
        assert!(!has_password("redis://user@10.0.0.1/0"));
        assert!(!has_password("redis://10.0.0.1:6379/0"));
        assert!(!has_password("redis://10.0.0.1:6379/0?x=a@b"));
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("redis://user:hunter2@10.0.0.1:6379/0"),
            "redis://***@10.0.0.1:6379/0"
        );
        assert_eq!(redact("redis://10.0.0.1:6379/0"), "redis://10.0.0.1:6379/0");
    }
}
