//! What one run shares between its orders.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::acme::{AcmeAccount, AcmeHttp};
use crate::challenge::{self, ChallengeMap, Standalone};
use crate::error::Error;

use crate::ops::fleet::Fleet;
use crate::ops::privileges::{bind_error, ListenAt, Prebound};

/// What one run shares between its orders: HTTP clients per CA bundle, accounts per
/// server, and one standalone responder per address:port serving every concurrent order.
#[derive(Default)]
pub(crate) struct Session {
    /// nginx-authenticated orders patch one shared config: one at a time.
    pub(crate) nginx: tokio::sync::Mutex<()>,
    http: tokio::sync::Mutex<HashMap<Option<PathBuf>, AcmeHttp>>,
    pub(crate) accounts: tokio::sync::Mutex<HashMap<String, (AcmeAccount, String)>>,
    /// `None` for a port a fleet node's daemon already serves from the shared store.
    responders: tokio::sync::Mutex<HashMap<ListenAt, (ChallengeMap, Option<challenge::Running>)>>,
    prebound: Prebound,
    fleet: Option<Arc<Fleet>>,
    /// Ports some order of this run listens on at every address: orders saved with one
    /// address on such a port share that listener (binding both would clash).
    every_address: std::collections::HashSet<u16>,
}

impl Session {
    /// A session that serves challenges on listeners bound earlier (`--user`).
    pub(crate) fn with_prebound(prebound: Prebound) -> Session {
        Session {
            prebound,
            ..Session::default()
        }
    }

    /// Fleet mode: challenges also go to (and are answered from) the shared store, the
    /// fleet's account is used, and each order is recorded in the fleet's history.
    pub(crate) fn with_fleet(mut self, fleet: Option<Arc<Fleet>>) -> Session {
        self.fleet = fleet;
        self
    }

    pub(crate) fn fleet(&self) -> Option<&Fleet> {
        self.fleet.as_deref()
    }

    pub(crate) async fn http(&self, ca_bundle: Option<&Path>) -> Result<AcmeHttp, Error> {
        let mut cache = self.http.lock().await;
        let key = ca_bundle.map(Path::to_path_buf);
        if let Some(h) = cache.get(&key) {
            return Ok(h.clone());
        }
        let h = AcmeHttp::new(ca_bundle)?;
        cache.insert(key, h.clone());
        Ok(h)
    }

    /// The ports that orders of this run listen on at every address (see `every_address`).
    pub(crate) fn listen_on_every_address(&mut self, ports: impl IntoIterator<Item = u16>) {
        self.every_address.extend(ports);
    }

    /// Bind the standalone port on first use; later orders share the listener.
    pub(crate) async fn standalone(
        &self,
        address: Option<IpAddr>,
        port: u16,
    ) -> Result<ChallengeMap, Error> {
        let address = address.filter(|_| !self.every_address.contains(&port));
        let mut responders = self.responders.lock().await;
        if let Some((map, _)) = responders.get(&(address, port)) {
            return Ok(map.clone());
        }
        let map = match &self.fleet {
            Some(fleet) => fleet.challenge_map(),
            None => ChallengeMap::default(),
        };
        let listener = match self.prebound.take(&(address, port)) {
            Some(bound) => Standalone::from_std(bound),
            None => Standalone::bind(address, port).await,
        };
        let running = match listener {
            Ok(listener) => Some(listener.serve(map.clone())),
            // This node's `daemon --http-01-port` serves the fleet's tokens there: publish to
            // the shared store and check it answers before the CA is asked (publish below).
            Err(e) if self.fleet.is_some() && e.kind() == std::io::ErrorKind::AddrInUse => None,
            Err(e) => return Err(bind_error(e, address, port)),
        };
        responders.insert((address, port), (map.clone(), running));
        Ok(map)
    }

    /// Whether the port is served by someone else (a fleet daemon), not this run.
    pub(crate) async fn served_elsewhere(&self, at: &ListenAt) -> bool {
        matches!(self.responders.lock().await.get(at), Some((_, None)))
    }

    /// Release every port.
    pub(crate) async fn shutdown(&self) {
        let mut responders = self.responders.lock().await;
        for (_, (_, running)) in responders.drain() {
            if let Some(running) = running {
                running.shutdown().await;
            }
        }
    }
}
