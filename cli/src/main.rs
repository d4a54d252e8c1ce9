//! `dfuse`: flash STM32 and other DfuSe devices over USB DFU, and handle their firmware files.

// Linux with glibc: the process starts at C's `main` below, not through Rust's start-up
// (docs/PERFORMANCE.md).
#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

mod device;
mod dfu_util;
mod exit;
mod file;
mod memmap;
mod number;
mod output;
mod shell;
mod trace;
mod udev;

use clap::{CommandFactory, Parser, Subcommand};

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

/// The subcommands' arguments are built only for the one run (`defer`): building every one
/// took a third of the start-up. So the argument structs carry plain comments, not doc
/// comments, which would replace the descriptions written here (docs/PERFORMANCE.md).
#[derive(Subcommand, Debug)]
#[command(defer = true)]
enum Command {
    /// Inspect and convert firmware files (no device needed).
    #[command(subcommand)]
    File(file::FileCommand),
    /// Flash a firmware file (.dfu, .bin, .hex, .s19, .elf) to a device, erase and verify included.
    #[command(after_help = device::flash::AFTER_HELP)]
    Flash(device::FlashArgs),
    /// Compare a device with a firmware file without writing (exit 6 when it differs).
    #[command(after_help = device::verify::AFTER_HELP)]
    Verify(device::verify::VerifyArgs),
    /// Read memory from a device into a file (.bin, .hex or .dfu).
    Read(device::ReadArgs),
    /// Show device memory as a hex view.
    Dump(device::dump::DumpArgs),
    /// Erase sectors, or the whole flash.
    Erase(device::EraseArgs),
    /// Remove read protection (erases the whole chip; needs --yes).
    Unprotect(device::UnprotectArgs),
    /// Show and change option bytes: read protection, write protection, brown-out level, watchdog and boot options.
    #[command(subcommand)]
    OptionBytes(device::options::OptionBytesCommand),
    /// Set read protection level 1: the flash can no longer be read through the bootloader or a debugger.
    Protect(device::options::OptionBytesArgs),
    /// Leave DFU mode and start the firmware.
    Leave(device::LeaveArgs),
    /// List DfuSe devices with their alternate settings and memory maps.
    List(device::ListArgs),
    /// Show one device in detail.
    Info(device::InfoArgs),
    /// Which Windows driver binds each DfuSe device, and whether dfuse can use it.
    Driver(device::driver::DriverArgs),
    /// Decode a DfuSe memory-map string (an alternate setting's name) as dfuse reads it.
    #[command(after_help = memmap::AFTER_HELP)]
    Memmap(memmap::MemmapArgs),
    /// Run a dfu-util command line through dfuse (with its checks and verify): dfuse dfu-util -a 0 -s 0x08000000:leave -D fw.bin
    #[command(name = "dfu-util")]
    DfuUtil(dfu_util::DfuUtilArgs),
    /// Print the Linux udev rule that lets the logged-in user use DfuSe boards, or install it.
    UdevRule(udev::UdevArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Write man pages (dfuse.1 and one a subcommand) into a folder.
    Manpages(shell::ManpagesArgs),
}

/// Output into a closed pipe (`dfuse list | head -1`) ends the process quietly, as with
/// other Unix tools, instead of a panic: restore SIGPIPE's default action, which Rust's
/// start-up sets to "ignore".
#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs one dfuse command.
fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::File(command) => file::run(command),
        Command::Memmap(args) => memmap::run(args),
        Command::Flash(args) => device::flash::run(args),
        Command::Verify(args) => device::verify::run(args),
        Command::Read(args) => device::ops::read(args),
        Command::Dump(args) => device::dump::dump(args),
        Command::Erase(args) => device::ops::erase(args),
        Command::Unprotect(args) => device::ops::unprotect(args),
        Command::OptionBytes(command) => device::options::run(command),
        Command::Protect(args) => device::options::protect(args),
        Command::Leave(args) => device::ops::leave(args),
        Command::List(args) => device::inspect::list(args),
        Command::Info(args) => device::inspect::info(args),
        Command::Driver(args) => device::driver::run(args),
        Command::DfuUtil(args) => run_dfu_util(&args.args),
        Command::UdevRule(args) => udev::run(args),
        Command::Completions(args) => shell::completions(args, Cli::command()),
        Command::Manpages(args) => shell::manpages(args, Cli::command()),
    }
}

