//! Module-level tests: fixtures, loading, a grammar proptest, and the real `nginx -t`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::types::DomainName;

const NGINX: &str = "/usr/sbin/nginx";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nginx")
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_round_trips_byte_identically() {
    let all = fixtures();
    assert!(all.len() >= 7);
    for path in all {
        let bytes = fs::read(&path).unwrap();
        let src = decode(&path, &bytes).unwrap();
        let nodes = parse::parse(&path, &src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(encode(&print(&nodes)), bytes, "{}", path.display());
    }
}

/// A throwaway nginx setup: absolute pid/error_log/temp paths inside a tempdir.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(http_body: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let main = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{http_body}}}\n"
        );
        fs::write(dir.path().join("nginx.conf"), main).unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn main(&self) -> PathBuf {
        self.path("nginx.conf")
    }

    fn ctl(&self) -> Ctl {
        Ctl {
            binary: NGINX.into(),
            conf: self.main(),
            path_map: Default::default(),
        }
    }

    /// Self-signed certificate files for `-t`, which loads them.
    fn certs(&self) -> (PathBuf, PathBuf) {
        let ck = rcgen::generate_simple_self_signed(vec!["example.com".to_string()]).unwrap();
        let dir = self.path("live dir");
        fs::create_dir_all(&dir).unwrap();
        let (chain, key) = (dir.join("fullchain.pem"), dir.join("privkey.pem"));
        fs::write(&chain, ck.cert.pem()).unwrap();
        fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        (chain, key)
    }
}

fn write_edits(edits: &[FileEdit]) {
    for e in edits {
        assert_eq!(fs::read_to_string(&e.path).unwrap(), e.before);
        fs::write(&e.path, &e.after).unwrap();
    }
}

/// Every line of `before` appears in `after`, in the same order.
fn assert_lines_kept(before: &str, after: &str) {
    let mut rest = after.lines();
    for line in before.lines() {
        assert!(
            rest.any(|l| l == line),
            "line {line:?} lost or reordered in:\n{after}"
        );
    }
}

