//! `dfuse completions SHELL` and `dfuse manpages DIR`: shell completion scripts
//! and man pages, generated from the same command-line definition as `--help`.

use std::path::PathBuf;

use clap::{Args, Command};
use clap_complete::Shell;

use crate::exit::CliError;

// Arguments of `dfuse completions`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  source <(dfuse completions bash)\n  dfuse completions zsh > ~/.zfunc/_dfuse\n  dfuse completions fish > ~/.config/fish/completions/dfuse.fish"
)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

// Arguments of `dfuse manpages`.
#[derive(Args, Debug)]
pub struct ManpagesArgs {
    /// The folder to write dfuse.1 and one page a subcommand into (created if missing).
    dir: PathBuf,
}

/// Prints the completion script for `args.shell` on standard output.
pub fn completions(args: CompletionsArgs, mut command: Command) -> Result<(), CliError> {
    // Subcommands are built on demand (`defer`): build them all for the script. (`dfuse help
    // driver` then completes no further: its tree is copied before `driver`'s is built.)
    command.build();
    clap_complete::generate(args.shell, &mut command, "dfuse", &mut std::io::stdout());
    Ok(())
}

/// Writes the man pages of `command` and of every subcommand into `args.dir`.
pub fn manpages(args: ManpagesArgs, command: Command) -> Result<(), CliError> {
    // Subcommands are built on demand (`defer`): build them all, without the `help`
    // subcommands, which have no page of their own.
    let mut command = command.disable_help_subcommand(true);
    command.build();
    std::fs::create_dir_all(&args.dir).map_err(|error| CliError::Io {
        path: args.dir.clone(),
        action: "create",
        error,
    })?;
    clap_mangen::generate_to(command, &args.dir).map_err(|error| CliError::Io {
        path: args.dir.clone(),
        action: "write man pages into",
        error,
    })?;
    println!("Wrote the man pages into {}.", args.dir.display());
    Ok(())
}
