# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_certwright_global_optspecs
    string join \n config-dir= c/config= work-dir= logs-dir= n/non-interactive v/verbose q/quiet user= store= store-key-file= store-ca-bundle= store-prefix= node-id= store-lock-ttl= h/help V/version
end

function __fish_certwright_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_certwright_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_certwright_using_subcommand
    set -l cmd (__fish_certwright_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c certwright -n "__fish_certwright_needs_command" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_needs_command" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_needs_command" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_needs_command" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_needs_command" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_needs_command" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_needs_command" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_needs_command" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_needs_command" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_needs_command" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "run" -d 'Obtain a certificate and install it into nginx (the default when no subcommand is given, as certbot): `certwright --nginx -d example.com`'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "certonly" -d 'Obtain a certificate and store it, without installing it anywhere'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "install" -d 'Install an existing certificate into nginx. A wildcard *.example.com goes into the blocks named *.example.com or .example.com and those serving a name one label under it'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "rollback" -d 'Restore the nginx configuration as it was before certwright\'s last change(s)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "certificates" -d 'List the certificates certwright manages'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "renew" -d 'Renew every certificate that is due (for cron, systemd timers and CI with --dry-run)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "plan" -d 'Show when each certificate will renew and why; offline, changes nothing'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "daemon" -d 'Run as a scheduler: renew each certificate when it is due, until stopped'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "register" -d 'Register an ACME account with the server (once per server; nothing is issued)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "show_account" -d 'Show the stored account for a server: URL, contact, key thumbprint'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "show-account" -d 'Show the stored account for a server: URL, contact, key thumbprint'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "update_account" -d 'Change the account\'s contact email, or replace its key (--rollover-key)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "update-account" -d 'Change the account\'s contact email, or replace its key (--rollover-key)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "unregister" -d 'Deactivate the account at the CA (irreversible) and remove it from this machine; asks first unless -n'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "revoke" -d 'Revoke a certificate with the CA'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "delete" -d 'Delete a certificate\'s files (live, archive, renewal config, state); refused while nginx uses them; asks first unless -n'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "reconfigure" -d 'Change a certificate\'s saved renewal settings; saved only after a dry-run renewal with the new settings succeeds'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "import-certbot" -d 'Take over certbot\'s certificates: each lineage under /etc/letsencrypt becomes a certwright lineage with an equivalent renewal config; certbot\'s files are not changed'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "notify" -d 'Send alerts by hand: --test sends a test event to every given target'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "verify" -d 'Check that nginx serves each lineage\'s live certificate: connect to every HTTPS listen of the server blocks using it, with SNI per name; exit 1 on a mismatch'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "doctor" -d 'Say why a name would fail validation, before asking the CA: DNS (each A and AAAA address probed as the CA would, CNAME chains, NXDOMAIN/SERVFAIL), DNSSEC, CAA, the HTTP path (redirects; nginx\'s block and location by file:line), the CA\'s clock; and whether anything will renew. Orders nothing; removes what it publishes to probe. --dns-resolver names the resolvers every lookup asks (default: resolv.conf\'s). Exit 7 when a finding would make validation fail; warnings alone exit 0'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "enhance" -d 'Add the redirect to https and/or HSTS to a lineage installed in nginx (certbot\'s enhance)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "plugins" -d 'List the authenticators and installers certwright has (certbot\'s plugins)'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s w -l webroot-path -d 'Document root for the -d names that follow it (repeatable, as certbot\'s -w)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l webroot-map -d 'certbot\'s JSON map of names to document roots, `{"a.example.com,www.a.example.com": "/var/www/a", "b.example.com": "/var/www/b"}`: its names are requested too, and it wins over -w for the names it lists' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l http-01-port -d 'Port the CA\'s probe reaches: where the standalone server listens, or the port whose nginx server blocks answer it. The CA always probes port 80, so another port only makes sense behind a forward (or for tests)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l http-01-address -d 'Address the standalone server binds (default: all IPv4 and IPv6 addresses)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-rfc2136-credentials -d 'certbot\'s dns-rfc2136 credentials file (dns_rfc2136_server, _port, _name, _secret, _algorithm, _sign_query). Refused if group or others can read it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-rfc2136-propagation-seconds -d 'Extra seconds to wait after every server serves the records (default 0: the records are looked up, not waited for blindly)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns -d 'Answer DNS-01 through this provider\'s API (or RFC 2136), with the dns_PROVIDER_* keys of --dns-credentials' -r -f -a "rfc2136\t'RFC 2136 updates signed with TSIG: bind9, knot, PowerDNS (dns_rfc2136_server, dns_rfc2136_name, dns_rfc2136_secret)'
pdns\t'PowerDNS Authoritative HTTP API (dns_pdns_api_url, dns_pdns_api_key)'
cloudflare\t'Cloudflare, an API token with Zone:DNS:Edit (dns_cloudflare_api_token)'
digitalocean\t'DigitalOcean (dns_digitalocean_token)'
linode\t'Linode / Akamai (dns_linode_key)'
hetzner\t'Hetzner DNS (dns_hetzner_api_token)'
desec\t'deSEC (dns_desec_token)'
gandi\t'Gandi LiveDNS, a personal access token (dns_gandi_token)'
godaddy\t'GoDaddy (dns_godaddy_key, dns_godaddy_secret)'
porkbun\t'Porkbun (dns_porkbun_key, dns_porkbun_secret)'
dnsimple\t'DNSimple (dns_dnsimple_token, dns_dnsimple_account_id)'
vultr\t'Vultr (dns_vultr_key)'
bunny\t'Bunny DNS (dns_bunny_api_key)'"
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-credentials -d 'INI file (`key = value`) with the --dns provider\'s keys, e.g. dns_pdns_api_url and dns_pdns_api_key. Refused if group or others can read it; only its path is saved' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-propagation-seconds -d 'Extra seconds to wait after every server serves the --dns records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-cloudflare-credentials -d 'certbot\'s dns-cloudflare credentials file (dns_cloudflare_api_token)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-cloudflare-propagation-seconds -d 'Extra seconds to wait after every server serves the Cloudflare records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-route53-propagation-seconds -d 'Extra seconds to wait after every server serves the Route53 records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-resolver -d 'Check DNS-01 propagation at this server instead of the zone\'s nameservers (ADDR or ADDR:PORT; repeatable)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l manual-auth-hook -d 'Command run (by sh -c) once per challenge before the CA is asked' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l manual-cleanup-hook -d 'Command run (by sh -c) once per challenge afterwards: on success, on failure, and on SIGINT/SIGTERM (a run killed outright is cleaned up by the next --manual run)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l preferred-challenges -d 'Challenge types in order of preference, comma-separated: dns-01 (dns), http-01 (http). --manual answers the first; the other solvers check theirs is listed' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -s d -l domains -d 'Domain name(s) for the certificate; comma-separated or repeated' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l cert-name -d 'Name of the lineage (directory under live/); default: the first domain. Without -d, the lineage\'s saved names are requested again' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l key-type -d 'Private key algorithm' -r -f -a "ecdsa\t''
rsa\t''"
complete -c certwright -n "__fish_certwright_using_subcommand run" -l elliptic-curve -d 'Curve for ECDSA keys' -r -f -a "secp256r1\t''
secp384r1\t''
secp521r1\t'Where the CA allows it (Let\'s Encrypt does not)'"
complete -c certwright -n "__fish_certwright_using_subcommand run" -l rsa-key-size -d 'Size of RSA keys' -r -f -a "2048\t''
3072\t''
4096\t''"
complete -c certwright -n "__fish_certwright_using_subcommand run" -l preferred-chain -d 'Prefer the CA\'s alternate chain whose topmost certificate is issued by this common name (e.g. "ISRG Root X1"); the default chain is kept if none matches. "" removes a saved preference' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l preferred-profile -d 'Ask for this ACME profile if the CA offers it (a warning and the CA\'s default if not)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l required-profile -d 'Ask for this ACME profile; fail (exit 2) before ordering if the CA does not offer it' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l ip-address -d 'IP address for the certificate (RFC 8738; repeatable), with --standalone or --webroot' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l issuance-timeout -d 'Wait at most SECS for the CA to issue a finalized order it keeps "processing" (polled as its Retry-After asks) [default: 90]. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l fallback-server -d 'A second CA (directory URL) a renewal is retried at when this lineage\'s CA fails it (refused, rate limited, unreachable); saved for renewals, "" removes it. Its account is the server\'s stored one, else registered then: for EAB, run `register --server URL --eab-kid ... --eab-hmac-key ...` first. --ca-bundle must trust both CAs' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -s m -l email -d 'Contact email for the ACME account (expiry and policy notices from the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l eab-kid -d 'Key identifier for External Account Binding (from the CA\'s dashboard)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l eab-hmac-key-file -d 'File holding the EAB HMAC key (base64url, as the CA shows it). The key can also come from the environment variable CERTWRIGHT_EAB_HMAC_KEY' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l eab-hmac-key -d 'The EAB HMAC key itself (certbot compatibility). Other users can read it in `ps`: prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l csr -d 'Certificate signing request (PEM or DER) to finalize with; its names are the certificate\'s. No lineage is created: the files go to the paths below' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l cert-path -d 'With --csr: where the certificate (leaf only) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l fullchain-path -d 'With --csr: where the leaf followed by the chain is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l chain-path -d 'With --csr: where the chain (intermediates) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-pkcs12 -d 'Also write a PKCS#12 keystore here (key, certificate and chain; alias = lineage name; AES-256-CBC, PBKDF2, HMAC-SHA256), for Java services. Needs the password file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-pkcs12-password-file -d 'File holding the keystore password (mode 0600; read at each deploy, never saved)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-combined -d 'Also write fullchain followed by the key into this one file, mode 0600 (HAProxy\'s crt)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-dir -d 'Also copy cert.pem, chain.pem, fullchain.pem and privkey.pem into this directory for a service running as --deploy-owner; the four are switched together by one symlink swap' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-owner -d 'USER[:GROUP] owning the --deploy-dir copies (the group defaults to USER\'s)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-mode -d 'Octal mode of the --deploy-dir files: 0640 (the default) or stricter' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l pre-hook -d 'Shell command run once before obtaining certificates (saved for renewals)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l post-hook -d 'Shell command run once after obtaining certificates, even if it failed (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l deploy-hook -d 'Shell command run after each certificate obtained, with RENEWED_LINEAGE (the live directory) and RENEWED_DOMAINS (space-separated) in its environment (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dry-run-server -d 'With certonly --dry-run: use this ACME directory instead of the staging counterpart' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -s i -l installer -d 'The installer (certbot\'s -i): nginx, the only one. With another authenticator (`-a webroot -w DIR -i nginx`) the certificate is obtained that way and installed into nginx; alone it means --nginx' -r -f -a "nginx\t''"
complete -c certwright -n "__fish_certwright_using_subcommand run" -l https-port -d 'The port the installer adds `listen ... ssl` for' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l notify-webhook -d 'POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as is. The URL\'s path and query are never shown (they hold the token); give it in CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l notify-email -d 'Mail alerts to this address (repeatable); needs --smtp-server' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l smtp-server -d 'SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or smtps://HOST[:PORT]. Plain-text SMTP is not offered' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l smtp-credentials -d 'File with `username = ...` and `password = ...` lines for the relay; must be mode 0600 or stricter' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l smtp-ca-bundle -d 'Also trust the PEM certificates in FILE for the relay\'s TLS (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l smtp-from -d 'Sender address of alert mails (default: certwright@<host name>)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l failure-hook -d 'Shell command run for each alert, with the event in CERTWRIGHT_* environment variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand run" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand run" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l nginx -d 'Answer HTTP-01 through the running nginx: a temporary location in the server block for each name, removed again afterwards'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l webroot -d 'Answer HTTP-01 by writing files under a web server\'s document root'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-rfc2136 -d 'Answer DNS-01 with RFC 2136 dynamic updates signed with a TSIG key, as certbot\'s dns-rfc2136 plugin does. DNS-01 is the only way to get wildcard (*.example.com) names'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-cloudflare -d 'certbot\'s dns-cloudflare spelling of --dns cloudflare'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dns-route53 -d 'Answer DNS-01 through Route53, as certbot\'s dns-route53: AWS credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the shared credentials/config files (AWS_PROFILE), else the EC2 instance role (IMDSv2); AWS_ENDPOINT_URL_ROUTE_53 or AWS_ENDPOINT_URL replace the endpoint'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l manual -d 'Answer the challenges with your own scripts, as certbot\'s --manual: --manual-auth-hook publishes each value, --manual-cleanup-hook removes it (environment CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN (http-01), CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS; cleanup also gets CERTBOT_AUTH_OUTPUT, the auth hook\'s stdout). dns-01 values are looked up before the CA is asked, as with the other DNS solvers. Without --manual-auth-hook, at a terminal: each value is printed and Enter awaited'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l manual-public-ip-logging-ok -d 'Accepted for certbot command lines; does nothing (certbot deprecated it too)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l force-renewal -d 'Obtain a new certificate even if the current one is far from expiry'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l expand -d 'Allow adding names to an existing certificate'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l reuse-key -d 'Keep the lineage\'s current private key when renewing (saved for later renewals)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l new-key -d 'Generate a new private key for this issuance, and stop --reuse-key for later ones'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l allow-subset-of-names -d 'If some names fail validation, issue for the others (a warning names those dropped)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l register-unsafely-without-email -d 'Register without a contact email'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l agree-tos -d 'Agree to the CA\'s terms of service'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l staging -d 'Use Let\'s Encrypt\'s staging server (untrusted test certificates)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l no-directory-hooks -d 'Do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l dry-run -d 'certonly: go through issuance against the CA\'s staging counterpart (Let\'s Encrypt production -> staging; other CAs: the same server, or --dry-run-server) and keep nothing: no certificate, key, config or account is written; exit 0 only if issuance would succeed. run: print the unified diff of the nginx changes the install would make instead; obtain nothing and change nothing'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l json -d 'Print one JSON object (schema 1) on stdout instead of a text summary'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l redirect -d 'Make port 80 answer 301 to https for the certificate\'s names (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l no-redirect -d 'Leave plain HTTP as it is'
complete -c certwright -n "__fish_certwright_using_subcommand run" -l hsts -d 'Add a Strict-Transport-Security header (one year)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_using_subcommand run" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s w -l webroot-path -d 'Document root for the -d names that follow it (repeatable, as certbot\'s -w)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l webroot-map -d 'certbot\'s JSON map of names to document roots, `{"a.example.com,www.a.example.com": "/var/www/a", "b.example.com": "/var/www/b"}`: its names are requested too, and it wins over -w for the names it lists' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l http-01-port -d 'Port the CA\'s probe reaches: where the standalone server listens, or the port whose nginx server blocks answer it. The CA always probes port 80, so another port only makes sense behind a forward (or for tests)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l http-01-address -d 'Address the standalone server binds (default: all IPv4 and IPv6 addresses)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-rfc2136-credentials -d 'certbot\'s dns-rfc2136 credentials file (dns_rfc2136_server, _port, _name, _secret, _algorithm, _sign_query). Refused if group or others can read it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-rfc2136-propagation-seconds -d 'Extra seconds to wait after every server serves the records (default 0: the records are looked up, not waited for blindly)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns -d 'Answer DNS-01 through this provider\'s API (or RFC 2136), with the dns_PROVIDER_* keys of --dns-credentials' -r -f -a "rfc2136\t'RFC 2136 updates signed with TSIG: bind9, knot, PowerDNS (dns_rfc2136_server, dns_rfc2136_name, dns_rfc2136_secret)'
pdns\t'PowerDNS Authoritative HTTP API (dns_pdns_api_url, dns_pdns_api_key)'
cloudflare\t'Cloudflare, an API token with Zone:DNS:Edit (dns_cloudflare_api_token)'
digitalocean\t'DigitalOcean (dns_digitalocean_token)'
linode\t'Linode / Akamai (dns_linode_key)'
hetzner\t'Hetzner DNS (dns_hetzner_api_token)'
desec\t'deSEC (dns_desec_token)'
gandi\t'Gandi LiveDNS, a personal access token (dns_gandi_token)'
godaddy\t'GoDaddy (dns_godaddy_key, dns_godaddy_secret)'
porkbun\t'Porkbun (dns_porkbun_key, dns_porkbun_secret)'
dnsimple\t'DNSimple (dns_dnsimple_token, dns_dnsimple_account_id)'
vultr\t'Vultr (dns_vultr_key)'
bunny\t'Bunny DNS (dns_bunny_api_key)'"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-credentials -d 'INI file (`key = value`) with the --dns provider\'s keys, e.g. dns_pdns_api_url and dns_pdns_api_key. Refused if group or others can read it; only its path is saved' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-propagation-seconds -d 'Extra seconds to wait after every server serves the --dns records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-cloudflare-credentials -d 'certbot\'s dns-cloudflare credentials file (dns_cloudflare_api_token)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-cloudflare-propagation-seconds -d 'Extra seconds to wait after every server serves the Cloudflare records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-route53-propagation-seconds -d 'Extra seconds to wait after every server serves the Route53 records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-resolver -d 'Check DNS-01 propagation at this server instead of the zone\'s nameservers (ADDR or ADDR:PORT; repeatable)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l manual-auth-hook -d 'Command run (by sh -c) once per challenge before the CA is asked' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l manual-cleanup-hook -d 'Command run (by sh -c) once per challenge afterwards: on success, on failure, and on SIGINT/SIGTERM (a run killed outright is cleaned up by the next --manual run)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l preferred-challenges -d 'Challenge types in order of preference, comma-separated: dns-01 (dns), http-01 (http). --manual answers the first; the other solvers check theirs is listed' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s d -l domains -d 'Domain name(s) for the certificate; comma-separated or repeated' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l cert-name -d 'Name of the lineage (directory under live/); default: the first domain. Without -d, the lineage\'s saved names are requested again' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l key-type -d 'Private key algorithm' -r -f -a "ecdsa\t''
rsa\t''"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l elliptic-curve -d 'Curve for ECDSA keys' -r -f -a "secp256r1\t''
secp384r1\t''
secp521r1\t'Where the CA allows it (Let\'s Encrypt does not)'"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l rsa-key-size -d 'Size of RSA keys' -r -f -a "2048\t''
3072\t''
4096\t''"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l preferred-chain -d 'Prefer the CA\'s alternate chain whose topmost certificate is issued by this common name (e.g. "ISRG Root X1"); the default chain is kept if none matches. "" removes a saved preference' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l preferred-profile -d 'Ask for this ACME profile if the CA offers it (a warning and the CA\'s default if not)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l required-profile -d 'Ask for this ACME profile; fail (exit 2) before ordering if the CA does not offer it' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l ip-address -d 'IP address for the certificate (RFC 8738; repeatable), with --standalone or --webroot' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l issuance-timeout -d 'Wait at most SECS for the CA to issue a finalized order it keeps "processing" (polled as its Retry-After asks) [default: 90]. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l fallback-server -d 'A second CA (directory URL) a renewal is retried at when this lineage\'s CA fails it (refused, rate limited, unreachable); saved for renewals, "" removes it. Its account is the server\'s stored one, else registered then: for EAB, run `register --server URL --eab-kid ... --eab-hmac-key ...` first. --ca-bundle must trust both CAs' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s m -l email -d 'Contact email for the ACME account (expiry and policy notices from the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l eab-kid -d 'Key identifier for External Account Binding (from the CA\'s dashboard)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l eab-hmac-key-file -d 'File holding the EAB HMAC key (base64url, as the CA shows it). The key can also come from the environment variable CERTWRIGHT_EAB_HMAC_KEY' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l eab-hmac-key -d 'The EAB HMAC key itself (certbot compatibility). Other users can read it in `ps`: prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l csr -d 'Certificate signing request (PEM or DER) to finalize with; its names are the certificate\'s. No lineage is created: the files go to the paths below' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l cert-path -d 'With --csr: where the certificate (leaf only) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l fullchain-path -d 'With --csr: where the leaf followed by the chain is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l chain-path -d 'With --csr: where the chain (intermediates) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-pkcs12 -d 'Also write a PKCS#12 keystore here (key, certificate and chain; alias = lineage name; AES-256-CBC, PBKDF2, HMAC-SHA256), for Java services. Needs the password file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-pkcs12-password-file -d 'File holding the keystore password (mode 0600; read at each deploy, never saved)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-combined -d 'Also write fullchain followed by the key into this one file, mode 0600 (HAProxy\'s crt)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-dir -d 'Also copy cert.pem, chain.pem, fullchain.pem and privkey.pem into this directory for a service running as --deploy-owner; the four are switched together by one symlink swap' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-owner -d 'USER[:GROUP] owning the --deploy-dir copies (the group defaults to USER\'s)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-mode -d 'Octal mode of the --deploy-dir files: 0640 (the default) or stricter' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l pre-hook -d 'Shell command run once before obtaining certificates (saved for renewals)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l post-hook -d 'Shell command run once after obtaining certificates, even if it failed (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l deploy-hook -d 'Shell command run after each certificate obtained, with RENEWED_LINEAGE (the live directory) and RENEWED_DOMAINS (space-separated) in its environment (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dry-run-server -d 'With certonly --dry-run: use this ACME directory instead of the staging counterpart' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l nginx -d 'Answer HTTP-01 through the running nginx: a temporary location in the server block for each name, removed again afterwards'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l webroot -d 'Answer HTTP-01 by writing files under a web server\'s document root'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-rfc2136 -d 'Answer DNS-01 with RFC 2136 dynamic updates signed with a TSIG key, as certbot\'s dns-rfc2136 plugin does. DNS-01 is the only way to get wildcard (*.example.com) names'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-cloudflare -d 'certbot\'s dns-cloudflare spelling of --dns cloudflare'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dns-route53 -d 'Answer DNS-01 through Route53, as certbot\'s dns-route53: AWS credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the shared credentials/config files (AWS_PROFILE), else the EC2 instance role (IMDSv2); AWS_ENDPOINT_URL_ROUTE_53 or AWS_ENDPOINT_URL replace the endpoint'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l manual -d 'Answer the challenges with your own scripts, as certbot\'s --manual: --manual-auth-hook publishes each value, --manual-cleanup-hook removes it (environment CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN (http-01), CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS; cleanup also gets CERTBOT_AUTH_OUTPUT, the auth hook\'s stdout). dns-01 values are looked up before the CA is asked, as with the other DNS solvers. Without --manual-auth-hook, at a terminal: each value is printed and Enter awaited'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l manual-public-ip-logging-ok -d 'Accepted for certbot command lines; does nothing (certbot deprecated it too)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l force-renewal -d 'Obtain a new certificate even if the current one is far from expiry'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l expand -d 'Allow adding names to an existing certificate'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l reuse-key -d 'Keep the lineage\'s current private key when renewing (saved for later renewals)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l new-key -d 'Generate a new private key for this issuance, and stop --reuse-key for later ones'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l allow-subset-of-names -d 'If some names fail validation, issue for the others (a warning names those dropped)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l register-unsafely-without-email -d 'Register without a contact email'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l agree-tos -d 'Agree to the CA\'s terms of service'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l staging -d 'Use Let\'s Encrypt\'s staging server (untrusted test certificates)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l no-directory-hooks -d 'Do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l dry-run -d 'certonly: go through issuance against the CA\'s staging counterpart (Let\'s Encrypt production -> staging; other CAs: the same server, or --dry-run-server) and keep nothing: no certificate, key, config or account is written; exit 0 only if issuance would succeed. run: print the unified diff of the nginx changes the install would make instead; obtain nothing and change nothing'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l json -d 'Print one JSON object (schema 1) on stdout instead of a text summary'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand install" -l cert-name -d 'The lineage to install (see `certwright certificates`); or give --cert-path and --key-path of a lineage\'s live files' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -s i -l installer -d 'The installer (certbot\'s -i): nginx, the only one' -r -f -a "nginx\t''"
complete -c certwright -n "__fish_certwright_using_subcommand install" -l cert-path -d 'certbot\'s way to name what to install: a lineage\'s live cert.pem (or fullchain.pem); the lineage is found from it. Files of no lineage are refused: import them first' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l key-path -d 'With --cert-path: the lineage\'s privkey.pem (checked to be the same lineage\'s)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l fullchain-path -d 'With --cert-path: the lineage\'s fullchain.pem (checked to be the same lineage\'s)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l chain-path -d 'With --cert-path: the lineage\'s chain.pem (checked to be the same lineage\'s)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l https-port -d 'The port the installer adds `listen ... ssl` for' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-pkcs12 -d 'Also write a PKCS#12 keystore here (key, certificate and chain; alias = lineage name; AES-256-CBC, PBKDF2, HMAC-SHA256), for Java services. Needs the password file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-pkcs12-password-file -d 'File holding the keystore password (mode 0600; read at each deploy, never saved)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-combined -d 'Also write fullchain followed by the key into this one file, mode 0600 (HAProxy\'s crt)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-dir -d 'Also copy cert.pem, chain.pem, fullchain.pem and privkey.pem into this directory for a service running as --deploy-owner; the four are switched together by one symlink swap' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-owner -d 'USER[:GROUP] owning the --deploy-dir copies (the group defaults to USER\'s)' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l deploy-mode -d 'Octal mode of the --deploy-dir files: 0640 (the default) or stricter' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l http-01-port -d 'The plain-HTTP port whose server blocks serve the names (the one redirected)' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l notify-webhook -d 'POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as is. The URL\'s path and query are never shown (they hold the token); give it in CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l notify-email -d 'Mail alerts to this address (repeatable); needs --smtp-server' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l smtp-server -d 'SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or smtps://HOST[:PORT]. Plain-text SMTP is not offered' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l smtp-credentials -d 'File with `username = ...` and `password = ...` lines for the relay; must be mode 0600 or stricter' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l smtp-ca-bundle -d 'Also trust the PEM certificates in FILE for the relay\'s TLS (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l smtp-from -d 'Sender address of alert mails (default: certwright@<host name>)' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l failure-hook -d 'Shell command run for each alert, with the event in CERTWRIGHT_* environment variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...)' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand install" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand install" -l nginx -d 'Install into nginx (the only installer)'
complete -c certwright -n "__fish_certwright_using_subcommand install" -l redirect -d 'Make port 80 answer 301 to https for the certificate\'s names (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand install" -l no-redirect -d 'Leave plain HTTP as it is'
complete -c certwright -n "__fish_certwright_using_subcommand install" -l hsts -d 'Add a Strict-Transport-Security header (one year)'
complete -c certwright -n "__fish_certwright_using_subcommand install" -l dry-run -d 'Print the unified diff of what would change; change nothing'
complete -c certwright -n "__fish_certwright_using_subcommand install" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand install" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand install" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand install" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand install" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l checkpoints -d 'How many of certwright\'s nginx changes to undo, newest first' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l cert-name -d 'Only this lineage' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s d -l domains -d 'Only lineages holding all these names (comma-separated or repeated), as certbot\'s' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l json -d 'Print JSON (schema 1) instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l cert-name -d 'Only these lineages (repeatable); default: all' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dry-run-server -d 'With --dry-run: use this ACME directory instead of the staging counterpart' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l pre-hook -d 'Shell command run once before obtaining certificates (saved for renewals)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l post-hook -d 'Shell command run once after obtaining certificates, even if it failed (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l deploy-hook -d 'Shell command run after each certificate obtained, with RENEWED_LINEAGE (the live directory) and RENEWED_DOMAINS (space-separated) in its environment (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l concurrency -d 'How many renewals run at once' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l ca-bundle -d 'PEM root certificates trusted for the ACME server\'s HTTPS, instead of the bundle saved in each lineage\'s renewal config (a private CA whose root changed, a lineage imported without one). For this run only; the saved value is not changed' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l server -d 'Accepted for certbot compatibility and ignored: a lineage always uses the ACME server saved in its renewal config' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s w -l webroot-path -d 'Document root for every name (with --webroot, or for webroot lineages)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l http-01-port -d 'Port the CA\'s probe reaches (standalone or nginx lineages)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l http-01-address -d 'Address the standalone server binds' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l nginx-server-root -d 'nginx\'s configuration directory (nginx lineages and installs)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l nginx-ctl -d 'The nginx binary or command (nginx lineages and installs)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-rfc2136-credentials -d 'certbot\'s dns-rfc2136 credentials file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-cloudflare-credentials -d 'certbot\'s dns-cloudflare credentials file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns -d 'Answer DNS-01 through this provider\'s API (with --dns-credentials)' -r -f -a "rfc2136\t'RFC 2136 updates signed with TSIG: bind9, knot, PowerDNS (dns_rfc2136_server, dns_rfc2136_name, dns_rfc2136_secret)'
pdns\t'PowerDNS Authoritative HTTP API (dns_pdns_api_url, dns_pdns_api_key)'
cloudflare\t'Cloudflare, an API token with Zone:DNS:Edit (dns_cloudflare_api_token)'
digitalocean\t'DigitalOcean (dns_digitalocean_token)'
linode\t'Linode / Akamai (dns_linode_key)'
hetzner\t'Hetzner DNS (dns_hetzner_api_token)'
desec\t'deSEC (dns_desec_token)'
gandi\t'Gandi LiveDNS, a personal access token (dns_gandi_token)'
godaddy\t'GoDaddy (dns_godaddy_key, dns_godaddy_secret)'
porkbun\t'Porkbun (dns_porkbun_key, dns_porkbun_secret)'
dnsimple\t'DNSimple (dns_dnsimple_token, dns_dnsimple_account_id)'
vultr\t'Vultr (dns_vultr_key)'
bunny\t'Bunny DNS (dns_bunny_api_key)'"
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-credentials -d 'INI file with the --dns provider\'s keys' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-propagation-seconds -l dns-rfc2136-propagation-seconds -l dns-cloudflare-propagation-seconds -l dns-route53-propagation-seconds -d 'Extra seconds to wait after the DNS records are seen (DNS lineages)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l preferred-challenges -d 'Challenge types, comma-separated (checked; each lineage\'s solver answers its own)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l key-type -d 'New private key algorithm' -r -f -a "ecdsa\t''
rsa\t''"
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l rsa-key-size -d 'New size for RSA keys' -r -f -a "2048\t''
3072\t''
4096\t''"
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l elliptic-curve -d 'New curve for ECDSA keys' -r -f -a "secp256r1\t''
secp384r1\t''
secp521r1\t'Where the CA allows it (Let\'s Encrypt does not)'"
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l preferred-chain -d 'Prefer the CA\'s alternate chain whose topmost certificate is issued by this common name (e.g. "ISRG Root X1"); the default chain is kept if none matches. "" removes a saved preference' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l issuance-timeout -d 'Wait at most SECS for the CA to issue an order it keeps "processing" (saved, as certbot saves it)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l notify-webhook -d 'POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as is. The URL\'s path and query are never shown (they hold the token); give it in CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l notify-email -d 'Mail alerts to this address (repeatable); needs --smtp-server' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l smtp-server -d 'SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or smtps://HOST[:PORT]. Plain-text SMTP is not offered' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l smtp-credentials -d 'File with `username = ...` and `password = ...` lines for the relay; must be mode 0600 or stricter' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l smtp-ca-bundle -d 'Also trust the PEM certificates in FILE for the relay\'s TLS (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l smtp-from -d 'Sender address of alert mails (default: certwright@<host name>)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l failure-hook -d 'Shell command run for each alert, with the event in CERTWRIGHT_* environment variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l metrics-textfile -d 'After the run, write Prometheus metrics here atomically (node_exporter textfile collector; name it *.prom)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l system-root -d 'Where --dry-run looks for cron and systemd files to say whether anything renews for real (tests: a temp dir)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dry-run -d 'Go through the whole renewal against the CA\'s staging counterpart (Let\'s Encrypt production -> staging; other CAs: the same server) with a throwaway key, then discard the result: certificates, configs, accounts and nginx stay byte-identical. Every selected lineage is tried, due or not. Exit 0 only if every renewal would succeed'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l force-renewal -d 'Renew even if not due'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l no-random-sleep-on-renew -d 'Do not wait a random 0-8 minutes first (the wait only happens when stdin is not a terminal, i.e. from cron, so a fleet does not hit the CA in the same second)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l no-directory-hooks -d 'Do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l run-deploy-hooks -d 'With --dry-run: run deploy hooks too (they are skipped by default)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l json -d 'Print one JSON object (schema 1) instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l staging -d 'Accepted for certbot compatibility and ignored (as --server)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l nginx -d 'Answer HTTP-01 through nginx'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l webroot -d 'Answer HTTP-01 by writing files under -w DIR'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-rfc2136 -d 'Answer DNS-01 with RFC 2136 updates (with --dns-rfc2136-credentials)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-cloudflare -d 'Answer DNS-01 through Cloudflare (with --dns-cloudflare-credentials)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l dns-route53 -d 'Answer DNS-01 through Route53'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l reuse-key -d 'Keep the lineage\'s current private key when renewing (saved for later renewals)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l new-key -d 'Generate a new private key for this issuance, and stop --reuse-key for later ones'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -l allow-subset-of-names -d 'If some names fail validation, renew for the others'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_using_subcommand renew" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand plan" -l json -d 'Print JSON (schema 1) instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand plan" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l schedule -d 'Check at these times instead of twice a day, in standard 5-field crontab syntax (UTC), e.g. "0 0 1 * *" = 00:00 on the 1st of each month; day-of-week 0 and 7 are Sunday. Certificates are still renewed as soon as they are due, and each one\'s ARI window is still asked for at least twice a day (sooner when the CA\'s Retry-After allows)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l concurrency -d 'How many renewals run at once' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l status-file -d 'Where to write the JSON status (each lineage\'s expiry, next renewal, last success and error) for monitoring; default: <work-dir>/status.json' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l deploy-hook -d 'Shell command run after each successful renewal (as renew\'s --deploy-hook)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l http-01-port -d 'Fleet mode (--store): keep a standalone HTTP-01 responder on this port for the daemon\'s whole life, answering every token any node of the fleet published, so the CA\'s probe succeeds whichever node the load balancer sends it to. Where nginx holds port 80: a local port (--http-01-address 127.0.0.1 --http-01-port 8402) that nginx\'s /.well-known/acme-challenge/ location proxies to (--nginx adds it)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l http-01-address -d 'Address for --http-01-port (default: all addresses)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l nginx-http-01-port -d 'With --nginx: the plain-HTTP port whose server blocks get the location (nginx\'s port 80, as install\'s --http-01-port)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l sync-interval -d 'Fleet mode (--store): seconds between checks of the shared store for versions other nodes renewed (installed into live/, then nginx reloaded and the deploy hook run)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l ca-bundle -d 'PEM root certificates trusted for the ACME server\'s HTTPS, instead of the bundle saved in each lineage\'s renewal config (a private CA whose root changed, a lineage imported without one). For this run only; the saved value is not changed' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l server -d 'Accepted for certbot compatibility and ignored: a lineage always uses the ACME server saved in its renewal config' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l metrics-listen -d 'Internal: this process is one pass run by a daemon (`--once`, reporting the parent\'s pid in the status file). Serve Prometheus metrics on http://ADDR:PORT/metrics (the same text as --metrics-textfile, refreshed after every pass)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l notify-webhook -d 'POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as is. The URL\'s path and query are never shown (they hold the token); give it in CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l notify-email -d 'Mail alerts to this address (repeatable); needs --smtp-server' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l smtp-server -d 'SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or smtps://HOST[:PORT]. Plain-text SMTP is not offered' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l smtp-credentials -d 'File with `username = ...` and `password = ...` lines for the relay; must be mode 0600 or stricter' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l smtp-ca-bundle -d 'Also trust the PEM certificates in FILE for the relay\'s TLS (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l smtp-from -d 'Sender address of alert mails (default: certwright@<host name>)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l failure-hook -d 'Shell command run for each alert, with the event in CERTWRIGHT_* environment variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l metrics-textfile -d 'After the run, write Prometheus metrics here atomically (node_exporter textfile collector; name it *.prom)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l once -d 'Run one pass (renew what is due), then exit'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l nginx -d 'Fleet mode, where nginx holds the port the CA probes: at start, give each nginx server block on --nginx-http-01-port (and each TLS block one of them redirects to) a location, marked "# managed by certwright", passing /.well-known/acme-challenge/ to --http-01-port (on 127.0.0.1 if --http-01-address is unset or 0.0.0.0). Changed as `install` changes nginx: `nginx -t` before and after (restored on failure, exit 5), then a reload; `certwright rollback` undoes it. A block with a challenge location of its own is left alone, with a warning'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l staging -d 'Accepted for certbot compatibility and ignored (as --server)'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -l child-pass
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand daemon" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s m -l email -d 'Contact email for the ACME account (expiry and policy notices from the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l eab-kid -d 'Key identifier for External Account Binding (from the CA\'s dashboard)' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l eab-hmac-key-file -d 'File holding the EAB HMAC key (base64url, as the CA shows it). The key can also come from the environment variable CERTWRIGHT_EAB_HMAC_KEY' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l eab-hmac-key -d 'The EAB HMAC key itself (certbot compatibility). Other users can read it in `ps`: prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand register" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand register" -l register-unsafely-without-email -d 'Register without a contact email'
complete -c certwright -n "__fish_certwright_using_subcommand register" -l agree-tos -d 'Agree to the CA\'s terms of service'
complete -c certwright -n "__fish_certwright_using_subcommand register" -l staging -d 'Use Let\'s Encrypt\'s staging server (untrusted test certificates)'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand register" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand show_account" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand show-account" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s m -l email -d 'The new contact email (replaces the old one at the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l rollover-key -d 'Replace the account key with a new one; the old key stops working at once'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand update_account" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s m -l email -d 'The new contact email (replaces the old one at the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l rollover-key -d 'Replace the account key with a new one; the old key stops working at once'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand update-account" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand unregister" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l cert-name -d 'The lineage whose current certificate is revoked' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l cert-path -d 'A certificate file (PEM, leaf first) to revoke' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l key-path -d 'certbot\'s revocation signed with the certificate\'s key: not supported; certwright revokes with the stored account (the lineage\'s, else the server\'s), and says so' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l reason -d 'Reason reported to the CA' -r -f -a "unspecified\t''
keycompromise\t''
affiliationchanged\t''
superseded\t''
cessationofoperation\t''"
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l delete-after-revoke -d 'Delete the certificate\'s files after revoking it (default: ask on a terminal, keep them with -n)'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l no-delete-after-revoke -d 'Keep the certificate\'s files after revoking it'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l cert-name -d 'The lineage to delete; without it, a terminal is asked to choose one (as certbot)' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l server -d 'Accepted for certbot compatibility and ignored: a lineage always uses the ACME server saved in its renewal config' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l ca-bundle -d 'Accepted for certbot compatibility and ignored: deleting talks to no server' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l uninstall -d 'First remove the lines certwright added to nginx for this certificate (`nginx -t`, restored on failure, then reload). Lines certwright did not add are never touched'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -l staging -d 'Accepted for certbot compatibility and ignored (as --server)'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand delete" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l cert-name -d 'The lineage whose renewal settings change' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l key-type -d 'New private key algorithm (the next renewal generates a key of this type)' -r -f -a "ecdsa\t''
rsa\t''"
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l elliptic-curve -d 'New curve for ECDSA keys' -r -f -a "secp256r1\t''
secp384r1\t''
secp521r1\t'Where the CA allows it (Let\'s Encrypt does not)'"
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l rsa-key-size -d 'New size for RSA keys' -r -f -a "2048\t''
3072\t''
4096\t''"
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l preferred-chain -d 'Prefer the CA\'s alternate chain whose topmost certificate is issued by this common name (e.g. "ISRG Root X1"); the default chain is kept if none matches. "" removes a saved preference' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s w -l webroot-path -d 'Document root for every name of the certificate (with --webroot)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-pkcs12 -d 'Also write a PKCS#12 keystore here (key, certificate and chain; alias = lineage name; AES-256-CBC, PBKDF2, HMAC-SHA256), for Java services. Needs the password file' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-pkcs12-password-file -d 'File holding the keystore password (mode 0600; read at each deploy, never saved)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-combined -d 'Also write fullchain followed by the key into this one file, mode 0600 (HAProxy\'s crt)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-dir -d 'Also copy cert.pem, chain.pem, fullchain.pem and privkey.pem into this directory for a service running as --deploy-owner; the four are switched together by one symlink swap' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-owner -d 'USER[:GROUP] owning the --deploy-dir copies (the group defaults to USER\'s)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-mode -d 'Octal mode of the --deploy-dir files: 0640 (the default) or stricter' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l http-01-port -d 'Port the CA\'s probe reaches (standalone listener or nginx server blocks)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l dry-run-server -d 'With --dry-run\'s renewal: use this ACME directory instead of the staging counterpart' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l pre-hook -d 'Shell command run once before obtaining certificates (saved for renewals)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l post-hook -d 'Shell command run once after obtaining certificates, even if it failed (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l deploy-hook -d 'Shell command run after each certificate obtained, with RENEWED_LINEAGE (the live directory) and RENEWED_DOMAINS (space-separated) in its environment (saved)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l reuse-key -d 'Keep the lineage\'s current private key when renewing (saved for later renewals)'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l new-key -d 'Generate a new private key for this issuance, and stop --reuse-key for later ones'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l nginx -d 'Answer HTTP-01 through the running nginx'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l webroot -d 'Answer HTTP-01 by writing files under a document root (-w)'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -l no-directory-hooks -d 'Do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_using_subcommand reconfigure" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l certbot-dir -d 'certbot\'s configuration directory (its renewal/, live/, archive/ and accounts/)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l ca-bundle -d 'PEM bundle to trust for the ACME server, saved in the imported renewal configs (for a private CA; certbot read it from REQUESTS_CA_BUNDLE)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -l dry-run -d 'Show what would be imported; write nothing'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand import-certbot" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l notify-webhook -d 'POST a JSON alert here (repeatable); Slack and Discord incoming-webhook URLs work as is. The URL\'s path and query are never shown (they hold the token); give it in CERTWRIGHT_NOTIFY_WEBHOOK (space-separated URLs) to keep it out of `ps`' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l notify-email -d 'Mail alerts to this address (repeatable); needs --smtp-server' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l smtp-server -d 'SMTP relay: HOST:PORT (STARTTLS; port 465 means implicit TLS), smtp://HOST[:PORT] or smtps://HOST[:PORT]. Plain-text SMTP is not offered' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l smtp-credentials -d 'File with `username = ...` and `password = ...` lines for the relay; must be mode 0600 or stricter' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l smtp-ca-bundle -d 'Also trust the PEM certificates in FILE for the relay\'s TLS (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l smtp-from -d 'Sender address of alert mails (default: certwright@<host name>)' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l failure-hook -d 'Shell command run for each alert, with the event in CERTWRIGHT_* environment variables (CERTWRIGHT_EVENT, _LINEAGE, _NAMES, _DAYS_LEFT, _ERROR, ...)' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l metrics-textfile -d 'After the run, write Prometheus metrics here atomically (node_exporter textfile collector; name it *.prom)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand notify" -l test -d 'Send a test event to every target given and report each delivery (exit 1 if any target failed)'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand notify" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l cert-name -d 'Only these lineages (repeatable); default: all' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand verify" -l json -d 'Print one JSON object (schema 1) instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand verify" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s d -l domains -d 'Names to check (comma-separated or repeated); default: every lineage\'s names' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l cert-name -d 'Check these lineages\' names, with each lineage\'s saved solver and CA (repeatable)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s w -l webroot-path -d 'Document root for the -d names that follow it (repeatable, as certbot\'s -w)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l webroot-map -d 'certbot\'s JSON map of names to document roots, `{"a.example.com,www.a.example.com": "/var/www/a", "b.example.com": "/var/www/b"}`: its names are requested too, and it wins over -w for the names it lists' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l http-01-port -d 'Port the CA\'s probe reaches: where the standalone server listens, or the port whose nginx server blocks answer it. The CA always probes port 80, so another port only makes sense behind a forward (or for tests)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l http-01-address -d 'Address the standalone server binds (default: all IPv4 and IPv6 addresses)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-rfc2136-credentials -d 'certbot\'s dns-rfc2136 credentials file (dns_rfc2136_server, _port, _name, _secret, _algorithm, _sign_query). Refused if group or others can read it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-rfc2136-propagation-seconds -d 'Extra seconds to wait after every server serves the records (default 0: the records are looked up, not waited for blindly)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns -d 'Answer DNS-01 through this provider\'s API (or RFC 2136), with the dns_PROVIDER_* keys of --dns-credentials' -r -f -a "rfc2136\t'RFC 2136 updates signed with TSIG: bind9, knot, PowerDNS (dns_rfc2136_server, dns_rfc2136_name, dns_rfc2136_secret)'
pdns\t'PowerDNS Authoritative HTTP API (dns_pdns_api_url, dns_pdns_api_key)'
cloudflare\t'Cloudflare, an API token with Zone:DNS:Edit (dns_cloudflare_api_token)'
digitalocean\t'DigitalOcean (dns_digitalocean_token)'
linode\t'Linode / Akamai (dns_linode_key)'
hetzner\t'Hetzner DNS (dns_hetzner_api_token)'
desec\t'deSEC (dns_desec_token)'
gandi\t'Gandi LiveDNS, a personal access token (dns_gandi_token)'
godaddy\t'GoDaddy (dns_godaddy_key, dns_godaddy_secret)'
porkbun\t'Porkbun (dns_porkbun_key, dns_porkbun_secret)'
dnsimple\t'DNSimple (dns_dnsimple_token, dns_dnsimple_account_id)'
vultr\t'Vultr (dns_vultr_key)'
bunny\t'Bunny DNS (dns_bunny_api_key)'"
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-credentials -d 'INI file (`key = value`) with the --dns provider\'s keys, e.g. dns_pdns_api_url and dns_pdns_api_key. Refused if group or others can read it; only its path is saved' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-propagation-seconds -d 'Extra seconds to wait after every server serves the --dns records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-cloudflare-credentials -d 'certbot\'s dns-cloudflare credentials file (dns_cloudflare_api_token)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-cloudflare-propagation-seconds -d 'Extra seconds to wait after every server serves the Cloudflare records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-route53-propagation-seconds -d 'Extra seconds to wait after every server serves the Route53 records (default 0)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-resolver -d 'Check DNS-01 propagation at this server instead of the zone\'s nameservers (ADDR or ADDR:PORT; repeatable)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l manual-auth-hook -d 'Command run (by sh -c) once per challenge before the CA is asked' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l manual-cleanup-hook -d 'Command run (by sh -c) once per challenge afterwards: on success, on failure, and on SIGINT/SIGTERM (a run killed outright is cleaned up by the next --manual run)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l preferred-challenges -d 'Challenge types in order of preference, comma-separated: dns-01 (dns), http-01 (http). --manual answers the first; the other solvers check theirs is listed' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l certbot-dir -d 'certbot\'s configuration directory, to find names certbot also renews' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l system-root -d 'Where the system\'s cron and systemd files are read from (tests: a temp dir)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l json -d 'Print one JSON object (schema 1) on stdout instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l nginx -d 'Answer HTTP-01 through the running nginx: a temporary location in the server block for each name, removed again afterwards'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l webroot -d 'Answer HTTP-01 by writing files under a web server\'s document root'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-rfc2136 -d 'Answer DNS-01 with RFC 2136 dynamic updates signed with a TSIG key, as certbot\'s dns-rfc2136 plugin does. DNS-01 is the only way to get wildcard (*.example.com) names'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-cloudflare -d 'certbot\'s dns-cloudflare spelling of --dns cloudflare'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l dns-route53 -d 'Answer DNS-01 through Route53, as certbot\'s dns-route53: AWS credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the shared credentials/config files (AWS_PROFILE), else the EC2 instance role (IMDSv2); AWS_ENDPOINT_URL_ROUTE_53 or AWS_ENDPOINT_URL replace the endpoint'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l manual -d 'Answer the challenges with your own scripts, as certbot\'s --manual: --manual-auth-hook publishes each value, --manual-cleanup-hook removes it (environment CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_TOKEN (http-01), CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS; cleanup also gets CERTBOT_AUTH_OUTPUT, the auth hook\'s stdout). dns-01 values are looked up before the CA is asked, as with the other DNS solvers. Without --manual-auth-hook, at a terminal: each value is printed and Enter awaited'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l manual-public-ip-logging-ok -d 'Accepted for certbot command lines; does nothing (certbot deprecated it too)'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -l staging -d 'Use Let\'s Encrypt\'s staging server'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l cert-name -d 'The lineage whose nginx server blocks get the enhancements' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s i -l installer -d 'The installer (certbot\'s -i / --nginx): nginx, the only one' -r -f -a "nginx\t''"
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l nginx-server-root -d 'nginx\'s configuration directory; its main file is nginx.conf there' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l nginx-ctl -d 'The nginx binary used for `nginx -t` and reloads, or a command line ending in it for nginx in a container: --nginx-ctl "docker exec web nginx"' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l nginx-path-map -d 'nginx in a container: host directory HOST is mounted at CONTAINER there (repeatable). Config files are edited on the host; the certificate paths written into them, and `-c`, are the container\'s. Saved for renewals' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l redirect -d 'Make port 80 answer 301 to https for the certificate\'s names'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l hsts -d 'Add a Strict-Transport-Security header (one year)'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l nginx -d 'Install into nginx (the only installer)'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -l dry-run -d 'Print the unified diff of what would change; change nothing'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand enhance" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s c -l config -d 'Default flags for every run, in certbot\'s cli.ini format (one `long-flag = value` per line, a bare `flag` or `flag = true` for a switch); default <config-dir>/cli.ini, read only if present. The command line and environment variables override it' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l user -d 'Start as root, bind the standalone HTTP-01 port(s), then run as this user (the config, work and logs dirs must belong to it). The alternative to running as root: `setcap cap_net_bind_service=+ep` on the binary' -r
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l store -d 'Fleet mode: share challenges, certificates, keys, accounts and a per-lineage lock with the other nodes through this store: redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS, e.g. ElastiCache in-transit encryption), or file:///ABSOLUTE/DIR, a directory every node mounts (one host, or NFSv4: it relies on the filesystem\'s flock), existing, mode 0700. Each node still writes its own live/ files for its nginx' -r
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l store-key-file -d 'With --store: file holding the fleet\'s 32-byte key, base64 (`openssl rand -base64 32`), mode 0600, the same on every node. Private keys and account keys are stored encrypted with it, never in clear' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l store-ca-bundle -d 'With --store rediss://: PEM file of the CA(s) that signed the Redis server\'s TLS certificate, trusted instead of the system\'s roots (a private CA)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l store-prefix -d 'With --store redis://: every key certwright writes starts with "PREFIX:" (several fleets can share one Redis). A file:// store takes only the default: give each fleet its own directory' -r
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l node-id -d 'With --store: this node\'s name in the fleet (default: the host name)' -r
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l store-lock-ttl -d 'With --store redis://: seconds before a lineage lock held by a node that stopped refreshing it (crashed, cut off) expires and another node may renew. A file:// lock needs none: the kernel releases it when its holder dies' -r
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l authenticators -d 'Only the authenticators'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -l installers -d 'Only the installers'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand plugins" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "run" -d 'Obtain a certificate and install it into nginx (the default when no subcommand is given, as certbot): `certwright --nginx -d example.com`'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "certonly" -d 'Obtain a certificate and store it, without installing it anywhere'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "install" -d 'Install an existing certificate into nginx. A wildcard *.example.com goes into the blocks named *.example.com or .example.com and those serving a name one label under it'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "rollback" -d 'Restore the nginx configuration as it was before certwright\'s last change(s)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "certificates" -d 'List the certificates certwright manages'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "renew" -d 'Renew every certificate that is due (for cron, systemd timers and CI with --dry-run)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "plan" -d 'Show when each certificate will renew and why; offline, changes nothing'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "daemon" -d 'Run as a scheduler: renew each certificate when it is due, until stopped'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "register" -d 'Register an ACME account with the server (once per server; nothing is issued)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "show_account" -d 'Show the stored account for a server: URL, contact, key thumbprint'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "update_account" -d 'Change the account\'s contact email, or replace its key (--rollover-key)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "unregister" -d 'Deactivate the account at the CA (irreversible) and remove it from this machine; asks first unless -n'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "revoke" -d 'Revoke a certificate with the CA'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "delete" -d 'Delete a certificate\'s files (live, archive, renewal config, state); refused while nginx uses them; asks first unless -n'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "reconfigure" -d 'Change a certificate\'s saved renewal settings; saved only after a dry-run renewal with the new settings succeeds'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "import-certbot" -d 'Take over certbot\'s certificates: each lineage under /etc/letsencrypt becomes a certwright lineage with an equivalent renewal config; certbot\'s files are not changed'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "notify" -d 'Send alerts by hand: --test sends a test event to every given target'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "verify" -d 'Check that nginx serves each lineage\'s live certificate: connect to every HTTPS listen of the server blocks using it, with SNI per name; exit 1 on a mismatch'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "doctor" -d 'Say why a name would fail validation, before asking the CA: DNS (each A and AAAA address probed as the CA would, CNAME chains, NXDOMAIN/SERVFAIL), DNSSEC, CAA, the HTTP path (redirects; nginx\'s block and location by file:line), the CA\'s clock; and whether anything will renew. Orders nothing; removes what it publishes to probe. --dns-resolver names the resolvers every lookup asks (default: resolv.conf\'s). Exit 7 when a finding would make validation fail; warnings alone exit 0'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "enhance" -d 'Add the redirect to https and/or HSTS to a lineage installed in nginx (certbot\'s enhance)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "plugins" -d 'List the authenticators and installers certwright has (certbot\'s plugins)'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from run certonly install rollback certificates renew plan daemon register show_account update_account unregister revoke delete reconfigure import-certbot notify verify doctor enhance plugins help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
