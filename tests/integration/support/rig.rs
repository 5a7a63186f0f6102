//! A Pebble whose HTTP-01 probes go to the standalone responder's port, and an `Env`: the
//! setup of the modules that issue with `certonly --standalone`. Modules add their own
//! helpers in a local `impl Rig` block.

use super::cli::{Cli, Env, Output};
use super::{free_port, Pebble, PebbleOpts};

pub struct Rig {
    pub pebble: Pebble,
    pub env: Env,
}

impl Rig {
    pub fn new() -> Rig {
        Rig::with(PebbleOpts::default())
    }

    /// `opts` with the HTTP-01 port set to a free one.
    pub fn with(opts: PebbleOpts) -> Rig {
        Rig {
            pebble: Pebble::start(opts.http_port(free_port())),
            env: Env::new(),
        }
    }

    /// `certonly --standalone` on Pebble's HTTP-01 port in `env` with the env's usual flags
    /// (an account is registered without email if none is stored) plus `args`, not yet run.
    pub fn certonly_cli(&self, env: &Env, args: &[&str]) -> Cli {
        env.cli()
            .args([
                "certonly",
                "--standalone",
                "--http-01-port",
                &self.pebble.http_port().to_string(),
                "--http-01-address",
                "127.0.0.1",
            ])
            .args(env.flags(&self.pebble))
            .args(args)
    }

    /// `certonly ... -d name` plus `extra` in `env`.
    pub fn certonly_in(&self, env: &Env, name: &str, extra: &[&str]) -> Output {
        self.certonly_cli(env, &["-d", name]).args(extra).run()
    }

    /// `certonly ... -d name` plus `extra` in the rig's own env.
    pub fn certonly(&self, name: &str, extra: &[&str]) -> Output {
        self.certonly_in(&self.env, name, extra)
    }
}
