//! The one integration-test binary: end-to-end runs of the real `certwright` binary against
//! a private Pebble (and nginx) per test. See `support/` for the harness.
#![forbid(unsafe_code)]

mod accounts;
mod acme2certifier;
mod alerts;
mod bad_input;
mod ca_compat;
mod certbot_cli;
mod certonly;
mod crash;
mod daemon_lock;
mod deploy_targets;
mod dns;
mod dns_manual;
mod dns_providers;
mod dns_route53;
mod doctor;
mod faults;
mod fleet;
mod fleet_dir;
mod fleet_netns;
mod fleet_nginx;
mod fleet_tls;
mod harness;
mod hostile;
mod import_certbot;
mod issuance;
mod nginx;
mod nginx_catch_all;
mod nginx_checkpoints;
mod nginx_crossplane;
mod nginx_import;
mod nginx_listen;
mod nginx_names;
mod nginx_served;
mod nginx_waits;
mod privileges;
mod renew;
mod renew_cases;
mod responder;
mod security_env;
mod security_files;
mod security_fleet;
mod security_io;
mod store_attacks;
mod support;
