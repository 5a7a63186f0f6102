//! Stock configs work in one step (issue 23): a name only a catch-all answers gets a copy of
//! that block with its own `server_name` (Debian's `sites-enabled/default` and the RHEL /
//! Amazon Linux `nginx.conf`, verbatim but for ports and paths), the catch-all keeps plain
//! HTTP for every other name, the dry run shows the copy and `rollback` removes it.

use crate::nginx::{assert_only_marked_lines_added, debian_default_site, wait_for_leaf, Rig};
use crate::nginx_served::live_leaf;
use crate::support::{net, wait_for};

/// Plain HTTP on `port` for `host`, once the status is `want` (old workers drain).
fn status_becomes(port: u16, host: &str, want: u16) -> u16 {
    let mut last = 0;
    let seen = wait_for(std::time::Duration::from_secs(10), || {
        last = net::http_get(port, host, "/")
            .map(|r| r.status)
            .unwrap_or(0);
        (last == want).then_some(())
    });
    seen.map_or(last, |_| want)
}

/// After `run`: the name is served its certificate over TLS and redirected on port 80,
/// while another name still gets the catch-all's plain-HTTP answer.
fn assert_name_served_and_others_untouched(rig: &Rig, name: &str) {
    let leaf = live_leaf(rig, name);
    let served = wait_for_leaf(name, rig.https_port, &rig.pebble.root_pem());
    assert_eq!(served, leaf, "{name} is served another certificate");
    let port = rig.nginx.port(0);
    assert_eq!(status_becomes(port, name, 301), 301, "{name} redirects");
    let other = net::http_get(port, "health.internal.test", "/").expect("GET other name");
    assert_ne!(
        other.status, 301,
        "the catch-all must not redirect other names"
    );
}

#[test]
fn debians_stock_default_site_works_in_one_step() {
    // The stock file with its ports and root moved; `server_name _;` as shipped.
    let rig = Rig::new(&debian_default_site("_"));
    let original = rig.site();
    let name = "stock.example.com";

    let dry = rig.run(&[name], &["--dry-run"]);
    dry.assert_success();
    assert!(
        dry.stdout.contains("+server { # managed by certwright"),
        "the dry run shows the copy:\n{dry}"
    );
    assert_eq!(rig.site(), original, "a dry run writes nothing");

    rig.run(&[name], &[]).assert_success();
    rig.assert_config_test_passes();
    let after = rig.site();
    let catch_all = &original[..original.find("\n}\n").unwrap() + 3];
    assert!(
        after.contains(catch_all),
        "the catch-all is kept as it was:\n{after}"
    );
    assert_only_marked_lines_added(&original, &after);
    assert!(
        after.contains(&format!("server_name {name}; # managed by certwright")),
        "{after}"
    );
    assert_name_served_and_others_untouched(&rig, name);

    let back = rig
        .env
        .cli()
        .arg("rollback")
        .args(&rig.nginx_flags()[..4])
        .args(rig.env.dir_flags())
        .run();
    back.assert_success();
    assert_eq!(rig.site(), original, "rollback gives the stock site back");
    rig.assert_config_test_passes();
}

/// The RHEL 9 / Amazon Linux 2023 `nginx.conf` with this prefix's paths and ports.
fn rhel_conf(rig: &Rig) -> String {
    let root = rig.nginx.server_root();
    let p = root.display();
    let port = rig.nginx.port(0);
    let user = if rustix::process::getuid().is_root() {
        "user root;"
    } else {
        ""
    };
    std::fs::write(
        root.join("mime.types"),
        include_str!("../fixtures/nginx/mime.types"),
    )
    .unwrap();
    for dir in ["conf.d", "default.d"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    include_str!("../fixtures/nginx/rhel-nginx.conf")
        .replace("user nginx;", user)
        .replace("/var/log/nginx/", &format!("{p}/logs/"))
        .replace("pid /run/nginx.pid;", &format!("pid {p}/run/nginx.pid;"))
        .replace("/etc/nginx/", &format!("{p}/"))
        .replace("listen       80;", &format!("listen       {port};"))
        .replace(
            "listen       [::]:80;",
            &format!("listen       [::]:{port};"),
        )
}

#[test]
fn the_rhel_and_amazon_linux_nginx_conf_works_in_one_step() {
    let rig = Rig::new("server {\n    listen @PORT0@;\n    server_name placeholder.invalid;\n}\n");
    let conf = rhel_conf(&rig);
    std::fs::write(rig.nginx.conf_path(), &conf).unwrap();
    rig.nginx.reload();
    let name = "rhel.example.com";
    rig.run(&[name], &[]).assert_success();
    rig.assert_config_test_passes();
    let after = std::fs::read_to_string(rig.nginx.conf_path()).unwrap();
    assert_only_marked_lines_added(&conf, &after);
    let server =
        &conf[conf.find("    server {").unwrap()..conf.find("    }\n\n# Settings").unwrap()];
    assert!(
        after.contains(server),
        "the default server is kept:\n{after}"
    );
    assert_name_served_and_others_untouched(&rig, name);
}
