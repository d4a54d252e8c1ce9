//! The option-bytes tab: every field as a drop-down, sector checkboxes or a
//! text box, the pending change as a diff, and Apply with the library's
//! safety rules (level 2 and level 1 to 0 ask first).

use std::collections::HashMap;

use eframe::egui::{self, RichText};

use dfuse::device::OptionBytes;
use dfuse::option_bytes::{Allow, Field, Image, Kind, Layouts, OptionBytesError, Reading};

use crate::app::{App, Confirm};
use crate::job::Action;

/// What the tab shows and what is being edited.
#[derive(Default)]
pub struct OptionPanel {
    /// The option bytes as last read, and the board they are from.
    pub read: Option<(String, OptionBytes)>,
    /// The option bytes with the user's edits, when there are any.
    pub edited: Option<Image>,
    /// Text typed into number and page-range fields, by field name.
    drafts: HashMap<String, String>,
    /// Why the last edit or Apply was refused.
    pub problem: Option<String>,
    /// The board a read was started for (each board is read once by itself).
    asked: Option<String>,
    /// The option-byte layouts: the user's (`option-bytes.toml` in dfuse's configuration folder) first.
    pub layouts: Option<Layouts>,
}

impl OptionPanel {
    /// Takes in option bytes read from the board at `location`; edits are dropped.
    pub fn show_read(&mut self, location: &str, read: OptionBytes) {
        self.read = Some((location.to_owned(), read));
        self.edited = None;
        self.drafts.clear();
        self.problem = None;
    }

    /// The pending change (as read, as edited), if there is one.
    pub fn pending(&self) -> Option<(&OptionBytes, &Image)> {
        let (_, read) = self.read.as_ref()?;
        let edited = self.edited.as_ref()?;
        (edited != &read.image).then_some((read, edited))
    }

    /// Applies `FIELD=VALUE` to the edited copy.
    fn edit(&mut self, assignment: &str) {
        let Some((_, read)) = &self.read else {
            return;
        };
        let mut image = self.edited.clone().unwrap_or_else(|| read.image.clone());
        match read.layout.set(&mut image, assignment) {
            Ok(()) => {
                self.edited = Some(image);
                self.problem = None;
            }
            Err(error) => self.problem = Some(format!("{error}.")),
        }
    }

    /// The write job for the pending change with `allow`, if there is a change.
    pub fn write_action(&self, allow: Allow) -> Option<Action> {
        let (read, edited) = self.pending()?;
        Some(Action::WriteOptionBytes {
            read: Box::new(read.clone()),
            after: edited.clone(),
            allow,
        })
    }
}

