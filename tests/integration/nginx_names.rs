//! Never a silent mismatch between the names a block serves and its certificate (issue 23):
//! `run` refuses (exit 5) before ordering, naming the names and the `--expand` command that
//! covers them; `verify` probes every name an installed block serves. And the authenticator
//! answers through an address-specific catch-all (`listen 127.0.0.5:PORT default_server`).

use std::net::{IpAddr, Ipv4Addr};

use crate::nginx::{wait_for_leaf, Rig};
use crate::nginx_served::live_leaf;
use crate::support::nginx::NGINX;
use crate::support::{free_port, net, Env, Nginx, Pebble, PebbleOpts};

#[test]
fn a_block_serving_names_the_certificate_would_not_cover_is_refused_with_the_fix() {
    let rig = Rig::new(
        "server {\n    listen @PORT0@;\n    server_name je.example.com www.je.example.com;\n}\n",
    );
    let original = rig.site();
    let out = rig.run(&["je.example.com"], &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("www.je.example.com"), "{out}");
    let fix = format!(
        "certwright run --nginx --expand --cert-name je.example.com --nginx-server-root {} \
         --nginx-ctl {NGINX} --http-01-port {} --https-port {} -d je.example.com \
         -d www.je.example.com",
        rig.nginx.server_root().display(),
        rig.nginx.port(0),
        rig.https_port
    );
    assert!(out.stderr.contains(&fix), "{fix}\n{out}");
    assert!(
        !rig.env.live("je.example.com").exists(),
        "refused before ordering: {out}"
    );
    assert_eq!(rig.site(), original, "nothing changed");

    // The command as printed (plus this test's directories and CA).
    let args: Vec<&str> = fix.split_whitespace().skip(1).collect();
    let cli = rig.env.cli().args(args).args(rig.env.flags(&rig.pebble));
    cli.run().assert_success();
    let leaf = live_leaf(&rig, "je.example.com");
    for sni in ["je.example.com", "www.je.example.com"] {
        assert_eq!(
            wait_for_leaf(sni, rig.https_port, &rig.pebble.root_pem()),
            leaf
        );
    }
}

#[test]
fn verify_probes_every_name_an_installed_block_serves() {
    let rig = Rig::new("server {\n    listen @PORT0@;\n    server_name one.example.com;\n}\n");
    rig.run(&["one.example.com"], &[]).assert_success();
    // Later the user adds a name to the block; the certificate does not cover it.
    let site = rig.site().replace(
        "server_name one.example.com;",
        "server_name one.example.com two.example.com;",
    );
    std::fs::write(rig.nginx.site_path(), site).unwrap();
    rig.nginx.reload();
    let out = rig.env.cli().arg("verify").args(rig.env.dir_flags()).run();
    out.assert_code(1);
    assert!(
        out.stdout.contains("(SNI two.example.com): NOT COVERED"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("(SNI one.example.com): serves the live certificate"),
        "{out}"
    );
}

#[test]
fn the_authenticator_answers_through_an_address_specific_catch_all() {
    let ip = "127.0.0.5";
    let site = format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name localhost.test;\n    return 404;\n}}\n\
         server {{\n    listen {ip}:@PORT0@ default_server;\n    server_name _;\n    return 404;\n}}\n"
    );
    let nginx = Nginx::start(&site);
    let rig = Rig {
        pebble: Pebble::start(PebbleOpts::default().http_port(nginx.port(0))),
        nginx,
        env: Env::new(),
        https_port: free_port(),
    };
    let name = "multi.example.com";
    rig.pebble.resolve_to(name, ip);
    let out = rig.run(&[name], &[]);
    out.assert_success();
    assert!(!out.stderr.contains("does not answer"), "{out}");
    rig.assert_config_test_passes();
    let other_ip: IpAddr = ip.parse::<Ipv4Addr>().unwrap().into();
    // Served at the address clients reach it on.
    let leaf = live_leaf(&rig, name);
    let served = certwright::verify::fetch_leaf((other_ip, rig.https_port).into(), name, TIMEOUT)
        .expect("TLS at 127.0.0.5");
    assert_eq!(served, leaf);
    let rsp = net::http_get_at(other_ip, rig.nginx.port(0), "other.test", "/").unwrap();
    assert_eq!(rsp.status, 404, "the catch-all still answers other names");
}

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
