//! DNS-01 machinery (`certwright::challenge::dns`) against a real bind9: TSIG-signed RFC 2136
//! updates, zone discovery, CNAME following, the propagation check, the journal; and Pebble
//! resolving names through that bind9.

use std::path::PathBuf;
use std::time::Duration;

use certwright::challenge::dns::{
    self, CreatedRecord, Expected, Journal, Lookup, ProviderWriter, Rfc2136Config, Secret, Servers,
    TxtWriter, Wait,
};
use certwright::error::DnsError;

use crate::support::bind::{Bind, KEY_NAME};
use crate::support::certs::Lineage;
use crate::support::cli::{Cli, Output};
use crate::support::pdns::Pdns;
use crate::support::rig::Rig;
use crate::support::Snapshot;
use crate::support::{block_on, PebbleOpts};

/// A bind9 plus an RFC 2136 writer and lookup configured from a certbot credentials file.
struct Dns {
    bind: Bind,
    config: Rfc2136Config,
    writer: ProviderWriter,
    _dir: tempfile::TempDir,
}

impl Dns {
    fn start() -> Dns {
        let bind = Bind::start();
        let secret = bind.secret().to_string();
        Dns::with_secret(bind, &secret, "")
    }

    fn with_secret(bind: Bind, secret: &str, extra: &str) -> Dns {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = bind.write_credentials(dir.path(), secret);
        if !extra.is_empty() {
            let text = std::fs::read_to_string(&path).expect("read credentials");
            std::fs::write(&path, format!("{text}{extra}\n")).expect("write credentials");
        }
        let config = Rfc2136Config::from_file(&path).expect("credentials parse");
        let writer = ProviderWriter::rfc2136(&config).expect("writer");
        Dns {
            bind,
            config,
            writer,
            _dir: dir,
        }
    }

    fn lookup(&self) -> Lookup {
        self.config.lookup().expect("lookup")
    }

    fn wait_explicit(&self, expected: &[Expected], seconds: u64) -> Result<(), DnsError> {
        let servers = Servers::Explicit(vec![self.bind.addr()]);
        block_on(dns::wait_for_propagation(
            expected,
            &servers,
            Wait {
                timeout: Duration::from_secs(seconds),
                interval: Duration::from_millis(100),
            },
            |_| {},
        ))
    }
}

#[test]
fn wildcard_and_apex_values_sit_side_by_side_and_other_txt_values_stay() {
    let d = Dns::start();
    // Someone else's value at the same name must survive everything below.
    d.bind
        .nsupdate("update add _acme-challenge.example.test 60 TXT \"someone-else\"");
    let (wild, apex) = block_on(async {
        let lookup = d.lookup();
        let wild = dns::locate("*.example.test", &lookup).await.expect("wild");
        let apex = dns::locate("example.test", &lookup).await.expect("apex");
        (wild, apex)
    });
    assert_eq!(wild, apex, "a wildcard shares its base name's TXT name");
    assert_eq!(wild.name, "_acme-challenge.example.test");
    assert_eq!(wild.zone, "example.test");

    block_on(async {
        d.writer
            .add_txt(&wild.zone, &wild.name, "wild-value")
            .await?;
        d.writer
            .add_txt(&apex.zone, &apex.name, "apex-value")
            .await?;
        // Adding the same value again is a no-op, not a duplicate.
        d.writer.add_txt(&apex.zone, &apex.name, "apex-value").await
    })
    .expect("add");
    assert_eq!(
        d.bind.txt("_acme-challenge.example.test"),
        ["apex-value", "someone-else", "wild-value"]
    );

    block_on(d.writer.remove_txt(&wild.zone, &wild.name, "wild-value")).expect("remove wild");
    assert_eq!(
        d.bind.txt("_acme-challenge.example.test"),
        ["apex-value", "someone-else"]
    );
    block_on(async {
        d.writer
            .remove_txt(&apex.zone, &apex.name, "apex-value")
            .await?;
        // Removing what is gone already is fine (cleanup after a partial run).
        d.writer
            .remove_txt(&apex.zone, &apex.name, "apex-value")
            .await
    })
    .expect("remove apex");
    assert_eq!(d.bind.txt("_acme-challenge.example.test"), ["someone-else"]);
    assert_eq!(
        d.bind.txt("_acme-challenge.keep.example.test"),
        ["unrelated"]
    );
}

