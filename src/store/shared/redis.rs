//! The shared store on Redis (one instance, or a primary with replicas). Layout, every key
//! under `<prefix>:`:
//!
//! ```text
//! lock:<name>      owner token, SET NX PX; refreshed and released by an owner-checking script
//! cert:<name>      hash: version, cert, chain, fullchain, privkey (sealed), renewal (sealed),
//!                  node, at
//! versions         hash: name -> version (the one key nodes poll)
//! chal:<token>     "identifier\nkey authorization", expires by itself
//! account:<server> hash: id, credentials (sealed), meta
//! node:<id>        hash: name -> installed version, plus "_seen"
//! nodes            set of node ids
//! history          list of JSON events, newest first, capped
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use tokio::sync::OnceCell;

use super::{now, Bundle, Lease, LockAttempt, Sealer, SharedAccount, SharedStore};
use crate::error::{Error, InputError};

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

/// Check the lease and write the whole version, the version index and the history entry in
/// one step: -1 when the lease is no longer ours.
const PUBLISH: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local v = tonumber(redis.call('HGET', KEYS[2], 'version') or '0') + 1
redis.call('HSET', KEYS[2], 'version', v, 'cert', ARGV[3], 'chain', ARGV[4],
  'fullchain', ARGV[5], 'privkey', ARGV[6], 'renewal', ARGV[7], 'node', ARGV[8], 'at', ARGV[9])
redis.call('HSET', KEYS[3], ARGV[2], v)
redis.call('LPUSH', KEYS[4], cjson.encode({event='publish', name=ARGV[2], node=ARGV[8],
  version=v, at=ARGV[9]}))
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[10]) - 1)
return v";

pub struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    described: String,
    prefix: String,
    sealer: Sealer,
}

