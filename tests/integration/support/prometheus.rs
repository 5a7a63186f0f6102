//! A real Prometheus (Debian's `prometheus`) on a free port, scraping one target every second.

use std::time::Duration;

use super::{free_port, net, read_lossy, wait_for};

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

    /// Polls the query API (up to a minute) until `metric{lineage="..."}` has a value.
    pub fn wait_for_value(&self, metric: &str, lineage: &str) -> Option<String> {
        let query = format!("/api/v1/query?query={metric}");
        wait_for(Duration::from_secs(60), || {
            let answer = net::http_get(self.port, "localhost", &query).ok()?;
            let json: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
            let results = json["data"]["result"].as_array()?;
            results
                .iter()
                .find(|r| r["metric"]["lineage"] == lineage)
                .and_then(|r| r["value"][1].as_str().map(String::from))
        })
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
