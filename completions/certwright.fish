# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_certwright_global_optspecs
    string join \n config-dir= work-dir= logs-dir= n/non-interactive v/verbose q/quiet h/help V/version
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
complete -c certwright -n "__fish_certwright_needs_command" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_needs_command" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_needs_command" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_needs_command" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certwright -n "__fish_certwright_needs_command" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "certonly" -d 'Obtain a certificate and store it, without installing it anywhere'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "certificates" -d 'List the certificates certwright manages'
complete -c certwright -n "__fish_certwright_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s w -l webroot-path -d 'Document root for the -d names that follow it (repeatable, as certbot\'s -w)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l http-01-port -d 'Port the standalone server listens on; the CA always probes port 80, so another port only makes sense behind a forward (or for tests)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l http-01-address -d 'Address the standalone server binds (default: all IPv4 and IPv6 addresses)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s d -l domains -d 'Domain name(s) for the certificate; comma-separated or repeated' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l cert-name -d 'Name of the lineage (directory under live/); default: the first domain' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l key-type -d 'Private key algorithm' -r -f -a "ecdsa\t''
rsa\t''"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l elliptic-curve -d 'Curve for ECDSA keys' -r -f -a "secp256r1\t''
secp384r1\t''"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l rsa-key-size -d 'Size of RSA keys' -r -f -a "2048\t''
3072\t''
4096\t''"
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s m -l email -d 'Contact email for the ACME account (expiry and policy notices from the CA)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l server -d 'ACME directory URL (default: Let\'s Encrypt production)' -r
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l ca-bundle -d 'Extra PEM root certificates trusted for the ACME server\'s HTTPS (private CAs, Pebble)' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l standalone -d 'Answer HTTP-01 with certwright\'s own web server (the default)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l webroot -d 'Answer HTTP-01 by writing files under a web server\'s document root'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l force-renewal -d 'Obtain a new certificate even if the current one is far from expiry'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l expand -d 'Allow adding names to an existing certificate'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l register-unsafely-without-email -d 'Register without a contact email'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l agree-tos -d 'Agree to the CA\'s terms of service'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l staging -d 'Use Let\'s Encrypt\'s staging server (untrusted test certificates)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -l json -d 'Print one JSON object (schema 1) on stdout instead of a text summary'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand certonly" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l cert-name -d 'Only this lineage' -r
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l config-dir -d 'Where certificates, accounts and renewal configs live' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l work-dir -d 'Working state: renewal bookkeeping, nginx checkpoints' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l logs-dir -d 'Where the log file (certwright.log, mode 0600) is written' -r -F
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -l json -d 'Print JSON (schema 1) instead of text'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s n -l non-interactive -d 'Never prompt; fail instead where an answer would be needed'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s v -l verbose -d 'More detail in the log file and on stderr (repeat for more)'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s q -l quiet -d 'Print only errors'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s h -l help -d 'Print help'
complete -c certwright -n "__fish_certwright_using_subcommand certificates" -s V -l version -d 'Print version'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from certonly certificates help" -f -a "certonly" -d 'Obtain a certificate and store it, without installing it anywhere'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from certonly certificates help" -f -a "certificates" -d 'List the certificates certwright manages'
complete -c certwright -n "__fish_certwright_using_subcommand help; and not __fish_seen_subcommand_from certonly certificates help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