impl App {
    /// The option-bytes tab for `board`.
    pub(crate) fn option_bytes_tab(&mut self, ui: &mut egui::Ui, board: &dfuse::Board) {
        let location = board.info().location.clone();
        let layouts = self
            .options
            .layouts
            .get_or_insert_with(Layouts::built_in)
            .clone();
        let (layout, alt) = match board.profile.option_layout(&layouts) {
            Ok(found) => found,
            Err(error) => {
                ui.label(format!("{error}."));
                ui.label(RichText::new(error.help()).weak());
                return;
            }
        };
        let idle = !self.busy();
        let ctx = ui.ctx().clone();
        if idle && self.options.asked.as_deref() != Some(location.as_str()) {
            self.options.asked = Some(location.clone());
            self.start(Action::ReadOptionBytes(layouts.clone()), &ctx);
        }
        ui.horizontal(|ui| {
            ui.strong(format!("Option bytes of {} (alt {alt})", layout.family))
                .on_hover_text(&layout.source);
            if ui
                .add_enabled(idle, egui::Button::new("Read again"))
                .clicked()
            {
                self.start(Action::ReadOptionBytes(layouts.clone()), &ctx);
            }
        });
        let Some((from, read)) = &self.options.read else {
            ui.label("Reading the option bytes…");
            return;
        };
        if *from != location {
            ui.label("Reading the option bytes…");
            return;
        }
        let read = read.clone();
        let image = self
            .options
            .edited
            .clone()
            .unwrap_or_else(|| read.image.clone());
        let readings = read.layout.decode(&image);
        let mut edits = Vec::new();
        egui::Grid::new("option-bytes")
            .num_columns(4)
            .striped(true)
            .show(ui, |ui| {
                for reading in &readings {
                    let Ok(field) = read.layout.field(&reading.name) else {
                        continue;
                    };
                    ui.label(&reading.name).on_hover_text(&reading.about);
                    self.field_control(ui, field, reading, &mut edits);
                    ui.monospace(format!("{:#x}", reading.raw));
                    ui.label(&reading.means).on_hover_text(&reading.about);
                    ui.end_row();
                }
            });
        for assignment in edits {
            self.options.edit(&assignment);
        }
        if let Some(problem) = &self.options.problem {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        self.pending_change(ui);
    }

    /// The control of one field; a change is pushed to `edits` as FIELD=VALUE.
    fn field_control(
        &mut self,
        ui: &mut egui::Ui,
        field: &Field,
        reading: &Reading,
        edits: &mut Vec<String>,
    ) {
        match &field.kind {
            Kind::Choice { values, .. } => {
                egui::ComboBox::from_id_salt(&field.name)
                    .selected_text(&reading.value)
                    .show_ui(ui, |ui| {
                        for value in values {
                            let chosen = value.raw == reading.raw;
                            let item = ui
                                .selectable_label(chosen, &value.name)
                                .on_hover_text(&value.means);
                            if item.clicked() && !chosen {
                                edits.push(format!("{}={}", field.name, value.name));
                            }
                        }
                    })
                    .response
                    .on_hover_text(&field.about);
            }
            Kind::Sectors {
                active_low, first, ..
            } => {
                ui.horizontal(|ui| {
                    for bit in 0..field.width {
                        let sector = first + bit;
                        let mut protected = (reading.raw >> bit & 1 == 0) == *active_low;
                        let checkbox = ui
                            .checkbox(&mut protected, sector.to_string())
                            .on_hover_text(format!("Write-protect sector {sector}"));
                        if checkbox.changed() {
                            let sign = if protected { '+' } else { '-' };
                            edits.push(format!("{}={sign}{sector}", field.name));
                        }
                    }
                });
            }
            Kind::Number | Kind::Pages { .. } => {
                let draft = self
                    .options
                    .drafts
                    .entry(field.name.clone())
                    .or_insert_with(|| reading.value.clone());
                let response = ui
                    .add(egui::TextEdit::singleline(draft).desired_width(90.0))
                    .on_hover_text(&field.about);
                if response.lost_focus() && *draft != reading.value {
                    edits.push(format!("{}={}", field.name, draft.trim()));
                }
            }
        }
    }

    /// The pending change as a diff, with Apply and Discard.
    fn pending_change(&mut self, ui: &mut egui::Ui) {
        let Some((read, edited)) = self.options.pending() else {
            return;
        };
        let changes = read.layout.changes(&read.image, edited);
        let check = read.layout.check(&read.image, edited, Allow::default());
        ui.separator();
        ui.strong("Pending change");
        for (old, new) in &changes {
            ui.label(format!(
                "{}: {} -> {} ({})",
                new.name, old.value, new.value, new.means
            ));
        }
        let idle = !self.busy();
        let ctx = ui.ctx().clone();
        ui.horizontal(|ui| {
            let apply = ui
                .add_enabled(idle, egui::Button::new(RichText::new("Apply").strong()))
                .on_hover_text("Writes the option bytes; the board resets to load them, then they are read back.");
            if apply.clicked() {
                match check {
                    Ok(()) => {
                        if let Some(action) = self.options.write_action(Allow::default()) {
                            self.start(action, &ctx);
                        }
                    }
                    Err(OptionBytesError::PermanentLock { .. }) => {
                        self.confirm = Some(Confirm::LockForever)
                    }
                    Err(OptionBytesError::ErasesChip) => {
                        self.confirm = Some(Confirm::LowerProtection)
                    }
                    Err(error) => self.options.problem = Some(format!("{error}.")),
                }
            }
            if ui.add_enabled(idle, egui::Button::new("Discard")).clicked() {
                self.options.edited = None;
                self.options.drafts.clear();
                self.options.problem = None;
            }
        });
    }
}