#[test]
fn fixtures_are_accepted_by_real_nginx() {
    for name in [
        "reverse-proxy.conf",
        "comments.conf",
        "map-if-types.conf",
        "escapes-utf8.conf",
        "debian-sites-default",
    ] {
        let src = fixture_dir().join(name);
        let sb = Sandbox::new(&format!("    include \"{}\";\n", src.display()));
        sb.ctl().test().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn load_follows_relative_globbed_and_symlinked_includes() {
    let sb = Sandbox::new("    include sites-enabled/*;\n    include conf.d/*.conf;\n");
    for d in ["sites-available", "sites-enabled", "conf.d"] {
        fs::create_dir(sb.path(d)).unwrap();
    }
    let site =
        "server {\n    listen 18080;\n    server_name b.test;\n    include snippets/x.conf;\n}\n";
    fs::write(sb.path("sites-available/b"), site).unwrap();
    fs::write(
        sb.path("sites-available/a"),
        "server { listen 18080; server_name a.test; }\n",
    )
    .unwrap();
    symlink(sb.path("sites-available/b"), sb.path("sites-enabled/b")).unwrap();
    symlink("../sites-available/a", sb.path("sites-enabled/a")).unwrap();
    fs::create_dir(sb.path("snippets")).unwrap();
    fs::write(sb.path("snippets/x.conf"), "listen [::]:18080;\n").unwrap();
    fs::write(sb.path("conf.d/z.conf"), "# empty\n").unwrap();

    let c = load(&sb.main()).unwrap();
    let names: Vec<_> = c.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        names,
        [
            sb.main(),
            sb.path("sites-enabled/a"),
            sb.path("sites-enabled/b"),
            sb.path("snippets/x.conf"),
            sb.path("conf.d/z.conf"),
        ]
    );
    let real = fs::canonicalize(sb.path("sites-available/b")).unwrap();
    assert_eq!(c.files[2].real_path, real);
    for i in 0..c.files.len() {
        assert_eq!(c.print_file(i), c.files[i].source);
    }
    // An include inside a server block contributes its listen.
    let sel = c.select("b.test", 18080);
    assert!(sel[0].block.listens.iter().any(|l| l.is_ipv6()));
    assert_eq!(c.server_names(), ["a.test", "b.test"]);

    // Edits go to the real file and the symlink survives apply.
    let ch = Challenge {
        name: "b.test".parse().unwrap(),
        token: "abc".into(),
        key_authorization: "abc.def".into(),
    };
    let edits = plan_challenges(&c, &[ch], 18080).unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].path, real);
    let cp = apply(&edits, &sb.path("checkpoints"), &sb.ctl()).unwrap();
    assert!(fs::symlink_metadata(sb.path("sites-enabled/b"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(cp.files, std::slice::from_ref(&real));
    assert_lines_kept(site, &fs::read_to_string(&real).unwrap());
}

#[test]
fn missing_include_and_parse_errors_are_reported_with_location() {
    let sb = Sandbox::new("    include nope.conf;\n");
    assert!(matches!(load(&sb.main()), Err(NginxError::Io { .. })));
    let sb = Sandbox::new("    include bad.conf;\n");
    fs::write(sb.path("bad.conf"), "server {\n  listen 80;\n").unwrap();
    match load(&sb.main()) {
        Err(NginxError::Parse { file, line, .. }) => {
            assert_eq!(file, sb.path("bad.conf"));
            assert_eq!(line, 3);
        }
        other => panic!("{other:?}"),
    }
}

const SITE: &str = "    server {\n        listen 18080;\n        listen [::]:18080;\n        # the app\n        server_name example.com www.example.com;\n        root /var/www/html;\n        location / {\n            try_files $uri $uri/ =404;\n        }\n    }\n";

fn request(chain: PathBuf, key: PathBuf) -> InstallRequest {
    InstallRequest {
        names: ["example.com", "www.example.com"]
            .iter()
            .map(|n| n.parse::<DomainName>().unwrap())
            .collect(),
        fullchain: chain,
        privkey: key,
        http_port: 18080,
        https_port: 18443,
        redirect: true,
        hsts: true,
    }
}

#[test]
fn install_passes_real_nginx_keeps_lines_and_is_idempotent() {
    let sb = Sandbox::new(SITE);
    let before = fs::read_to_string(sb.main()).unwrap();
    let (chain, key) = sb.certs();
    let req = request(chain.clone(), key.clone());
    let edits = plan_install(&load(&sb.main()).unwrap(), &req).unwrap();
    assert!(unified_diff(&edits).contains("+        ssl_certificate \""));
    apply(&edits, &sb.path("cp"), &sb.ctl()).unwrap();
    let after = fs::read_to_string(sb.main()).unwrap();
    assert_lines_kept(&before, &after);
    assert!(after.contains("return 301 https://$host:18443$request_uri;"));
    assert!(plan_install(&load(&sb.main()).unwrap(), &req)
        .unwrap()
        .is_empty());

    let c = load(&sb.main()).unwrap();
    let refs = c.references(&[chain.as_path()]);
    assert_eq!(refs.len(), 1);
    assert!(refs[0].2.starts_with("ssl_certificate "));

    // Uninstall restores the original text exactly.
    let undo = plan_uninstall(&c, &[chain.as_path(), key.as_path()]).unwrap();
    apply(&undo, &sb.path("cp"), &sb.ctl()).unwrap();
    assert_eq!(fs::read_to_string(sb.main()).unwrap(), before);
}

#[test]
fn challenge_locations_pass_real_nginx() {
    let sb = Sandbox::new(SITE);
    let before = fs::read_to_string(sb.main()).unwrap();
    let chs: Vec<Challenge> = ["example.com", "new.example.net"]
        .iter()
        .map(|n| Challenge {
            name: n.parse().unwrap(),
            token: "Tok_1-x".into(),
            key_authorization: "Tok_1-x.Thumb_2-y".into(),
        })
        .collect();
    let edits = plan_challenges(&load(&sb.main()).unwrap(), &chs, 18080).unwrap();
    write_edits(&edits);
    sb.ctl().test().unwrap();
    let after = fs::read_to_string(sb.main()).unwrap();
    assert_lines_kept(&before, &after);
    let c = load(&sb.main()).unwrap();
    assert!(plan_challenges(&c, &chs, 18080).unwrap().is_empty());
    write_edits(&plan_challenge_removal(&c).unwrap());
    assert_eq!(fs::read_to_string(sb.main()).unwrap(), before);
}

#[test]
fn apply_rollback_restores_byte_identically_and_refuses_changed_files() {
    let sb = Sandbox::new(SITE);
    let root = sb.path("checkpoints");
    let original = fs::read(sb.main()).unwrap();
    assert_eq!(
        rollback(&root, &sb.main(), 1).unwrap().to_string(),
        "nothing to roll back"
    );

    let (chain, key) = sb.certs();
    let req = request(chain, key);
    apply(
        &plan_install(&load(&sb.main()).unwrap(), &req).unwrap(),
        &root,
        &sb.ctl(),
    )
    .unwrap();
    let first = fs::read(sb.main()).unwrap();
    let ch = Challenge {
        name: "www.example.com".parse().unwrap(),
        token: "t".into(),
        key_authorization: "t.k".into(),
    };
    apply(
        &plan_challenges(&load(&sb.main()).unwrap(), &[ch], 18080).unwrap(),
        &root,
        &sb.ctl(),
    )
    .unwrap();

    // Someone edits the file after us: rollback refuses and leaves it alone.
    let mut edited = fs::read(sb.main()).unwrap();
    edited.extend_from_slice(b"# admin edit\n");
    fs::write(sb.main(), &edited).unwrap();
    assert!(matches!(
        rollback(&root, &sb.main(), 1),
        Err(NginxError::ChangedSinceWrite { .. })
    ));
    assert_eq!(fs::read(sb.main()).unwrap(), edited);

    edited.truncate(edited.len() - b"# admin edit\n".len());
    fs::write(sb.main(), &edited).unwrap();
    let report = rollback(&root, &sb.main(), 1).unwrap();
    assert_eq!(report.checkpoints.len(), 1);
    assert_eq!(fs::read(sb.main()).unwrap(), first);
    rollback(&root, &sb.main(), 5).unwrap();
    assert_eq!(fs::read(sb.main()).unwrap(), original);
    assert_eq!(
        rollback(&root, &sb.main(), 1).unwrap().to_string(),
        "nothing to roll back"
    );
}

#[test]
fn broken_patch_is_restored_and_broken_config_is_refused() {
    let sb = Sandbox::new(SITE);
    let root = sb.path("checkpoints");
    let original = fs::read_to_string(sb.main()).unwrap();
    let broken = FileEdit {
        path: sb.main(),
        before: original.clone(),
        after: original.replace(
            "root /var/www/html;",
            "root /var/www/html; bogus_directive 1;",
        ),
    };
    match apply(std::slice::from_ref(&broken), &root, &sb.ctl()) {
        Err(NginxError::ConfigTest { when, output }) => {
            assert_eq!(when, "after the change (restored)");
            assert!(output.contains("bogus_directive"), "{output}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read_to_string(sb.main()).unwrap(), original);
    assert_eq!(rollback(&root, &sb.main(), 1).unwrap().checkpoints.len(), 0);

    fs::write(sb.main(), &broken.after).unwrap();
    let fix = FileEdit {
        path: sb.main(),
        before: broken.after.clone(),
        after: original,
    };
    match apply(&[fix], &root, &sb.ctl()) {
        Err(NginxError::ConfigTest { when, .. }) => assert_eq!(when, "before any change"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nginx_that_cannot_be_started_is_a_spawn_error() {
    let ctl = Ctl {
        binary: "/nonexistent/nginx".into(),
        conf: "/nonexistent.conf".into(),
        path_map: Default::default(),
    };
    assert!(matches!(ctl.test(), Err(NginxError::Spawn { .. })));
    assert!(!ctl.is_running());
}

/// Configs from a small grammar: words bare or quoted with escapes, comments anywhere a
/// token may start, nested blocks, lua blocks, arbitrary whitespace.
fn config_strategy() -> impl Strategy<Value = String> {
    let ws = prop::sample::select(vec![
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        " \n  ",
        "\n# c { } ;\n",
    ]);
    let word = prop_oneof![
        "[a-z_][a-z0-9_./:$-]{0,8}",
        "[a-z]{1,3}\\\\[;{ ]",
        "\"([a-z {};#'ü]|\\\\\"|\\\\n){0,6}\"",
        "'([a-z {};#\"☕]|\\\\'){0,6}'",
        Just("${x}y".to_string()),
    ];
    let simple = (
        "[a-z_]{1,8}",
        prop::collection::vec((ws.clone(), word), 0..4),
        ws.clone(),
    )
        .prop_map(|(name, args, end)| {
            let mut s = name;
            for (w, a) in args {
                s.push_str(w);
                s.push_str(&a);
            }
            s.push_str(end);
            s.push(';');
            s
        });
    let lua = Just("content_by_lua_block { local t = {\"}\"} -- }\n }".to_string());
    let leaf = prop_oneof![4 => simple, 1 => lua];
    let tree = leaf.prop_recursive(3, 24, 4, move |inner| {
        (
            "[a-z]{1,6}",
            prop::collection::vec(
                (prop::sample::select(vec![" ", "\n", "\n    "]), inner),
                0..4,
            ),
        )
            .prop_map(|(name, kids)| {
                let mut s = format!("{name} {{");
                for (w, k) in kids {
                    s.push_str(w);
                    s.push_str(&k);
                }
                s.push_str("\n}");
                s
            })
    });
    (
        prop::collection::vec((ws, tree), 0..6),
        prop::sample::select(vec!["", "\n", "# end"]),
    )
        .prop_map(|(items, tail)| {
            let mut s: String = items.into_iter().map(|(w, t)| format!("{w}{t}")).collect();
            s.push_str(tail);
            s
        })
}

proptest! {
    #[test]
    fn generated_configs_round_trip(src in config_strategy()) {
        let nodes = parse::parse(Path::new("gen.conf"), &src).unwrap();
        prop_assert_eq!(print(&nodes), src);
    }
}

#[test]
fn challenge_proxy_on_debian_layout_passes_real_nginx_and_round_trips() {
    let sb = Sandbox::new("    include sites-enabled/*;\n");
    for d in ["sites-available", "sites-enabled", "snippets"] {
        fs::create_dir(sb.path(d)).unwrap();
    }
    let debian = fs::read_to_string(fixture_dir().join("debian-sites-default"))
        .unwrap()
        .replace("listen 80 default_server;", "listen 18080 default_server;")
        .replace(
            "listen [::]:80 default_server;",
            "listen [::]:18080 default_server;",
        );
    fs::write(sb.path("sites-available/default"), &debian).unwrap();
    symlink(
        "../sites-available/default",
        sb.path("sites-enabled/default"),
    )
    .unwrap();
    // A second site whose port comes from an included snippet, and a TLS-only one.
    let app = "server {\n    include snippets/listen.conf;\n    server_name app.test;\n}\nserver {\n    listen 18443;\n    server_name app.test;\n}\n";
    fs::write(sb.path("sites-enabled/app"), app).unwrap();
    fs::write(sb.path("snippets/listen.conf"), "listen [::]:18080;\n").unwrap();
    let snapshot = || {
        [
            "sites-available/default",
            "sites-enabled/app",
            "snippets/listen.conf",
        ]
        .map(|p| fs::read(sb.path(p)).unwrap())
    };
    let before = snapshot();
    let root = sb.path("checkpoints");

    let upstream = "127.0.0.1:8402".parse().unwrap();
    let plan = plan_challenge_proxy(&load(&sb.main()).unwrap(), 18080, upstream).unwrap();
    assert!(plan.kept.is_empty());
    let real_default = fs::canonicalize(sb.path("sites-available/default")).unwrap();
    let mut paths: Vec<_> = plan.edits.iter().map(|e| e.path.clone()).collect();
    paths.sort();
    let mut want = vec![
        real_default,
        fs::canonicalize(sb.path("sites-enabled/app")).unwrap(),
    ];
    want.sort();
    assert_eq!(paths, want);
    apply(&plan.edits, &root, &sb.ctl()).unwrap();
    sb.ctl().test().unwrap();
    assert!(fs::symlink_metadata(sb.path("sites-enabled/default"))
        .unwrap()
        .file_type()
        .is_symlink());
    let app_after = fs::read_to_string(sb.path("sites-enabled/app")).unwrap();
    assert_eq!(
        app_after.matches("acme-challenge").count(),
        1,
        "{app_after}"
    );
    assert!(
        app_after
            .split("listen 18443;")
            .nth(1)
            .is_some_and(|tls| !tls.contains("acme")),
        "{app_after}"
    );
    assert_lines_kept(
        &debian,
        &fs::read_to_string(sb.path("sites-available/default")).unwrap(),
    );

    let again = plan_challenge_proxy(&load(&sb.main()).unwrap(), 18080, upstream).unwrap();
    assert!(again.edits.is_empty(), "{again:?}");
    let removal = plan_challenge_proxy_removal(&load(&sb.main()).unwrap()).unwrap();
    apply(&removal, &root, &sb.ctl()).unwrap();
    assert_eq!(snapshot(), before);
}

/// One installer fixture: the names to install and the lines certwright must add (marker
/// stripped), in order.
struct InstallCase {
    fixture: &'static str,
    names: &'static [&'static str],
    added: &'static [&'static str],
}

const INSTALL_CASES: &[InstallCase] = &[
    InstallCase {
        fixture: "install-implicit-listen.conf",
        names: &["implicit.test"],
        added: &[
            "listen 80;",
            "listen 443 ssl;",
            "@CHAIN@",
            "@PRIVKEY@",
            "@REDIRECT@",
        ],
    },
    InstallCase {
        fixture: "install-listen-addresses.conf",
        names: &["addr.test"],
        added: &[
            "listen 127.0.0.2:443 ssl;",
            "listen [::1]:443 ssl;",
            "@CHAIN@",
            "@PRIVKEY@",
            "@REDIRECT@",
        ],
    },
    InstallCase {
        fixture: "install-unix-socket.conf",
        names: &["sock.test"],
        added: &["listen 443 ssl;", "@CHAIN@", "@PRIVKEY@", "@REDIRECT@"],
    },
    InstallCase {
        fixture: "install-redirects.conf",
        names: &["r1.test", "r2.test", "r3.test", "r4.test"],
        added: &["@CHAIN@", "@PRIVKEY@"],
    },
    InstallCase {
        fixture: "install-latin1.conf",
        names: &["latin1.test"],
        added: &["listen 443 ssl;", "@CHAIN@", "@PRIVKEY@", "@REDIRECT@"],
    },
    InstallCase {
        fixture: "install-one-line.conf",
        names: &["oneline.test"],
        added: &["listen 443 ssl;", "@CHAIN@", "@PRIVKEY@", "@REDIRECT@"],
    },
];

/// Each installer fixture through the real `nginx -t` (before and after, inside `apply`):
/// exactly the expected lines are added, no line of the user's is changed or moved, a
/// second install changes nothing and rollback restores every byte.
#[test]
fn installer_fixtures_pass_real_nginx_add_exactly_the_expected_lines() {
    for case in INSTALL_CASES {
        let sb = Sandbox::new("    include site.conf;\n");
        let (chain, key) = sb.certs();
        // The fixture's own TLS blocks load another copy of the pair.
        let (old_chain, old_key) = (sb.path("old-chain.pem"), sb.path("old-key.pem"));
        fs::copy(&chain, &old_chain).unwrap();
        fs::copy(&key, &old_key).unwrap();
        let path = fixture_dir().join(case.fixture);
        let src = decode(&path, &fs::read(&path).unwrap())
            .unwrap()
            .replace("@CERT@", &old_chain.display().to_string())
            .replace("@KEY@", &old_key.display().to_string());
        let site = sb.path("site.conf");
        fs::write(&site, encode(&src)).unwrap();
        let mut req = request(chain.clone(), key.clone());
        req.names = case.names.iter().map(|n| n.parse().unwrap()).collect();
        (req.http_port, req.https_port, req.hsts) = (80, 443, false);
        let edits = plan_install(&load(&sb.main()).unwrap(), &req)
            .unwrap_or_else(|e| panic!("{}: {e}", case.fixture));
        apply(&edits, &sb.path("cp"), &sb.ctl())
            .unwrap_or_else(|e| panic!("{}: {e}", case.fixture));
        let after = decode(&site, &fs::read(&site).unwrap()).unwrap();
        // A replaced line keeps its original text after the marker.
        let kept = after
            .lines()
            .map(|l| match l.split_once("; was: ") {
                Some((head, was)) => {
                    format!("{}{was}", &head[..head.len() - head.trim_start().len()])
                }
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_lines_kept(&src, &kept);
        let chain_line = format!("ssl_certificate \"{}\";", chain.display());
        let key_line = format!("ssl_certificate_key \"{}\";", key.display());
        let want: Vec<&str> = case
            .added
            .iter()
            .map(|l| match *l {
                "@CHAIN@" => chain_line.as_str(),
                "@PRIVKEY@" => key_line.as_str(),
                "@REDIRECT@" => {
                    "if ($scheme != \"https\") { return 301 https://$host$request_uri; }"
                }
                l => l,
            })
            .collect();
        let got: Vec<&str> = after
            .lines()
            .filter(|l| l.contains(MARKER))
            .map(|l| l.trim().split(MARKER).next().unwrap_or("").trim_end())
            .collect();
        assert_eq!(got, want, "{}:\n{after}", case.fixture);
        assert!(
            plan_install(&load(&sb.main()).unwrap(), &req)
                .unwrap()
                .is_empty(),
            "{}: second install changes something",
            case.fixture
        );
        rollback(&sb.path("cp"), &sb.main(), 1).unwrap();
        assert_eq!(fs::read(&site).unwrap(), encode(&src), "{}", case.fixture);
    }
}

/// `include dir/*` reads what nginx's glob(3) reads: no dotfiles (an editor's swap file is
/// not part of the config), in bytewise order.
#[test]
fn include_globs_skip_dotfiles_and_sort_bytewise() {
    let sb = Sandbox::new("    include sites/*;\n");
    fs::create_dir(sb.path("sites")).unwrap();
    for name in ["a.conf", "B.conf", "_x.conf"] {
        let site = format!("server {{ listen 18080; server_name {name}.test;\n}}\n");
        fs::write(sb.path(&format!("sites/{name}")), site).unwrap();
    }
    // nginx -t would fail on this file if nginx read it.
    fs::write(sb.path("sites/.a.conf.swp"), "not nginx syntax {\n").unwrap();
    sb.ctl().test().unwrap();
    let c = load(&sb.main()).unwrap();
    let read: Vec<PathBuf> = c.files.iter().skip(1).map(|f| f.path.clone()).collect();
    assert_eq!(
        read,
        ["B.conf", "_x.conf", "a.conf"].map(|n| sb.path(&format!("sites/{n}")))
    );
    let sb = Sandbox::new("    include sites/.*.conf;\n");
    fs::create_dir(sb.path("sites")).unwrap();
    fs::write(sb.path("sites/.hidden.conf"), "# explicit\n").unwrap();
    assert_eq!(load(&sb.main()).unwrap().files.len(), 2);
}

/// A checkpoint whose manifest names a file outside the nginx configuration, or whose state
/// files others could have written, is refused and nothing is written.
#[test]
fn forged_checkpoints_are_refused_and_nothing_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(SITE);
    let root = sb.path("checkpoints");
    let (chain, key) = sb.certs();
    let cp = apply(
        &plan_install(&load(&sb.main()).unwrap(), &request(chain, key)).unwrap(),
        &root,
        &sb.ctl(),
    )
    .unwrap();
    let mpath = cp.dir.join("manifest.json");
    let genuine = fs::read_to_string(&mpath).unwrap();
    let installed = fs::read(sb.main()).unwrap();

    // A manifest pointing at a file outside the tree, with its current checksum.
    let victim = sb.path("victim");
    fs::write(&victim, installed.clone()).unwrap();
    let main_json = serde_json::to_string(&sb.main()).unwrap();
    let victim_json = serde_json::to_string(&victim).unwrap();
    fs::write(&mpath, genuine.replace(&main_json, &victim_json)).unwrap();
    let err = rollback(&root, &sb.main(), 1).unwrap_err();
    assert!(matches!(err, NginxError::UntrustedState { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("not a file of the nginx configuration"),
        "{err}"
    );
    assert_eq!(fs::read(&victim).unwrap(), installed);

    // The genuine manifest, but group-writable: refused too.
    fs::write(&mpath, &genuine).unwrap();
    fs::set_permissions(&mpath, fs::Permissions::from_mode(0o620)).unwrap();
    let err = rollback(&root, &sb.main(), 1).unwrap_err();
    assert!(
        err.to_string().contains("group or others may write it"),
        "{err}"
    );
    // A symlink in its place: refused.
    fs::remove_file(&mpath).unwrap();
    fs::write(sb.path("elsewhere.json"), &genuine).unwrap();
    symlink(sb.path("elsewhere.json"), &mpath).unwrap();
    let err = rollback(&root, &sb.main(), 1).unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");
    assert_eq!(fs::read(sb.main()).unwrap(), installed);

    // Owner and mode come from the live file, whatever the manifest says.
    fs::remove_file(&mpath).unwrap();
    let setuid = genuine.replace("\"mode\": 420", "\"mode\": 2559");
    assert_ne!(setuid, genuine, "manifest format changed: {genuine}");
    write_private(&mpath, &setuid);
    rollback(&root, &sb.main(), 1).unwrap();
    let mode = fs::metadata(sb.main()).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644);
}

fn write_private(path: &Path, text: &str) {
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o600).unwrap();
}

/// `ssl_certificate` set in a file the block includes is replaced there when only that
/// block includes it; a file several blocks share is refused, naming it and its includers.
#[test]
fn certificate_lines_in_includes_are_replaced_or_refused() {
    let sb = Sandbox::new("    include sites/*.conf;\n");
    let (chain, key) = sb.certs();
    let (old_chain, old_key) = (sb.path("old-chain.pem"), sb.path("old-key.pem"));
    fs::copy(&chain, &old_chain).unwrap();
    fs::copy(&key, &old_key).unwrap();
    let pair = format!(
        "ssl_certificate {};\nssl_certificate_key {};\n",
        old_chain.display(),
        old_key.display()
    );
    for d in ["sites", "snippets"] {
        fs::create_dir(sb.path(d)).unwrap();
    }
    fs::write(sb.path("snippets/a-tls.conf"), &pair).unwrap();
    fs::write(sb.path("snippets/shared-tls.conf"), &pair).unwrap();
    let site = |name: &str, snippet: &str| {
        format!("server {{\n    listen 18443 ssl;\n    server_name {name};\n    include snippets/{snippet};\n}}\n")
    };
    fs::write(sb.path("sites/a.conf"), site("a.test", "a-tls.conf")).unwrap();
    fs::write(sb.path("sites/b.conf"), site("b.test", "shared-tls.conf")).unwrap();
    fs::write(sb.path("sites/c.conf"), site("c.test", "shared-tls.conf")).unwrap();
    let before: Vec<Vec<u8>> = ["sites/a.conf", "snippets/a-tls.conf"]
        .iter()
        .map(|p| fs::read(sb.path(p)).unwrap())
        .collect();

    let mut req = request(chain.clone(), key.clone());
    req.names = vec!["a.test".parse().unwrap()];
    let edits = plan_install(&load(&sb.main()).unwrap(), &req).unwrap();
    apply(&edits, &sb.path("cp"), &sb.ctl()).unwrap();
    let snippet = fs::read_to_string(sb.path("snippets/a-tls.conf")).unwrap();
    assert!(
        snippet.starts_with(&format!(
            "ssl_certificate \"{}\"; {MARKER}; was: ssl_certificate {};\n",
            chain.display(),
            old_chain.display()
        )),
        "{snippet}"
    );
    // The block itself gets no second certificate line.
    let a = fs::read_to_string(sb.path("sites/a.conf")).unwrap();
    assert!(!a.contains("ssl_certificate"), "{a}");
    assert!(plan_install(&load(&sb.main()).unwrap(), &req)
        .unwrap()
        .is_empty());
    let c = load(&sb.main()).unwrap();
    apply(
        &plan_uninstall(&c, &[chain.as_path(), key.as_path()]).unwrap(),
        &sb.path("cp"),
        &sb.ctl(),
    )
    .unwrap();
    for (p, want) in ["sites/a.conf", "snippets/a-tls.conf"].iter().zip(&before) {
        assert_eq!(&fs::read(sb.path(p)).unwrap(), want, "{p}");
    }

    req.names = vec!["b.test".parse().unwrap()];
    let err = plan_install(&load(&sb.main()).unwrap(), &req).unwrap_err();
    let msg = err.to_string();
    for part in [
        format!(
            "{}:1: `ssl_certificate`",
            sb.path("snippets/shared-tls.conf").display()
        ),
        format!(
            "{}:4, {}:4",
            sb.path("sites/b.conf").display(),
            sb.path("sites/c.conf").display()
        ),
        "nothing was changed".to_string(),
    ] {
        assert!(msg.contains(&part), "{part:?} not in {msg}");
    }
}

#[test]
fn an_oversized_config_file_is_refused_before_it_is_read_whole() {
    let sb = Sandbox::new("    include big.conf;\n");
    let f = fs::File::create(sb.path("big.conf")).unwrap();
    f.set_len(MAX_CONFIG_BYTES + 1).unwrap();
    match load(&sb.main()) {
        Err(NginxError::Parse { file, message, .. }) => {
            assert_eq!(file, sb.path("big.conf"));
            assert!(message.contains("larger than"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// A checkpoint root planted as a symlink is refused: its target is not chmodded or filled.
#[test]
fn a_symlinked_checkpoint_root_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(SITE);
    let target = sb.path("elsewhere");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
    symlink(&target, sb.path("checkpoints")).unwrap();
    let (chain, key) = sb.certs();
    let edits = plan_install(&load(&sb.main()).unwrap(), &request(chain, key)).unwrap();
    let before = fs::read(sb.main()).unwrap();
    let err = apply(&edits, &sb.path("checkpoints"), &sb.ctl()).unwrap_err();
    assert!(matches!(err, NginxError::UntrustedState { .. }), "{err}");
    assert_eq!(fs::read(sb.main()).unwrap(), before);
    let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
}
