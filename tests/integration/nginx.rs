//! `run --nginx`, `install`, `rollback` end to end: real nginx on a temp prefix answering
//! Pebble's HTTP-01 probes, then serving the issued certificate over TLS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use crate::nginx_served::served_after_reload;
use crate::support::bind::Bind;
use crate::support::cli::Output;
use crate::support::docker::Container;
use crate::support::nginx::NGINX;
use crate::support::{free_port, net, wait_for, Env, Nginx, Pebble, PebbleOpts, Snapshot};

const MARKER: &str = "# managed by certwright";

/// nginx serving `site` (with @PORT0@ as its port-80 stand-in), a Pebble probing that port,
/// and a free port for the 443 stand-in.
pub(crate) struct Rig {
    pub(crate) nginx: Nginx,
    pub(crate) pebble: Pebble,
    pub(crate) env: Env,
    pub(crate) https_port: u16,
}

impl Rig {
    pub(crate) fn new(site: &str) -> Rig {
        let nginx = Nginx::start(site);
        let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
        Rig {
            nginx,
            pebble,
            env: Env::new(),
            https_port: free_port(),
        }
    }

    pub(crate) fn nginx_flags(&self) -> Vec<String> {
        vec![
            "--nginx-server-root".into(),
            self.nginx.server_root().display().to_string(),
            "--nginx-ctl".into(),
            NGINX.into(),
            "--https-port".into(),
            self.https_port.to_string(),
        ]
    }

    pub(crate) fn run(&self, names: &[&str], extra: &[&str]) -> Output {
        let mut cli = self
            .env
            .cli()
            .args(["run", "--nginx", "--http-01-port"])
            .arg(self.nginx.port(0).to_string())
            .args(self.nginx_flags())
            .args(self.env.flags(&self.pebble));
        for n in names {
            cli = cli.arg("-d").arg(n);
        }
        cli.args(extra).run()
    }

    pub(crate) fn certonly_standalone(&self, name: &str) -> Output {
        self.certonly_standalone_kept(name).0
    }

    /// `certonly_standalone`, and the Pebble that issued (for its root).
    fn certonly_standalone_kept(&self, name: &str) -> (Output, Pebble) {
        // Pebble probes nginx's port; for a standalone issuance nginx must let go of it,
        // so these tests use a separate Pebble for the certonly step.
        let port = free_port();
        let pebble = Pebble::start(PebbleOpts::default().http_port(port));
        let out = self
            .env
            .cli()
            .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
            .args(["--http-01-port", &port.to_string(), "-d", name])
            .args(self.env.flags(&pebble))
            .run();
        (out, pebble)
    }

    /// `install --nginx --cert-name name` with nginx's port 80 stand-in as the HTTP-01 port,
    /// the nginx flags, the dir flags and `extra`.
    pub(crate) fn install(&self, name: &str, extra: &[&str]) -> Output {
        self.env
            .cli()
            .args(["install", "--nginx", "--cert-name", name, "--http-01-port"])
            .arg(self.nginx.port(0).to_string())
            .args(extra)
            .args(self.nginx_flags())
            .args(self.env.dir_flags())
            .run()
    }

    /// `rollback` with `extra`, the nginx server root and ctl, and the dir flags.
    fn rollback(&self, extra: &[&str]) -> Output {
        self.env
            .cli()
            .arg("rollback")
            .args(extra)
            .args(&self.nginx_flags()[..4])
            .args(self.env.dir_flags())
            .run()
    }

    pub(crate) fn assert_config_test_passes(&self) {
        self.nginx
            .config_test()
            .status
            .success()
            .then_some(())
            .expect("nginx -t passes");
    }

    pub(crate) fn site(&self) -> String {
        std::fs::read_to_string(self.nginx.site_path()).expect("read site")
    }

    /// The config files only (logs and pid files change on every reload).
    pub(crate) fn nginx_snapshot(&self) -> (Snapshot, Snapshot, String) {
        let root = self.nginx.server_root();
        (
            Snapshot::of(&root.join("sites-available")),
            Snapshot::of(&root.join("sites-enabled")),
            std::fs::read_to_string(root.join("nginx.conf")).expect("read nginx.conf"),
        )
    }

