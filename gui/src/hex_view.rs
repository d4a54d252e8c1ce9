//! The memory tab: an alternate setting's memory, read on demand, as a hex
//! view (16 bytes a row, only the visible rows drawn), or the loaded file's
//! bytes at the same addresses; bytes where the two differ are highlighted.

use eframe::egui::{self, Color32, RichText, TextFormat, text::LayoutJob};

use dfu_file::Image;

use crate::app::App;
use crate::job::Action;

/// Bytes a row.
const ROW: usize = 16;

/// The background of a byte where board and file differ.
const DIFFERENT: Color32 = Color32::from_rgb(190, 40, 40);

/// Memory as read: (address, bytes) a segment.
pub type Pieces = Vec<(u32, Vec<u8>)>;

/// What the memory tab shows.
#[derive(Default)]
pub struct HexView {
    /// The memory read: board location, alternate setting, and (address, bytes) segments.
    pub memory: Option<(String, u8, Pieces)>,
    /// The alternate setting to show.
    pub alt: u8,
    /// Show the file's bytes instead of the board's.
    pub show_file: bool,
    /// The addresses where board and file differ, and what they were computed for.
    differences: Option<(DiffKey, Vec<u32>)>,
    /// Scroll to this row on the next frame.
    scroll_to: Option<usize>,
    /// The (board, alt) a read was started for (each is read once by itself).
    asked: Option<(String, u8)>,
}

/// What the differences depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DiffKey {
    memory: (String, u8, usize),
    file: Option<(std::path::PathBuf, String)>,
}

impl HexView {
    /// Takes in memory read from `alt` of the board at `location`.
    pub fn show_read(&mut self, location: &str, alt: u8, pieces: Pieces) {
        self.memory = Some((location.to_owned(), alt, pieces));
        self.differences = None;
    }

    /// Scrolls to row `row` (16 bytes a row, segments one after another) on the next frame.
    pub fn scroll_row(&mut self, row: usize) {
        self.scroll_to = Some(row);
    }

    /// The addresses where the memory read and `file` differ (bytes the file holds only).
    pub fn differences(&self) -> &[u32] {
        self.differences.as_ref().map_or(&[], |(_, d)| d)
    }
}

/// The byte at `address` of `pieces`, if they hold it.
fn byte_at(pieces: &[(u32, Vec<u8>)], address: u32) -> Option<u8> {
    pieces.iter().find_map(|(start, data)| {
        let offset = address.checked_sub(*start)? as usize;
        data.get(offset).copied()
    })
}

/// The byte the file puts at `address`, if it puts one there.
fn file_byte(image: &Image, address: u32) -> Option<u8> {
    image.segments().iter().find_map(|segment| {
        let offset = address.checked_sub(segment.address())? as usize;
        segment.data().get(offset).copied()
    })
}

/// Every address where `image` and `pieces` disagree.
fn compare(pieces: &[(u32, Vec<u8>)], image: &Image) -> Vec<u32> {
    let mut differ = Vec::new();
    for segment in image.segments() {
        for (i, &wanted) in segment.data().iter().enumerate() {
            let address = segment.address() + i as u32;
            if byte_at(pieces, address).is_some_and(|held| held != wanted) {
                differ.push(address);
            }
        }
    }
    differ
}

/// The row that holds `address` in `pieces` laid out one after another.
fn row_of(pieces: &[(u32, Vec<u8>)], address: u32) -> Option<usize> {
    let mut rows = 0;
    for (start, data) in pieces {
        let offset = address.checked_sub(*start).map(|o| o as usize);
        if let Some(offset) = offset.filter(|o| *o < data.len()) {
            return Some(rows + offset / ROW);
        }
        rows += data.len().div_ceil(ROW);
    }
    None
}

