//! The memory-map view: each alternate setting a bar of its sectors, what a
//! flash will erase and write highlighted on it.

use eframe::egui::{self, Color32, CornerRadius, Rect, Role, Sense, Stroke, StrokeKind, Vec2};

use dfuse::memory_map::{MemoryMap, Segment};
use dfuse::plan::FlashPlan;

/// What happens to one sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Nothing.
    Untouched,
    /// Erased, not written.
    Erased,
    /// Erased (when erasable) and written.
    Written,
    /// Data would land here but is refused.
    Refused,
    /// It already held the file's bytes: neither erased nor written.
    Unchanged,
}

/// One sector of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectorView {
    /// First address.
    pub address: u32,
    /// Size in bytes.
    pub size: u32,
    /// The segment it belongs to (for its rights).
    pub segment: Segment,
    /// What the loaded file will do to it.
    pub fate: Fate,
}

/// The sectors of `map` and what `plan` (or the refused range) does to each.
pub fn sectors(
    map: &MemoryMap,
    plan: Option<&FlashPlan>,
    refused: Option<(u64, u64)>,
) -> Vec<SectorView> {
    map.sectors()
        .map(|(sector, segment)| {
            let (start, end) = (u64::from(sector.address), sector.end());
            let overlaps = |a: u64, b: u64| a < end && start < b;
            let written = plan.is_some_and(|p| {
                p.runs.iter().any(|r| {
                    overlaps(
                        u64::from(r.address),
                        u64::from(r.address) + r.data.len() as u64,
                    )
                })
            });
            let erased = plan.is_some_and(|p| {
                (p.mass_erase.is_some() && segment.access.erasable) || p.erase.contains(&sector)
            });
            let unchanged = plan.is_some_and(|p| p.unchanged().contains(&sector));
            let fate = match (
                refused.is_some_and(|(a, b)| overlaps(a, b)),
                written,
                erased,
            ) {
                (true, _, _) => Fate::Refused,
                _ if unchanged => Fate::Unchanged,
                (false, true, _) => Fate::Written,
                (false, false, true) => Fate::Erased,
                _ => Fate::Untouched,
            };
            SectorView {
                address: sector.address,
                size: sector.size,
                segment: *segment,
                fate,
            }
        })
        .collect()
}

/// "16 KiB", "2 MiB", "512 B".
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

fn rights(segment: &Segment) -> &'static str {
    let access = segment.access;
    match (access.readable, access.erasable, access.writable) {
        (_, true, true) => "erasable, writable",
        (_, false, true) => "writable, not erasable",
        (_, true, false) => "erasable, not writable",
        (true, false, false) => "read-only",
        (false, false, false) => "no access",
    }
}

const FLASH: Color32 = Color32::from_rgb(0x3A, 0x6E, 0xA5);
const WRITABLE_ONLY: Color32 = Color32::from_rgb(0x3A, 0x95, 0xA5);
const READ_ONLY: Color32 = Color32::from_gray(0x80);
const OTHER: Color32 = Color32::from_gray(0x50);
const ERASED: Color32 = Color32::from_rgb(0xE0, 0x90, 0x20);
const WRITTEN: Color32 = Color32::from_rgb(0x2E, 0xA0, 0x43);
const REFUSED: Color32 = Color32::from_rgb(0xD0, 0x30, 0x30);
const UNCHANGED: Color32 = Color32::from_rgb(0x9A, 0xC8, 0x8E);

fn fill(sector: &SectorView) -> Color32 {
    let access = sector.segment.access;
    match sector.fate {
        Fate::Refused => REFUSED,
        Fate::Unchanged => UNCHANGED,
        Fate::Written => WRITTEN,
        Fate::Erased => ERASED,
        Fate::Untouched => match (access.readable, access.erasable, access.writable) {
            (_, true, true) => FLASH,
            (_, false, true) => WRITABLE_ONLY,
            (true, false, false) => READ_ONLY,
            _ => OTHER,
        },
    }
}

