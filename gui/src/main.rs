//! `dfuse-gui`: the desktop window for flashing DfuSe devices.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use dfuse_gui::{App, Options};
use eframe::egui;

/// Flash STM32 and other DfuSe devices over USB DFU, in a window.
///
/// Boards in DFU mode appear by themselves as they are plugged in. Open a
/// firmware file (.hex, .s19, .elf, .bin, .dfu) or drop it on the window: the
/// memory map shows which sectors a flash will erase and write before anything
/// is touched.
#[derive(Parser, Debug)]
#[command(
    name = "dfuse-gui",
    version,
    after_help = "Examples:\n  dfuse-gui\n  dfuse-gui firmware.hex\n  dfuse-gui --sim stm32f407 --sim stm32f072 assets/examples/blinky-f407.hex"
)]
struct Args {
    /// A firmware file to open at start.
    file: Option<PathBuf>,
    /// Show a simulated board of this chip (repeatable), e.g. stm32f407.
    #[arg(long, value_name = "CHIP", value_parser = chips())]
    sim: Vec<String>,
    /// Do not look for USB boards (only the simulated ones).
    #[arg(long)]
    no_usb: bool,
    /// A device table consulted before the built-in one (default: $XDG_CONFIG_HOME/dfuse/devices.toml, if present).
    #[arg(long, value_name = "FILE")]
    device_db: Option<PathBuf>,
    /// Also write the log to this file (appended).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// The tab shown first: flash, option-bytes or memory.
    #[arg(long, value_enum, default_value = "flash", value_name = "TAB")]
    tab: dfuse_gui::Tab,
    /// Window size in logical pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1100x760", value_name = "WxH")]
    size: String,
    /// Print how long the first frame took to appear, then quit (for benchmarks).
    #[arg(long, hide = true)]
    exit_after_first_frame: bool,
    /// Pretend Windows bound this driver to the simulated boards, e.g. STTub30 (shows the driver advice and the install button).
    #[arg(long, hide = true, value_name = "DRIVER")]
    sim_driver: Option<String>,
    /// Install the WinUSB driver and quit: how the window's button runs as administrator.
    #[arg(long, hide = true)]
    install_driver: bool,
    /// Where --install-driver writes what it did, for the window that started it.
    #[arg(long, hide = true, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// `--install-driver`: installs, writes the report, and says by the exit code how it went.
fn install_driver(report: Option<&std::path::Path>) -> std::process::ExitCode {
    use dfuse_drivers_win::system;
    let result = system::install_fresh();
    if let Some(path) = report
        && let Err(error) = system::write_report(path, &result)
    {
        eprintln!("error: cannot write {}: {error}", path.display());
    }
    match result {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The window: the app, and the start-up measurement when asked for.
struct Window {
    app: App,
    started: Instant,
    exit_after_first_frame: bool,
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if self.exit_after_first_frame && self.app.frames == 1 {
            // The first frame has been painted by now.
            println!(
                "first frame after {} ms",
                self.started.elapsed().as_millis()
            );
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.app.show(ui);
        if self.exit_after_first_frame {
            ui.ctx().request_repaint();
        }
    }
}

/// The simulated chips, for --sim's possible values.
#[cfg(feature = "sim")]
fn chips() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(dfuse_sim::chip_ids())
}

/// Built without simulated boards: --sim accepts nothing.
#[cfg(not(feature = "sim"))]
fn chips() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(["(none: built without simulated boards)"])
}

fn size(text: &str) -> Option<[f32; 2]> {
    let (w, h) = text.split_once(['x', 'X'])?;
    Some([w.trim().parse().ok()?, h.trim().parse().ok()?])
}

fn main() -> std::process::ExitCode {
    let started = Instant::now();
    let args = Args::parse();
    if args.install_driver {
        return install_driver(args.report.as_deref());
    }
    let Some(size) = size(&args.size) else {
        eprintln!(
            "error: --size takes WIDTHxHEIGHT, like 1100x760, not {:?}",
            args.size
        );
        return std::process::ExitCode::from(2);
    };
    let table_path = args
        .device_db
        .clone()
        .or_else(dfuse::matching::user_table_path);
    let device_table = match table_path {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Some((text, path)),
            Err(error) => {
                eprintln!(
                    "error: cannot read the device table {}: {error}",
                    path.display()
                );
                return std::process::ExitCode::from(4);
            }
        },
        None => None,
    };
    let options = Options {
        sims: args.sim.clone(),
        usb: !args.no_usb,
        real_time: true,
        file: args.file.clone(),
        device_table,
        log_file: args.log.clone(),
        tab: args.tab,
        sim_driver: args.sim_driver.clone(),
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("dfuse")
        .with_app_id("dfuse")
        .with_inner_size(size)
        .with_drag_and_drop(true);
    // The window's icon (gui/assets/icons, rendered from dfuse.svg); compiled in, so it cannot be missing.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(dfuse_gui::ICON) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let exit_after_first_frame = args.exit_after_first_frame;
    let result = eframe::run_native(
        "dfuse",
        native,
        Box::new(move |cc| {
            Ok(Box::new(Window {
                app: App::new(&options, Some(cc.egui_ctx.clone())),
                started,
                exit_after_first_frame,
            }))
        }),
    );
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot open the window: {error}");
            eprintln!(
                "  help: dfuse-gui needs a graphical desktop (on Linux, DISPLAY or WAYLAND_DISPLAY); without one, use the `dfuse` command line"
            );
            std::process::ExitCode::from(1)
        }
    }
}
