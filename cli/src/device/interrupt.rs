//! Ctrl-C during a device operation: the first asks the operation to stop
//! between two requests (the board is left in dfuIDLE, exit code 130); a
//! second ends the process at once. SIGTERM and SIGHUP are treated alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, OnceLock};

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

/// The flag Ctrl-C sets and what the first Ctrl-C prints: set once, read by the handler.
static STATE: OnceLock<(Arc<AtomicBool>, String)> = OnceLock::new();

/// The flag Ctrl-C sets, with what the first Ctrl-C prints (the first caller's words hold).
pub fn flag_saying(stopping: &'static str) -> Arc<AtomicBool> {
    static INSTALLED: Once = Once::new();
    let (flag, _) =
        STATE.get_or_init(|| (Arc::new(AtomicBool::new(false)), format!("\n{stopping}\n")));
    // Without a handler (one could not be installed) Ctrl-C ends the process as before.
    INSTALLED.call_once(install);
    Arc::clone(flag)
}

/// Unix: a handler of its own installed with sigaction(2), with no thread (starting one was
/// a tenth of a flash's start-up in the USB lab, docs/PERFORMANCE.md).
#[cfg(unix)]
fn install() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: an all-zero sigaction is a valid value to fill in; sigaction(2) gets
        // pointers to it, valid for the call. The handler is async-signal-safe (below).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Does only what a signal handler may: an atomic swap, write(2) of text made beforehand,
/// and _exit(2) on the second signal. It allocates, locks and frees nothing.
#[cfg(unix)]
extern "C" fn on_signal(_signal: libc::c_int) {
    let Some((flag, stopping)) = STATE.get() else {
        return;
    };
    if flag.swap(true, Ordering::SeqCst) {
        write_stderr(AGAIN);
        // SAFETY: _exit(2) ends the process without running anything else.
        unsafe { libc::_exit(i32::from(INTERRUPTED)) };
    }
    write_stderr(stopping);
}

/// Writes `text` to standard error with one write(2): safe in a signal handler.
#[cfg(unix)]
fn write_stderr(text: &str) {
    // SAFETY: the pointer and length are those of `text`, which outlives the call.
    let _ = unsafe { libc::write(libc::STDERR_FILENO, text.as_ptr().cast(), text.len()) };
}

/// Elsewhere (Windows' console control handler): through the ctrlc crate.
#[cfg(not(unix))]
fn install() {
    let _ = ctrlc::set_handler(move || {
        let Some((flag, stopping)) = STATE.get() else {
            return;
        };
        if flag.swap(true, Ordering::SeqCst) {
            eprint!("{AGAIN}");
            std::process::exit(i32::from(INTERRUPTED));
        }
        eprint!("{stopping}");
    });
}