/// Runs the dfuse commands a dfu-util command line translates into, saying each first.
fn run_dfu_util(args: &[String]) -> Result<(), CliError> {
    let (commands, ignored) = dfu_util::commands(args)?;
    for option in ignored {
        eprintln!("dfuse dfu-util: {option} is not needed by dfuse and is ignored");
    }
    for words in commands {
        eprintln!("dfuse dfu-util: running `{}`", words.join(" "));
        let cli = Cli::try_parse_from(&words)
            .map_err(|error| CliError::Usage(error.render().to_string().trim().to_owned()))?;
        run(cli.command)?;
    }
    Ok(())
}

/// True when the command line asks for JSON output (also for arguments clap refuses).
fn json_asked() -> bool {
    std::env::args_os().skip(1).any(|arg| arg == "--json")
}

/// Runs the command line; the process's exit status.
fn run_command_line() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if json_asked() && error.use_stderr() => {
            let _ = error.print();
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let usage = CliError::Usage(first.trim_start_matches("error: ").to_owned());
            output::print_json(usage.json());
            return usage.exit_number();
        }
        Err(error) => error.exit(),
    };
    match run(cli.command) {
        Ok(()) => 0,
        Err(error) => {
            error.report();
            if json_asked() {
                output::print_json(error.json());
            }
            error.exit_number()
        }
    }
}

/// Linux with glibc: where the process starts, instead of Rust's start-up, which in the USB
/// lab's emulated guest took a third as long as starting the process itself: it reads
/// /proc/self/maps to find the main thread's stack and installs a stack-overflow handler
/// (a stack overflow now ends the process with SIGSEGV, without that message). What of it
/// dfuse needs is done here: the standard files are made safe to write, a panic still
/// prints its message and exits with 101, and `process::exit` flushes standard output.
/// SIGPIPE keeps its default action (Rust's start-up would ignore it). `std::env::args`
/// works without it: glibc hands the arguments to Rust's initialiser.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    open_missing_standard_files();
    let status = std::panic::catch_unwind(run_command_line).unwrap_or(101);
    std::process::exit(i32::from(status))
}

/// A standard file (0, 1, 2) the process was started without is opened on /dev/null, so
/// that the next file dfuse opens (an output file, a device) cannot take its number and
/// receive what is printed.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
fn open_missing_standard_files() {
    let mut files = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: poll reads and writes the three pollfd structs passed, with a zero timeout.
    if unsafe { libc::poll(files.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for file in files.iter().filter(|f| f.revents & libc::POLLNVAL != 0) {
        // SAFETY: opening /dev/null with a NUL-terminated path; the lowest free number,
        // which is this missing one as the lower ones are open.
        let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if opened != file.fd {
            break;
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn main() -> std::process::ExitCode {
    restore_sigpipe();
    std::process::ExitCode::from(run_command_line())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{Command, CommandFactory};
    use std::collections::HashMap;

    /// Every description of every subcommand, by path, once the whole tree is built.
    fn descriptions(command: &Command, path: &str, into: &mut HashMap<String, String>) {
        for subcommand in command.get_subcommands() {
            let path = format!("{path} {}", subcommand.get_name());
            let about = subcommand.get_about().map(ToString::to_string);
            into.insert(path.clone(), about.unwrap_or_default());
            descriptions(subcommand, &path, into);
        }
    }

    #[test]
    fn clap_accepts_the_command_line_definition() {
        Cli::command().debug_assert();
    }

    /// Subcommands are deferred: a doc comment on an argument struct would replace the
    /// subcommand's description when it is built. The descriptions must survive the build.
    #[test]
    fn building_the_deferred_subcommands_keeps_their_descriptions() {
        let mut registered = HashMap::new();
        descriptions(&Cli::command(), "dfuse", &mut registered);
        let mut built_command = Cli::command();
        built_command.build();
        let mut built = HashMap::new();
        descriptions(&built_command, "dfuse", &mut built);
        for (path, about) in &registered {
            assert_eq!(
                &built[path], about,
                "{path}: its description changed when built"
            );
        }
        // Subcommands of deferred ones exist only once built: each has a description of its
        // own (a leaked struct comment shows as the same text on several subcommands).
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let not_help = |path: &&String| !path.split(' ').any(|name| name == "help");
        for (path, about) in built.iter().filter(|(path, _)| not_help(path)) {
            assert!(!about.is_empty(), "{path} has no description");
            if let Some(other) = seen.insert(about, path) {
                panic!("{path} and {other} have the same description: {about}");
            }
        }
        assert!(built.contains_key("dfuse driver install"));
    }
}
