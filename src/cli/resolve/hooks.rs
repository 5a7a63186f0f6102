//! `--pre-hook`, `--post-hook`, `--deploy-hook`.

use crate::config::Hooks;
use crate::error::Error;
use crate::ops::deploy::hooks::check_hooks;

use crate::cli::HookArgs;

/// `--pre-hook`, `--post-hook`, `--deploy-hook` (`--renew-hook`), checked.
pub(crate) fn hooks(args: &HookArgs) -> Result<Hooks, Error> {
    check_hooks(&[
        ("--pre-hook", args.pre_hook.as_deref()),
        ("--post-hook", args.post_hook.as_deref()),
        ("--deploy-hook", args.deploy_hook.as_deref()),
    ])?;
    Ok(Hooks {
        pre_hook: args.pre_hook.clone(),
        post_hook: args.post_hook.clone(),
        deploy_hook: args.deploy_hook.clone(),
    })
}