    /// The site answers TLS on the https port with exactly the lineage's leaf, port 80
    /// redirects, `nginx -t` passes, and every original line is still there in order.
    pub(crate) fn assert_installed(&self, name: &str, original: &str) {
        self.assert_config_test_passes();
        let leaf = std::fs::read(self.env.live(name).join("cert.pem")).expect("read cert.pem");
        let leaf_der = CertificateDer::pem_slice_iter(&leaf)
            .next()
            .expect("one cert")
            .expect("parse cert.pem");
        let served = wait_for_leaf(name, self.https_port, &self.pebble.root_pem());
        assert_eq!(
            served,
            leaf_der.as_ref(),
            "nginx serves another certificate than live/{name}/cert.pem"
        );
        // Old workers drain after a reload: poll until port 80 answers from the new config.
        let get =
            || net::http_get(self.nginx.port(0), name, "/some/path?q=1").expect("GET port 80");
        let rsp = wait_for(Duration::from_secs(5), || {
            let rsp = get();
            (rsp.status == 301).then_some(rsp)
        })
        .unwrap_or_else(get);
        assert_eq!(
            rsp.status,
            301,
            "port 80 should redirect: {}\n--- site ---\n{}",
            rsp.text(),
            self.site()
        );
        let location = header(&rsp, "location").unwrap_or_default();
        assert_eq!(
            location,
            format!("https://{name}:{}/some/path?q=1", self.https_port)
        );
        assert_only_marked_lines_added(original, &self.site());
    }
}

pub(crate) fn header(rsp: &net::Response, name: &str) -> Option<String> {
    rsp.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Every line of `before` is in `after`, in order; every added line carries the marker.
pub(crate) fn assert_only_marked_lines_added(before: &str, after: &str) {
    let mut after_lines = after.lines();
    for line in before.lines() {
        loop {
            match after_lines.next() {
                Some(l) if l == line => break,
                Some(l) if l.contains(MARKER) => continue,
                Some(l) => panic!(
                    "line {l:?} was changed or added without the marker\n--- after ---\n{after}"
                ),
                None => panic!("original line {line:?} is gone\n--- after ---\n{after}"),
            }
        }
    }
    for rest in after_lines {
        assert!(
            rest.contains(MARKER),
            "unmarked trailing line {rest:?}\n--- after ---\n{after}"
        );
    }
}

/// The leaf certificate (DER) nginx presents for `sni`, verified against `root_pem`. nginx
/// reloads asynchronously, so the first attempts may still see the old workers.
pub(crate) fn wait_for_leaf(sni: &str, port: u16, root_pem: &str) -> Vec<u8> {
    let mut last = String::new();
    let served = wait_for(Duration::from_secs(5), || {
        served_leaf(sni, port, root_pem).map_err(|e| last = e).ok()
    });
    served.unwrap_or_else(|| panic!("no TLS handshake with {sni} on port {port}: {last}"))
}

pub(crate) fn served_leaf(sni: &str, port: u16, root_pem: &str) -> Result<Vec<u8>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or("no peer certificate")?
        .as_ref()
        .to_vec();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let _ = tls.write_all(b"GET / HTTP/1.0\r\n\r\n");
    let mut sink = Vec::new();
    let _ = tls.read_to_end(&mut sink);
    Ok(leaf)
}

pub(crate) fn debian_default_site(name: &str) -> String {
    let fixture = include_str!("../fixtures/nginx/debian-sites-default");
    fixture
        .replace(
            "listen 80 default_server;",
            "listen @PORT0@ default_server;",
        )
        .replace(
            "listen [::]:80 default_server;",
            "listen [::]:@PORT0@ default_server;",
        )
        .replace("server_name _;", &format!("server_name {name};"))
        .replace("root /var/www/html;", "root @PREFIX@;")
}

#[test]
fn run_nginx_on_debian_default_site() {
    let name = "debian.example.com";
    let rig = Rig::new(&debian_default_site(name));
    let original = rig.site();
    let out = rig.run(&[name], &[]);
    out.assert_success();
    rig.assert_installed(name, &original);
    let site = rig.site();
    assert!(
        site.contains(&format!("listen [::]:{} ssl; {MARKER}", rig.https_port)),
        "IPv6 listen added:\n{site}"
    );
    assert!(
        !site.contains("acme-challenge"),
        "challenge locations must be gone:\n{site}"
    );
    // The symlink in sites-enabled is still a symlink.
    let link = rig.nginx.server_root().join("sites-enabled/default");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // The renewal config records the installer for `renew`.
    let conf = std::fs::read_to_string(rig.env.renewal_conf(name)).unwrap();
    assert!(conf.contains("\"installer\""), "{conf}");
}

