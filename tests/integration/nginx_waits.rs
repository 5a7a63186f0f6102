//! No wasted waits (issue 23): an nginx that is not running is not probed after `install`,
//! and a site that already redirects to https (the authenticator serves the challenge from
//! its https block too) gets no "does not answer" warning after the local probe gave up.

use std::process::Command;
use std::time::Duration;

use crate::nginx::Rig;
use crate::nginx_listen::issue;
use crate::support::nginx::{process_alive, NGINX};
use crate::support::{wait_for, Env, Nginx, Pebble, PebbleOpts};

#[test]
fn install_into_an_nginx_that_is_not_running_probes_nothing() {
    let name = "stopped.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.certonly_standalone(name).assert_success();
    let pid = rig.nginx.read_pid().expect("nginx pid");
    let stop = Command::new(NGINX)
        .arg("-c")
        .arg(rig.nginx.conf_path())
        .args(["-s", "stop"])
        .output()
        .expect("stop nginx");
    assert!(stop.status.success());
    let gone = wait_for(Duration::from_secs(10), || {
        (!process_alive(pid)).then_some(())
    });
    assert!(gone.is_some(), "nginx did not stop");

    let out = rig.install(name, &[]);
    out.assert_success();
    assert!(out.stderr.contains("nginx is not running"), "{out}");
    assert!(
        !out.stderr.contains("does not serve the live certificate"),
        "a stopped nginx was probed: {out}"
    );
    let verify = rig.env.cli().arg("verify").args(rig.env.dir_flags()).run();
    verify.assert_success();
    assert!(
        verify.stdout.contains("not checked: nginx is not running"),
        "{verify}"
    );
}

#[test]
fn a_site_that_already_redirects_to_https_gets_no_local_probe_warning() {
    let name = "redirects.example.com";
    let tmp = tempfile::tempdir().unwrap();
    let (_, chain, key) = issue(tmp.path(), &[name]);
    let site = format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n    return 301 https://$host$request_uri;\n}}\n\
         server {{\n    listen @PORT1@ ssl;\n    server_name {name};\n    ssl_certificate {};\n    ssl_certificate_key {};\n}}\n",
        chain.display(),
        key.display()
    );
    let nginx = Nginx::start(&site);
    // The CA would follow the redirect to port 443; this test is about the local probe, so
    // Pebble takes every validation as good.
    let pebble = Pebble::start(
        PebbleOpts::default()
            .http_port(nginx.port(0))
            .env("PEBBLE_VA_ALWAYS_VALID", "1"),
    );
    let https_port = nginx.port(1);
    let rig = Rig {
        nginx,
        pebble,
        env: Env::new(),
        https_port,
    };
    let out = rig.run(&[name], &[]);
    out.assert_success();
    assert!(
        !out.stderr.contains("does not answer the challenge"),
        "{out}"
    );
}

#[test]
fn a_catch_all_on_one_address_only_is_probed_there() {
    let ip = "127.0.0.6";
    let only_there = format!(
        "server {{\n    listen {ip}:@PORT0@ default_server;\n    server_name _;\n    return 404;\n}}\n"
    );
    // The harness waits for 127.0.0.1 to answer; that block goes once nginx runs.
    let nginx = Nginx::start(&format!(
        "{only_there}server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name start.test;\n}}\n"
    ));
    let site = only_there.replace("@PORT0@", &nginx.port(0).to_string());
    std::fs::write(nginx.site_path(), site).unwrap();
    nginx.reload();
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let rig = Rig {
        nginx,
        pebble,
        env: Env::new(),
        https_port: crate::support::free_port(),
    };
    let name = "only.example.com";
    rig.pebble.resolve_to(name, ip);
    let out = rig.run(&[name], &[]);
    out.assert_success();
    assert!(
        !out.stderr.contains("does not answer the challenge"),
        "probed where nginx does not listen: {out}"
    );
}
