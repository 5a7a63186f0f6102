//! `certwright renew`, `plan` and `daemon` end to end: lineages issued by this test's own
//! Pebble, then renewed (or not) by the real binary, checked on disk and with parsers.
//!
//! Making a lineage due: Pebble 2.4 issues 5-year certificates, and `renew_before_expiry_days`
//! is capped at half the lifetime, so no setting of it makes a fresh Pebble certificate due
//! (3650 days on a 5-year certificate means "due 2.5 years after issuance"). Instead `age`
//! replaces the lineage's current certificate with one for the same key and names that was
//! issued `lifetime - days_left` days ago by a throwaway CA: the files still match, so the
//! lifetime rule (or the override) decides, exactly as for an old certificate in the field.
//! The renewal itself then goes to Pebble for real.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::certs::{age_lineage, make_due, Lineage};
use crate::support::cli::{Output, Running};
use crate::support::rig::Rig;
use crate::support::{read_lossy, wait_for, Env, Snapshot};

/// Bound on waiting for a background daemon to renew: far above a normal pass.
const DAEMON_RENEW_LIMIT: Duration = Duration::from_secs(120);
/// Bound on a daemon's exit after SIGTERM/SIGINT ("promptly").
const DAEMON_STOP_LIMIT: Duration = Duration::from_secs(10);

/// Renewal helpers on the shared rig.
impl Rig {
    /// `certonly --standalone` for `names` as lineage `name`; must succeed.
    fn issue_lineage(&self, name: &str, names: &[&str]) {
        let mut cli = self.certonly_cli(&self.env, &["--cert-name", name]);
        for n in names {
            cli = cli.args(["-d", n]);
        }
        cli.run().assert_success();
        assert_eq!(self.env.live_version(name), 1);
    }

    /// Makes lineage `name` look as if its certificate were issued `lifetime_days -
    /// days_left` days ago and expired in `days_left` days (see the module comment).
    fn age(&self, name: &str, lifetime_days: i64, days_left: i64) {
        age_lineage(&self.env.live(name), lifetime_days, days_left);
    }

    /// See [`make_due`].
    fn make_due(&self, name: &str) {
        make_due(&self.env.live(name));
    }

    fn status_path(&self) -> PathBuf {
        self.env.work_dir().join("status.json")
    }
}