#[test]
fn a_cname_at_acme_challenge_is_followed_into_the_other_zone() {
    let d = Dns::start();
    let target = block_on(dns::locate("alias.example.test", &d.lookup())).expect("locate");
    assert_eq!(target.challenge_name, "_acme-challenge.alias.example.test");
    assert_eq!(target.name, "alias.acme.delegated.test");
    assert_eq!(target.zone, "delegated.test");

    block_on(d.writer.add_txt(&target.zone, &target.name, "via-cname")).expect("add");
    assert_eq!(d.bind.txt("alias.acme.delegated.test"), ["via-cname"]);
    // The CNAME in the first zone is untouched (no TXT written beside it).
    assert_eq!(
        d.bind.dig("_acme-challenge.alias.example.test", "TXT"),
        ["alias.acme.delegated.test."]
    );
    let expected = [Expected {
        name: target.name.clone(),
        zone: target.zone.clone(),
        values: vec!["via-cname".into()],
    }];
    d.wait_explicit(&expected, 5)
        .expect("visible at the CNAME target");
    block_on(d.writer.remove_txt(&target.zone, &target.name, "via-cname")).expect("remove");
    assert!(d.bind.txt("alias.acme.delegated.test").is_empty());
}

#[test]
fn zones_are_found_at_any_depth_and_the_closest_zone_wins() {
    let d = Dns::start();
    let lookup = d.lookup();
    let (deep, child) = block_on(async {
        let deep = dns::locate("a.b.c.example.test", &lookup)
            .await
            .expect("deep");
        let child = dns::locate("*.x.y.sub.example.test", &lookup)
            .await
            .expect("child zone");
        (deep, child)
    });
    assert_eq!(deep.zone, "example.test");
    assert_eq!(deep.name, "_acme-challenge.a.b.c.example.test");
    assert_eq!(
        child.zone, "sub.example.test",
        "the child zone, not its parent"
    );
    assert_eq!(child.name, "_acme-challenge.x.y.sub.example.test");

    block_on(async {
        d.writer.add_txt(&deep.zone, &deep.name, "deep").await?;
        d.writer.add_txt(&child.zone, &child.name, "child").await
    })
    .expect("add");
    assert_eq!(d.bind.txt(&deep.name), ["deep"]);
    assert_eq!(d.bind.txt(&child.name), ["child"]);
}

#[test]
fn signed_queries_work_when_sign_query_is_set() {
    let bind = Bind::start();
    let secret = bind.secret().to_string();
    let d = Dns::with_secret(bind, &secret, "dns_rfc2136_sign_query = true");
    assert!(d.config.sign_query);
    let target = block_on(dns::locate("www.example.test", &d.lookup())).expect("locate");
    assert_eq!(target.zone, "example.test");
}

#[test]
fn a_wrong_tsig_secret_is_a_clear_error_and_writes_nothing() {
    let bind = Bind::start();
    let wrong = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nd3I=";
    let d = Dns::with_secret(bind, wrong, "");
    let err = block_on(d.writer.add_txt(
        "example.test",
        "_acme-challenge.example.test",
        "never-written",
    ))
    .expect_err("a wrong secret must be refused");
    let text = err.to_string();
    assert!(matches!(err, DnsError::Update { .. }), "{err:?}");
    assert!(
        text.contains("refused the TSIG signature")
            && text.contains(KEY_NAME)
            && text.contains("example.test")
            && !text.contains("hickory"),
        "{text}"
    );
    assert!(!text.contains(wrong), "the secret leaked into: {text}");
    assert!(!format!("{:?} {:?}", d.config, d.writer).contains(wrong));
    assert!(d.bind.txt("_acme-challenge.example.test").is_empty());

    // Signed lookups with the wrong key fail too, and say where.
    let bind = Bind::start();
    let d = Dns::with_secret(bind, wrong, "dns_rfc2136_sign_query = true");
    let err = block_on(dns::locate("www.example.test", &d.lookup())).expect_err("signed lookup");
    assert!(
        err.to_string().contains(&d.bind.addr().to_string()),
        "{err}"
    );
}

