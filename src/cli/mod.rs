//! Command-line types (clap derive): the doc comments are the `--help` text and the man
//! pages. `resolve` turns parsed arguments into the validated requests `ops` takes; every
//! exit-2 error is made there, before any network I/O.
// The doc comments below are help text (`[:PORT]`, `<work-dir>`), not rustdoc markup.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

pub mod certbot_flags;
pub(crate) mod ini;
pub(crate) mod resolve;

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Obtain, install and renew TLS certificates from any ACME CA.
#[derive(Debug, Parser)]
#[command(
    name = "certwright",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,

    /// Per `-d` value, the index of the `-w` given last before it (certbot's webroot map).
    #[arg(skip)]
    pub webroots: Vec<Option<usize>>,

    /// certbot flags dropped because they have no effect here, one note each.
    #[arg(skip)]
    pub notes: Vec<String>,
}

/// The clap command with the exit-code table (from `error::EXIT_CODES`) as its epilogue:
/// `--help`, the man pages and completions are all made from this.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().after_help(crate::error::exit_codes_help())
}

/// Parse a command line: certbot's default subcommand, the defaults file (`cli.ini`),
/// certbot's flags (see `certbot_flags`), then clap, then the webroot map.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let cmd = command();
    let args = ini::with_file_defaults(with_default_subcommand(args), &cmd)?;
    let (args, notes) = certbot_flags::rewrite(args, &cmd)?;
    let matches = cmd.try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.webroots = webroot_assignments(&matches);
    cli.notes = notes;
    Ok(cli)
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where certificates, accounts and renewal configs live.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_CONFIG_DIR",
        default_value = "/etc/certwright",
        value_name = "DIR"
    )]
    pub config_dir: PathBuf,

    /// Default flags for every run, in certbot's cli.ini format (one `long-flag = value` per
    /// line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini,
    /// read only if present. The command line and environment variables override it.
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Working state: renewal bookkeeping, nginx checkpoints.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_WORK_DIR",
        default_value = "/var/lib/certwright",
        value_name = "DIR"
    )]
    pub work_dir: PathBuf,

    /// Where the log file (certwright.log, mode 0600) is written.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_LOGS_DIR",
        default_value = "/var/log/certwright",
        value_name = "DIR"
    )]
    pub logs_dir: PathBuf,

    /// Never prompt; fail instead where an answer would be needed.
    #[arg(
        short = 'n',
        long = "non-interactive",
        global = true,
        alias = "noninteractive"
    )]
    pub non_interactive: bool,

    /// More detail in the log file and on stderr (repeat for more).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Start as root, bind the standalone HTTP-01 port(s), then run as this user (the
    /// config, work and logs dirs must belong to it). The alternative to running as root:
    /// `setcap cap_net_bind_service=+ep` on the binary.
    #[arg(long, global = true, env = "CERTWRIGHT_USER", value_name = "NAME")]
    pub user: Option<String>,

    /// Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock
    /// with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB
    /// (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on
    /// the filesystem's flock), existing, mode 0700. Each node still writes its own live/
    /// files for its nginx.
    #[arg(long, global = true, env = "CERTWRIGHT_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// With --store: file holding the fleet's 32-byte key, base64 (`openssl rand -base64
    /// 32`), mode 0600, the same on every node. Private keys and account keys are stored
    /// encrypted with it, never in clear.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_STORE_KEY_FILE",
        value_name = "FILE"
    )]
    pub store_key_file: Option<PathBuf>,

    /// With --store rediss://: PEM file of the CA(s) that signed the Redis server's TLS
    /// certificate, trusted instead of the system's roots (a private CA).
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_STORE_CA_BUNDLE",
        value_name = "PEMFILE"
    )]
    pub store_ca_bundle: Option<PathBuf>,

    /// With --store redis://: every key certwright writes starts with "PREFIX:" (several
    /// fleets can share one Redis). A file:// store takes only the default: give each fleet
    /// its own directory.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_STORE_PREFIX",
        default_value = "certwright",
        value_name = "PREFIX"
    )]
    pub store_prefix: String,

    /// With --store: this node's name in the fleet (default: the host name).
    #[arg(long, global = true, env = "CERTWRIGHT_NODE_ID", value_name = "NAME")]
    pub node_id: Option<String>,

    /// With --store redis://: seconds before a lineage lock held by a node that stopped
    /// refreshing it (crashed, cut off) expires and another node may renew. A file:// lock
    /// needs none: the kernel releases it when its holder dies.
    #[arg(
        long,
        global = true,
        env = "CERTWRIGHT_STORE_LOCK_TTL",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(2..=3600),
        value_name = "SECS"
    )]
    pub store_lock_ttl: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Obtain a certificate and install it into nginx (the default when no subcommand is
    /// given, as certbot): `certwright --nginx -d example.com`.
    Run(RunArgs),
    /// Obtain a certificate and store it, without installing it anywhere.
    Certonly(CertonlyArgs),
    /// Install an existing certificate into nginx. A wildcard *.example.com goes into the
    /// blocks named *.example.com or .example.com and those serving a name one label under it.
    Install(InstallArgs),
    /// Restore the nginx configuration as it was before certwright's last change(s).
    Rollback(RollbackArgs),
    /// List the certificates certwright manages.
    Certificates(CertificatesArgs),
    /// Renew every certificate that is due (for cron, systemd timers and CI with --dry-run).
    Renew(RenewArgs),
    /// Show when each certificate will renew and why; offline, changes nothing.
    Plan(PlanArgs),
    /// Run as a scheduler: renew each certificate when it is due, until stopped.
    Daemon(DaemonArgs),
    /// Register an ACME account with the server (once per server; nothing is issued).
    Register(RegisterArgs),
    /// Show the stored account for a server: URL, contact, key thumbprint.
    #[command(name = "show_account", visible_alias = "show-account")]
    ShowAccount(ShowAccountArgs),
    /// Change the account's contact email, or replace its key (--rollover-key).
    #[command(name = "update_account", visible_alias = "update-account")]
    UpdateAccount(UpdateAccountArgs),
    /// Deactivate the account at the CA (irreversible) and remove it from this machine;
    /// asks first unless -n.
    Unregister(UnregisterArgs),
    /// Revoke a certificate with the CA.
    Revoke(RevokeArgs),
    /// Delete a certificate's files (live, archive, renewal config, state); refused while
    /// nginx uses them; asks first unless -n.
    Delete(DeleteArgs),
    /// Change a certificate's saved renewal settings; saved only after a dry-run renewal
    /// with the new settings succeeds.
    Reconfigure(ReconfigureArgs),
    /// Take over certbot's certificates: each lineage under /etc/letsencrypt becomes a
    /// certwright lineage with an equivalent renewal config; certbot's files are not changed.
    #[command(name = "import-certbot")]
    ImportCertbot(ImportCertbotArgs),
    /// Send alerts by hand: --test sends a test event to every given target.
    Notify(NotifyArgs),
    /// Check that nginx serves each lineage's live certificate: connect to every HTTPS
    /// listen of the server blocks using it, with SNI per name; exit 1 on a mismatch.
    Verify(VerifyArgs),
    /// Say why a name would fail validation, before asking the CA: DNS (each A and AAAA
    /// address probed as the CA would, CNAME chains, NXDOMAIN/SERVFAIL), DNSSEC, CAA, the
    /// HTTP path (redirects; nginx's block and location by file:line), the CA's clock; and
    /// whether anything will renew. Orders nothing; removes what it publishes to probe.
    /// --dns-resolver names the resolvers every lookup asks (default: resolv.conf's).
    /// Exit 7 when a finding would make validation fail; warnings alone exit 0.
    Doctor(DoctorArgs),
    /// Add the redirect to https and/or HSTS to a lineage installed in nginx (certbot's
    /// enhance).
    Enhance(EnhanceArgs),
    /// List the authenticators and installers certwright has (certbot's plugins).
    Plugins(PluginsArgs),
}

