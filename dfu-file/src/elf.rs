//! ELF reading: loadable program headers at their physical (load) addresses, on the `object` crate.

use object::Endianness;
use object::elf::{FileHeader32, FileHeader64, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};

use crate::error::{Error, Result};
use crate::firmware::Loaded;
use crate::image::{ImageBuilder, check_fits};

fn err(message: impl Into<String>) -> Error {
    Error::Elf {
        message: message.into(),
    }
}

/// Reads a 32- or 64-bit ELF file of either byte order.
///
/// The image holds the file bytes of every PT_LOAD header with data, at its
/// p_paddr; the entry is e_entry when it fits in 32 bits.
pub fn read(file: &[u8]) -> Result<Loaded> {
    match file.get(4) {
        Some(1) => read_as::<FileHeader32<Endianness>>(file),
        Some(2) => read_as::<FileHeader64<Endianness>>(file),
        Some(class) => Err(err(format!(
            "EI_CLASS at offset 0x4 is {class}, neither 1 (32-bit) nor 2 (64-bit)"
        ))),
        None => Err(err(format!(
            "file of {} bytes is too short for an ELF header",
            file.len()
        ))),
    }
}

fn read_as<Elf: FileHeader<Endian = Endianness>>(file: &[u8]) -> Result<Loaded> {
    let header = Elf::parse(file).map_err(|e| err(format!("bad header: {e}")))?;
    let endian = header
        .endian()
        .map_err(|e| err(format!("bad header: {e}")))?;
    let program_headers = header
        .program_headers(endian, file)
        .map_err(|e| err(format!("bad program header table: {e}")))?;
    let mut warnings = Vec::new();
    let mut builder = ImageBuilder::default();
    for (index, ph) in program_headers.iter().enumerate() {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let (offset, size) = ph.file_range(endian);
        if size == 0 {
            continue;
        }
        let data = ph.data(endian, file).map_err(|()| {
            err(format!(
                "program header {index} claims {size} bytes at file offset {offset:#X}, but the file has {} bytes",
                file.len()
            ))
        })?;
        let address: u64 = ph.p_paddr(endian).into();
        check_fits(address, size).map_err(|_| {
            err(format!(
                "program header {index} loads {size} bytes at {address:#X}, past the 32-bit address space"
            ))
        })?;
        let mem_size: u64 = ph.p_memsz(endian).into();
        if mem_size < size {
            warnings.push(format!(
                "program header {index}: p_filesz ({size}) exceeds p_memsz ({mem_size}); all {size} file bytes are used"
            ));
        }
        builder.push(address as u32, data)?;
    }
    let image = builder.finish()?;
    if image.is_empty() {
        warnings.push("the ELF file has no loadable program header with data".into());
    }
    let entry: u64 = header.e_entry(endian).into();
    let entry = match u32::try_from(entry) {
        Ok(entry) => Some(entry),
        Err(_) => {
            warnings.push(format!(
                "entry point {entry:#X} does not fit in 32 bits and was dropped"
            ));
            None
        }
    };
    Ok(Loaded {
        image,
        entry,
        warnings,
    })
}