#[test]
fn a_zone_the_server_does_not_have_is_a_clear_error() {
    let d = Dns::start();
    let err = block_on(dns::locate("www.nowhere.test", &d.lookup())).expect_err("no zone");
    let text = err.to_string();
    assert!(matches!(err, DnsError::NoZone { .. }), "{err:?}");
    assert!(
        text.contains("_acme-challenge.www.nowhere.test") && text.contains("Refused"),
        "{text}"
    );
    assert!(text.contains(&d.bind.addr().to_string()), "{text}");

    // Writing into it anyway is refused by the server, with the zone named.
    let err = block_on(
        d.writer
            .add_txt("nowhere.test", "_acme-challenge.nowhere.test", "x"),
    )
    .expect_err("update outside the server's zones");
    assert!(err.to_string().contains("nowhere.test"), "{err}");
}

#[test]
fn propagation_waits_for_every_value_and_times_out_naming_the_server() {
    let d = Dns::start();
    let expected = [Expected {
        name: "_acme-challenge.example.test".into(),
        zone: "example.test".into(),
        values: vec!["one".into(), "two".into()],
    }];
    block_on(
        d.writer
            .add_txt("example.test", "_acme-challenge.example.test", "one"),
    )
    .expect("add one");
    let err = d
        .wait_explicit(&expected, 1)
        .expect_err("one value is missing");
    let text = err.to_string();
    assert!(matches!(err, DnsError::NotPropagated { .. }), "{err:?}");
    assert!(
        text.contains(&d.bind.addr().to_string()) && text.contains("1 of 2"),
        "{text}"
    );

    block_on(
        d.writer
            .add_txt("example.test", "_acme-challenge.example.test", "two"),
    )
    .expect("add two");
    d.wait_explicit(&expected, 5).expect("both values visible");

    // The zone's own nameservers (NS ns1.example.test, glue 127.0.0.1) on bind's port.
    let servers = Servers::Authoritative {
        via: d.lookup(),
        port: d.bind.port(),
    };
    let found = block_on(dns::authoritative(
        &d.lookup(),
        "example.test",
        d.bind.port(),
    ))
    .expect("NS + glue");
    assert_eq!(found, [d.bind.addr()]);
    block_on(dns::wait_for_propagation(
        &expected,
        &servers,
        Wait {
            timeout: Duration::from_secs(5),
            interval: Duration::from_millis(100),
        },
        |_| {},
    ))
    .expect("visible at the authoritative servers");
}

#[test]
fn a_journal_left_by_a_killed_run_removes_its_records_next_time() {
    let d = Dns::start();
    let record = CreatedRecord {
        writer: d.writer.label().to_string(),
        zone: "example.test".into(),
        name: "_acme-challenge.example.test".into(),
        value: "left-behind".into(),
    };
    let other_writer = CreatedRecord {
        writer: "rfc2136 192.0.2.1:53 key other.".into(),
        ..record.clone()
    };
    let mut journal = Journal::default();
    journal.note(record.clone());
    journal.note(other_writer.clone());
    block_on(d.writer.add_txt(&record.zone, &record.name, &record.value)).expect("add");
    let persisted = journal.to_json();
    drop(journal); // the run is killed here

    let mut journal = Journal::from_json(&persisted).expect("journal parses");
    let failures = block_on(dns::remove_recorded(&d.writer, &mut journal));
    assert!(failures.is_empty(), "{failures:?}");
    assert!(d.bind.txt("_acme-challenge.example.test").is_empty());
    assert_eq!(
        journal.records,
        [other_writer],
        "another writer's entries are kept"
    );
}

#[test]
fn pebble_resolves_names_through_bind() {
    let d = Dns::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(d.bind.addr()));
    // www.example.test has an A record in bind (127.0.0.1, where the responder listens).
    rig.certonly("www.example.test", &[]).assert_success();
    // missing.example.test has none; challtestsrv would have answered 127.0.0.1 for it.
    let out = rig.certonly("missing.example.test", &[]);
    out.assert_code(1);
    assert!(out.stderr.contains("could not resolve"), "{out:?}");
}

const JOURNAL: &str = "dns-01-records.json";

/// `certonly --dns-rfc2136` against Pebble reading from bind, with `extra` args; not yet run.
fn certonly_dns_cli(rig: &Rig, bind: &Bind, creds: &std::path::Path, extra: &[&str]) -> Cli {
    rig.env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .arg("--dns-rfc2136")
        .arg("--dns-rfc2136-credentials")
        .arg(creds)
        .arg("--dns-resolver")
        .arg(bind.addr().to_string())
        .args(extra)
}

