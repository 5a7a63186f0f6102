//! What nginx serves after `install` on sites the installer used to get wrong (issue 14):
//! address-specific listens, unix-socket blocks, a redirect the user already has. A real
//! nginx on loopback addresses (127.0.0.2 is loopback too), checked over HTTP and TLS.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use certwright::nginx::{self, Ctl, InstallRequest};

use crate::support::nginx::NGINX;
use crate::support::{net, wait_for, Nginx};

const OTHER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A CA, and files for a leaf it signed for `names`: (CA PEM, fullchain path, key path).
pub(crate) fn issue(dir: &Path, names: &[&str]) -> (String, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = rcgen::CertificateParams::new(names)
        .expect("leaf params")
        .signed_by(&key, &issuer)
        .expect("leaf cert");
    let (chain, privkey) = (dir.join("fullchain.pem"), dir.join("privkey.pem"));
    std::fs::write(&chain, leaf.pem() + &ca.pem()).expect("write chain");
    std::fs::write(&privkey, key.serialize_pem()).expect("write key");
    (ca.pem(), chain, privkey)
}

fn install(nginx: &Nginx, names: &[&str], chain: &Path, key: &Path) {
    let ctl = Ctl {
        binary: NGINX.into(),
        conf: nginx.conf_path(),
        path_map: Default::default(),
    };
    let config = nginx::load(&ctl.conf).expect("load nginx config");
    let edits = nginx::plan_install(
        &config,
        &InstallRequest {
            names: names.iter().map(|n| n.parse().expect("name")).collect(),
            fullchain: chain.to_path_buf(),
            privkey: key.to_path_buf(),
            http_port: nginx.port(0),
            https_port: nginx.port(1),
            redirect: true,
            hsts: false,
        },
    )
    .expect("plan install");
    let root = nginx.server_root().join("checkpoints");
    nginx::apply(&edits, &root, &ctl).expect("apply install (nginx -t before and after)");
    ctl.reload().expect("reload");
}

/// Poll until `get` gives `want` (the old workers drain after a reload).
fn eventually(what: &str, want: (u16, &str), get: impl Fn() -> Option<(u16, String)>) {
    let mut last = None;
    let ok = wait_for(Duration::from_secs(10), || {
        let got = get();
        let hit = got
            .as_ref()
            .is_some_and(|(s, b)| *s == want.0 && b == want.1);
        last = got;
        hit.then_some(())
    });
    assert!(ok.is_some(), "{what}: want {want:?}, last answer {last:?}");
}