#[derive(Debug, Args)]
pub struct EnhanceArgs {
    /// The lineage whose nginx server blocks get the enhancements.
    #[arg(long, value_name = "NAME", required = true)]
    pub cert_name: String,

    /// Make port 80 answer 301 to https for the certificate's names.
    #[arg(long)]
    pub redirect: bool,

    /// Add a Strict-Transport-Security header (one year).
    #[arg(long)]
    pub hsts: bool,

    /// The installer (certbot's -i / --nginx): nginx, the only one.
    #[arg(short = 'i', long = "installer", value_name = "PLUGIN", value_parser = ["nginx"])]
    pub installer_name: Option<String>,

    /// Install into nginx (the only installer).
    #[arg(long)]
    pub nginx: bool,

    #[command(flatten)]
    pub nginx_args: NginxArgs,

    /// Print the unified diff of what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Only the authenticators.
    #[arg(long)]
    pub authenticators: bool,

    /// Only the installers.
    #[arg(long)]
    pub installers: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Names to check (comma-separated or repeated); default: every lineage's names.
    #[arg(
        short = 'd',
        long = "domains",
        alias = "domain",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub domains: Vec<String>,

    /// Check these lineages' names, with each lineage's saved solver and CA (repeatable).
    #[arg(long, value_name = "NAME", conflicts_with = "domains")]
    pub cert_name: Vec<String>,

    /// Print one JSON object (schema 1) on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub auth: AuthenticatorArgs,

    #[command(flatten)]
    pub nginx: NginxArgs,

    #[command(flatten)]
    pub server: ServerArgs,

    /// certbot's configuration directory, to find names certbot also renews.
    #[arg(long, default_value = "/etc/letsencrypt", value_name = "DIR")]
    pub certbot_dir: PathBuf,

    /// Where the system's cron and systemd files are read from (tests: a temp dir).
    #[arg(
        long,
        hide = true,
        env = "CERTWRIGHT_SYSTEM_ROOT",
        default_value = "/",
        value_name = "DIR"
    )]
    pub system_root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportCertbotArgs {
    /// certbot's configuration directory (its renewal/, live/, archive/ and accounts/).
    #[arg(long, default_value = "/etc/letsencrypt", value_name = "DIR")]
    pub certbot_dir: PathBuf,

    /// Show what would be imported; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// PEM bundle to trust for the ACME server, saved in the imported renewal configs (for a
    /// private CA; certbot read it from REQUESTS_CA_BUNDLE).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReconfigureArgs {
    /// The lineage whose renewal settings change.
    #[arg(long, value_name = "NAME", required = true)]
    pub cert_name: String,

    /// New private key algorithm (the next renewal generates a key of this type).
    #[arg(long, value_enum)]
    pub key_type: Option<KeyTypeArg>,

    /// New curve for ECDSA keys.
    #[arg(long, value_enum)]
    pub elliptic_curve: Option<CurveArg>,

    /// New size for RSA keys.
    #[arg(long, value_parser = rsa_sizes())]
    pub rsa_key_size: Option<u32>,

    #[command(flatten)]
    pub keys: KeyAndChainArgs,

    /// Answer HTTP-01 with certwright's own web server.
    #[arg(long, conflicts_with_all = ["webroot", "nginx"])]
    pub standalone: bool,

    /// Answer HTTP-01 through the running nginx.
    #[arg(long, conflicts_with = "webroot")]
    pub nginx: bool,

    /// Answer HTTP-01 by writing files under a document root (-w).
    #[arg(long, requires = "webroot_path")]
    pub webroot: bool,

    /// Document root for every name of the certificate (with --webroot).
    #[arg(
        short = 'w',
        long = "webroot-path",
        value_name = "DIR",
        requires = "webroot"
    )]
    pub webroot_path: Option<PathBuf>,

    #[command(flatten)]
    pub nginx_args: NginxArgs,

    #[command(flatten)]
    pub deploy: DeployArgs,

    /// Port the CA's probe reaches (standalone listener or nginx server blocks).
    #[arg(long = "http-01-port", value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub http_01_port: Option<u16>,

    /// With --dry-run's renewal: use this ACME directory instead of the staging counterpart.
    #[arg(long, value_name = "URL")]
    pub dry_run_server: Option<String>,

    /// New --pre-hook / --post-hook / --deploy-hook for the lineage (saved after the dry run).
    #[command(flatten)]
    pub hooks: HookArgs,
}

#[derive(Debug, Args)]
pub struct CertonlyArgs {
    #[command(flatten)]
    pub auth: AuthenticatorArgs,

    #[command(flatten)]
    pub nginx: NginxArgs,

    #[command(flatten)]
    pub request: CertRequestArgs,

    #[command(flatten)]
    pub account: AccountArgs,

    #[command(flatten)]
    pub csr: CsrArgs,

    #[command(flatten)]
    pub deploy: DeployArgs,

    #[command(flatten)]
    pub hooks: HookArgs,

    /// certonly: go through issuance against the CA's staging counterpart (Let's Encrypt
    /// production -> staging; other CAs: the same server, or --dry-run-server) and keep
    /// nothing: no certificate, key, config or account is written; exit 0 only if issuance
    /// would succeed. run: print the unified diff of the nginx changes the install would
    /// make instead; obtain nothing and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// With certonly --dry-run: use this ACME directory instead of the staging counterpart.
    #[arg(long, value_name = "URL", requires = "dry_run")]
    pub dry_run_server: Option<String>,

    /// Print one JSON object (schema 1) on stdout instead of a text summary.
    #[arg(long)]
    pub json: bool,
}

