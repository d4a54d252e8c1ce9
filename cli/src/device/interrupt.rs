//! Ctrl-C during a device operation: the first asks the operation to stop
//! between two requests (the board is left in dfuIDLE, exit code 130); a
//! second ends the process at once. SIGTERM and SIGHUP are treated alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// What the second Ctrl-C prints before the process ends.
const AGAIN: &str = "\nInterrupted again: exiting now; the board may be left mid-operation.\n";

/// The flag Ctrl-C sets during a device operation; the handler is installed on first use.
pub fn flag() -> Arc<AtomicBool> {
    flag_saying(
        "Interrupted: stopping after the request under way (Ctrl-C again to exit at once)...",
    )
}

/// The flag Ctrl-C sets, with what the first Ctrl-C prints (the first caller's words hold).
pub fn flag_saying(stopping: &'static str) -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        // Without a handler (one could not be installed) Ctrl-C ends the process as before.
        install(Arc::clone(&flag), format!("\n{stopping}\n"));
        flag
    }))
}

/// Unix: a signal handler of its own, with no thread (starting one was a tenth of a flash's
/// start-up in the USB lab, docs/PERFORMANCE.md). It does only what a handler may: set the
/// flag, write(2) the message, _exit(2) on the second signal.
#[cfg(unix)]
fn install(flag: Arc<AtomicBool>, stopping: String) {
    let flag = Arc::new((flag, stopping));
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let state = Arc::clone(&flag);
        // SAFETY: the action is async-signal-safe: an atomic swap, write(2) of bytes made
        // beforehand, and _exit(2); it allocates, locks and frees nothing.
        let _ = unsafe {
            signal_hook_registry::register(signal, move || {
                let (flag, stopping) = &*state;
                if flag.swap(true, Ordering::SeqCst) {
                    write_stderr(AGAIN);
                    libc::_exit(i32::from(INTERRUPTED));
                }
                write_stderr(stopping);
            })
        };
    }
}

/// Writes `text` to standard error with one write(2): safe in a signal handler.
#[cfg(unix)]
fn write_stderr(text: &str) {
    // SAFETY: the pointer and length are those of `text`, which outlives the call.
    let _ = unsafe { libc::write(libc::STDERR_FILENO, text.as_ptr().cast(), text.len()) };
}

/// Elsewhere (Windows' console control handler): through the ctrlc crate.
#[cfg(not(unix))]
fn install(flag: Arc<AtomicBool>, stopping: String) {
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprint!("{AGAIN}");
            std::process::exit(i32::from(INTERRUPTED));
        }
        eprint!("{stopping}");
    });
}
