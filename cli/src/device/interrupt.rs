//! Ctrl-C during a device operation: the first asks the operation to stop
//! between two requests (the board is left in dfuIDLE, exit code 130); a
//! second ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

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
        let handler_flag = Arc::clone(&flag);
        // Without a handler (one is already installed) Ctrl-C ends the process as before.
        let _ = ctrlc::set_handler(move || {
            if handler_flag.swap(true, Ordering::SeqCst) {
                eprintln!("\nInterrupted again: exiting now; the board may be left mid-operation.");
                std::process::exit(i32::from(INTERRUPTED));
            }
            eprintln!("\n{stopping}");
        });
        flag
    }))
}