/// certbot's hooks: given to certonly or run they run now and are saved in the lineage's
/// renewal config; given to renew they run in that pass and are saved for the next ones.
#[derive(Debug, Args, Default)]
pub struct HookArgs {
    /// Shell command run once before obtaining certificates (saved for renewals).
    #[arg(long, value_name = "CMD")]
    pub pre_hook: Option<String>,

    /// Shell command run once after obtaining certificates, even if it failed (saved).
    #[arg(long, value_name = "CMD")]
    pub post_hook: Option<String>,

    /// Shell command run after each certificate obtained, with RENEWED_LINEAGE (the live
    /// directory) and RENEWED_DOMAINS (space-separated) in its environment (saved).
    #[arg(long, value_name = "CMD", alias = "renew-hook")]
    pub deploy_hook: Option<String>,

    /// Do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/.
    #[arg(long)]
    pub no_directory_hooks: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub certonly: CertonlyArgs,

    /// The installer (certbot's -i): nginx, the only one. With another authenticator
    /// (`-a webroot -w DIR -i nginx`) the certificate is obtained that way and installed
    /// into nginx; alone it means --nginx.
    #[arg(short = 'i', long = "installer", value_name = "PLUGIN", value_parser = ["nginx"])]
    pub installer_name: Option<String>,

    #[command(flatten)]
    pub installer: InstallerArgs,

    // Alert targets for a served_mismatch: nginx does not serve the installed certificate.
    #[command(flatten)]
    pub alerts: AlertTargetArgs,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The lineage to install (see `certwright certificates`); or give --cert-path and
    /// --key-path of a lineage's live files.
    #[arg(long, value_name = "NAME", required_unless_present = "cert_path")]
    pub cert_name: Option<String>,

    /// Install into nginx (the only installer).
    #[arg(long)]
    pub nginx: bool,

    /// The installer (certbot's -i): nginx, the only one.
    #[arg(short = 'i', long = "installer", value_name = "PLUGIN", value_parser = ["nginx"])]
    pub installer_name: Option<String>,

    /// certbot's way to name what to install: a lineage's live cert.pem (or fullchain.pem);
    /// the lineage is found from it. Files of no lineage are refused: import them first.
    #[arg(long, value_name = "PATH", requires = "key_path")]
    pub cert_path: Option<PathBuf>,

    /// With --cert-path: the lineage's privkey.pem (checked to be the same lineage's).
    #[arg(long, value_name = "PATH", requires = "cert_path")]
    pub key_path: Option<PathBuf>,

    /// With --cert-path: the lineage's fullchain.pem (checked to be the same lineage's).
    #[arg(long, value_name = "PATH", requires = "cert_path")]
    pub fullchain_path: Option<PathBuf>,

    /// With --cert-path: the lineage's chain.pem (checked to be the same lineage's).
    #[arg(long, value_name = "PATH", requires = "cert_path")]
    pub chain_path: Option<PathBuf>,

    #[command(flatten)]
    pub nginx_args: NginxArgs,

    #[command(flatten)]
    pub installer: InstallerArgs,

    #[command(flatten)]
    pub deploy: DeployArgs,

    /// The plain-HTTP port whose server blocks serve the names (the one redirected).
    #[arg(long = "http-01-port", default_value_t = 80, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub http_01_port: u16,

    /// Print the unified diff of what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    // Alert targets for a served_mismatch: nginx does not serve the installed certificate.
    #[command(flatten)]
    pub alerts: AlertTargetArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// How many of certwright's nginx changes to undo, newest first.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub checkpoints: u16,

    #[command(flatten)]
    pub nginx_args: NginxArgs,
}

/// Where Debian's and most distributions' nginx keeps its configuration.
pub const DEFAULT_NGINX_ROOT: &str = "/etc/nginx";

#[derive(Debug, Args)]
pub struct NginxArgs {
    /// nginx's configuration directory; its main file is nginx.conf there.
    #[arg(long, default_value = DEFAULT_NGINX_ROOT, value_name = "DIR")]
    pub nginx_server_root: PathBuf,

    /// The nginx binary used for `nginx -t` and reloads, or a command line ending in it
    /// for nginx in a container: --nginx-ctl "docker exec web nginx".
    #[arg(long, default_value = "nginx", value_name = "PATH|COMMAND")]
    pub nginx_ctl: PathBuf,

    /// nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable).
    /// Config files are edited on the host; the certificate paths written into them, and
    /// `-c`, are the container's. Saved for renewals.
    #[arg(long, value_name = "HOST=CONTAINER")]
    pub nginx_path_map: Vec<String>,
}

/// Deploy targets: extra copies for other services, saved in the renewal config and
/// rewritten after every renewal and install, before the deploy hook.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Also write a PKCS#12 keystore here (key, certificate and chain; alias = lineage name;
    /// AES-256-CBC, PBKDF2, HMAC-SHA256), for Java services. Needs the password file.
    #[arg(long, value_name = "PATH", requires = "deploy_pkcs12_password_file")]
    pub deploy_pkcs12: Option<PathBuf>,

    /// File holding the keystore password (mode 0600; read at each deploy, never saved).
    #[arg(long, value_name = "FILE", requires = "deploy_pkcs12")]
    pub deploy_pkcs12_password_file: Option<PathBuf>,

    /// Also write fullchain followed by the key into this one file, mode 0600 (HAProxy's crt).
    #[arg(long, value_name = "PATH")]
    pub deploy_combined: Option<PathBuf>,

    /// Also copy cert.pem, chain.pem, fullchain.pem and privkey.pem into this directory for a
    /// service running as --deploy-owner; the four are switched together by one symlink swap.
    #[arg(long, value_name = "DIR", requires = "deploy_owner")]
    pub deploy_dir: Option<PathBuf>,

    /// USER[:GROUP] owning the --deploy-dir copies (the group defaults to USER's).
    #[arg(long, value_name = "USER[:GROUP]", requires = "deploy_dir")]
    pub deploy_owner: Option<String>,

    /// Octal mode of the --deploy-dir files: 0640 (the default) or stricter.
    #[arg(long, value_name = "MODE", requires = "deploy_dir")]
    pub deploy_mode: Option<String>,
}

#[derive(Debug, Args)]
pub struct InstallerArgs {
    /// Make port 80 answer 301 to https for the certificate's names (the default).
    #[arg(long, overrides_with = "no_redirect")]
    pub redirect: bool,

    /// Leave plain HTTP as it is.
    #[arg(long)]
    pub no_redirect: bool,

    /// Add a Strict-Transport-Security header (one year).
    #[arg(long)]
    pub hsts: bool,

    /// The port the installer adds `listen ... ssl` for.
    #[arg(long, default_value_t = 443, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub https_port: u16,
}

/// `--dns` values: the providers of `challenge::dns::PROVIDERS`, each with its line of help.
fn dns_providers() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::challenge::dns::PROVIDERS.iter().map(|p| {
        let keys = p.required.join(", ");
        clap::builder::PossibleValue::new(p.name).help(format!("{} ({keys})", p.about))
    }))
}

