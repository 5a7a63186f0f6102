//! Issue 16, finding 1: the work dir of a `--user` setup belongs to the service user, who
//! can write fake nginx checkpoints there. Root's `rollback` (and the interrupted-change
//! recovery every install runs) must not let them choose what is written where.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::support::nginx::NGINX;
use crate::support::Env;

const NOBODY: u32 = 65534;

/// Run `script` with `sh` as uid/gid 65534 (the service user stand-in).
fn as_nobody(script: &str) {
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-ec",
        ])
        .arg(script)
        .output()
        .expect("run setpriv");
    assert!(
        out.status.success(),
        "as nobody: {script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A checkpoint as the service user would forge it: restore `evil` into `victim` (outside
/// the nginx tree), setuid and owned by root, with checksums that pass.
fn forge(dir: &Path, victim: &Path, victim_now: &[u8], in_progress: bool) {
    use sha2::Digest;
    let hex = |b: &[u8]| {
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let evil = b"evil\n";
    let manifest = serde_json::json!({
        "created": "20260101T000000Z",
        "files": [{
            "path": victim,
            "existed": true,
            "original_sha256": hex(evil),
            "backup": "0.orig",
            "mode": 0o4777,
            "uid": 0,
            "gid": 0,
            "written_sha256": hex(victim_now),
        }],
    });
    let d = dir.display();
    as_nobody(&format!(
        "mkdir -p {d}; printf 'evil\\n' > {d}/0.orig; cat > {d}/manifest.json <<'EOF'\n{manifest}\nEOF\n{}",
        if in_progress { format!(": > {d}/in-progress") } else { String::new() }
    ));
}

#[test]
fn forged_checkpoints_from_the_service_user_are_refused() {
    let env = Env::new();
    let server_root = tempfile::tempdir().expect("server root");
    let conf = server_root.path().join("nginx.conf");
    std::fs::write(&conf, "events {}\n").expect("write nginx.conf");
    // The documented `--user` setup: the service user owns the work dir.
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::os::unix::fs::chown(env.work_dir(), Some(NOBODY), Some(NOBODY)).unwrap();
    let victim = tempfile::tempdir().expect("victim dir");
    let victim = victim.path().join("victim.conf");
    std::fs::write(&victim, b"root's file\n").expect("write victim");
    let checkpoints = env.work_dir().join("nginx-checkpoints");

    for (seq, in_progress) in [(1, true), (2, false)] {
        let dir = checkpoints.join(format!("20260101T000000Z-00000{seq}"));
        forge(&dir, &victim, b"root's file\n", in_progress);
        let out = env
            .cli()
            .arg("rollback")
            .args(["--nginx-server-root"])
            .arg(server_root.path())
            .args(["--nginx-ctl", NGINX])
            .args(env.dir_flags())
            .run();
        out.assert_code(5);
        assert!(
            out.stderr.contains("refusing nginx checkpoint state")
                && out.stderr.contains("owned by uid 65534"),
            "{out}"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"root's file\n");
        let meta = std::fs::metadata(&victim).unwrap();
        assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o644, 0));
        as_nobody(&format!("rm -r {}", dir.display()));
    }

    // Even state root owns (say, copied there by root) names no file outside the tree.
    let dir = checkpoints.join("20260101T000000Z-000003");
    forge(&dir, &victim, b"root's file\n", false);
    Command::new("chown")
        .args(["-R", "0:0"])
        .arg(&dir)
        .status()
        .expect("chown");
    let out = env
        .cli()
        .arg("rollback")
        .args(["--nginx-server-root"])
        .arg(server_root.path())
        .args(["--nginx-ctl", NGINX])
        .args(env.dir_flags())
        .run();
    out.assert_code(5);
    assert!(
        out.stderr
            .contains("which is not a file of the nginx configuration"),
        "{out}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"root's file\n");
}
