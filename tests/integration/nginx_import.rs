//! A lineage imported from certbot, served by nginx from certbot's paths (issue 23): `verify`
//! checks it there (and sees when nginx serves another certificate), the suggested
//! `install` keeps certbot's nginx root and ports, and after it the site no longer needs
//! certbot's directory: its shared TLS settings were copied for certwright.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::nginx_listen::issue;
use crate::support::nginx::NGINX;
use crate::support::{Env, Nginx};

const NAME: &str = "imp.example.com";

/// A certbot directory as certbot's nginx installer leaves it: `live/NAME/` files,
/// `options-ssl-nginx.conf` and `ssl-dhparams.pem` (the renewal file comes with the ports).
fn certbot_files(dir: &Path) {
    let live = dir.join("live").join(NAME);
    std::fs::create_dir_all(&live).unwrap();
    write_lineage_files(&live);
    std::fs::write(
        dir.join("options-ssl-nginx.conf"),
        "ssl_session_cache shared:le_nginx_SSL:10m;\nssl_session_timeout 1440m;\n\
         ssl_protocols TLSv1.2 TLSv1.3;\n",
    )
    .unwrap();
    let dh = Command::new("openssl")
        .args(["genpkey", "-genparam", "-algorithm", "DH"])
        .args(["-pkeyopt", "dh_param:ffdhe2048"])
        .output()
        .expect("run openssl");
    assert!(dh.status.success(), "openssl genpkey -genparam");
    std::fs::write(dir.join("ssl-dhparams.pem"), dh.stdout).unwrap();
}

/// certbot's renewal file for NAME, naming this nginx and its ports.
fn renewal_conf(dir: &Path, nginx: &Nginx) {
    std::fs::create_dir_all(dir.join("renewal")).unwrap();
    let conf = format!(
        "version = 2.11.0\n[renewalparams]\nserver = https://ca.invalid/dir\n\
         authenticator = nginx\ninstaller = nginx\nnginx_server_root = {root}\n\
         nginx_ctl = {NGINX}\nhttp01_port = {http}\nhttps_port = {https}\n",
        root = nginx.server_root().display(),
        http = nginx.port(0),
        https = nginx.port(1),
    );
    std::fs::write(dir.join(format!("renewal/{NAME}.conf")), conf).unwrap();
}

/// A fresh leaf for NAME as certbot's four files in `live`.
fn write_lineage_files(live: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, fullchain, key) = issue(tmp.path(), &[NAME]);
    let fullchain = std::fs::read_to_string(fullchain).unwrap();
    let leaf = fullchain.strip_suffix(&ca).expect("leaf then CA");
    std::fs::write(live.join("cert.pem"), leaf).unwrap();
    std::fs::write(live.join("chain.pem"), &ca).unwrap();
    std::fs::write(live.join("fullchain.pem"), &fullchain).unwrap();
    std::fs::copy(key, live.join("privkey.pem")).unwrap();
}

fn site(certbot: &Path) -> String {
    let c = certbot.display();
    format!(
        "server {{\n    listen @PORT0@;\n    listen @PORT1@ ssl; # managed by Certbot\n    server_name {NAME};\n    root @PREFIX@;\n\
         \x20   ssl_certificate {c}/live/{NAME}/fullchain.pem; # managed by Certbot\n\
         \x20   ssl_certificate_key {c}/live/{NAME}/privkey.pem; # managed by Certbot\n\
         \x20   include {c}/options-ssl-nginx.conf; # managed by Certbot\n\
         \x20   ssl_dhparam {c}/ssl-dhparams.pem; # managed by Certbot\n}}\n"
    )
}

fn verify(env: &Env) -> crate::support::cli::Output {
    env.cli().arg("verify").args(env.dir_flags()).run()
}

#[test]
fn an_imported_lineage_is_verified_where_nginx_serves_it_and_install_frees_it_from_certbot() {
    let dir = tempfile::tempdir().unwrap();
    let certbot: PathBuf = dir.path().join("letsencrypt");
    certbot_files(&certbot);
    let live = certbot.join("live").join(NAME);
    let nginx = Nginx::start(&site(&certbot));
    renewal_conf(&certbot, &nginx);
    let env = Env::new();

    let import = env
        .cli()
        .arg("import-certbot")
        .args(env.dir_flags())
        .arg("--certbot-dir")
        .arg(&certbot)
        .run();
    import.assert_success();
    let install_line = format!(
        "certwright install --nginx --cert-name {NAME} --nginx-server-root {} --nginx-ctl {NGINX} --http-01-port {} --https-port {}",
        nginx.server_root().display(),
        nginx.port(0),
        nginx.port(1)
    );
    assert!(import.stdout.contains(&install_line), "{import}");
    assert!(
        import
            .stdout
            .contains("Copied certbot's shared TLS settings"),
        "{import}"
    );

    let ok = verify(&env);
    ok.assert_success();
    assert!(ok.stdout.contains("serves the live certificate"), "{ok}");

    // certbot renews on its own: nginx now serves a certificate certwright does not have.
    write_lineage_files(&live);
    nginx.reload();
    let stale = verify(&env);
    stale.assert_code(1);
    assert!(stale.stdout.contains("MISMATCH"), "{stale}");

    // The suggested install, as printed.
    let args: Vec<&str> = install_line.split_whitespace().skip(1).collect();
    let out = env.cli().args(args).args(env.dir_flags()).run();
    out.assert_success();
    let after = std::fs::read_to_string(nginx.site_path()).unwrap();
    let certbot_text = certbot.display().to_string();
    let uses_certbot = after
        .lines()
        .any(|l| l.split('#').next().unwrap_or("").contains(&certbot_text));
    assert!(
        !uses_certbot,
        "only comments name certbot's files:\n{after}"
    );
    std::fs::rename(&certbot, dir.path().join("gone")).unwrap();
    let test = nginx.config_test();
    assert!(
        test.status.success(),
        "nginx -t without certbot's directory:\n{}\n{after}",
        String::from_utf8_lossy(&test.stderr)
    );
    verify(&env).assert_success();
}