#[derive(Debug, Args, Default)]
pub struct AuthenticatorArgs {
    /// Answer HTTP-01 with certwright's own web server (the default).
    #[arg(long, conflicts_with_all = ["webroot", "nginx"])]
    pub standalone: bool,

    /// Answer HTTP-01 through the running nginx: a temporary location in the server block
    /// for each name, removed again afterwards.
    #[arg(long, conflicts_with = "webroot")]
    pub nginx: bool,

    /// Answer HTTP-01 by writing files under a web server's document root.
    #[arg(long)]
    pub webroot: bool,

    /// Document root for the -d names that follow it (repeatable, as certbot's -w).
    #[arg(short = 'w', long = "webroot-path", value_name = "DIR")]
    pub webroot_path: Vec<PathBuf>,

    /// certbot's JSON map of names to document roots, `{"a.example.com,www.a.example.com":
    /// "/var/www/a", "b.example.com": "/var/www/b"}`: its names are requested too, and it
    /// wins over -w for the names it lists.
    #[arg(long, value_name = "JSON")]
    pub webroot_map: Option<String>,

    /// Port the CA's probe reaches: where the standalone server listens, or the port whose
    /// nginx server blocks answer it. The CA always probes port 80, so another port only
    /// makes sense behind a forward (or for tests).
    #[arg(long = "http-01-port", default_value_t = 80, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub http_01_port: u16,

    /// Address the standalone server binds (default: all IPv4 and IPv6 addresses).
    #[arg(long = "http-01-address", value_name = "ADDR")]
    pub http_01_address: Option<String>,

    /// Answer DNS-01 with RFC 2136 dynamic updates signed with a TSIG key, as certbot's
    /// dns-rfc2136 plugin does. DNS-01 is the only way to get wildcard (*.example.com) names.
    #[arg(long, conflicts_with_all = ["standalone", "webroot"], requires = "dns_rfc2136_credentials")]
    pub dns_rfc2136: bool,

    /// certbot's dns-rfc2136 credentials file (dns_rfc2136_server, _port, _name, _secret,
    /// _algorithm, _sign_query). Refused if group or others can read it.
    #[arg(long, value_name = "FILE", requires = "dns_rfc2136")]
    pub dns_rfc2136_credentials: Option<PathBuf>,

    /// Extra seconds to wait after every server serves the records (default 0: the records
    /// are looked up, not waited for blindly).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        requires = "dns_rfc2136"
    )]
    pub dns_rfc2136_propagation_seconds: u64,

    /// Answer DNS-01 through this provider's API (or RFC 2136), with the dns_PROVIDER_* keys
    /// of --dns-credentials.
    #[arg(
        long,
        value_name = "PROVIDER",
        value_parser = dns_providers(),
        conflicts_with_all = ["standalone", "webroot", "dns_rfc2136", "dns_cloudflare"],
        requires = "dns_credentials"
    )]
    pub dns: Option<String>,

    /// INI file (`key = value`) with the --dns provider's keys, e.g. dns_pdns_api_url and
    /// dns_pdns_api_key. Refused if group or others can read it; only its path is saved.
    #[arg(long, value_name = "FILE", requires = "dns")]
    pub dns_credentials: Option<PathBuf>,

    /// Extra seconds to wait after every server serves the --dns records (default 0).
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "dns")]
    pub dns_propagation_seconds: u64,

    /// certbot's dns-cloudflare spelling of --dns cloudflare.
    #[arg(
        long,
        conflicts_with_all = ["standalone", "webroot", "dns_rfc2136"],
        requires = "dns_cloudflare_credentials"
    )]
    pub dns_cloudflare: bool,

    /// certbot's dns-cloudflare credentials file (dns_cloudflare_api_token).
    #[arg(long, value_name = "FILE", requires = "dns_cloudflare")]
    pub dns_cloudflare_credentials: Option<PathBuf>,

    /// Extra seconds to wait after every server serves the Cloudflare records (default 0).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        requires = "dns_cloudflare"
    )]
    pub dns_cloudflare_propagation_seconds: u64,

    /// Answer DNS-01 through Route53, as certbot's dns-route53: AWS credentials from the
    /// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the
    /// shared credentials/config files (AWS_PROFILE), else the EC2 instance role (IMDSv2);
    /// AWS_ENDPOINT_URL_ROUTE_53 or AWS_ENDPOINT_URL replace the endpoint.
    #[arg(
        long,
        conflicts_with_all = ["standalone", "webroot", "dns_rfc2136", "dns", "dns_cloudflare"]
    )]
    pub dns_route53: bool,

    /// Extra seconds to wait after every server serves the Route53 records (default 0).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        requires = "dns_route53"
    )]
    pub dns_route53_propagation_seconds: u64,

    /// Check DNS-01 propagation at this server instead of the zone's nameservers
    /// (ADDR or ADDR:PORT; repeatable).
    #[arg(long = "dns-resolver", value_name = "ADDR[:PORT]")]
    pub dns_resolver: Vec<String>,

    /// Answer the challenges with your own scripts, as certbot's --manual: --manual-auth-hook
    /// publishes each value, --manual-cleanup-hook removes it (environment CERTBOT_DOMAIN,
    /// CERTBOT_VALIDATION, CERTBOT_TOKEN (http-01), CERTBOT_REMAINING_CHALLENGES,
    /// CERTBOT_ALL_DOMAINS; cleanup also gets CERTBOT_AUTH_OUTPUT, the auth hook's stdout).
    /// dns-01 values are looked up before the CA is asked, as with the other DNS solvers.
    /// Without --manual-auth-hook, at a terminal: each value is printed and Enter awaited.
    #[arg(
        long,
        conflicts_with_all = ["standalone", "webroot", "dns_rfc2136", "dns", "dns_cloudflare", "dns_route53"]
    )]
    pub manual: bool,

    /// Command run (by sh -c) once per challenge before the CA is asked.
    #[arg(long, value_name = "CMD", requires = "manual")]
    pub manual_auth_hook: Option<String>,

    /// Command run (by sh -c) once per challenge afterwards: on success, on failure, and on
    /// SIGINT/SIGTERM (a run killed outright is cleaned up by the next --manual run).
    #[arg(long, value_name = "CMD", requires = "manual")]
    pub manual_cleanup_hook: Option<String>,

    /// Challenge types in order of preference, comma-separated: dns-01 (dns), http-01 (http).
    /// --manual answers the first; the other solvers check theirs is listed.
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    pub preferred_challenges: Vec<String>,

    /// Accepted for certbot command lines; does nothing (certbot deprecated it too).
    #[arg(long, hide = true)]
    pub manual_public_ip_logging_ok: bool,
}