#[test]
fn run_nginx_on_reverse_proxy_site_with_two_names() {
    let site = "# app behind a proxy, as deployment guides write it\n\
server {\n    listen @PORT0@;\n    server_name app.example.com www.app.example.com;\n\n    location / {\n        proxy_pass http://127.0.0.1:9;\n        proxy_set_header Host $host;\n    }\n}\n";
    let rig = Rig::new(site);
    let original = rig.site();
    rig.run(&["app.example.com", "www.app.example.com"], &[])
        .assert_success();
    rig.assert_installed("app.example.com", &original);
    let _ = wait_for_leaf(
        "www.app.example.com",
        rig.https_port,
        &rig.pebble.root_pem(),
    );
}

#[test]
fn run_nginx_with_sites_enabled_symlinks_and_catch_all() {
    let rig = Rig::new(
        "server {\n    listen @PORT0@ default_server;\n    server_name _;\n    return 444;\n}\n",
    );
    let port = rig.nginx.port(0);
    let root = rig.nginx.server_root().to_path_buf();
    for site in ["one", "two"] {
        let body = format!("server {{\n    listen {port};\n    server_name {site}.example.com;\n    root {};\n}}\n", root.display());
        std::fs::write(root.join(format!("sites-available/{site}")), body).unwrap();
        // Relative links, as `ln -s ../sites-available/x` makes them.
        std::os::unix::fs::symlink(
            format!("../sites-available/{site}"),
            root.join(format!("sites-enabled/{site}")),
        )
        .unwrap();
    }
    rig.nginx.reload();
    let before_two = std::fs::read_to_string(root.join("sites-available/two")).unwrap();
    let before_default = rig.site();
    let original = std::fs::read_to_string(root.join("sites-available/one")).unwrap();
    rig.run(&["one.example.com"], &[]).assert_success();
    rig.assert_config_test_passes();
    let after = std::fs::read_to_string(root.join("sites-available/one")).unwrap();
    assert!(after.contains(MARKER), "site one patched:\n{after}");
    assert_only_marked_lines_added(&original, &after);
    assert_eq!(
        std::fs::read_to_string(root.join("sites-available/two")).unwrap(),
        before_two,
        "site two untouched"
    );
    assert_eq!(rig.site(), before_default, "the catch-all is untouched");
    assert!(std::fs::symlink_metadata(root.join("sites-enabled/one"))
        .unwrap()
        .file_type()
        .is_symlink());
    let leaf = wait_for_leaf("one.example.com", rig.https_port, &rig.pebble.root_pem());
    assert!(!leaf.is_empty());
}