/// The address of row `row`, and how many bytes it holds.
fn row_start(pieces: &[(u32, Vec<u8>)], mut row: usize) -> Option<(u32, usize)> {
    for (start, data) in pieces {
        let rows = data.len().div_ceil(ROW);
        if row < rows {
            let offset = row * ROW;
            return Some((start + offset as u32, (data.len() - offset).min(ROW)));
        }
        row -= rows;
    }
    None
}

/// One row: address, 16 bytes in hex (differences highlighted), printable ASCII.
fn row_job(
    font: egui::FontId,
    colour: Color32,
    address: u32,
    bytes: &[Option<u8>],
    differs: impl Fn(u32) -> bool,
) -> LayoutJob {
    let normal = TextFormat::simple(font.clone(), colour);
    let highlighted = TextFormat {
        background: DIFFERENT,
        ..TextFormat::simple(font, Color32::WHITE)
    };
    let mut job = LayoutJob::default();
    job.append(&format!("{address:#010X}  "), 0.0, normal.clone());
    for (i, byte) in bytes.iter().enumerate() {
        let at = address + i as u32;
        let text = byte.map_or_else(|| "..".to_string(), |b| format!("{b:02X}"));
        let format = if differs(at) { &highlighted } else { &normal };
        job.append(&text, 0.0, format.clone());
        job.append(" ", 0.0, normal.clone());
    }
    let ascii: String = bytes
        .iter()
        .map(|b| match b {
            Some(b) if b.is_ascii_graphic() || *b == b' ' => char::from(*b),
            Some(_) => '.',
            None => ' ',
        })
        .collect();
    job.append(&format!(" |{ascii}|"), 0.0, normal);
    job
}

impl App {
    /// The loaded file's image for alternate setting `alt`, if it has one.
    fn file_image(&self, alt: u8) -> Option<&Image> {
        let firmware = self.file.as_ref()?.firmware.as_ref().ok()?;
        if firmware.format == dfu_file::Format::Dfuse {
            firmware
                .targets
                .iter()
                .find(|t| t.alt == alt)
                .map(|t| &t.image)
        } else {
            (alt == self.alt)
                .then(|| firmware.targets.first().map(|t| &t.image))
                .flatten()
        }
    }