#[derive(Debug, Args)]
pub struct CertRequestArgs {
    /// Domain name(s) for the certificate; comma-separated or repeated.
    #[arg(
        short = 'd',
        long = "domains",
        alias = "domain",
        value_delimiter = ',',
        value_name = "NAME",
        required_unless_present_any = ["csr", "ip_address", "cert_name", "webroot_map"]
    )]
    pub domains: Vec<String>,

    /// Name of the lineage (directory under live/); default: the first domain. Without -d,
    /// the lineage's saved names are requested again.
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,

    /// Private key algorithm.
    #[arg(long, value_enum, default_value_t = KeyTypeArg::Ecdsa)]
    pub key_type: KeyTypeArg,

    /// Curve for ECDSA keys.
    #[arg(long, value_enum, default_value_t = CurveArg::Secp256r1)]
    pub elliptic_curve: CurveArg,

    /// Size of RSA keys.
    #[arg(long, default_value = "2048", value_parser = rsa_sizes())]
    pub rsa_key_size: u32,

    /// Obtain a new certificate even if the current one is far from expiry.
    #[arg(long, alias = "renew-by-default")]
    pub force_renewal: bool,

    /// Allow adding names to an existing certificate.
    #[arg(long)]
    pub expand: bool,

    #[command(flatten)]
    pub issuance: IssuanceArgs,
}

/// certbot's issuance options; each is saved in the renewal config so `renew` repeats it.
/// Key reuse and chain choice: saved in the renewal config by `certonly`/`run` and
/// changed by `reconfigure`.
#[derive(Debug, Args, Default)]
pub struct KeyAndChainArgs {
    /// Keep the lineage's current private key when renewing (saved for later renewals).
    #[arg(long, overrides_with = "new_key")]
    pub reuse_key: bool,

    /// Generate a new private key for this issuance, and stop --reuse-key for later ones.
    #[arg(long, overrides_with = "reuse_key", alias = "no-reuse-key")]
    pub new_key: bool,

    /// Prefer the CA's alternate chain whose topmost certificate is issued by this common
    /// name (e.g. "ISRG Root X1"); the default chain is kept if none matches. "" removes a
    /// saved preference.
    #[arg(long, value_name = "ISSUER CN")]
    pub preferred_chain: Option<String>,
}

#[derive(Debug, Args)]
pub struct IssuanceArgs {
    #[command(flatten)]
    pub keys: KeyAndChainArgs,

    /// Ask for this ACME profile if the CA offers it (a warning and the CA's default if not).
    #[arg(long, value_name = "NAME", conflicts_with = "required_profile")]
    pub preferred_profile: Option<String>,

    /// Ask for this ACME profile; fail (exit 2) before ordering if the CA does not offer it.
    #[arg(long, value_name = "NAME")]
    pub required_profile: Option<String>,

    /// If some names fail validation, issue for the others (a warning names those dropped).
    #[arg(long)]
    pub allow_subset_of_names: bool,

    /// IP address for the certificate (RFC 8738; repeatable), with --standalone or --webroot.
    #[arg(long = "ip-address", value_name = "ADDR")]
    pub ip_address: Vec<String>,

    /// Wait at most SECS for the CA to issue a finalized order it keeps "processing"
    /// (polled as its Retry-After asks) [default: 90]. Saved for renewals.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub issuance_timeout: Option<u64>,

    /// A second CA (directory URL) a renewal is retried at when this lineage's CA fails it
    /// (refused, rate limited, unreachable); saved for renewals, "" removes it. Its account
    /// is the server's stored one, else registered then: for EAB, run `register --server
    /// URL --eab-kid ... --eab-hmac-key ...` first. --ca-bundle must trust both CAs.
    #[arg(long, value_name = "URL")]
    pub fallback_server: Option<String>,
}

/// certbot's `--csr`: issue for a certificate signing request whose key stays with you.
#[derive(Debug, Args)]
pub struct CsrArgs {
    /// Certificate signing request (PEM or DER) to finalize with; its names are the
    /// certificate's. No lineage is created: the files go to the paths below.
    #[arg(long, value_name = "FILE", requires = "cert_path", conflicts_with_all = ["domains", "ip_address", "cert_name", "reuse_key", "allow_subset_of_names"])]
    pub csr: Option<PathBuf>,

    /// With --csr: where the certificate (leaf only) is written.
    #[arg(long, value_name = "PATH", requires = "csr")]
    pub cert_path: Option<PathBuf>,

    /// With --csr: where the leaf followed by the chain is written.
    #[arg(long, value_name = "PATH", requires = "csr")]
    pub fullchain_path: Option<PathBuf>,

    /// With --csr: where the chain (intermediates) is written.
    #[arg(long, value_name = "PATH", requires = "csr")]
    pub chain_path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AccountArgs {
    /// Contact email for the ACME account (expiry and policy notices from the CA).
    #[arg(short = 'm', long = "email", value_name = "EMAIL")]
    pub email: Option<String>,

    /// Register without a contact email.
    #[arg(long, conflicts_with = "email")]
    pub register_unsafely_without_email: bool,

    /// Agree to the CA's terms of service.
    #[arg(long)]
    pub agree_tos: bool,

    /// ACME directory URL (default: Let's Encrypt production).
    #[arg(long, value_name = "URL", conflicts_with = "staging")]
    pub server: Option<String>,

    /// Use Let's Encrypt's staging server (untrusted test certificates).
    #[arg(long, alias = "test-cert")]
    pub staging: bool,

    /// Extra PEM root certificates trusted for the ACME server's HTTPS (private CAs, Pebble).
    #[arg(long, env = "CERTWRIGHT_CA_BUNDLE", value_name = "PEMFILE")]
    pub ca_bundle: Option<PathBuf>,

    #[command(flatten)]
    pub eab: EabArgs,
}

/// External Account Binding, for CAs that tie ACME accounts to an account of their own.
#[derive(Debug, Args)]
pub struct EabArgs {
    /// Key identifier for External Account Binding (from the CA's dashboard).
    #[arg(long, value_name = "KID")]
    pub eab_kid: Option<String>,

    /// File holding the EAB HMAC key (base64url, as the CA shows it). The key can also come
    /// from the environment variable CERTWRIGHT_EAB_HMAC_KEY.
    #[arg(
        long,
        value_name = "FILE",
        requires = "eab_kid",
        conflicts_with = "eab_hmac_key"
    )]
    pub eab_hmac_key_file: Option<PathBuf>,

    /// The EAB HMAC key itself (certbot compatibility). Other users can read it in `ps`:
    /// prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY.
    #[arg(long, value_name = "KEY", requires = "eab_kid")]
    pub eab_hmac_key: Option<String>,
}

