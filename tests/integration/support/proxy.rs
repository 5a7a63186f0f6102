//! A TCP relay that holds every connection until the test opens the gate.
//!
//! Put it on Pebble's HTTP-01 port in front of certwright's standalone responder: when the
//! first probe arrives, that certwright run is certainly mid-issuance (holding its lock), and
//! stays there until `open()`. This orders two runs without sleeping or timing guesses.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::free_port;

pub struct GatedProxy {
    port: u16,
    arrivals: Receiver<()>,
    gate: Arc<(Mutex<bool>, Condvar)>,
    stopping: Arc<AtomicBool>,
}

impl GatedProxy {
    /// Listens on 127.0.0.1:`listen_port` and relays to 127.0.0.1:`upstream_port` once open.
    pub fn start(listen_port: u16, upstream_port: u16) -> io::Result<GatedProxy> {
        let listener = TcpListener::bind(("127.0.0.1", listen_port))?;
        let (tx, arrivals) = mpsc::channel();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let (gate2, stopping2) = (gate.clone(), stopping.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let _ = tx.send(());
                let gate = gate2.clone();
                std::thread::spawn(move || {
                    let (lock, cvar) = &*gate;
                    let mut open = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while !*open {
                        open = cvar.wait(open).unwrap_or_else(|e| e.into_inner());
                    }
                    drop(open);
                    if let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) {
                        relay(client, upstream);
                    }
                });
            }
        });
        Ok(GatedProxy {
            port: listen_port,
            arrivals,
            gate,
            stopping,
        })
    }

    /// Starts on a fresh free port.
    pub fn start_any(upstream_port: u16) -> io::Result<GatedProxy> {
        GatedProxy::start(free_port(), upstream_port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Blocks until a connection has arrived (true) or `limit` passed (false).
    pub fn wait_for_connection(&self, limit: Duration) -> bool {
        self.arrivals.recv_timeout(limit).is_ok()
    }

    /// Lets held and future connections through.
    pub fn open(&self) {
        let (lock, cvar) = &*self.gate;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
    }

    /// Holds new connections again (ones already let through go on) and forgets earlier
    /// arrivals, so `wait_for_connection` waits for the next one. For a rig that must let an
    /// issuance through before gating a later run on the same port.
    pub fn close(&self) {
        let (lock, _) = &*self.gate;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = false;
        while self.arrivals.try_recv().is_ok() {}
    }
}

impl Drop for GatedProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.open();
        // Wake the accept loop so it sees `stopping` and releases the port.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn relay(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let t = std::thread::spawn(move || pipe(a2, b2));
    pipe(b, a);
    let _ = t.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