    /// The memory tab for `board`.
    pub(crate) fn memory_tab(&mut self, ui: &mut egui::Ui, board: &dfuse::Board) {
        let location = board.info().location.clone();
        let idle = !self.busy();
        let ctx = ui.ctx().clone();
        let alt = self.memory.alt;
        let wanted = (location.clone(), alt);
        if idle && self.memory.asked.as_ref() != Some(&wanted) {
            self.memory.asked = Some(wanted);
            self.start(Action::ReadMemory { alt }, &ctx);
        }
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("memory-alt")
                .selected_text(crate::view::region_name(board, self.memory.alt))
                .show_ui(ui, |ui| {
                    for (n, _) in board.profile.maps() {
                        let name = crate::view::region_name(board, *n);
                        ui.selectable_value(&mut self.memory.alt, *n, name);
                    }
                });
            if ui
                .add_enabled(idle, egui::Button::new("Read again"))
                .clicked()
            {
                self.start(Action::ReadMemory { alt }, &ctx);
            }
            ui.radio_value(&mut self.memory.show_file, false, "Board");
            ui.add_enabled(
                self.file_image(alt).is_some(),
                egui::RadioButton::new(self.memory.show_file, "File"),
            )
            .clicked()
            .then(|| self.memory.show_file = true);
        });
        let Some((from, read_alt, pieces)) = &self.memory.memory else {
            ui.label("Reading the memory…");
            return;
        };
        if *from != location || *read_alt != alt {
            ui.label("Reading the memory…");
            return;
        }
        let pieces = pieces.clone();
        self.refresh_differences(&location, alt, &pieces);
        let differences = self.memory.differences().to_vec();
        let total: usize = pieces.iter().map(|(_, d)| d.len()).sum();
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} of alt {alt}, {} rows.",
                crate::memory_view::size_text(total as u64),
                total.div_ceil(ROW)
            ));
            match differences.first() {
                Some(first) if self.file_image(alt).is_some() => {
                    ui.label(
                        RichText::new(format!(
                            "{} from the file; the first at {first:#010X}.",
                            match differences.len() {
                                1 => "1 byte differs".to_string(),
                                n => format!("{n} bytes differ"),
                            }
                        ))
                        .color(ui.visuals().warn_fg_color),
                    );
                    if ui.button("Go to the first difference").clicked() {
                        self.memory.scroll_to = row_of(&pieces, *first);
                    }
                }
                None if self.file_image(alt).is_some() => {
                    ui.label("The board holds the file's bytes.");
                }
                _ => {}
            }
        });
        let show_file = self.memory.show_file;
        let image = self.file_image(alt).cloned();
        let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 2.0;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("hex")
            .auto_shrink([false, false]);
        if let Some(row) = self.memory.scroll_to.take() {
            area = area
                .vertical_scroll_offset(row as f32 * (row_height + ui.spacing().item_spacing.y));
        }
        area.show_rows(ui, row_height, total.div_ceil(ROW), |ui, rows| {
            for row in rows {
                let Some((address, len)) = row_start(&pieces, row) else {
                    continue;
                };
                let bytes: Vec<Option<u8>> = (0..len as u32)
                    .map(|i| match (&image, show_file) {
                        (Some(image), true) => file_byte(image, address + i),
                        _ => byte_at(&pieces, address + i),
                    })
                    .collect();
                let differs = |at: u32| differences.binary_search(&at).is_ok();
                let font = egui::TextStyle::Monospace.resolve(ui.style());
                let colour = ui.visuals().text_color();
                ui.label(row_job(font, colour, address, &bytes, differs));
            }
        });
    }

    /// Compares the memory read with the file again when either changed.
    fn refresh_differences(&mut self, location: &str, alt: u8, pieces: &[(u32, Vec<u8>)]) {
        let key = DiffKey {
            memory: (
                location.to_owned(),
                alt,
                pieces.iter().map(|(_, d)| d.len()).sum(),
            ),
            file: self
                .file
                .as_ref()
                .map(|f| (f.path.clone(), f.address.clone())),
        };
        if self
            .memory
            .differences
            .as_ref()
            .is_some_and(|(k, _)| *k == key)
        {
            return;
        }
        let differences = self
            .file_image(alt)
            .map_or_else(Vec::new, |image| compare(pieces, image));
        self.memory.differences = Some((key, differences));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_run_through_segments_and_differences_are_where_the_file_disagrees() {
        let pieces = vec![(0x1000, vec![0u8; 40]), (0x2000, vec![7u8; 16])];
        assert_eq!(row_start(&pieces, 2), Some((0x1020, 8)));
        assert_eq!(row_start(&pieces, 3), Some((0x2000, 16)));
        assert_eq!(row_start(&pieces, 4), None);
        assert_eq!(row_of(&pieces, 0x2005), Some(3));
        let image = Image::from_pieces([(0x1001, vec![0, 1, 0]), (0x2000, vec![7, 7])]).unwrap();
        assert_eq!(compare(&pieces, &image), vec![0x1002]);
        assert_eq!(file_byte(&image, 0x1002), Some(1));
        assert_eq!(byte_at(&pieces, 0x1FFF), None);
    }

    #[test]
    fn a_differing_byte_is_drawn_on_the_highlight_and_the_others_are_not() {
        let bytes = [Some(0x41), Some(0x1B), None];
        let job = row_job(
            egui::FontId::monospace(12.0),
            Color32::GRAY,
            0x0800_0010,
            &bytes,
            |at| at == 0x0800_0011,
        );
        assert_eq!(job.text, "0x08000010  41 1B ..  |A. |");
        let highlighted: Vec<&str> = job
            .sections
            .iter()
            .filter(|s| s.format.background == DIFFERENT)
            .map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0])
            .collect();
        assert_eq!(highlighted, ["1B"]);
    }
}
