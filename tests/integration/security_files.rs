//! Issue 16, findings 5 and 7: files another user could have written (renewal configs,
//! state, the log file) are refused or never followed, when certwright runs as root.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::cli::Output;
use crate::support::rig::Rig;
use crate::support::run_directly;

const NAME: &str = "owned.example.com";
/// `nobody` on Debian: a uid that is not ours and not root.
const OTHER_UID: u32 = 65534;

fn renew_forced(rig: &Rig) -> Output {
    rig.env.renew(&["--force-renewal"])
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), None)
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A planted renewal config whose nginx `ctl` is another user's program: refused with exit
/// 3 naming the file and its owner, and the program never runs. Likewise a group-writable
/// config, and a state file another user owns.
#[test]
fn renewal_config_or_state_another_user_could_write_is_refused() {
    let rig = Rig::new();
    rig.certonly(NAME, &[]).assert_success();
    let conf = rig.env.renewal_conf(NAME);
    let tools = tempfile::tempdir().unwrap();
    let marker = tools.path().join("ran");
    let ctl = tools.path().join("ctl.sh");
    std::fs::write(&ctl, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    chmod(&ctl, 0o755);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&conf).unwrap()).unwrap();
    json["installer"] = serde_json::json!({
        "type": "nginx", "server_root": tools.path(), "ctl": ctl,
        "http_01_port": 80, "https_port": 443, "redirect": false, "hsts": false,
    });
    std::fs::write(&conf, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    chmod(&conf, 0o644);

    chown(&conf, OTHER_UID);
    let out = renew_forced(&rig);
    out.assert_code(3);
    assert!(out.stderr.contains(&conf.display().to_string()), "{out}");
    assert!(out.stderr.contains(&format!("uid {OTHER_UID}")), "{out}");
    assert!(!marker.exists(), "the other user's ctl ran\n{out}");

    chown(&conf, 0);
    chmod(&conf, 0o664);
    let out = renew_forced(&rig);
    out.assert_code(3);
    assert!(out.stderr.contains("chmod go-w"), "{out}");
    assert!(!marker.exists(), "a group-writable config's ctl ran\n{out}");

    // Back to a config of ours (without the planted installer): state planted by another
    // user is refused too.
    json.as_object_mut().unwrap().remove("installer");
    std::fs::write(&conf, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    chmod(&conf, 0o644);
    let state = rig
        .env
        .work_dir()
        .join("state")
        .join(format!("{NAME}.json"));
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, "{}").unwrap();
    chown(&state, OTHER_UID);
    let out = renew_forced(&rig);
    out.assert_code(3);
    assert!(out.stderr.contains(&state.display().to_string()), "{out}");
    std::fs::remove_file(&state).unwrap();
    renew_forced(&rig).assert_success();
    // The marker does show a run: the same ctl, run directly, leaves it.
    run_directly(&ctl);
    assert!(marker.exists(), "the ctl left no marker");
}

/// Finding 7: a `certwright.log` symlink is not followed, a log file another user made is
/// not written (they could read it), and a symlinked logs dir's target is not chmodded.
#[test]
fn planted_log_file_and_logs_dir_are_not_followed_or_chmodded() {
    let env = crate::support::Env::new();
    let victim_dir = tempfile::tempdir().unwrap();
    chmod(victim_dir.path(), 0o755);
    let victim = victim_dir.path().join("shadow");
    std::fs::write(&victim, "root only\n").unwrap();
    chmod(&victim, 0o600);
    let logs = env.logs_dir();
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("certwright.log");
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    let renew = || env.renew(&[]);
    let out = renew();
    out.assert_success();
    assert!(out.stderr.contains("not following"), "{out}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root only\n");

    std::fs::remove_file(&log).unwrap();
    std::fs::write(&log, "").unwrap();
    chmod(&log, 0o644);
    chown(&log, OTHER_UID);
    let out = renew();
    out.assert_success();
    assert!(out.stderr.contains(&format!("uid {OTHER_UID}")), "{out}");
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        0,
        "logged into their file"
    );

    std::fs::remove_dir_all(&logs).unwrap();
    std::os::unix::fs::symlink(victim_dir.path(), &logs).unwrap();
    renew().assert_success();
    assert_eq!(
        crate::support::mode(victim_dir.path()),
        0o755,
        "target chmodded"
    );
}