#[test]
fn a_wildcard_issued_over_dns_01_is_installed_into_the_blocks_it_covers_and_served() {
    let block = |listen: &str, names: &str, body: &str| {
        format!("server {{\n    listen {listen};\n    server_name {names};\n    {body}\n}}\n")
    };
    let catch_all = block("@PORT0@ default_server", "_", "return 444;");
    let not_covered = block(
        "@PORT0@",
        "deep.api.example.test other.test",
        "root @PREFIX@;",
    );
    let site = [
        catch_all.clone(),
        block("@PORT0@", "example.test", "root @PREFIX@;"),
        block("@PORT0@", "*.example.test", "root @PREFIX@;"),
        block("@PORT0@", "api.example.test", "root @PREFIX@;"),
        not_covered.clone(),
    ]
    .concat();
    let bind = Bind::start();
    let nginx = Nginx::start(&site);
    let rig = Rig {
        pebble: Pebble::start(PebbleOpts::default().dns_server(bind.addr())),
        nginx,
        env: Env::new(),
        https_port: free_port(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), bind.secret());
    let out = rig
        .env
        .cli()
        .args(["run", "--nginx", "--http-01-port"])
        .arg(rig.nginx.port(0).to_string())
        .args(rig.nginx_flags())
        .args(rig.env.flags(&rig.pebble))
        .args(["--dns-rfc2136", "--dns-rfc2136-credentials"])
        .arg(&creds)
        .args(["--dns-resolver", &bind.addr().to_string()])
        .args(["-d", "*.example.test", "-d", "example.test"])
        .run();
    out.assert_success();
    rig.assert_config_test_passes();
    let after = rig.site();
    let port = rig.nginx.port(0).to_string();
    for untouched in [catch_all, not_covered] {
        let untouched = untouched.replace("@PORT0@", &port);
        let untouched =
            untouched.replace("@PREFIX@", &rig.nginx.server_root().display().to_string());
        assert!(
            after.contains(&untouched),
            "changed:\n{untouched}\n--- site ---\n{after}"
        );
    }
    assert_eq!(after.matches("ssl_certificate ").count(), 3, "{after}");

    let leaf = std::fs::read(rig.env.live("example.test").join("cert.pem")).expect("cert.pem");
    let leaf = CertificateDer::pem_slice_iter(&leaf)
        .next()
        .expect("one")
        .expect("parse");
    // api by its own block, www through the `*.example.test` block, and the apex.
    for sni in ["api.example.test", "www.example.test", "example.test"] {
        let served = wait_for_leaf(sni, rig.https_port, &rig.pebble.root_pem());
        assert_eq!(
            served,
            leaf.as_ref(),
            "SNI {sni} is served another certificate"
        );
    }

    let verify = rig
        .env
        .cli()
        .args(["verify", "--cert-name", "example.test"])
        .args(rig.env.dir_flags())
        .run();
    verify.assert_success();
    for sni in [
        "api.example.test",
        "certwright-verify.example.test",
        "example.test",
    ] {
        assert!(
            verify.stdout.contains(&format!("(SNI {sni})")),
            "{verify:?}"
        );
    }
    assert!(!verify.stdout.contains("SNI *"), "{verify:?}");
}

#[test]
fn run_nginx_keeps_every_comment() {
    let site = concat!(
        "# Top comment with { braces } and ; semicolons\n",
        "#no space comment\n",
        "\n",
        "\t# tab-indented comment\n",
        "server { # opening\n",
        "    listen @PORT0@ # comment between args }\n",
        "        ;\n",
        "    server_name  commented.example.com ; # odd spacing\n",
        "    location = /#notacomment {\n",
        "        return 200 'a#b';\n",
        "    }\n",
        "    # closing comment }\n",
        "} # after block\n",
        "# no trailing newline",
    );
    let rig = Rig::new(site);
    let original = rig.site();
    rig.run(&["commented.example.com"], &[]).assert_success();
    rig.assert_installed("commented.example.com", &original);
    let rsp = net::http_get(rig.nginx.port(0), "other.example.com", "/#notacomment").unwrap();
    assert!(rsp.status == 301 || rsp.status == 200, "{}", rsp.status);
}

#[test]
fn a_name_in_no_server_block_lists_the_names_found() {
    let rig = Rig::new("server {\n    listen @PORT0@;\n    server_name known.example.com;\n}\n");
    let before = rig.nginx_snapshot();
    let out = rig
        .env
        .cli()
        .args(["install", "--nginx", "--cert-name", "missing.example.com"])
        .args(rig.nginx_flags())
        .args(rig.env.dir_flags())
        .run();
    out.assert_code(3); // no such lineage yet
                        // Obtain for an unserved name with another authenticator, then install: exit 5, listing names.
    rig.certonly_standalone("unserved.example.com")
        .assert_success();
    let out = rig.install("unserved.example.com", &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("known.example.com"), "{out}");
    assert_eq!(rig.nginx_snapshot(), before, "failed install");
}

#[test]
fn broken_config_before_start_changes_nothing() {
    let rig = Rig::new("server {\n    listen @PORT0@;\n    server_name broken.example.com;\n}\n");
    std::fs::write(
        rig.nginx.site_path(),
        "server {\n    listen 1;\n    bogus_directive on;\n}\n",
    )
    .unwrap();
    let before = rig.nginx_snapshot();
    let out = rig.run(&["broken.example.com"], &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("nginx -t"), "{out}");
    assert_eq!(rig.nginx_snapshot(), before, "broken config");
    assert!(
        !rig.env.live("broken.example.com").exists(),
        "no certificate may be obtained"
    );
}

