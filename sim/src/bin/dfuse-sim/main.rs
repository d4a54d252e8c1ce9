//! `dfuse-sim`: serve a simulated DfuSe chip as a real USB device through USB/IP (Linux vhci-hcd).
//!
//! `dfuse-sim attach --chip stm32f407 [--state FILE] [--port N]` plugs the board
//! into the local vhci_hcd, prints a ready line, answers every URB, re-plugs
//! itself after it resets (leave, read-unprotect, option bytes) like the real
//! part, and unplugs on SIGTERM or Ctrl-C. Needs root (or write access to the
//! vhci_hcd sysfs files) and `modprobe vhci-hcd`.

#[cfg(target_os = "linux")]
mod linux;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "dfuse-sim needs Linux's vhci-hcd (USB/IP); on other systems use --device sim:<chip> with dfuse itself"
    );
    std::process::ExitCode::from(2)
}
