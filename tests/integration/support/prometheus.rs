//! A real Prometheus (Debian's `prometheus`) on a free port, scraping one target every second.

use super::{free_port, read_lossy};

/// Debian's Prometheus on a free port scraping one target every second; killed on drop.
pub struct Prometheus {
    dir: tempfile::TempDir,
    child: std::process::Child,
    pub port: u16,
}

impl Prometheus {
    pub fn start(target_port: u16) -> Prometheus {
        let dir = tempfile::tempdir().expect("prometheus dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: certwright\n    \
             static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("write config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("log")).expect("log");
        let child = std::process::Command::new("/usr/bin/prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("prometheus missing: apt-get install prometheus");
        Prometheus { dir, child, port }
    }

    pub fn log(&self) -> String {
        read_lossy(&self.dir.path().join("log"))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
