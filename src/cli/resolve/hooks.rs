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

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;
    use crate::cli::Command;
    use crate::error::InputError;

    fn renew_hooks(args: &[&str]) -> Result<Hooks, Error> {
        let Command::Renew(a) = parse(args).command else {
            panic!("not renew")
        };
        hooks(&a.hooks)
    }

    #[test]
    fn hook_flags_resolve_to_the_hooks() {
        let h = renew_hooks(&[
            "renew",
            "--pre-hook",
            "echo pre",
            "--renew-hook",
            "echo deployed",
        ])
        .unwrap();
        assert_eq!(h.pre_hook.as_deref(), Some("echo pre"));
        assert_eq!(h.post_hook, None);
        assert_eq!(h.deploy_hook.as_deref(), Some("echo deployed"));
    }

    #[test]
    fn empty_and_replaceable_hooks_are_refused() {
        let e = input_error(renew_hooks(&["renew", "--post-hook", " "]));
        assert!(
            matches!(&e, InputError::EmptyHook { flag } if flag == "--post-hook"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "--post-hook is empty");
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("hook.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o777);
        std::fs::set_permissions(&script, perms).unwrap();
        let script = script.display().to_string();
        let e = input_error(renew_hooks(&["renew", "--deploy-hook", &script]));
        assert!(
            matches!(&e, InputError::UnsafeHook { flag, command, .. } if flag == "--deploy-hook" && *command == script),
            "{e:?}"
        );
    }
}
