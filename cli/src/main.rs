//! `dfuse`: flash STM32 and other DfuSe devices over USB DFU, and handle their firmware files.

mod exit;
mod file;
mod memmap;
mod number;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use exit::{CliError, EXIT_CODES_HELP};

/// Flash STM32 and other DfuSe devices over USB DFU.
///
/// Reads .dfu (DfuSe, UM0391), raw .bin, Intel HEX, S-record and ELF files.
#[derive(Parser, Debug)]
#[command(name = "dfuse", version, after_help = EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect and convert firmware files (no device needed).
    #[command(subcommand)]
    File(file::FileCommand),
    /// Decode a DfuSe memory-map string (an alternate setting's name) as dfuse reads it.
    #[command(after_help = memmap::AFTER_HELP)]
    Memmap(memmap::MemmapArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::File(command) => file::run(command),
        Command::Memmap(args) => memmap::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.report();
            error.exit_code()
        }
    }
}