/// Edits `renewal/<name>.json` as a user would.
pub(crate) fn edit_renewal(
    env: &Env,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) {
    let path = env.renewal_conf(name);
    let mut json: Value = serde_json::from_str(&read_lossy(&path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    edit(json.as_object_mut().expect("renewal config is an object"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).expect("serialise"),
    )
    .expect("write renewal config");
}

fn set_renew_before(env: &Env, name: &str, days: u32) {
    edit_renewal(env, name, |c| {
        c.insert("renew_before_expiry_days".into(), days.into());
    });
}

/// Switches `name` to webroot on `dir`, which no web server serves: validation fails for real
/// (Pebble's probe reaches a responder, or nothing, that does not know the token).
pub(crate) fn break_lineage(env: &Env, name: &str, dir: &Path) {
    edit_renewal(env, name, |c| {
        let map: Vec<Value> = c["domains"]
            .as_array()
            .expect("domains")
            .iter()
            .map(|d| serde_json::json!({ "domain": d, "path": dir }))
            .collect();
        c.insert(
            "authenticator".into(),
            serde_json::json!({ "type": "webroot", "map": map }),
        );
    });
}

/// Everything a renewal could change for one lineage: its archive, its live link, its config.
fn lineage_snapshot(env: &Env, name: &str) -> (Snapshot, PathBuf, String) {
    (
        Snapshot::of(&env.archive(name)),
        std::fs::read_link(env.live(name)).expect("live link"),
        read_lossy(&env.renewal_conf(name)),
    )
}

fn assert_lineage_unchanged(env: &Env, name: &str, before: &(Snapshot, PathBuf, String)) {
    let after = lineage_snapshot(env, name);
    before
        .0
        .assert_unchanged(&after.0, &format!("archive/{name}"));
    assert_eq!(before.1, after.1, "live/{name} moved");
    assert_eq!(before.2, after.2, "renewal/{name}.json changed");
}

/// The `certificates` entry for `name` in `renew`, `plan` or `certificates --json` output.
pub(crate) fn entry<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no certificates array: {json}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {json}"))
}

fn state(env: &Env, name: &str) -> Value {
    let path = env.work_dir().join("state").join(format!("{name}.json"));
    serde_json::from_str(&read_lossy(&path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub(crate) fn rfc3339(v: &Value) -> OffsetDateTime {
    v.as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 time: {v}"))
}

/// Lines of `path` (none if it does not exist).
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default()
}

#[test]
fn renews_the_due_lineage_and_leaves_the_other_alone() {
    let rig = Rig::new();
    rig.issue_lineage("due.example.com", &["due.example.com"]);
    rig.issue_lineage("fresh.example.com", &["fresh.example.com"]);
    // Same age for both: 90-day certificates with 40 days left. The 1/3 rule says "in 10
    // days"; only the lineage with renew_before_expiry_days = 45 is due.
    rig.age("due.example.com", 90, 40);
    rig.age("fresh.example.com", 90, 40);
    set_renew_before(&rig.env, "due.example.com", 45);
    let fresh_before = lineage_snapshot(&rig.env, "fresh.example.com");
    let old_due_cert = Lineage::at(rig.env.live("due.example.com")).cert_pem();

    let out = rig.env.renew(&[]);
    out.assert_success();
    assert!(
        out.stdout
            .contains("due.example.com: renewed (version 2, expires "),
        "{out}"
    );
    assert!(
        out.stdout.contains("fresh.example.com: not due: renews ")
            && out.stdout.contains("(1/3 of lifetime left)"),
        "{out}"
    );

    assert_eq!(rig.env.live_version("due.example.com"), 2, "{out}");
    let live = Lineage::at(rig.env.live("due.example.com"));
    live.assert_valid_for(&["due.example.com"], &rig.pebble.root_pem_path());
    assert_ne!(live.cert_pem(), old_due_cert);
    assert_eq!(
        rig.pebble.cert_status(&live.leaf().serial_hex),
        "Valid",
        "the new certificate is Pebble's"
    );
    // The old version stays in the archive, untouched.
    assert_eq!(
        std::fs::read_to_string(rig.env.archive("due.example.com").join("1/cert.pem"))
            .expect("archive/1"),
        old_due_cert
    );
    assert_lineage_unchanged(&rig.env, "fresh.example.com", &fresh_before);
    assert_eq!(rig.env.live_version("fresh.example.com"), 1);
}

#[test]
fn force_renewal_of_an_untouched_pebble_certificate() {
    // A certificate straight from a CA without ARI (Pebble 2.4), renewed: nothing may send
    // ARI's `replaces` to a CA that does not offer it.
    let rig = Rig::new();
    rig.issue_lineage("f.example.com", &["f.example.com"]);
    rig.issue_lineage("g.example.com", &["g.example.com"]);
    let g_before = lineage_snapshot(&rig.env, "g.example.com");
    let out = rig
        .env
        .renew(&["--force-renewal", "--cert-name", "f.example.com", "--json"]);
    out.assert_success();
    let json = out.json();
    assert_eq!(entry(&json, "f.example.com")["result"], "renewed", "{out}");
    assert_eq!(
        json["certificates"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
    assert_eq!(rig.env.live_version("f.example.com"), 2);
    Lineage::at(rig.env.live("f.example.com"))
        .assert_valid_for(&["f.example.com"], &rig.pebble.root_pem_path());
    assert_lineage_unchanged(&rig.env, "g.example.com", &g_before);
}

#[test]
fn one_failure_does_not_stop_the_others_and_backs_off() {
    let rig = Rig::new();
    let unserved = tempfile::tempdir().expect("webroot nobody serves");
    for name in ["a.example.com", "b.example.com", "c.example.com"] {
        rig.issue_lineage(name, &[name]);
        rig.make_due(name);
    }
    break_lineage(&rig.env, "b.example.com", unserved.path());
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let b_before = lineage_snapshot(&rig.env, "b.example.com");

    let out = rig.env.renew(&["--json"]);
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["dry_run"], false, "{out}");
    for name in ["a.example.com", "c.example.com"] {
        assert_eq!(entry(&json, name)["result"], "renewed", "{out}");
        assert_eq!(entry(&json, name)["version"], 2, "{out}");
        assert_eq!(rig.env.live_version(name), 2);
        Lineage::at(rig.env.live(name)).assert_valid_for(&[name], &rig.pebble.root_pem_path());
        let s = state(&rig.env, name);
        assert!(s.get("failure").is_none(), "{name}: {s}");
        rfc3339(&s["last_success"]);
    }
    let b = entry(&json, "b.example.com");
    assert_eq!(b["result"], "failed", "{out}");
    let error = b["error"].as_str().expect("error text");
    assert!(!error.is_empty(), "{out}");
    assert_lineage_unchanged(&rig.env, "b.example.com", &b_before);

    let s = state(&rig.env, "b.example.com");
    let failure = &s["failure"];
    assert_eq!(failure["consecutive"], 1, "{s}");
    assert_eq!(failure["last_error"], error, "{s}");
    let last_failure = rfc3339(&failure["last_failure"]);
    let next_attempt = rfc3339(&failure["next_attempt"]);
    // First backoff: one minute, +-10 %.
    let wait = next_attempt - last_failure;
    assert!(
        wait >= time::Duration::seconds(54) && wait <= time::Duration::seconds(66),
        "{s}"
    );

    // At once again: b is skipped, not retried, and the run still fails (its certificate is
    // due and was not renewed); a and c are no longer due.
    let state_before = read_lossy(&rig.env.work_dir().join("state/b.example.com.json"));
    let out = rig.env.renew(&["--json"]);
    out.assert_code(1);
    let json = out.json();
    let b = entry(&json, "b.example.com");
    assert_eq!(b["result"], "backing_off", "{out}");
    // Output times are printed to the second.
    assert_eq!(
        rfc3339(&b["until"]),
        next_attempt.replace_nanosecond(0).unwrap(),
        "{out}"
    );
    assert_eq!(b["last_error"], error, "{out}");
    for name in ["a.example.com", "c.example.com"] {
        assert_eq!(entry(&json, name)["result"], "not_due", "{out}");
    }
    assert_eq!(
        read_lossy(&rig.env.work_dir().join("state/b.example.com.json")),
        state_before,
        "a skipped lineage's backoff is not counted again"
    );
    assert_lineage_unchanged(&rig.env, "b.example.com", &b_before);

    let out = rig.env.renew(&[]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("b.example.com: skipped: backing off until "),
        "{out}"
    );
    assert!(!out.stdout.contains("All 3 certificate(s) OK"), "{out}");
}

#[test]
fn dry_run_changes_nothing_and_skips_deploy_hooks() {
    let rig = Rig::new();
    let unserved = tempfile::tempdir().expect("webroot nobody serves");
    let marks = tempfile::tempdir().expect("hook output dir");
    let deploy_log = marks.path().join("deploy.log");
    let hook = format!("echo \"$RENEWED_LINEAGE\" >> '{}'", deploy_log.display());
    rig.issue_lineage("a.example.com", &["a.example.com"]);
    rig.issue_lineage("b.example.com", &["b.example.com"]);
    let config = Snapshot::of(&rig.env.config_dir());
    let work = Snapshot::of(&rig.env.work_dir());

    // Not due, but a dry run tries every lineage.
    let out = rig.env.renew(&["--dry-run", "--deploy-hook", &hook]);
    out.assert_success();
    for name in ["a.example.com", "b.example.com"] {
        assert!(
            out.stdout
                .contains(&format!("(dry run) {name}: renewal would succeed")),
            "{out}"
        );
    }
    config.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "config after dry run");
    work.assert_unchanged(&Snapshot::of(&rig.env.work_dir()), "work after dry run");
    assert!(!deploy_log.exists(), "deploy hook ran in a dry run\n{out}");

    // With --run-deploy-hooks it runs, once per lineage, on the throwaway copy.
    let out = rig
        .env
        .renew(&["--dry-run", "--run-deploy-hooks", "--deploy-hook", &hook]);
    out.assert_success();
    let ran = lines(&deploy_log);
    assert_eq!(ran.len(), 2, "{ran:?}\n{out}");
    for lineage in &ran {
        assert!(
            !Path::new(lineage).starts_with(rig.env.root()),
            "dry-run deploy hook pointed at the real store: {lineage}"
        );
    }
    config.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "config after dry run");
    work.assert_unchanged(&Snapshot::of(&rig.env.work_dir()), "work after dry run");

    // A lineage that cannot renew fails the dry run, by name, and records no backoff.
    break_lineage(&rig.env, "b.example.com", unserved.path());
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let config = Snapshot::of(&rig.env.config_dir());
    let out = rig.env.renew(&["--dry-run"]);
    out.assert_code(1);
    assert!(
        out.stdout.contains("(dry run) b.example.com: FAILED: "),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("(dry run) a.example.com: renewal would succeed"),
        "{out}"
    );
    config.assert_unchanged(&Snapshot::of(&rig.env.config_dir()), "config after dry run");
    work.assert_unchanged(&Snapshot::of(&rig.env.work_dir()), "work after dry run");
}

#[test]
fn pre_and_post_hooks_run_once_deploy_hook_per_renewal() {
    let rig = Rig::new();
    let marks = tempfile::tempdir().expect("hook output dir");
    let log = marks.path().join("hooks.log");
    let q = |s: &str| format!("'{}'", s);
    let pre = format!("echo pre >> {}", q(&log.display().to_string()));
    let post = format!("echo post >> {}", q(&log.display().to_string()));
    let deploy = format!(
        "echo \"deploy|$RENEWED_LINEAGE|$RENEWED_DOMAINS\" >> {}",
        q(&log.display().to_string())
    );
    rig.issue_lineage(
        "one.example.com",
        &["one.example.com", "www.one.example.com"],
    );
    rig.issue_lineage("two.example.com", &["two.example.com"]);
    rig.issue_lineage("idle.example.com", &["idle.example.com"]);
    rig.make_due("one.example.com");
    rig.make_due("two.example.com");
    let hooks = [
        "--pre-hook",
        pre.as_str(),
        "--post-hook",
        post.as_str(),
        "--deploy-hook",
        deploy.as_str(),
    ];

    let out = rig.env.renew(&hooks);
    out.assert_success();
    let ran = lines(&log);
    assert_eq!(ran.len(), 4, "{ran:?}\n{out}");
    assert_eq!(ran[0], "pre", "{ran:?}");
    assert_eq!(ran[3], "post", "{ran:?}");
    let mut deploys = ran[1..3].to_vec();
    deploys.sort();
    assert_eq!(
        deploys,
        vec![
            format!(
                "deploy|{}|one.example.com www.one.example.com",
                rig.env.live("one.example.com").display()
            ),
            format!(
                "deploy|{}|two.example.com",
                rig.env.live("two.example.com").display()
            ),
        ]
    );

    // Nothing due: no hook runs at all.
    let out = rig.env.renew(&hooks);
    out.assert_success();
    assert_eq!(lines(&log).len(), 4, "{:?}\n{out}", lines(&log));
}

#[test]
fn plan_is_offline_and_shows_reason_authenticator_and_last_error() {
    let rig = Rig::new();
    let unserved = tempfile::tempdir().expect("webroot nobody serves");
    rig.issue_lineage("fresh.example.com", &["fresh.example.com"]);
    rig.issue_lineage("broken.example.com", &["broken.example.com"]);
    rig.issue_lineage("capped.example.com", &["capped.example.com"]);
    rig.make_due("broken.example.com");
    break_lineage(&rig.env, "broken.example.com", unserved.path());
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    // 10 years before expiry on a 5-year certificate: capped at half the lifetime.
    set_renew_before(&rig.env, "capped.example.com", 3650);
    rig.env.renew(&[]).assert_code(1);
    let not_after = |name: &str| Lineage::at(rig.env.live(name)).leaf().not_after();
    let fresh_not_after = not_after("fresh.example.com");
    let capped_not_after = not_after("capped.example.com");

    // The CA is gone: plan must not need it.
    let Rig { pebble, env } = rig;
    drop(pebble);
    let config = Snapshot::of(&env.config_dir());
    let work = Snapshot::of(&env.work_dir());
    let plan = |extra: &[&str]| {
        env.cli()
            .arg("plan")
            .args(env.dir_flags())
            .args(extra)
            .run()
    };

    let out = plan(&["--json"]);
    out.assert_success();
    let json = out.json();
    assert_eq!(json["schema"], 1, "{out}");
    let now = OffsetDateTime::now_utc();

    let fresh = entry(&json, "fresh.example.com");
    assert_eq!(fresh["due_now"], false, "{out}");
    assert_eq!(fresh["reason"], "1/3 of lifetime left", "{out}");
    assert_eq!(fresh["authenticator"], "standalone", "{out}");
    assert_eq!(fresh["last_error"], Value::Null, "{out}");
    assert_eq!(
        rfc3339(&fresh["not_after"]).unix_timestamp(),
        fresh_not_after.unix_timestamp()
    );
    // Pebble's certificates last 5 years: renewal with 1/3 left is ~3.3 years out.
    let next = rfc3339(&fresh["next_renewal"]);
    let left = fresh_not_after - next;
    assert!(
        left > time::Duration::days(600) && left < time::Duration::days(620),
        "{out}"
    );

    let capped = entry(&json, "capped.example.com");
    assert_eq!(capped["due_now"], false, "{out}");
    let next = rfc3339(&capped["next_renewal"]);
    let left = capped_not_after - next;
    assert!(
        left > time::Duration::days(900) && left < time::Duration::days(920),
        "half of 5 years, not 3650 days: {out}"
    );
    assert!(
        capped["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("renew_before_expiry ")),
        "{out}"
    );

    let broken = entry(&json, "broken.example.com");
    assert_eq!(broken["authenticator"], "webroot", "{out}");
    // Due by the lifetime rule, but backing off: the next attempt is the backoff's end.
    assert_eq!(broken["due_now"], false, "{out}");
    assert_eq!(broken["reason"], "1/3 of lifetime left", "{out}");
    let next = rfc3339(&broken["next_renewal"]);
    assert!(
        next > now - time::Duration::seconds(5) && next < now + time::Duration::minutes(2),
        "{out}"
    );
    let last_error = broken["last_error"].as_str().expect("last_error");
    assert!(last_error.contains("(attempt 1, at "), "{out}");
    assert_eq!(broken["last_success"], Value::Null, "{out}");

    let out = plan(&[]);
    out.assert_success();
    let text = &out.stdout;
    for want in [
        "fresh.example.com\n",
        "  next renewal:   ",
        "(1/3 of lifetime left)",
        "  authenticator:  standalone, installer: none",
        "  authenticator:  webroot, installer: none",
        "  last error:     ",
        "(attempt 1, at ",
    ] {
        assert!(text.contains(want), "missing {want:?}\n{out}");
    }
    config.assert_unchanged(&Snapshot::of(&env.config_dir()), "config after plan");
    work.assert_unchanged(&Snapshot::of(&env.work_dir()), "work after plan");
}

#[test]
fn daemon_once_renews_and_writes_status() {
    let rig = Rig::new();
    rig.issue_lineage("d.example.com", &["d.example.com"]);
    rig.make_due("d.example.com");
    let daemon_once = || {
        rig.env
            .cli()
            .args(["daemon", "--once"])
            .args(rig.env.dir_flags())
            .run()
    };
    let out = daemon_once();
    out.assert_success();
    assert_eq!(rig.env.live_version("d.example.com"), 2, "{out}");
    let leaf = Lineage::at(rig.env.live("d.example.com")).leaf();
    assert_status(&rig.status_path(), "d.example.com", leaf.not_after(), &out);

    // A pass with a failed renewal exits 1, as `renew` does, and the status file says why.
    let unserved = tempfile::tempdir().expect("webroot nobody serves");
    rig.issue_lineage("bad.example.com", &["bad.example.com"]);
    rig.make_due("bad.example.com");
    break_lineage(&rig.env, "bad.example.com", unserved.path());
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let out = daemon_once();
    out.assert_code(1);
    let status: Value = serde_json::from_str(&read_lossy(&rig.status_path())).expect("status");
    let pass = serde_json::json!({ "certificates": status["last_pass"] });
    assert_eq!(
        entry(&pass, "bad.example.com")["result"],
        "failed",
        "{status}"
    );
    assert_eq!(
        entry(&pass, "d.example.com")["result"],
        "not_due",
        "{status}"
    );
    let bad = entry(&status, "bad.example.com");
    assert!(
        bad["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("(attempt 1, at ")),
        "{status}"
    );
    assert_eq!(rig.env.live_version("bad.example.com"), 1);
}

/// The status file says the last pass renewed `name` and lists its current expiry and a
/// next renewal in the future.
pub(crate) fn assert_status(
    path: &Path,
    name: &str,
    not_after: OffsetDateTime,
    context: &impl std::fmt::Display,
) {
    let status: Value = serde_json::from_str(&read_lossy(path))
        .unwrap_or_else(|e| panic!("status file is not JSON ({e})\n{context}"));
    assert_eq!(status["schema"], 1, "{status}");
    let pass = entry(
        &serde_json::json!({ "certificates": status["last_pass"] }),
        name,
    )
    .clone();
    assert_eq!(pass["result"], "renewed", "{status}");
    assert_eq!(pass["version"], 2, "{status}");
    let cert = entry(&status, name);
    assert_eq!(
        rfc3339(&cert["not_after"]).unix_timestamp(),
        not_after.unix_timestamp(),
        "{status}"
    );
    assert_eq!(cert["due_now"], false, "{status}");
    assert!(
        rfc3339(&cert["next_renewal"]) > OffsetDateTime::now_utc(),
        "{status}"
    );
    rfc3339(&cert["last_success"]);
}

/// A background daemon renews a due lineage, writes its status file, and exits 0 promptly
/// on `signal`.
fn daemon_renews_then_stops_on(signal: rustix::process::Signal) {
    let rig = Rig::new();
    rig.issue_lineage("bg.example.com", &["bg.example.com"]);
    rig.make_due("bg.example.com");
    let status = rig.env.root().join("monitoring/status.json");
    std::fs::create_dir(rig.env.root().join("monitoring")).expect("status dir");
    let mut daemon: Running = rig
        .env
        .cli()
        .arg("daemon")
        .args(rig.env.dir_flags())
        .arg("--status-file")
        .arg(&status)
        .spawn();

    let renewed = wait_for(DAEMON_RENEW_LIMIT, || {
        let done = status.exists() && rig.env.live_version("bg.example.com") == 2;
        (done || daemon.has_exited()).then_some(done)
    });
    if renewed != Some(true) {
        panic!("daemon did not renew\n{}", daemon.wait_or_kill());
    }
    let leaf = Lineage::at(rig.env.live("bg.example.com")).leaf();
    assert_status(
        &status,
        "bg.example.com",
        leaf.not_after(),
        &"daemon status",
    );
    assert!(
        !rig.status_path().exists(),
        "--status-file given, but the default status file was written too"
    );

    let pid = rustix::process::Pid::from_raw(daemon.pid() as i32).expect("pid");
    rustix::process::kill_process(pid, signal).expect("signal the daemon");
    if wait_for(DAEMON_STOP_LIMIT, || daemon.has_exited().then_some(())).is_none() {
        panic!(
            "daemon still running {DAEMON_STOP_LIMIT:?} after {signal:?}\n{}",
            daemon.wait_or_kill()
        );
    }
    let out = daemon.wait();
    out.assert_success();
    assert!(out.stderr.contains("certwright daemon stopped"), "{out}");
}

#[test]
fn daemon_renews_in_background_and_exits_0_on_sigterm() {
    daemon_renews_then_stops_on(rustix::process::Signal::TERM);
}

#[test]
fn daemon_renews_in_background_and_exits_0_on_sigint() {
    daemon_renews_then_stops_on(rustix::process::Signal::INT);
}

#[test]
fn unknown_cert_name_and_bad_schedule_are_refused() {
    let rig = Rig::new();
    rig.issue_lineage("known.example.com", &["known.example.com"]);
    rig.make_due("known.example.com");
    let before = lineage_snapshot(&rig.env, "known.example.com");

    let out = rig.env.renew(&[
        "--cert-name",
        "known.example.com",
        "--cert-name",
        "unknown.example.com",
    ]);
    out.assert_code(3);
    assert!(out.stderr.contains("unknown.example.com"), "{out}");
    // Refused before anything was renewed, although the known lineage is due.
    assert_lineage_unchanged(&rig.env, "known.example.com", &before);

    let work = Snapshot::of(&rig.env.work_dir());
    let out = rig
        .env
        .cli()
        .args(["daemon", "--once", "--schedule", "61 * * * *"])
        .args(rig.env.dir_flags())
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("--schedule"), "{out}");
    assert_lineage_unchanged(&rig.env, "known.example.com", &before);
    work.assert_unchanged(
        &Snapshot::of(&rig.env.work_dir()),
        "work after bad --schedule",
    );
}

#[test]
fn five_due_lineages_share_one_standalone_port() {
    let rig = Rig::new();
    let names: Vec<String> = (1..=5).map(|i| format!("c{i}.example.com")).collect();
    for name in &names {
        rig.issue_lineage(name, &[name]);
        rig.make_due(name);
    }
    let out = rig.env.renew(&["--concurrency", "4", "--json"]);
    out.assert_success();
    let json = out.json();
    for name in &names {
        assert_eq!(entry(&json, name)["result"], "renewed", "{out}");
        assert_eq!(rig.env.live_version(name), 2, "{out}");
        Lineage::at(rig.env.live(name))
            .assert_valid_for(&[name.as_str()], &rig.pebble.root_pem_path());
    }
}

/// A renew with nothing due and a dry run leave the config dir byte-identical, run lock
/// file included; a dry run also works on a read-only config dir (a read-only bind mount in
/// a private mount namespace: as root, `chmod` alone would not stop writes).
#[test]
fn no_op_renew_and_dry_run_leave_config_byte_identical_even_read_only() {
    let rig = Rig::new();
    rig.issue_lineage("a.example.com", &["a.example.com"]);
    rig.env.renew(&[]).assert_success();
    let config = Snapshot::of_all(&rig.env.config_dir());
    assert!(
        config.0.contains_key(Path::new(".certwright.lock")),
        "no lock file to compare: {:?}",
        config.non_dirs()
    );

    let out = rig.env.renew(&[]);
    out.assert_success();
    assert!(out.stdout.contains("a.example.com: not due"), "{out}");
    config.assert_unchanged(
        &Snapshot::of_all(&rig.env.config_dir()),
        "after a no-op renew",
    );

    rig.env.renew(&["--dry-run"]).assert_success();
    config.assert_unchanged(&Snapshot::of_all(&rig.env.config_dir()), "after a dry run");

    let config_dir = rig.env.config_dir();
    let out = renew_on_read_only_config(&rig, "--dry-run");
    out.assert_success();
    assert!(
        out.stdout
            .contains("(dry run) a.example.com: renewal would succeed"),
        "{out}"
    );
    config.assert_unchanged(
        &Snapshot::of_all(&config_dir),
        "after a dry run on a read-only config dir",
    );
    // The mount really was read-only: a real renewal through it fails.
    let out = renew_on_read_only_config(&rig, "--force-renewal");
    assert_ne!(
        out.code, 0,
        "a renewal wrote through a read-only mount\n{out}"
    );
}

/// `renew FLAG` with the config dir bind-mounted read-only over itself in a private mount
/// namespace.
fn renew_on_read_only_config(rig: &Rig, flag: &str) -> Output {
    rig.env
        .cli()
        .program("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind -o ro \"$0\" \"$0\" && exec \"$@\"",
        ])
        .arg(rig.env.config_dir())
        .arg(env!("CARGO_BIN_EXE_certwright"))
        .args(["renew", flag, "--no-random-sleep-on-renew"])
        .args(rig.env.dir_flags())
        .run()
}

/// `renew --ca-bundle` and `CERTWRIGHT_CA_BUNDLE` replace the bundle saved in a lineage's
/// renewal config (here one that does not trust Pebble, as after a private CA's root
/// changed), for that run only.
#[test]
fn renew_ca_bundle_flag_and_env_override_the_saved_bundle() {
    let rig = Rig::new();
    let name = "ca.example.com";
    rig.issue_lineage(name, &[name]);
    let other = tempfile::tempdir().expect("temp dir");
    let wrong = other.path().join("other-ca.pem");
    std::fs::write(&wrong, crate::support::smtp::localhost_identity().0).expect("write CA");
    edit_renewal(&rig.env, name, |c| {
        c.insert("ca_bundle".into(), wrong.display().to_string().into());
    });
    let saved = read_lossy(&rig.env.renewal_conf(name));

    let out = rig.env.renew(&["--force-renewal"]);
    assert_ne!(
        out.code, 0,
        "renewed although the saved bundle does not trust Pebble\n{out}"
    );
    assert_eq!(rig.env.live_version(name), 1);

    let pebble_ca = rig.pebble.ca_bundle_path().display().to_string();
    rig.env
        .renew(&["--force-renewal", "--ca-bundle", &pebble_ca])
        .assert_success();
    assert_eq!(rig.env.live_version(name), 2);

    let out = rig
        .env
        .renew_cli(&["--force-renewal"])
        .env("CERTWRIGHT_CA_BUNDLE", &pebble_ca)
        .run();
    out.assert_success();
    assert_eq!(rig.env.live_version(name), 3);
    assert_eq!(
        read_lossy(&rig.env.renewal_conf(name)),
        saved,
        "the override was saved"
    );
}

/// certbot's global flags on delete, renew and daemon: accepted, ignored with a note.
#[test]
fn certbot_global_flags_are_accepted_on_delete_renew_and_daemon() {
    let rig = Rig::new();
    let name = "flags.example.com";
    rig.issue_lineage(name, &[name]);
    let server = rig.pebble.directory_url();
    let pebble_ca = rig.pebble.ca_bundle_path().display().to_string();

    let out = rig.env.renew(&["--server", &server, "--staging"]);
    out.assert_success();
    assert!(
        out.stderr.contains("ignoring --server and --staging"),
        "{out}"
    );

    let status = rig.env.work_dir().join("flags-status.json");
    let out = rig
        .env
        .cli()
        .args(["daemon", "--once", "--status-file"])
        .arg(&status)
        .args(rig.env.dir_flags())
        .args(["--server", &server])
        .run();
    out.assert_success();
    assert!(out.stderr.contains("ignoring --server"), "{out}");

    let out = rig
        .env
        .cli()
        .args(["delete", "--cert-name", name, "-n"])
        .args(rig.env.dir_flags())
        .args(["--server", &server, "--ca-bundle", &pebble_ca])
        .run();
    out.assert_success();
    assert!(
        out.stderr.contains("ignoring --server and --ca-bundle"),
        "{out}"
    );
    assert!(!rig.env.renewal_conf(name).exists(), "not deleted\n{out}");
}
