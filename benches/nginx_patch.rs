//! Median time of parse + install planning + print for a config with 1,000 server blocks.
//! Prints a number for humans to compare; it asserts nothing about speed.

use std::path::Path;
use std::time::{Duration, Instant};

use certwright::nginx::{plan_install, print, Config, InstallRequest};

const BLOCKS: usize = 1000;
const RUNS: usize = 21;

fn generated_config() -> String {
    let mut s = String::from("events {}\nhttp {\n    include mime.types;\n");
    for i in 0..BLOCKS {
        s.push_str(&format!(
            "    # site {i}\n    server {{\n        listen 80;\n        listen [::]:80;\n        server_name site{i}.example.com www.site{i}.example.com;\n        root \"/var/www/site {i}\";\n        location / {{\n            try_files $uri $uri/ =404;\n        }}\n    }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

fn main() {
    let source = generated_config();
    let req = InstallRequest {
        names: vec!["site500.example.com".parse().expect("valid domain literal")],
        fullchain: "/etc/certwright/live/site500/fullchain.pem".into(),
        privkey: "/etc/certwright/live/site500/privkey.pem".into(),
        http_port: 80,
        https_port: 443,
        redirect: true,
        hsts: false,
    };
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let config = Config::from_source(Path::new("/bench/nginx.conf"), &source)
            .expect("generated config parses");
        let edits = plan_install(&config, &req).expect("site500 is served");
        let printed = print(&config.files[0].nodes);
        times.push(start.elapsed());
        assert_eq!(printed.len(), source.len());
        assert_eq!(edits.len(), 1);
    }
    times.sort();
    println!(
        "nginx_patch: parse+plan_install+print, {BLOCKS} server blocks ({} KiB): median {:?} over {RUNS} runs",
        source.len() / 1024,
        times[RUNS / 2]
    );
}