/// Which ACME server an account command talks to.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// ACME directory URL (default: Let's Encrypt production).
    #[arg(long, value_name = "URL", conflicts_with = "staging")]
    pub server: Option<String>,

    /// Use Let's Encrypt's staging server.
    #[arg(long, alias = "test-cert")]
    pub staging: bool,

    /// Extra PEM root certificates trusted for the ACME server's HTTPS (private CAs, Pebble).
    #[arg(long, env = "CERTWRIGHT_CA_BUNDLE", value_name = "PEMFILE")]
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub account: AccountArgs,
}

#[derive(Debug, Args)]
pub struct ShowAccountArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["email", "rollover_key"])
))]
pub struct UpdateAccountArgs {
    /// The new contact email (replaces the old one at the CA).
    #[arg(short = 'm', long = "email", value_name = "EMAIL")]
    pub email: Option<String>,

    /// Replace the account key with a new one; the old key stops working at once.
    #[arg(long)]
    pub rollover_key: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct UnregisterArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .args(["cert_name", "cert_path"])
))]
pub struct RevokeArgs {
    /// The lineage whose current certificate is revoked.
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,

    /// A certificate file (PEM, leaf first) to revoke.
    #[arg(long, value_name = "PATH")]
    pub cert_path: Option<PathBuf>,

    /// certbot's revocation signed with the certificate's key: not supported; certwright
    /// revokes with the stored account (the lineage's, else the server's), and says so.
    #[arg(long, value_name = "PATH", requires = "cert_path", hide = true)]
    pub key_path: Option<PathBuf>,

    /// Reason reported to the CA.
    #[arg(long, value_enum, default_value_t = RevocationReasonArg::Unspecified)]
    pub reason: RevocationReasonArg,

    /// Delete the certificate's files after revoking it (default: ask on a terminal, keep
    /// them with -n).
    #[arg(long, overrides_with = "no_delete_after_revoke")]
    pub delete_after_revoke: bool,

    /// Keep the certificate's files after revoking it.
    #[arg(long, overrides_with = "delete_after_revoke")]
    pub no_delete_after_revoke: bool,

    /// With --cert-path for a certificate of no lineage: the server to revoke it at.
    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub nginx: NginxArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RevocationReasonArg {
    Unspecified,
    Keycompromise,
    Affiliationchanged,
    Superseded,
    Cessationofoperation,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The lineage to delete; without it, a terminal is asked to choose one (as certbot).
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,

    /// First remove the lines certwright added to nginx for this certificate (`nginx -t`,
    /// restored on failure, then reload). Lines certwright did not add are never touched.
    #[arg(long)]
    pub uninstall: bool,

    #[command(flatten)]
    pub nginx: NginxArgs,

    #[command(flatten)]
    pub certbot: CertbotGlobalArgs,

    /// Accepted for certbot compatibility and ignored: deleting talks to no server.
    #[arg(long, value_name = "PEMFILE")]
    pub ca_bundle: Option<PathBuf>,
}

/// Where nginx's configuration and binary are (delete refuses while nginx uses the files).
#[derive(Debug, Args)]
pub struct CertificatesArgs {
    /// Only this lineage.
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,

    /// Only lineages holding all these names (comma-separated or repeated), as certbot's.
    #[arg(
        short = 'd',
        long = "domains",
        alias = "domain",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub domains: Vec<String>,

    /// Print JSON (schema 1) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// certbot's global flags, which certbot accepts on every verb: scripts written for certbot
/// pass them to `delete`, `renew` and friends, so they are accepted and ignored with a note.
#[derive(Debug, Args)]
pub struct CertbotGlobalArgs {
    /// Accepted for certbot compatibility and ignored: a lineage always uses the ACME server
    /// saved in its renewal config.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// Accepted for certbot compatibility and ignored (as --server).
    #[arg(long, alias = "test-cert")]
    pub staging: bool,
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Only these lineages (repeatable); default: all.
    #[arg(long, value_name = "NAME")]
    pub cert_name: Vec<String>,

    /// Go through the whole renewal against the CA's staging counterpart (Let's Encrypt
    /// production -> staging; other CAs: the same server) with a throwaway key, then discard
    /// the result: certificates, configs, accounts and nginx stay byte-identical. Every
    /// selected lineage is tried, due or not. Exit 0 only if every renewal would succeed.
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: use this ACME directory instead of the staging counterpart.
    #[arg(long, value_name = "URL", requires = "dry_run")]
    pub dry_run_server: Option<String>,

    /// Renew even if not due.
    #[arg(long, alias = "renew-by-default")]
    pub force_renewal: bool,

    /// Do not wait a random 0-8 minutes first (the wait only happens when stdin is not a
    /// terminal, i.e. from cron, so a fleet does not hit the CA in the same second).
    #[arg(long)]
    pub no_random_sleep_on_renew: bool,

    /// Hooks for this pass, also saved in each renewed lineage's renewal config (as
    /// certbot): the pre-hook runs once before the first renewal, the post-hook once after
    /// (if any was attempted), the deploy hook after each successful renewal.
    #[command(flatten)]
    pub hooks: HookArgs,

    /// With --dry-run: run deploy hooks too (they are skipped by default).
    #[arg(long)]
    pub run_deploy_hooks: bool,

    /// How many renewals run at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Print one JSON object (schema 1) instead of text.
    #[arg(long)]
    pub json: bool,

    /// PEM root certificates trusted for the ACME server's HTTPS, instead of the bundle
    /// saved in each lineage's renewal config (a private CA whose root changed, a lineage
    /// imported without one). For this run only; the saved value is not changed.
    #[arg(long, env = "CERTWRIGHT_CA_BUNDLE", value_name = "PEMFILE")]
    pub ca_bundle: Option<PathBuf>,

    #[command(flatten)]
    pub certbot: CertbotGlobalArgs,

    #[command(flatten)]
    pub overrides: RenewOverrideArgs,

    #[command(flatten)]
    pub alerts: AlertArgs,

    /// Where --dry-run looks for cron and systemd files to say whether anything renews
    /// for real (tests: a temp dir).
    #[arg(
        long,
        hide = true,
        env = "CERTWRIGHT_SYSTEM_ROOT",
        default_value = "/",
        value_name = "DIR"
    )]
    pub system_root: PathBuf,
}

/// certbot's per-run changes to the saved settings of every lineage renewed; saved in its
/// renewal config when its renewal succeeds (as certbot does; the run says so).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Changes to the saved settings (saved when the renewal succeeds)")]
pub struct RenewOverrideArgs {
    /// Answer HTTP-01 with certwright's own web server.
    #[arg(long, conflicts_with_all = ["webroot", "nginx"])]
    pub standalone: bool,

    /// Answer HTTP-01 through nginx.
    #[arg(long, conflicts_with = "webroot")]
    pub nginx: bool,

    /// Answer HTTP-01 by writing files under -w DIR.
    #[arg(long, requires = "webroot_path")]
    pub webroot: bool,