fn location(rsp: &net::Response) -> String {
    rsp.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[test]
fn address_listens_unix_blocks_and_existing_redirects_are_served_as_asked() {
    let certs = tempfile::tempdir().expect("temp dir");
    let other_dir = certs.path().join("other");
    std::fs::create_dir(&other_dir).expect("mkdir");
    let (_, other_chain, other_key) = issue(&other_dir, &["other.test"]);
    let (ca, chain, key) = issue(certs.path(), &["addr.test", "sock.test", "kept.test"]);
    let other = format!(
        "ssl_certificate {}; ssl_certificate_key {};",
        other_chain.display(),
        other_key.display()
    );
    let nginx = Nginx::start(&format!(
        "server {{
    listen @PORT0@;
    listen @PORT1@ ssl;
    server_name _;
    {other}
    return 200 \"fallback\";
}}
server {{
    listen 127.0.0.2:@PORT0@;
    server_name addr.test;
    location / {{ return 200 \"addr\"; }}
}}
server {{
    listen 127.0.0.2:@PORT1@ ssl;
    server_name other.test;
    {other}
    location / {{ return 200 \"other\"; }}
}}
server {{
    listen unix:@PREFIX@/run/app.sock;
    server_name sock.test;
    return 200 \"socket\";
}}
server {{
    listen @PORT0@;
    server_name sock.test;
    location / {{ return 200 \"tcp\"; }}
}}
server {{
    listen @PORT0@;
    server_name kept.test;
    rewrite ^/(.*) https://kept.test:8443/$1 permanent;
}}
"
    ));
    let (http, https) = (nginx.port(0), nginx.port(1));
    install(
        &nginx,
        &["addr.test", "sock.test", "kept.test"],
        &chain,
        &key,
    );
    let site = std::fs::read_to_string(nginx.site_path()).expect("read site");

    // TLS to 127.0.0.2 reaches addr.test's block with its certificate, not other.test's.
    eventually("TLS on 127.0.0.2 for addr.test", (200, "addr"), || {
        let r = net::https_get_at(OTHER_IP, "addr.test", https, "/", &ca).ok()?;
        Some((r.status, r.text()))
    });
    let want = format!("https://addr.test:{https}/x?y=1");
    eventually(
        "plain HTTP on 127.0.0.2 for addr.test",
        (301, &want),
        || {
            let r = net::http_get_at(OTHER_IP, http, "addr.test", "/x?y=1").ok()?;
            Some((r.status, location(&r)))
        },
    );

    // The TCP block got TLS; the unix-socket block was left as it was.
    eventually("TLS for sock.test", (200, "tcp"), || {
        let r = net::https_get("sock.test", https, "/", &ca).ok()?;
        Some((r.status, r.text()))
    });
    let sock_block = site.split("listen unix:").nth(1).expect("unix block");
    let sock_block = sock_block.split('}').next().unwrap_or_default();
    assert!(!sock_block.contains("managed by certwright"), "{site}");

    // The user's redirect to 8443 still answers: no second redirect in front of it.
    eventually(
        "the user's redirect for kept.test",
        (301, "https://kept.test:8443/a/b"),
        || {
            let r = net::http_get(http, "kept.test", "/a/b").ok()?;
            Some((r.status, location(&r)))
        },
    );
    assert_eq!(site.matches("if ($scheme").count(), 2, "{site}");
}

/// A certificate inherited from `http {}` or set in an included snippet: after install the
/// block serves exactly the lineage's certificate (a client trusting only its CA gets in).
#[test]
fn certificates_from_http_or_an_include_give_way_to_the_lineage() {
    let certs = tempfile::tempdir().expect("temp dir");
    let other_dir = certs.path().join("other");
    std::fs::create_dir(&other_dir).expect("mkdir");
    let (_, other_chain, other_key) = issue(&other_dir, &["inherit.test", "snippet.test"]);
    let (ca, chain, key) = issue(certs.path(), &["inherit.test", "snippet.test"]);
    let pair = format!(
        "ssl_certificate {};\nssl_certificate_key {};\n",
        other_chain.display(),
        other_key.display()
    );
    let snippet = certs.path().join("tls-snippet.conf");
    std::fs::write(&snippet, &pair).expect("write snippet");
    let nginx = Nginx::start(&format!(
        "{pair}server {{
    listen @PORT0@;
    listen @PORT1@ ssl;
    server_name inherit.test;
    location / {{ return 200 \"inherit\"; }}
}}
server {{
    listen @PORT0@;
    server_name snippet.test;
    include {};
    location / {{ return 200 \"snippet\"; }}
}}
",
        snippet.display()
    ));
    install(&nginx, &["inherit.test", "snippet.test"], &chain, &key);
    for name in ["inherit", "snippet"] {
        eventually(&format!("TLS for {name}.test"), (200, name), || {
            let r = net::https_get(&format!("{name}.test"), nginx.port(1), "/", &ca).ok()?;
            Some((r.status, r.text()))
        });
    }
    let snippet_now = std::fs::read_to_string(&snippet).expect("read snippet");
    assert!(
        snippet_now.contains(&chain.display().to_string()),
        "{snippet_now}"
    );
}

/// The `--nginx` authenticator's wait for a reload: the master's accepting workers are
/// listed, and after `nginx -s reload` none of them is an old one (those are gone or say
/// "is shutting down"); behind a container's command line the master is not ours to see.
#[test]
fn reload_hands_over_to_new_workers() {
    let nginx = Nginx::start("server { listen 127.0.0.1:@PORT0@; return 200 'x'; }\n");
    let ctl = Ctl {
        binary: NGINX.into(),
        conf: nginx.conf_path(),
        path_map: Default::default(),
    };
    let master = ctl.master_pid().expect("the master is visible");
    assert_eq!(Some(master as i32), nginx.read_pid());
    // The port answers once the master listens; its worker may still be starting.
    let accepting = wait_for(Duration::from_secs(10), || {
        nginx::accepting_workers(master).filter(|w| !w.is_empty())
    });
    let old = nginx::master_children(master).expect("/proc lists the master's children");
    assert_eq!(old.len(), 1, "worker_processes 1: {old:?}");
    assert_eq!(accepting, Some(old.clone()), "the worker names itself");
    ctl.reload().expect("reload");
    let replaced = wait_for(Duration::from_secs(10), || {
        let now = nginx::accepting_workers(master)?;
        (!now.is_empty() && now.iter().all(|p| !old.contains(p))).then_some(now)
    });
    let new = replaced.expect("new workers replace the old one");
    assert_eq!(new.len(), 1);
    assert!(net::port_answers(nginx.port(0)));

    // The same wait as one call: the workers after it are none of those before it.
    let before = nginx::master_children(master).expect("children");
    assert!(ctl.reload_and_wait().expect("reload"), "handover seen");
    let after = nginx::accepting_workers(master).expect("workers");
    assert!(!after.is_empty() && after.iter().all(|p| !before.contains(p)));
    assert!(net::port_answers(nginx.port(0)));

    let wrapped = Ctl {
        binary: format!("env {NGINX}").into(),
        ..ctl
    };
    assert_eq!(wrapped.master_pid(), None);
    assert!(!wrapped
        .reload_and_wait()
        .expect("reload through a command line"));
}