#[test]
fn failing_config_test_after_patch_restores_files() {
    let name = "inject.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.certonly_standalone(name).assert_success();
    // The real nginx, except that `-t` fails once certwright's lines are in the config.
    let wrapper = rig.env.root().join("nginx-failing-after-patch");
    let root = rig.nginx.server_root().display().to_string();
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nif [ \"$1\" = \"-t\" ] && grep -rqs 'managed by certwright' {root}/sites-available; then\n  echo 'nginx: [emerg] injected failure' >&2; exit 1\nfi\nexec {NGINX} \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let before = rig.nginx_snapshot();
    let out = rig
        .env
        .cli()
        .args([
            "install",
            "--nginx",
            "--cert-name",
            name,
            "--nginx-server-root",
            &root,
            "--nginx-ctl",
        ])
        .arg(&wrapper)
        .args([
            "--https-port",
            &rig.https_port.to_string(),
            "--http-01-port",
            &rig.nginx.port(0).to_string(),
        ])
        .args(rig.env.dir_flags())
        .run();
    out.assert_code(5);
    assert!(out.stderr.contains("injected failure"), "{out}");
    assert_eq!(
        rig.nginx_snapshot(),
        before,
        "restored after failed nginx -t"
    );
    rig.assert_config_test_passes();
}

#[test]
fn install_is_idempotent_and_rollback_restores_byte_identically() {
    let name = "rb.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n    # keep me\n}}\n"
    ));
    rig.certonly_standalone(name).assert_success();
    let before = rig.nginx_snapshot();
    // --dry-run prints the diff and changes nothing.
    let dry = rig.install(name, &["--dry-run"]);
    dry.assert_success();
    assert!(
        dry.stdout.contains("+") && dry.stdout.contains("ssl_certificate"),
        "{dry}"
    );
    assert_eq!(rig.nginx_snapshot(), before, "install --dry-run");

    rig.install(name, &[]).assert_success();
    let after_first = rig.nginx_snapshot();
    assert_ne!(after_first, before, "the first install changes the site");
    rig.install(name, &[]).assert_success();
    assert_eq!(rig.nginx_snapshot(), after_first, "second install");

    rig.rollback(&["--checkpoints", "1"]).assert_success();
    assert_eq!(rig.nginx_snapshot(), before, "rollback");
    rig.assert_config_test_passes();
    let again = rig.rollback(&["--checkpoints", "1"]);
    again.assert_success();
    assert!(
        again.stdout.to_lowercase().contains("nothing to roll back"),
        "{again}"
    );
}

#[test]
fn rollback_leaves_a_file_edited_after_install_alone() {
    let name = "edited.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.certonly_standalone(name).assert_success();
    rig.install(name, &[]).assert_success();
    let mut site = rig.site();
    site.push_str("# the user's own edit\n");
    std::fs::write(rig.nginx.site_path(), &site).unwrap();
    let out = rig.rollback(&[]);
    assert_ne!(out.code, 0, "{out}");
    assert_eq!(rig.site(), site, "the user's edit must survive");
}

#[test]
fn renew_dry_run_through_nginx_changes_nothing() {
    let name = "dry.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.run(&[name], &[]).assert_success();
    let _ = wait_for_leaf(name, rig.https_port, &rig.pebble.root_pem());
    let config = Snapshot::of(&rig.env.config_dir());
    let work = Snapshot::of(&rig.env.work_dir());
    let nginx = rig.nginx_snapshot();
    let out = rig.env.renew(&["--dry-run"]);
    out.assert_success();
    assert!(out.stdout.contains("would succeed"), "{out}");
    // The authenticator's temporary location was added, answered and reverted.
    assert_eq!(
        rig.nginx_snapshot(),
        nginx,
        "nginx config after renew --dry-run"
    );
    config.assert_unchanged(
        &Snapshot::of(&rig.env.config_dir()),
        "config dir after renew --dry-run",
    );
    work.assert_unchanged(
        &Snapshot::of(&rig.env.work_dir()),
        "work dir after renew --dry-run",
    );
    rig.assert_config_test_passes();
}

