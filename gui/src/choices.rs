//! What the window starts with and the small choices it keeps: start-up
//! options, the tabs, a phase's progress, a refusal, a question, a dialog.

use std::path::PathBuf;
use std::time::Instant;

use dfuse::session::Phase;

/// How the GUI starts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Simulated boards to show (`stm32f407`, ...).
    pub sims: Vec<String>,
    /// Follow USB boards too.
    pub usb: bool,
    /// Simulated boards take real time (for people), not only virtual time (for tests).
    pub real_time: bool,
    /// A firmware file to open at start.
    pub file: Option<PathBuf>,
    /// The user's device table (TOML text and its path), consulted before the built-in one.
    pub device_table: Option<(String, PathBuf)>,
    /// A file the log is also written to.
    pub log_file: Option<PathBuf>,
    /// The tab shown first.
    pub tab: Tab,
    /// A Windows driver the simulated boards pretend is bound to them (demonstrations of
    /// the driver advice and the install button).
    pub sim_driver: Option<String>,
}

/// The tabs of the main panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Tab {
    /// The file, the memory maps and the flash.
    #[default]
    Flash,
    /// The option bytes, decoded and editable.
    OptionBytes,
    /// The memory as a hex view, compared with the file.
    Memory,
}

/// A phase under way.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Which.
    pub phase: Phase,
    /// Bytes in all.
    pub total: u64,
    /// Bytes done.
    pub done: u64,
    /// When it began.
    pub started: Instant,
    /// When it ended, if it has.
    pub ended: Option<Instant>,
}

/// Why the loaded file cannot be flashed to the selected board.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// Why, in words.
    pub reason: String,
    /// The addresses refused, to mark on the map.
    pub range: Option<(u64, u64)>,
}

/// Something that asks "are you sure?" first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Read-unprotect: the chip erases itself.
    Unprotect,
    /// Mass erase.
    EraseAll,
    /// Option bytes with read protection level 2: permanent.
    LockForever,
    /// Option bytes lowering read protection from level 1 to 0: the flash is erased.
    LowerProtection,
}

/// What an open or save dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Open a firmware file.
    Open,
    /// Choose where a read goes.
    SaveRead,
}
