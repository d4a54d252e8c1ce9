//! The log panel: what happened, with levels, newest at the bottom.

use std::time::Instant;

use eframe::egui;

/// How much a log line matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Details: matching steps, phases.
    Debug,
    /// What was done.
    Info,
    /// Worth a look.
    Warn,
    /// Failed.
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    fn colour(self, ui: &egui::Ui) -> egui::Color32 {
        match self {
            Level::Debug => ui.visuals().weak_text_color(),
            Level::Info => ui.visuals().text_color(),
            Level::Warn => ui.visuals().warn_fg_color,
            Level::Error => ui.visuals().error_fg_color,
        }
    }
}

/// The lines logged so far, and the least level shown.
pub struct Log {
    start: Instant,
    lines: Vec<(f32, Level, String)>,
    /// Lines below this level are hidden.
    pub shown: Level,
    /// A file every line is also appended to.
    file: Option<std::fs::File>,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            start: Instant::now(),
            lines: Vec::new(),
            shown: Level::Info,
            file: None,
        }
    }
}

/// Lines kept at most: the oldest go first.
const KEPT: usize = 5000;

impl Log {
    /// Also appends every line to `path` from now on.
    pub fn write_to(&mut self, path: &std::path::Path) -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        self.file = Some(file);
        Ok(())
    }

    /// Adds a line.
    pub fn add(&mut self, level: Level, text: impl Into<String>) {
        if self.lines.len() >= KEPT {
            self.lines.drain(..KEPT / 10);
        }
        let text = text.into();
        let at = self.start.elapsed().as_secs_f32();
        if let Some(file) = &mut self.file {
            use std::io::Write;
            // A log file that cannot be written must not stop the window.
            let _ = writeln!(file, "{at:8.3}  {:5}  {text}", level.name());
        }
        self.lines.push((at, level, text));
    }

    /// Every line's text at `level` or above, oldest first.
    pub fn texts(&self, level: Level) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(move |(_, l, _)| *l >= level)
            .map(|(_, _, text)| text.as_str())
    }

    /// Draws the level chooser and the lines.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("Log");
            egui::ComboBox::from_label("shown")
                .selected_text(format!("{} and above", self.shown.name()))
                .show_ui(ui, |ui| {
                    for level in [Level::Debug, Level::Info, Level::Warn, Level::Error] {
                        ui.selectable_value(&mut self.shown, level, level.name());
                    }
                });
        });
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for (at, level, text) in self.lines.iter().filter(|(_, l, _)| *l >= self.shown) {
                    ui.label(
                        egui::RichText::new(format!("{at:8.3}  {:5}  {text}", level.name()))
                            .monospace()
                            .color(level.colour(ui)),
                    );
                }
            });
    }
}
