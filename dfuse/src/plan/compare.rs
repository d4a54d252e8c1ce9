//! Incremental flash: which sectors already hold what a full flash would leave
//! there, and which are blank. See docs/PERFORMANCE.md.

use super::{FlashPlan, Found, MassErase, Sector, WriteRun};

/// What a full flash leaves in `sector`: the runs' bytes, 0xFF elsewhere.
fn expected(runs: &[WriteRun], sector: &Sector) -> Vec<u8> {
    let mut bytes = vec![0xFF; sector.size as usize];
    for run in runs {
        let start = u64::from(run.address).max(u64::from(sector.address));
        let end = (u64::from(run.address) + run.data.len() as u64).min(sector.end());
        if start >= end {
            continue;
        }
        let from = (start - u64::from(run.address)) as usize;
        let to = (start - u64::from(sector.address)) as usize;
        let len = (end - start) as usize;
        bytes[to..to + len].copy_from_slice(&run.data[from..from + len]);
    }
    bytes
}

/// `runs` with every byte inside `skipped` sectors cut out (a run may split in two).
pub(super) fn without(runs: &[WriteRun], skipped: &[Sector]) -> Vec<WriteRun> {
    let mut out = Vec::new();
    for run in runs {
        let first = u64::from(run.address);
        let end = first + run.data.len() as u64;
        let mut start = first;
        // Sectors are in address order; walk the run and keep what lies between them.
        for sector in skipped
            .iter()
            .filter(|s| u64::from(s.address) < end && s.end() > first)
        {
            push_piece(&mut out, run, start, u64::from(sector.address));
            start = start.max(sector.end());
        }
        push_piece(&mut out, run, start, end);
    }
    out
}

fn push_piece(out: &mut Vec<WriteRun>, run: &WriteRun, start: u64, end: u64) {
    if start >= end {
        return;
    }
    let from = (start - u64::from(run.address)) as usize;
    let to = (end - u64::from(run.address)) as usize;
    out.push(WriteRun {
        address: start as u32,
        data: run.data[from..to].to_vec(),
    });
}

/// The plan once `contents` (one per sector of `plan.sectors`, in order) are known.
pub(super) fn after_reading(plan: &FlashPlan, contents: &[Vec<u8>]) -> FlashPlan {
    if plan.mass_erase == Some(MassErase::Asked) {
        return plan.clone();
    }
    let (mut unchanged, mut blank, mut erase) = (Vec::new(), Vec::new(), Vec::new());
    for (i, sector) in plan.sectors.iter().enumerate() {
        let Some(current) = contents.get(i).filter(|c| c.len() == sector.size as usize) else {
            erase.push(*sector);
            continue;
        };
        if *current == expected(&plan.runs, sector) {
            unchanged.push(*sector);
        } else if current.iter().all(|&b| b == 0xFF) {
            blank.push(*sector);
        } else {
            erase.push(*sector);
        }
    }
    let every_sector = plan.whole_flash && erase.len() == plan.sectors.len();
    FlashPlan {
        mass_erase: every_sector.then_some(MassErase::EverySector),
        erase: if every_sector { Vec::new() } else { erase },
        found: Found::Read { unchanged, blank },
        ..plan.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_map;
    use crate::plan::{PlanOptions, plan};
    use dfu_file::Image;

    const BASE: u32 = 0x0800_0000;

    fn small_flash(data: Vec<u8>, covers: bool) -> FlashPlan {
        let map = memory_map::parse("@Internal Flash  /0x08000000/04*001Kg")
            .unwrap()
            .map;
        let options = PlanOptions {
            write_unit: 4,
            mass_erase_covers_region: covers,
            ..PlanOptions::default()
        };
        plan(&Image::from_pieces([(BASE, data)]).unwrap(), &map, &options).unwrap()
    }

    fn sector(i: u32) -> Sector {
        Sector {
            address: BASE + i * 1024,
            size: 1024,
        }
    }

    #[test]
    fn unchanged_sectors_are_skipped_blank_ones_written_without_erase() {
        // 2.5 KiB of data: sectors 0-2, the third half full (then 0xFF).
        let image: Vec<u8> = (0..2560u32).map(|i| (i % 251) as u8).collect();
        let plan = small_flash(image.clone(), false);
        assert_eq!(plan.sectors, vec![sector(0), sector(1), sector(2)]);
        let mut third = image[2048..].to_vec();
        third.resize(1024, 0xFF);
        let mut changed = image[1024..2048].to_vec();
        changed[7] ^= 1;
        let after = plan.after_reading(&[vec![0xFF; 1024], changed, third]);
        assert_eq!(after.unchanged(), &[sector(2)]);
        assert_eq!(after.blank(), &[sector(0)]);
        assert_eq!(after.erase, vec![sector(1)]);
        assert_eq!(after.write_len(), 2048);
        assert_eq!(after.image_len(), 2560);
        let writes = after.writes();
        assert_eq!(writes.len(), 1);
        assert_eq!((writes[0].address, writes[0].data.len()), (BASE, 2048));
        assert_eq!(writes[0].data, image[..2048]);
    }

    #[test]
    fn a_sector_with_stray_bytes_past_the_image_is_not_unchanged() {
        // A full flash would erase what lies past the image in its last sector.
        let plan = small_flash(vec![0x11; 100], false);
        let mut current = vec![0xFF; 1024];
        current[..100].fill(0x11);
        current[500] = 0;
        let after = plan.after_reading(&[current]);
        assert!(after.unchanged().is_empty());
        assert_eq!(after.erase, vec![sector(0)]);
    }

    #[test]
    fn a_whole_flash_image_uses_one_mass_erase_unless_some_sector_is_skipped() {
        let image = vec![0x22; 4096];
        let plan = small_flash(image.clone(), true);
        assert_eq!(plan.mass_erase, Some(MassErase::EverySector));
        assert!(plan.erase.is_empty());
        let stale = vec![vec![0; 1024]; 4];
        let after = plan.after_reading(&stale);
        assert_eq!(after.mass_erase, Some(MassErase::EverySector));
        let mut one_done = stale.clone();
        one_done[3] = vec![0x22; 1024];
        let after = plan.after_reading(&one_done);
        assert_eq!(after.mass_erase, None);
        assert_eq!(after.erase, vec![sector(0), sector(1), sector(2)]);
        assert_eq!(after.write_len(), 3072);
        // Not the whole region: sector erases.
        assert_eq!(small_flash(image, false).mass_erase, None);
    }

    #[test]
    fn a_short_read_counts_as_changed() {
        let plan = small_flash(vec![0xFF; 8], false);
        let after = plan.after_reading(&[vec![0xFF; 10]]);
        assert_eq!(after.erase, vec![sector(0)]);
    }
}