/// `redis://user:secret@host` -> `redis://***@host`: a password never reaches a message.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl RedisStore {
    pub fn new(url: &str, prefix: &str, sealer: Sealer) -> Result<RedisStore, Error> {
        let described = redact(url);
        let client = redis::Client::open(url)
            .map_err(|e| InputError::Other(format!("--store {described}: {e}")))?;
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
            .map_err(|e| self.fail("cannot connect", e))?;
        Ok(conn.clone())
    }

    fn seal(&self, context: &str, clear: &str) -> Result<String, Error> {
        (self.sealer.seal_text(context, clear)).map_err(|e| self.fail("cannot encrypt", e))
    }

    fn open_sealed(&self, context: &str, sealed: &str) -> Result<String, Error> {
        (self.sealer.open_text(context, sealed)).map_err(|e| self.fail("cannot decrypt", e))
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
            Ok(Err(e)) => Err(self.fail("cannot connect", e)),
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
        let privkey = self.seal(&format!("privkey:{}", lease.name), &bundle.privkey_pem)?;
        // Sealed too, for integrity: it names programs a node runs (nginx binary, hooks'
        // paths), so whoever can write to Redis must not be able to change it.
        let renewal = self.seal(&format!("renewal:{}", lease.name), &bundle.renewal)?;
        let mut c = self.conn().await?;
        let version: i64 = Script::new(PUBLISH)
            .key(self.key(&["lock", &lease.name]))
            .key(self.key(&["cert", &lease.name]))
            .key(self.key(&["versions"]))
            .key(self.key(&["history"]))
            .arg(&lease.token)
            .arg(&lease.name)
            .arg(&bundle.cert_pem)
            .arg(&bundle.chain_pem)
            .arg(&bundle.fullchain_pem)
            .arg(privkey)
            .arg(renewal)
            .arg(&bundle.node)
            .arg(now())
            .arg(HISTORY_LEN)
            .invoke_async(&mut c)
            .await
            .map_err(|e| self.fail("cannot publish the certificate", e))?;
        u64::try_from(version).map_err(|_| {
            self.fail(
                "refused the certificate",
                format!(
                    "this node no longer holds the lock on {} (it expired or another node took it over)",
                    lease.name
                ),
            )
        })
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
        Ok(Some(Bundle {
            version,
            cert_pem: get("cert")?,
            chain_pem: get("chain")?,
            fullchain_pem: get("fullchain")?,
            privkey_pem: self.open_sealed(&format!("privkey:{name}"), &get("privkey")?)?,
            renewal: self.open_sealed(&format!("renewal:{name}"), &get("renewal")?)?,
            node: get("node")?,
        }))
    }

    async fn versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        let mut c = self.conn().await?;
        c.hgetall(self.key(&["versions"]))
            .await
            .map_err(|e| self.fail("cannot read the versions", e))
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

    async fn put_challenge(
        &self,
        token: &str,
        identifier: &str,
        key_authorization: &str,
        ttl: Duration,
    ) -> Result<(), Error> {
        let mut c = self.conn().await?;
        c.pset_ex::<_, _, ()>(
            self.key(&["chal", token]),
            format!("{identifier}\n{key_authorization}"),
            millis(ttl),
        )
        .await
        .map_err(|e| self.fail("cannot publish the challenge", e))
    }

    async fn challenge(&self, token: &str) -> Result<Option<(String, String)>, Error> {
        let mut c = self.conn().await?;
        let value: Option<String> = c
            .get(self.key(&["chal", token]))
            .await
            .map_err(|e| self.fail("cannot read the challenge", e))?;
        Ok(value.and_then(|v| {
            let (identifier, key_auth) = v.split_once('\n')?;
            Some((identifier.to_string(), key_auth.to_string()))
        }))
    }

    async fn remove_challenge(&self, token: &str) -> Result<(), Error> {
        let mut c = self.conn().await?;
        c.del::<_, ()>(self.key(&["chal", token]))
            .await
            .map_err(|e| self.fail("cannot remove the challenge", e))
    }

    async fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error> {
        let mut c = self.conn().await?;
        let fields: BTreeMap<String, String> = c
            .hgetall(self.key(&["account", server_dir]))
            .await
            .map_err(|e| self.fail("cannot read the account", e))?;
        let (Some(id), Some(sealed)) = (fields.get("id"), fields.get("credentials")) else {
            return Ok(None);
        };
        Ok(Some(SharedAccount {
            id: id.clone(),
            credentials: self.open_sealed(&format!("account:{server_dir}"), sealed)?,
            meta: fields.get("meta").cloned(),
        }))
    }

    async fn offer_account(
        &self,
        server_dir: &str,
        account: &SharedAccount,
    ) -> Result<SharedAccount, Error> {
        let sealed = self.seal(&format!("account:{server_dir}"), &account.credentials)?;
        let mut c = self.conn().await?;
        let key = self.key(&["account", server_dir]);
        // HSETNX on "id" decides the winner; only the winner writes the rest.
        let won: bool = c
            .hset_nx(&key, "id", &account.id)
            .await
            .map_err(|e| self.fail("cannot store the account", e))?;
        if won {
            let mut fields = vec![("credentials", sealed)];
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
        node: &str,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error> {
        let mut c = self.conn().await?;
        let key = self.key(&["node", node]);
        let mut fields: Vec<(String, String)> = installed
            .iter()
            .map(|(n, v)| (n.clone(), v.to_string()))
            .collect();
        fields.push(("_seen".into(), now()));
        redis::pipe()
            .atomic()
            .del(&key)
            .hset_multiple(&key, &fields)
            .sadd(self.key(&["nodes"]), node)
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| self.fail("cannot report this node", e))
    }

    async fn nodes(&self) -> Result<BTreeMap<String, BTreeMap<String, u64>>, Error> {
        let mut c = self.conn().await?;
        let ids: Vec<String> = c
            .smembers(self.key(&["nodes"]))
            .await
            .map_err(|e| self.fail("cannot list the nodes", e))?;
        let mut out = BTreeMap::new();
        for id in ids {
            let fields: BTreeMap<String, String> = c
                .hgetall(self.key(&["node", &id]))
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

    async fn record(&self, event: &str, name: &str, node: &str) -> Result<(), Error> {
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
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("redis://user:hunter2@10.0.0.1:6379/0"),
            "redis://***@10.0.0.1:6379/0"
        );
        assert_eq!(redact("redis://10.0.0.1:6379/0"), "redis://10.0.0.1:6379/0");
    }
}
