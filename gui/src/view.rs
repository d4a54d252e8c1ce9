//! Drawing the window: device panel, board and file, memory maps, actions, progress, log.

use eframe::egui::{self, RichText};

use crate::app::{App, Confirm, DialogPurpose, Tab};
use crate::job::Action;
use crate::memory_view::{self, size_text};
use crate::words::Plain;
use dfuse::device::count;
use dfuse::option_bytes::Allow;

impl App {
    /// Draws one frame (and takes in what the worker and the watcher reported).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.frames += 1;
        self.poll();
        self.take_dropped_files(ui.ctx());
        if let Some((purpose, path)) = self.dialog_answer() {
            match purpose {
                DialogPurpose::Open => self.open_file(&path),
                DialogPurpose::SaveRead => self.read_to(path, &ui.ctx().clone()),
            }
        }
        self.refresh_plan();
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        egui::Panel::left("devices")
            .default_size(260.0)
            .show(ui, |ui| self.device_panel(ui));
        egui::Panel::bottom("log")
            .resizable(true)
            .default_size(160.0)
            .show(ui, |ui| self.log.show(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| self.main_panel(ui));
        });
        self.confirm_window(ui.ctx());
        if self.busy() {
            // Progress arrives from the worker, which also wakes the window; keep the speed fresh.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if let Some(file) = dropped.first() {
            self.open_file(file.path());
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("dfuse");
            ui.separator();
            let open = ui.add_enabled(!self.dialog_open(), egui::Button::new("Open firmware…"));
            if open.clicked() {
                self.ask_for_file(DialogPurpose::Open);
            }
            ui.label(RichText::new("or drop a file on the window").weak());
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Flash, "Firmware");
            ui.selectable_value(&mut self.tab, Tab::OptionBytes, "Option bytes");
            ui.selectable_value(&mut self.tab, Tab::Memory, "Memory");
        });
    }

    fn device_panel(&mut self, ui: &mut egui::Ui) {
        ui.strong("Devices");
        if self.devices.boards.is_empty() {
            ui.label("No DfuSe devices. Put the board in DFU mode (BOOT0 high, then reset); it appears here by itself.");
            return;
        }
        let mut chosen = None;
        let mut toggled = None;
        let mut install_driver = false;
        let several = self.devices.boards.len() > 1;
        for board in &self.devices.boards {
            let selected = self.selected.as_deref() == Some(board.profile.info.location.as_str());
            let text = format!(
                "{}\n{:04X}:{:04X}  {}  {}",
                board.profile.title(),
                board.profile.info.vid,
                board.profile.info.pid,
                board.profile.info.serial.as_deref().unwrap_or("no serial"),
                board.profile.info.location
            );
            let response = ui
                .selectable_label(selected, text)
                .on_hover_text(board.profile.resolution.steps().join("\n"));
            if response.clicked() {
                chosen = Some(board.profile.info.location.clone());
            }
            if several && !selected {
                let location = &board.profile.info.location;
                let mut together = self.also.contains(location);
                let label = format!("Flash {location} too");
                if ui.checkbox(&mut together, label).changed() {
                    toggled = Some((location.clone(), together));
                }
            }
            if let Some(driver) = &board.driver
                && dfuse::usb::driver_advice(driver).is_some()
            {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "Windows has the {} driver bound to this board; dfuse needs WinUSB.",
                        dfuse::transport::printable(driver)
                    ),
                );
                install_driver |= self.driver.show_button(ui);
            }
            if let Some(problem) = &board.problem {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("Cannot read its memory map: {problem}"),
                );
            }
        }
        self.driver.show_outcome(ui);
        if install_driver {
            let ctx = ui.ctx().clone();
            self.driver.start(&ctx, &mut self.log);
        }
        if let Some(location) = chosen {
            self.select(&location);
        }
        if let Some((location, together)) = toggled {
            self.flash_together(&location, together);
        }
    }

    fn main_panel(&mut self, ui: &mut egui::Ui) {
        let Some(board) = self.board().cloned() else {
            ui.label("Select a board on the left.");
            return;
        };
        ui.heading(board.profile.title());
        let identity = board.profile.identity();
        ui.label(format!("Chip: {}", identity.summary()))
            .on_hover_text(&identity.reason);
        ui.label(format!(
            "{:04X}:{:04X} rev {:04X} at {}, {}",
            board.profile.info.vid,
            board.profile.info.pid,
            board.profile.info.bcd_device,
            board.profile.info.location,
            board.profile.info.product.as_deref().unwrap_or("")
        ));
        ui.separator();
        match self.tab {
            Tab::Flash => {
                self.file_section(ui, &board);
                ui.separator();
                self.maps_section(ui, &board);
                ui.separator();
                self.actions(ui, &board);
            }
            Tab::OptionBytes => self.option_bytes_tab(ui, &board),
            Tab::Memory => self.memory_tab(ui, &board),
        }
        self.progress_section(ui);
    }

    fn file_section(&mut self, ui: &mut egui::Ui, board: &dfuse::Board) {
        if let Some(error) = &self.file_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        let Some(file) = &mut self.file else {
            ui.label("No firmware file yet: press Open firmware…, or drop a .hex, .s19, .elf, .bin or .dfu file here.");
            return;
        };
        ui.horizontal(|ui| {
            ui.strong(file.name());
            ui.label(format!("({})", file.format.description()));
        });
        if file.needs_address() {
            ui.horizontal(|ui| {
                let label = ui.label("Load address:");
                let edit = ui
                    .add(egui::TextEdit::singleline(&mut file.address).desired_width(110.0))
                    .labelled_by(label.id);
                if edit.changed() {
                    file.reread();
                }
                ui.label(RichText::new("raw data has no address of its own").weak());
            });
        }
        match &file.firmware {
            Err(error) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            Ok(firmware) => {
                for target in &firmware.targets {
                    let name = target
                        .name
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    ui.label(format!(
                        "Target alt {}{name}: {} in {}",
                        target.alt,
                        size_text(target.image.len()),
                        count(target.image.segments().len(), "segment")
                    ));
                    for segment in target.image.segments() {
                        let span = segment.span();
                        ui.monospace(format!(
                            "    {:#010X} – {:#010X}  {}",
                            span.start,
                            span.end,
                            size_text(span.end - span.start)
                        ));
                    }
                }
                if firmware.format != dfu_file::Format::Dfuse && board.profile.maps().len() > 1 {
                    ui.horizontal(|ui| {
                        egui::ComboBox::from_label("memory region to flash")
                            .selected_text(region_name(board, self.alt))
                            .show_ui(ui, |ui| {
                                for (alt, _) in board.profile.maps() {
                                    ui.selectable_value(
                                        &mut self.alt,
                                        *alt,
                                        region_name(board, *alt),
                                    );
                                }
                            });
                    });
                }
            }
        }
    }

    fn maps_section(&self, ui: &mut egui::Ui, board: &dfuse::Board) {
        ui.strong("Memory map");
        let plans = self.planned();
        let refused = match &self.plan {
            Some(Err(refusal)) => refusal.range,
            _ => None,
        };
        for (alt, map) in board.profile.maps() {
            let plan = plans.iter().find(|p| p.alt == *alt).map(|p| &p.plan);
            let total: u64 = map
                .segments
                .iter()
                .map(|s| s.end() - u64::from(s.address))
                .sum();
            ui.label(format!("alt {alt}: {} ({})", map.name, size_text(total)));
            let sectors = memory_view::sectors(map, plan, refused);
            memory_view::bar(ui, &format!("alt {alt}"), &sectors);
        }
        memory_view::legend(ui);
        match &self.plan {
            Some(Ok(_)) if self.compared.is_some() => {
                for target in self.planned() {
                    let plan = &target.plan;
                    let mut parts = Vec::new();
                    if plan.mass_erase.is_some() {
                        parts.push("erased the whole flash".to_string());
                    } else if !plan.erase.is_empty() {
                        parts.push(format!("erased {}", count(plan.erase.len(), "sector")));
                    }
                    if !plan.unchanged().is_empty() {
                        parts.push(format!(
                            "skipped {} that already held the file",
                            count(plan.unchanged().len(), "sector")
                        ));
                    }
                    if !plan.blank().is_empty() {
                        parts.push(format!(
                            "found {} already blank",
                            count(plan.blank().len(), "sector")
                        ));
                    }
                    parts.push(format!(
                        "wrote {} bytes to alt {} ({})",
                        plan.write_len(),
                        target.alt,
                        target.region
                    ));
                    ui.label(format!("The last flash {}.", parts.join(", ")));
                }
            }
            Some(Ok(plans)) => {
                for target in plans {
                    let erase = if target.plan.mass_erase.is_some() {
                        "erase the whole flash".to_string()
                    } else {
                        let bytes: u64 = target.plan.erase.iter().map(|s| u64::from(s.size)).sum();
                        format!(
                            "erase {} ({})",
                            count(target.plan.erase.len(), "sector"),
                            size_text(bytes)
                        )
                    };
                    ui.label(format!(
                        "Flashing will {erase} and write {} bytes to alt {} ({}).",
                        target.plan.write_len(),
                        target.alt,
                        target.region
                    ));
                }
            }
            Some(Err(refusal)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Cannot flash: {}", refusal.reason),
                );
            }
            None => {}
        }
    }

    fn actions(&mut self, ui: &mut egui::Ui, board: &dfuse::Board) {
        let idle = !self.busy();
        let can_flash = matches!(self.plan, Some(Ok(_)));
        let sectors: Vec<_> = self
            .planned()
            .iter()
            .filter(|p| p.alt == 0)
            .flat_map(|p| p.plan.sectors.iter().copied())
            .collect();
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.verify, "Verify");
            ui.checkbox(&mut self.leave_after, "Start the firmware after flashing");
            ui.checkbox(&mut self.mass_erase, "Erase the whole flash first");
            ui.add_enabled(
                !self.mass_erase,
                egui::Checkbox::new(
                    &mut self.incremental,
                    "Skip sectors that already hold the file",
                ),
            )
            .on_hover_text(
                "Reads the sectors first; only those that differ are erased and written.",
            );
            if self
                .file
                .as_ref()
                .is_some_and(|f| f.firmware.as_ref().is_ok_and(|fw| fw.suffix.is_some()))
            {
                ui.checkbox(&mut self.ignore_ids, "Ignore the file's device IDs");
            }
        });
        let start = board.profile.default_start();
        let ctx = ui.ctx().clone();
        ui.horizontal_wrapped(|ui| {
            let title = match self.also.len() {
                0 => "Flash".to_string(),
                n => format!("Flash {} boards", n + 1),
            };
            let flash = ui.add_enabled(
                idle && can_flash,
                egui::Button::new(RichText::new(title).strong()),
            );
            if flash.clicked()
                && let Some(action) = self.flash_action()
            {
                self.start(action, &ctx);
            }
            let read = ui.add_enabled(
                idle && !self.dialog_open(),
                egui::Button::new("Read to file…"),
            );
            if read.clicked() {
                self.ask_for_file(DialogPurpose::SaveRead);
            }
            if ui
                .add_enabled(
                    idle && !sectors.is_empty(),
                    egui::Button::new("Erase the file's sectors"),
                )
                .clicked()
            {
                self.start(Action::Erase { alt: 0, sectors }, &ctx);
            }
            if ui
                .add_enabled(idle, egui::Button::new("Erase all…"))
                .clicked()
            {
                self.confirm = Some(Confirm::EraseAll);
            }
            if ui
                .add_enabled(idle, egui::Button::new("Read-unprotect…"))
                .clicked()
            {
                self.confirm = Some(Confirm::Unprotect);
            }
            if ui
                .add_enabled(idle, egui::Button::new("Leave DFU mode"))
                .on_hover_text(format!("Start the firmware at {start:#010X}"))
                .clicked()
            {
                self.start(Action::Leave(start), &ctx);
            }
        });
    }

    fn progress_section(&mut self, ui: &mut egui::Ui) {
        if let Some(job) = &self.job {
            ui.separator();
            ui.horizontal(|ui| {
                ui.label(format!("{} under way", job.action));
                let cancel = ui.add_enabled(!job.cancelling(), egui::Button::new("Cancel"));
                if cancel.clicked() {
                    job.cancel();
                }
            });
        }
        let several = self.progress.len() > 1;
        for (location, progress) in &self.progress {
            let Some(progress) = progress else {
                if several && self.job.is_some() {
                    ui.label(format!("{location}: opening"));
                }
                continue;
            };
            let whose = if several {
                format!("{location}: ")
            } else {
                String::new()
            };
            let fraction = if progress.total == 0 {
                1.0
            } else {
                progress.done as f32 / progress.total as f32
            };
            let until = progress.ended.unwrap_or_else(std::time::Instant::now);
            let seconds = (until - progress.started).as_secs_f64().max(0.001);
            let speed = progress.done as f64 / seconds / 1024.0;
            let label = if progress.phase.unit() == dfuse::session::Unit::Steps {
                // A mass erase is one command: there are no bytes to count, only its time.
                format!(
                    "{whose}{} the whole flash ({seconds:.1} s)",
                    phase_title(progress.phase)
                )
            } else {
                format!(
                    "{whose}{} {}% ({} of {}, {speed:.1} KiB/s)",
                    phase_title(progress.phase),
                    (fraction * 100.0).round(),
                    size_text(progress.done),
                    size_text(progress.total)
                )
            };
            ui.add(egui::ProgressBar::new(fraction).text(label));
        }
        match &self.outcome {
            Some(Ok(summary)) => {
                ui.colored_label(
                    egui::Color32::from_rgb(0x2E, 0xA0, 0x43),
                    format!("Done: {summary}"),
                );
            }
            Some(Err(Plain { what, next, code })) => {
                ui.colored_label(ui.visuals().error_fg_color, what);
                ui.label(next);
                ui.weak(format!("error code: {code}"));
            }
            None => {}
        }
    }

    fn confirm_window(&mut self, ctx: &egui::Context) {
        let Some(question) = self.confirm else {
            return;
        };
        let (title, text, button) = match question {
            Confirm::Unprotect => (
                "Remove read protection?",
                "Removing read protection makes the chip erase all of its flash, then reset. The firmware on it is lost.",
                "Erase and unprotect",
            ),
            Confirm::EraseAll => (
                "Erase the whole flash?",
                "Every sector of the flash is erased. The firmware on the chip is lost.",
                "Erase everything",
            ),
            Confirm::LockForever => (
                "Lock this chip forever?",
                "Read protection level 2 is permanent: the chip can never again be read, debugged or flashed through its bootloader, and its option bytes can never change again.",
                "Lock this chip forever",
            ),
            Confirm::LowerProtection => (
                "Lower read protection to level 0?",
                "Going from level 1 to level 0 makes the chip erase all of its flash. The firmware on it is lost.",
                "Erase and lower protection",
            ),
        };
        let mut answer = None;
        egui::Window::new(title)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label(text);
                ui.horizontal(|ui| {
                    if ui.button(button).clicked() {
                        answer = Some(true);
                    }
                    if ui.button("Keep it").clicked() {
                        answer = Some(false);
                    }
                });
            });
        match answer {
            Some(true) => {
                self.confirm = None;
                let action = match question {
                    Confirm::Unprotect => Some(Action::Unprotect),
                    Confirm::EraseAll => Some(Action::Erase {
                        alt: 0,
                        sectors: Vec::new(),
                    }),
                    Confirm::LockForever => self.options.write_action(Allow {
                        permanent_lock: true,
                        ..Allow::default()
                    }),
                    Confirm::LowerProtection => self.options.write_action(Allow {
                        erase: true,
                        ..Allow::default()
                    }),
                };
                if let Some(action) = action {
                    self.start(action, ctx);
                }
            }
            Some(false) => self.confirm = None,
            None => {}
        }
    }
}

pub(crate) fn region_name(board: &dfuse::Board, alt: u8) -> String {
    board
        .profile
        .maps()
        .iter()
        .find(|(n, _)| *n == alt)
        .map_or_else(
            || format!("alt {alt}"),
            |(_, m)| format!("alt {alt}: {}", m.name),
        )
}

fn phase_title(phase: dfuse::session::Phase) -> &'static str {
    match phase {
        dfuse::session::Phase::Erase | dfuse::session::Phase::MassErase => "Erasing",
        dfuse::session::Phase::Write => "Writing",
        dfuse::session::Phase::Verify => "Verifying",
        dfuse::session::Phase::Read => "Reading",
        dfuse::session::Phase::Compare => "Comparing",
        _ => "Working",
    }
}
