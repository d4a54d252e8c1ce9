//! `-v`: the library's request trace (the `log` crate, target `dfuse::request`) on standard error.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Prints the library's request trace and warnings to standard error.
struct Requests;

impl Log for Requests {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.target().starts_with("dfuse") && metadata.level() <= Level::Trace
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            eprintln!("  -> {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Turns the trace on (once; later calls change nothing).
pub fn show_requests() {
    static REQUESTS: Requests = Requests;
    if log::set_logger(&REQUESTS).is_ok() {
        log::set_max_level(LevelFilter::Trace);
    }
}