/// bind, a Pebble reading from it, and a credentials file (with `secret`, default the right one).
fn bind_and_pebble(secret: Option<&str>) -> (Bind, Rig, PathBuf, tempfile::TempDir) {
    let bind = Bind::start();
    let rig = Rig::with(PebbleOpts::default().dns_server(bind.addr()));
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), secret.unwrap_or(bind.secret()));
    (bind, rig, creds, dir)
}

fn certonly_dns(rig: &Rig, bind: &Bind, creds: &std::path::Path, extra: &[&str]) -> Output {
    certonly_dns_cli(rig, bind, creds, extra).run()
}

#[test]
fn wildcard_and_apex_are_issued_over_dns_rfc2136_and_the_records_removed() {
    let (bind, rig, creds, _dir) = bind_and_pebble(None);
    bind.nsupdate("update add _acme-challenge.example.test 60 TXT \"someone-else\"");

    let out = certonly_dns(
        &rig,
        &bind,
        &creds,
        &["-d", "*.example.test", "-d", "example.test"],
    );
    out.assert_success();
    assert!(out.stderr.contains("dns-01"), "{out:?}");
    Lineage::at(rig.env.live("example.test")).assert_valid_for(
        &["*.example.test", "example.test"],
        &rig.pebble.root_pem_path(),
    );
    assert_eq!(bind.txt("_acme-challenge.example.test"), ["someone-else"]);
    let journal = rig.env.work_dir().join(JOURNAL);
    assert!(!journal.exists(), "an empty journal is no file");

    // The renewal config names the solver and the credentials file, never the secret.
    let conf = std::fs::read_to_string(rig.env.renewal_conf("example.test")).expect("conf");
    assert!(
        conf.contains("dns-rfc2136") && conf.contains("rfc2136.ini"),
        "{conf}"
    );
    assert!(!conf.contains(bind.secret()), "{conf}");
    assert!(!out.stderr.contains(bind.secret()) && !out.stdout.contains(bind.secret()));
}

#[test]
fn a_cname_delegated_name_is_issued_with_the_record_in_the_other_zone() {
    let bind = Bind::start();
    // The CA resolves recursively; the authoritative named only answers the CNAME.
    let resolver = Bind::start_resolver(&bind);
    let rig = Rig::with(PebbleOpts::default().dns_server(resolver.addr()));
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = bind.write_credentials(dir.path(), bind.secret());
    let out = certonly_dns(&rig, &bind, &creds, &["-d", "alias.example.test"]);
    out.assert_success();
    Lineage::at(rig.env.live("alias.example.test"))
        .assert_valid_for(&["alias.example.test"], &rig.pebble.root_pem_path());
    assert!(bind.txt("alias.acme.delegated.test").is_empty());
}

#[test]
fn dns_01_input_errors_exit_2_before_any_order_and_wildcards_need_dns() {
    let (bind, rig, creds, _dir) = bind_and_pebble(None);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let out = certonly_dns(&rig, &bind, &creds, &["-d", "example.test"]);
    out.assert_code(2);
    assert!(out.stderr.contains("chmod 600"), "{out:?}");
    assert!(!out.stderr.contains(bind.secret()));

    let out = rig.certonly("*.example.test", &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("--dns-rfc2136"), "{out:?}");
}

#[test]
fn a_wrong_tsig_secret_fails_the_run_with_exit_1_and_writes_nothing() {
    let wrong = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nd3I=";
    let (bind, rig, creds, _dir) = bind_and_pebble(Some(wrong));
    let out = certonly_dns(&rig, &bind, &creds, &["-d", "*.example.test"]);
    out.assert_code(1);
    assert!(out.stderr.contains("refused the TSIG signature"), "{out:?}");
    assert!(!out.stderr.contains(wrong));
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.live("example.test").exists());
}

#[test]
fn records_of_a_run_killed_mid_order_are_removed_by_the_next_run() {
    let (bind, rig, creds, _dir) = bind_and_pebble(None);
    let names = ["-d", "*.example.test", "-d", "example.test"];
    let killed = certonly_dns_cli(&rig, &bind, &creds, &names)
        .env("CERTWRIGHT_CRASH_AT", "dns-01-published")
        .run();
    assert_eq!(killed.code, -1, "the run was not aborted: {killed:?}");
    assert_eq!(bind.txt("_acme-challenge.example.test").len(), 2);
    let text = std::fs::read_to_string(rig.env.work_dir().join(JOURNAL)).expect("journal");
    assert_eq!(Journal::from_json(&text).expect("parses").records.len(), 2);

    certonly_dns(&rig, &bind, &creds, &names).assert_success();
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.work_dir().join(JOURNAL).exists());
}

