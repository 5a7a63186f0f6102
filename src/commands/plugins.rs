//! `certwright plugins` (certbot's): the authenticators and the installer certwright has.

use crate::cli::PluginsArgs;
use crate::error::Error;
use crate::ops::output::print_stdout;
use crate::ops::Ctx;

/// Name, description, and whether it authenticates / installs.
const PLUGINS: &[(&str, &str, bool, bool)] = &[
    (
        "manual",
        "Manual configuration or run your own hooks (--manual-auth-hook)",
        true,
        false,
    ),
    (
        "nginx",
        "Nginx Web Server (temporary challenge locations; install, redirect, HSTS)",
        true,
        true,
    ),
    (
        "standalone",
        "Spin up a temporary webserver on --http-01-port",
        true,
        false,
    ),
    (
        "webroot",
        "Place files in a webroot folder (-w, --webroot-map)",
        true,
        false,
    ),
    (
        "dns-rfc2136",
        "RFC 2136 dynamic updates signed with TSIG",
        true,
        false,
    ),
    ("dns-cloudflare", "Cloudflare DNS API", true, false),
    ("dns-route53", "Amazon Route 53", true, false),
];

pub(super) fn run(_ctx: &Ctx, args: PluginsArgs) -> Result<(), Error> {
    let both = !args.authenticators && !args.installers;
    let mut out = String::new();
    let providers = crate::challenge::dns::PROVIDERS
        .iter()
        .filter(|p| !["rfc2136", "cloudflare"].contains(&p.name))
        .map(|p| (format!("dns-{}", p.name), p.about));
    let all = PLUGINS
        .iter()
        .map(|(n, d, a, i)| (n.to_string(), *d, *a, *i))
        .chain(providers.map(|(n, d)| (n, d, true, false)));
    for (name, about, auth, inst) in all {
        if !(both || (args.authenticators && auth) || (args.installers && inst)) {
            continue;
        }
        let kinds: Vec<&str> = [(auth, "Authenticator"), (inst, "Installer")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, k)| *k)
            .collect();
        out.push_str(&format!(
            "* {name}\nDescription: {about}\nInterfaces: {}\n\n",
            kinds.join(", ")
        ));
    }
    print_stdout(&out);
    Ok(())
}