    /// Document root for every name (with --webroot, or for webroot lineages).
    #[arg(short = 'w', long = "webroot-path", value_name = "DIR")]
    pub webroot_path: Option<PathBuf>,

    /// Port the CA's probe reaches (standalone or nginx lineages).
    #[arg(long = "http-01-port", value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub http_01_port: Option<u16>,

    /// Address the standalone server binds.
    #[arg(long = "http-01-address", value_name = "ADDR")]
    pub http_01_address: Option<std::net::IpAddr>,

    /// nginx's configuration directory (nginx lineages and installs).
    #[arg(long, value_name = "DIR")]
    pub nginx_server_root: Option<PathBuf>,

    /// The nginx binary or command (nginx lineages and installs).
    #[arg(long, value_name = "PATH|COMMAND")]
    pub nginx_ctl: Option<PathBuf>,

    /// Answer DNS-01 with RFC 2136 updates (with --dns-rfc2136-credentials).
    #[arg(long, requires = "dns_rfc2136_credentials", conflicts_with_all = ["standalone", "webroot", "nginx"])]
    pub dns_rfc2136: bool,

    /// certbot's dns-rfc2136 credentials file.
    #[arg(long, value_name = "FILE", requires = "dns_rfc2136")]
    pub dns_rfc2136_credentials: Option<PathBuf>,

    /// Answer DNS-01 through Cloudflare (with --dns-cloudflare-credentials).
    #[arg(long, requires = "dns_cloudflare_credentials", conflicts_with_all = ["standalone", "webroot", "nginx", "dns_rfc2136"])]
    pub dns_cloudflare: bool,

    /// certbot's dns-cloudflare credentials file.
    #[arg(long, value_name = "FILE", requires = "dns_cloudflare")]
    pub dns_cloudflare_credentials: Option<PathBuf>,

    /// Answer DNS-01 through Route53.
    #[arg(long, conflicts_with_all = ["standalone", "webroot", "nginx", "dns_rfc2136", "dns_cloudflare"])]
    pub dns_route53: bool,

    /// Answer DNS-01 through this provider's API (with --dns-credentials).
    #[arg(long, value_name = "PROVIDER", value_parser = dns_providers(), requires = "dns_credentials", conflicts_with_all = ["standalone", "webroot", "nginx", "dns_rfc2136", "dns_cloudflare", "dns_route53"])]
    pub dns: Option<String>,

    /// INI file with the --dns provider's keys.
    #[arg(long, value_name = "FILE", requires = "dns")]
    pub dns_credentials: Option<PathBuf>,

    /// Extra seconds to wait after the DNS records are seen (DNS lineages).
    #[arg(
        long,
        value_name = "SECONDS",
        visible_aliases = [
            "dns-rfc2136-propagation-seconds",
            "dns-cloudflare-propagation-seconds",
            "dns-route53-propagation-seconds"
        ]
    )]
    pub dns_propagation_seconds: Option<u64>,

    /// Challenge types, comma-separated (checked; each lineage's solver answers its own).
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    pub preferred_challenges: Vec<String>,

    /// New private key algorithm.
    #[arg(long, value_enum)]
    pub key_type: Option<KeyTypeArg>,

    /// New size for RSA keys.
    #[arg(long, value_parser = rsa_sizes())]
    pub rsa_key_size: Option<u32>,

    /// New curve for ECDSA keys.
    #[arg(long, value_enum)]
    pub elliptic_curve: Option<CurveArg>,

    #[command(flatten)]
    pub keys: KeyAndChainArgs,

    /// If some names fail validation, renew for the others.
    #[arg(long)]
    pub allow_subset_of_names: bool,

    /// Wait at most SECS for the CA to issue an order it keeps "processing" (saved, as
    /// certbot saves it).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub issuance_timeout: Option<u64>,
}

/// Where alerts and metrics go (renew; `notify --test`).
#[derive(Debug, Args, Default)]
pub struct AlertArgs {
    #[command(flatten)]
    pub targets: AlertTargetArgs,

    /// After the run, write Prometheus metrics here atomically (node_exporter textfile
    /// collector; name it *.prom).
    #[arg(long, value_name = "PATH")]
    pub metrics_textfile: Option<PathBuf>,
}