#[test]
fn renew_dry_run_of_a_dns_lineage_validates_and_changes_nothing() {
    let (bind, rig, creds, _dir) = bind_and_pebble(None);
    certonly_dns(&rig, &bind, &creds, &["-d", "*.example.test"]).assert_success();
    let config = Snapshot::of(&rig.env.config_dir());
    let work = Snapshot::of(&rig.env.work_dir());
    let out = rig.env.renew(&["--dry-run"]);
    out.assert_success();
    assert!(out.stderr.contains("dns-01"), "{out:?}");
    config.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "config after dry run");
    work.assert_unchanged(&Snapshot::of(&rig.env.work_dir()), "work after dry run");
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
}

#[test]
fn powerdns_http_api_adds_and_removes_single_values() {
    let pdns = Pdns::start();
    let writer = ProviderWriter::powerdns(&pdns.api_url(), &Secret::new(pdns.api_key()), None)
        .expect("writer");
    let lookup = Lookup::new(vec![pdns.dns_addr()]);
    let (wild, apex) = block_on(async {
        let wild = dns::locate("*.example.test", &lookup).await.expect("wild");
        let apex = dns::locate("example.test", &lookup).await.expect("apex");
        (wild, apex)
    });
    assert_eq!(
        (wild.zone.as_str(), wild.name.as_str()),
        ("example.test", "_acme-challenge.example.test")
    );
    block_on(async {
        writer.add_txt(&wild.zone, &wild.name, "wild").await?;
        writer.add_txt(&apex.zone, &apex.name, "apex").await
    })
    .expect("add");
    assert_eq!(pdns.txt("_acme-challenge.example.test"), ["apex", "wild"]);
    let expected = [Expected {
        name: wild.name.clone(),
        zone: wild.zone.clone(),
        values: vec!["wild".into(), "apex".into()],
    }];
    block_on(dns::wait_for_propagation(
        &expected,
        &Servers::Explicit(vec![pdns.dns_addr()]),
        Wait {
            timeout: Duration::from_secs(10),
            interval: Duration::from_millis(100),
        },
        |_| {},
    ))
    .expect("served");
    block_on(writer.remove_txt(&wild.zone, &wild.name, "wild")).expect("remove");
    assert_eq!(pdns.txt("_acme-challenge.example.test"), ["apex"]);

    // A wrong API key: a clear error that does not echo the key.
    let bad_key = "not-the-key-0123456789";
    let bad =
        ProviderWriter::powerdns(&pdns.api_url(), &Secret::new(bad_key), None).expect("writer");
    let err = block_on(bad.add_txt(&apex.zone, &apex.name, "x")).expect_err("wrong key");
    let text = err.to_string();
    assert!(
        text.contains("powerdns") && text.contains("API key"),
        "{text}"
    );
    assert!(
        !text.contains(bad_key) && !text.contains(pdns.api_key()),
        "{text}"
    );
    assert_eq!(pdns.txt("_acme-challenge.example.test"), ["apex"]);
}

#[test]
fn sigterm_while_waiting_for_propagation_removes_the_records_before_exiting() {
    let (bind, rig, creds, _dir) = bind_and_pebble(None);
    // A second named that never gets the records: the check waits on it until stopped.
    let lagging = Bind::start();
    let running = rig
        .env
        .cli()
        .arg("certonly")
        .args(rig.env.flags(&rig.pebble))
        .arg("--dns-rfc2136")
        .arg("--dns-rfc2136-credentials")
        .arg(&creds)
        .args(["--dns-resolver", &lagging.addr().to_string()])
        .args(["-d", "*.example.test", "-d", "example.test"])
        .spawn();
    let published = crate::support::wait_for(Duration::from_secs(30), || {
        (bind.txt("_acme-challenge.example.test").len() == 2).then_some(())
    });
    assert!(published.is_some(), "{:?}", running.wait_or_kill());
    let out = running.terminate();
    out.assert_code(1);
    assert!(out.stderr.contains("stopped by SIGTERM"), "{out:?}");
    assert!(bind.txt("_acme-challenge.example.test").is_empty());
    assert!(!rig.env.work_dir().join(JOURNAL).exists());
    assert!(!rig.env.live("example.test").exists());
}
