//! A stand-in for nginx in a Docker container, without a Docker engine: the test's nginx is
//! restarted inside its own mount namespace (`unshare -m`, as root) where a host directory
//! is bind-mounted at another path, as `docker run -v HOST:CONTAINER` would; a `docker`
//! script answers `docker exec web CMD...` by running CMD in that namespace (`nsenter`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::nginx::{process_alive, NGINX};
use super::{wait_for, Nginx};

pub struct Container {
    dir: TempDir,
}

impl Container {
    /// Stop `nginx` and start it again in a mount namespace where `host_dir` is mounted at
    /// `mount_point()`, a directory that is empty on the host.
    pub fn start(nginx: &Nginx, host_dir: &Path) -> Container {
        let dir = tempfile::Builder::new()
            .prefix("certwright-container-")
            .tempdir()
            .expect("container temp dir");
        let c = Container { dir };
        std::fs::create_dir(c.mount_point()).expect("mount point");
        let pid_file = nginx.server_root().join("run/nginx.pid");
        let script = format!(
            "#!/bin/sh\n\
             # docker stand-in: only `docker exec web CMD...`, run in the container's mounts.\n\
             [ \"$1\" = exec ] || {{ echo \"docker stand-in: only exec\" >&2; exit 125; }}\n\
             [ \"$2\" = web ] || {{ echo \"Error: No such container: $2\" >&2; exit 1; }}\n\
             shift 2\n\
             exec nsenter --target \"$(cat '{}')\" --mount -- \"$@\"\n",
            pid_file.display()
        );
        std::fs::write(c.docker(), script).expect("write docker stand-in");
        std::fs::set_permissions(c.docker(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod docker stand-in");

        let old = nginx.read_pid().expect("nginx runs");
        run(Command::new(NGINX)
            .arg("-c")
            .arg(nginx.conf_path())
            .args(["-s", "stop"]));
        let stopped = wait_for(Duration::from_secs(10), || {
            (!process_alive(old)).then_some(())
        });
        assert!(stopped.is_some(), "host nginx did not stop");
        run(Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mount --bind \"$1\" \"$2\" && exec \"$3\" -c \"$4\"")
            .arg("sh")
            .arg(host_dir)
            .arg(c.mount_point())
            .arg(NGINX)
            .arg(nginx.conf_path()));
        let started = wait_for(Duration::from_secs(10), || {
            nginx.read_pid().filter(|p| *p != old && process_alive(*p))
        });
        assert!(started.is_some(), "nginx did not start in its namespace");
        c
    }

    /// Where the host directory appears inside the "container" (empty on the host).
    pub fn mount_point(&self) -> PathBuf {
        self.dir.path().join("etc-certwright")
    }

    /// The stand-in `docker` program.
    pub fn docker(&self) -> PathBuf {
        self.dir.path().join("docker")
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