/// Where alerts go; `install` and `run` take these too (a served-certificate mismatch).
#[derive(Debug, Args, Default)]
pub struct AlertTargetArgs {
    /// POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as
    /// is. The URL's path and query are never shown (they hold the token); give it in
    /// CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`.
    #[arg(
        long,
        value_name = "URL",
        env = "CERTWRIGHT_NOTIFY_WEBHOOK",
        hide_env_values = true,
        value_delimiter = ' '
    )]
    pub notify_webhook: Vec<String>,

    /// Mail alerts to this address (repeatable); needs --smtp-server.
    #[arg(long, value_name = "ADDR", requires = "smtp_server")]
    pub notify_email: Vec<String>,

    /// SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or
    /// smtps://HOST[:PORT]. Plain-text SMTP is not offered.
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp_server: Option<String>,

    /// File with `username = ...` and `password = ...` lines for the relay; must be mode
    /// 0600 or stricter.
    #[arg(long, value_name = "FILE", requires = "smtp_server")]
    pub smtp_credentials: Option<PathBuf>,

    /// Also trust the PEM certificates in FILE for the relay's TLS (a private CA).
    #[arg(long, value_name = "FILE", requires = "smtp_server")]
    pub smtp_ca_bundle: Option<PathBuf>,

    /// Sender address of alert mails (default: certwright@<host name>).
    #[arg(long, value_name = "ADDR", requires = "smtp_server")]
    pub smtp_from: Option<String>,

    /// Shell command run for each alert, with the event in CERTWRIGHT_* environment
    /// variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...).
    #[arg(long, value_name = "CMD")]
    pub failure_hook: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only these lineages (repeatable); default: all.
    #[arg(long, value_name = "NAME")]
    pub cert_name: Vec<String>,

    /// Print one JSON object (schema 1) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Send a test event to every target given and report each delivery (exit 1 if any
    /// target failed).
    #[arg(long, required = true)]
    pub test: bool,

    #[command(flatten)]
    pub alerts: AlertArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print JSON (schema 1) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Check at these times instead of twice a day, in standard 5-field crontab syntax
    /// (UTC), e.g. "0 0 1 * *" = 00:00 on the 1st of each month; day-of-week 0 and 7 are
    /// Sunday. Certificates are still renewed as soon as they are due, and each one's ARI
    /// window is still asked for at least twice a day (sooner when the CA's Retry-After
    /// allows).
    #[arg(long, value_name = "CRON")]
    pub schedule: Option<String>,

    /// Run one pass (renew what is due), then exit.
    #[arg(long)]
    pub once: bool,

    /// How many renewals run at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Where to write the JSON status (each lineage's expiry, next renewal, last success and
    /// error) for monitoring; default: <work-dir>/status.json.
    #[arg(long, value_name = "FILE")]
    pub status_file: Option<PathBuf>,

    /// Shell command run after each successful renewal (as renew's --deploy-hook).
    #[arg(long, value_name = "CMD")]
    pub deploy_hook: Option<String>,

    /// Fleet mode (--store): keep a standalone HTTP-01 responder on this port for the
    /// daemon's whole life, answering every token any node of the fleet published, so the
    /// CA's probe succeeds whichever node the load balancer sends it to. Where nginx holds
    /// port 80: a local port (--http-01-address 127.0.0.1 --http-01-port 8402) that nginx's
    /// /.well-known/acme-challenge/ location proxies to (--nginx adds it).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub http_01_port: Option<u16>,

    /// Address for --http-01-port (default: all addresses).
    #[arg(long, value_name = "ADDR", requires = "http_01_port")]
    pub http_01_address: Option<std::net::IpAddr>,

    /// Fleet mode, where nginx holds the port the CA probes: at start, give each nginx server
    /// block on --nginx-http-01-port (and each TLS block one of them redirects to) a
    /// location, marked "# managed by certwright", passing /.well-known/acme-challenge/ to
    /// --http-01-port (on 127.0.0.1 if --http-01-address is unset or 0.0.0.0). Changed as
    /// `install` changes nginx: `nginx -t` before and after (restored on failure, exit 5),
    /// then a reload; `certwright rollback` undoes it. A block with a challenge location of
    /// its own is left alone, with a warning.
    #[arg(long, requires = "http_01_port")]
    pub nginx: bool,

    #[command(flatten)]
    pub nginx_args: NginxArgs,

    /// With --nginx: the plain-HTTP port whose server blocks get the location (nginx's port
    /// 80, as install's --http-01-port).
    #[arg(long = "nginx-http-01-port", default_value_t = 80, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub nginx_http_01_port: u16,

    /// Fleet mode (--store): seconds between checks of the shared store for versions
    /// other nodes renewed (installed into live/, then nginx reloaded and the deploy hook
    /// run).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub sync_interval: u64,

    /// PEM root certificates trusted for the ACME server's HTTPS, instead of the bundle
    /// saved in each lineage's renewal config (a private CA whose root changed, a lineage
    /// imported without one). For this run only; the saved value is not changed.
    #[arg(long, env = "CERTWRIGHT_CA_BUNDLE", value_name = "PEMFILE")]
    pub ca_bundle: Option<PathBuf>,

    #[command(flatten)]
    pub certbot: CertbotGlobalArgs,

    /// Internal: this process is one pass run by a daemon (`--once`, reporting the
    /// parent's pid in the status file).
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics (the same text as
    /// --metrics-textfile, refreshed after every pass).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    #[command(flatten)]
    pub alerts: AlertArgs,

    #[arg(long, hide = true)]
    pub child_pass: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    Ecdsa,
    Rsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CurveArg {
    Secp256r1,
    Secp384r1,
    /// Where the CA allows it (Let's Encrypt does not).
    Secp521r1,
}

/// certbot's default: with no subcommand, `run` is meant (`certwright --nginx -d NAME`).
/// Returns the argument list with `run` inserted when no subcommand is named.
pub fn with_default_subcommand(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut names: Vec<String> = vec!["help".into()];
    for sub in cmd.get_subcommands() {
        names.push(sub.get_name().to_string());
        names.extend(sub.get_all_aliases().map(str::to_string));
    }
    let rest = args.iter().skip(1).filter_map(|a| a.to_str());
    let mut any = false;
    for a in rest {
        if names.iter().any(|n| n == a) || matches!(a, "-h" | "--help" | "-V" | "--version") {
            return args;
        }
        any = true;
    }
    if !any {
        return args;
    }
    let mut out = args;
    out.insert(1, "run".into());
    out
}

/// The accepted RSA sizes; clap rejects anything else with exit 2.
fn rsa_sizes() -> impl clap::builder::TypedValueParser<Value = u32> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["2048", "3072", "4096"])
        // The three strings above are the only inputs, so the parse cannot fail.
        .map(|s| s.parse::<u32>().unwrap_or(2048))
}

/// certbot's `-w DIR -d a -w DIR2 -d b`: each domain takes the webroot given last before it.
/// Returns, per domain value in order, the index into `webroot_path` (None: no -w before it).
fn webroot_assignments(matches: &clap::ArgMatches) -> Vec<Option<usize>> {
    let Some((_, sub)) = matches.subcommand() else {
        return vec![];
    };
    // `ids()` lists only arguments present, so commands without these flags are skipped
    // instead of panicking on an unknown id.
    let indices = |id: &str| -> Vec<usize> {
        if sub.ids().any(|i| i.as_str() == id) {
            sub.indices_of(id).map(|i| i.collect()).unwrap_or_default()
        } else {
            vec![]
        }
    };
    let webroots = indices("webroot_path");
    let domains = indices("domains");
    domains
        .iter()
        .map(|d| webroots.iter().rposition(|w| w < d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn webroots_map_to_following_domains() {
        let m = Cli::command()
            .try_get_matches_from([
                "certwright",
                "certonly",
                "--webroot",
                "-w",
                "/a",
                "-d",
                "x.example.com,y.example.com",
                "-w",
                "/b",
                "-d",
                "z.example.com",
            ])
            .unwrap();
        assert_eq!(webroot_assignments(&m), vec![Some(0), Some(0), Some(1)]);
        let cli = Cli::from_arg_matches(&m).unwrap();
        let Command::Certonly(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.request.domains.len(), 3);
    }

    #[test]
    fn no_subcommand_means_run() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            with_default_subcommand(args(&["certwright", "--nginx", "-d", "a.example.com"])),
            args(&["certwright", "run", "--nginx", "-d", "a.example.com"])
        );
        let unchanged = args(&["certwright", "-n", "renew"]);
        assert_eq!(with_default_subcommand(unchanged.clone()), unchanged);
        let help = args(&["certwright", "--help"]);
        assert_eq!(with_default_subcommand(help.clone()), help);
        assert_eq!(
            with_default_subcommand(args(&["certwright"])),
            args(&["certwright"])
        );
    }

    #[test]
    fn bad_rsa_size_and_port_are_usage_errors() {
        for argv in [
            vec![
                "certwright",
                "certonly",
                "-d",
                "a.example.com",
                "--rsa-key-size",
                "1024",
            ],
            vec![
                "certwright",
                "certonly",
                "-d",
                "a.example.com",
                "--http-01-port",
                "0",
            ],
            vec![
                "certwright",
                "certonly",
                "-d",
                "a.example.com",
                "--http-01-port",
                "70000",
            ],
        ] {
            let err = Cli::command().try_get_matches_from(&argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{argv:?}");
        }
    }
}