#[test]
fn renew_of_an_installed_lineage_reloads_nginx_with_the_new_certificate() {
    let name = "reload.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    rig.run(&[name], &[]).assert_success();
    let first = wait_for_leaf(name, rig.https_port, &rig.pebble.root_pem());
    let out = rig.env.renew(&["--force-renewal"]);
    out.assert_success();
    let live_leaf = std::fs::read(rig.env.live(name).join("cert.pem")).unwrap();
    let live_der = CertificateDer::pem_slice_iter(&live_leaf)
        .next()
        .unwrap()
        .unwrap()
        .as_ref()
        .to_vec();
    assert_ne!(live_der, first, "renewal made a new certificate");
    // nginx was reloaded: it now presents the renewed leaf (old workers drain first).
    let served = served_after_reload(&rig, name, &live_der);
    assert_eq!(
        served, live_der,
        "nginx still serves the old certificate after renew"
    );
}

#[test]
fn run_that_cannot_install_says_the_certificate_was_saved_and_how_to_finish() {
    let name = "catchall.example.com";
    // A catch-all that cannot be copied line by line (a string spanning lines), so the
    // name gets no block of its own (issue 23 copies other catch-alls).
    let rig = Rig::new(
        "server {\n    listen @PORT0@ default_server;\n    server_name _;\n    root @PREFIX@;\n    location = /motd { return 200 \"two\nlines\"; }\n}\n",
    );
    let before = rig.nginx_snapshot();
    let out = rig.run(&[name], &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("was issued and saved"), "{out}");
    let fullchain = rig
        .env
        .config_dir()
        .join(format!("live/{name}/fullchain.pem"));
    assert!(fullchain.is_file(), "the certificate was not kept: {out}");
    assert!(
        out.stderr.contains(&fullchain.display().to_string()),
        "the message names the saved file: {out}"
    );
    assert!(
        out.stderr
            .contains("certwright install --nginx --nginx-server-root"),
        "the message gives the install command: {out}"
    );
    assert!(out.stderr.contains(&format!("--cert-name {name}")), "{out}");
    // The block nginx answers the name with today, and the one-line fix.
    assert!(out.stderr.contains("(server_name _)"), "{out}");
    assert!(
        out.stderr.contains(&format!("add `server_name {name};`")),
        "{out}"
    );
    assert_eq!(rig.nginx_snapshot(), before, "nginx left as it was");
}

#[test]
fn install_into_nginx_in_a_container_through_docker_exec_and_a_path_map() {
    let name = "docker.example.com";
    let rig = Rig::new(&format!(
        "server {{\n    listen @PORT0@;\n    server_name {name};\n}}\n"
    ));
    // The issuing Pebble is kept for its root: nginx serves what it issued.
    let (out, issuer) = rig.certonly_standalone_kept(name);
    out.assert_success();
    let config_dir = rig.env.config_dir();
    let container = Container::start(&rig.nginx, &config_dir);
    let mount = container.mount_point();
    let ctl = format!("{} exec web nginx", container.docker().display());
    let map = format!("{}={}", config_dir.display(), mount.display());
    let out = rig
        .env
        .cli()
        .args(["install", "--nginx", "--cert-name", name, "--http-01-port"])
        .arg(rig.nginx.port(0).to_string())
        .args([
            "--nginx-server-root",
            &rig.nginx.server_root().display().to_string(),
        ])
        .args(["--nginx-ctl", &ctl, "--nginx-path-map", &map])
        .args(["--https-port", &rig.https_port.to_string()])
        .args(rig.env.dir_flags())
        .run();
    out.assert_success();
    // The config names the certificate where the container sees it...
    let want = format!(
        "ssl_certificate {}/live/{name}/fullchain.pem;",
        mount.display()
    );
    assert!(rig.site().contains(&want), "{}", rig.site());
    // ...which the host's own nginx could not open (the mount point is empty there).
    assert!(!rig.nginx.config_test().status.success());
    let live_leaf = std::fs::read(rig.env.live(name).join("cert.pem")).unwrap();
    let live_der = CertificateDer::pem_slice_iter(&live_leaf)
        .next()
        .unwrap()
        .unwrap()
        .as_ref()
        .to_vec();
    assert_eq!(
        wait_for_leaf(name, rig.https_port, &issuer.root_pem()),
        live_der
    );
    let saved = std::fs::read_to_string(rig.env.renewal_conf(name)).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["installer"]["ctl"], ctl.as_str(), "{saved}");
    assert_eq!(
        saved["installer"]["path_map"][0]["container"],
        mount.to_str().unwrap(),
        "{saved}"
    );
}
