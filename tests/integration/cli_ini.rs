//! certbot's `cli.ini`: every flag of the real CLI can come from the file, and a flag on
//! the command line wins over the file's.

use certwright::cli_ini;

use crate::support::rig::Rig;
use crate::support::webhook::{Behaviour, Receiver};

/// Every flag of the real CLI works: the file's args parse with clap as typed ones would.
#[test]
fn cli_ini_takes_every_flag_of_the_real_cli() {
    use clap::{CommandFactory, Parser};
    let text = "config-dir = /tmp/cw\nno-random-sleep-on-renew\nquiet = true\n\
                preferred-profile = shortlived\n";
    let entries = cli_ini::parse(text).unwrap();
    let root = certwright::cli::Cli::command();
    let extra = cli_ini::to_args(&entries, &root, Some("renew"), &[], &|_| None).unwrap();
    assert!(
        !extra.iter().any(|a| a == "--preferred-profile=shortlived"),
        "{extra:?}"
    );
    let mut argv: Vec<std::ffi::OsString> = vec!["certwright".into(), "renew".into()];
    argv.extend(extra);
    let cli = certwright::cli::Cli::try_parse_from(&argv).unwrap();
    assert_eq!(cli.global.config_dir, std::path::PathBuf::from("/tmp/cw"));
    assert!(cli.global.quiet);
    let extra = cli_ini::to_args(&entries, &root, Some("certonly"), &[], &|_| None).unwrap();
    assert!(
        extra.iter().any(|a| a == "--preferred-profile=shortlived"),
        "{extra:?}"
    );
}

/// `<config-dir>/cli.ini` gives `renew` and `notify` their alert targets and textfile; a flag
/// on the command line replaces the file's (repeatable ones too); a bad line is exit 2
/// naming file:line; `-c FILE` reads another file instead.
#[test]
fn cli_ini_supplies_alert_flags_and_the_command_line_wins() {
    let rig = Rig::new();
    let name = "ini.example.test";
    rig.certonly_cli(&rig.env, &["-d", name])
        .run()
        .assert_success();
    let hook = Receiver::start(Behaviour::Status(200));
    let other = Receiver::start(Behaviour::Status(200));
    let from_ini = rig.env.root().join("ini.prom");
    let from_cli = rig.env.root().join("cli.prom");
    let ini = rig.env.config_dir().join("cli.ini");
    let text = format!(
        "# defaults for every certwright run\nnotify-webhook = {}\nmetrics-textfile: {}\n\
         no-random-sleep-on-renew\n",
        hook.url("/from-ini"),
        from_ini.display()
    );
    std::fs::write(&ini, &text).expect("write cli.ini");
    let run = |args: &[&str]| rig.env.cli().args(args).args(rig.env.dir_flags()).run();
    rig.pebble.resolve_to(name, "127.0.0.2");
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let failed = run(&["renew", "--force-renewal"]);
    failed.assert_code(1);
    let paths: Vec<String> = hook.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/from-ini"], "{}", failed.stderr);
    assert!(from_ini.exists(), "no textfile from cli.ini");

    std::fs::remove_file(&from_ini).expect("remove textfile");
    let flag = from_cli.display().to_string();
    run(&["renew", "--metrics-textfile", &flag]);
    assert!(
        from_cli.exists() && !from_ini.exists(),
        "the flag did not win"
    );
    run(&["notify", "--test", "--notify-webhook", &other.url("/flag")]).assert_success();
    assert_eq!(other.received().len(), 1);
    assert_eq!(hook.received().len(), 1, "the file's webhook was used too");

    let elsewhere = rig.env.root().join("other.ini");
    std::fs::write(
        &elsewhere,
        format!("notify-webhook = {}\n", other.url("/c")),
    )
    .unwrap();
    run(&["notify", "--test", "-c", &elsewhere.display().to_string()]).assert_success();
    assert_eq!((other.received().len(), hook.received().len()), (2, 1));

    std::fs::write(&ini, format!("{text}notfy-webhook = https://x.test/\n")).unwrap();
    let bad = run(&["renew"]);
    bad.assert_code(2);
    let at = format!("{}:5", ini.display());
    assert!(
        bad.stderr.contains(&at) && bad.stderr.contains("--notfy-webhook"),
        "{}",
        bad.stderr
    );
    run(&["renew", "--help"]).assert_success();
}