/// The label a sector has for hover text and screen readers.
pub fn describe(index: usize, sector: &SectorView) -> String {
    let fate = match sector.fate {
        Fate::Untouched => "",
        Fate::Erased => ", will be erased",
        Fate::Written => {
            if sector.segment.access.erasable {
                ", will be erased and written"
            } else {
                ", will be written"
            }
        }
        Fate::Refused => ", refused: the file has data here",
        Fate::Unchanged => ", already held the file: skipped",
    };
    format!(
        "sector {index} at {:#010X}, {}, {}{fate}",
        sector.address,
        size_text(u64::from(sector.size)),
        rights(&sector.segment)
    )
}

/// Draws `sectors` as one bar the width of the panel; small sectors get a few pixels at least.
pub fn bar(ui: &mut egui::Ui, id: &str, sectors: &[SectorView]) {
    let width = ui.available_width().max(100.0);
    let height = 28.0;
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let minimum = 3.0f32;
    let total: f64 = sectors.iter().map(|s| f64::from(s.size)).sum();
    let spare = (width - minimum * sectors.len() as f32).max(0.0);
    let painter = ui.painter_at(rect);
    let mut x = rect.left();
    for (index, sector) in sectors.iter().enumerate() {
        let share = if total > 0.0 {
            (f64::from(sector.size) / total) as f32 * spare
        } else {
            0.0
        };
        let w = if spare > 0.0 {
            minimum + share
        } else {
            width / sectors.len().max(1) as f32
        };
        let cell = Rect::from_min_size(egui::pos2(x, rect.top()), Vec2::new(w, height));
        painter.rect_filled(cell.shrink(0.5), CornerRadius::ZERO, fill(sector));
        let label = describe(index, sector);
        let response = ui
            .interact(cell, ui.scope_id().with((id, index)), Sense::hover())
            .on_hover_text(&label);
        response.widget_info(|| egui::WidgetInfo::labeled(Role::Image, true, &label));
        x += w;
    }
    painter.rect_stroke(
        rect,
        CornerRadius::ZERO,
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
        StrokeKind::Inside,
    );
}

/// The colour key under the bars.
pub fn legend(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (colour, text) in [
            (FLASH, "flash"),
            (WRITABLE_ONLY, "writable, not erasable"),
            (READ_ONLY, "read-only"),
            (ERASED, "will be erased"),
            (WRITTEN, "will be written"),
            (REFUSED, "refused"),
            (UNCHANGED, "already held the file (skipped)"),
        ] {
            let (rect, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
            ui.painter().rect_filled(rect, CornerRadius::ZERO, colour);
            ui.small(text);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfu_file::Image;
    use dfuse::plan::{PlanOptions, plan};

    fn f407_flash() -> MemoryMap {
        dfuse::memory_map::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg")
            .unwrap()
            .map
    }

    #[test]
    fn the_sectors_a_plan_touches_are_marked_written_and_the_rest_untouched() {
        let map = f407_flash();
        let image = Image::from_pieces([(0x0800_0000, vec![1; 20 * 1024])]).unwrap();
        let plan = plan(&image, &map, &PlanOptions::default()).unwrap();
        let views = sectors(&map, Some(&plan), None);
        assert_eq!(views.len(), 12);
        let fates: Vec<Fate> = views.iter().map(|v| v.fate).collect();
        assert_eq!(
            &fates[..3],
            &[Fate::Written, Fate::Written, Fate::Untouched]
        );
        assert!(describe(1, &views[1]).ends_with("will be erased and written"));
        assert_eq!(
            describe(4, &views[4]),
            "sector 4 at 0x08010000, 64 KiB, erasable, writable"
        );
    }

    #[test]
    fn a_refused_range_marks_its_sectors() {
        let map = f407_flash();
        let views = sectors(&map, None, Some((0x080E_0000, 0x0810_0010)));
        assert_eq!(views[11].fate, Fate::Refused);
        assert_eq!(views[10].fate, Fate::Untouched);
    }
}
