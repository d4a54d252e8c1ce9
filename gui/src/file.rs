//! The firmware file the user opened: read with whatever format it is, a load address asked for raw data.

use std::path::{Path, PathBuf};

use dfu_file::{Firmware, Format, ReadOptions};

use crate::memory_view::size_text;
use crate::words::capitalised;

/// Files larger than this are refused before being read (no STM32 has this much flash).
const LARGEST: u64 = 64 << 20;

/// Extensions offered in the open dialog.
pub const EXTENSIONS: [&str; 10] = [
    "hex", "ihex", "s19", "srec", "mot", "elf", "axf", "out", "bin", "dfu",
];

/// An opened file and what could be read from it.
pub struct LoadedFile {
    /// Where it came from.
    pub path: PathBuf,
    bytes: Vec<u8>,
    /// The format it was taken for.
    pub format: Format,
    /// The load address typed for raw data (hexadecimal, `0x` optional).
    pub address: String,
    /// The firmware, or why it could not be read.
    pub firmware: Result<Firmware, String>,
}

impl LoadedFile {
    /// Reads `path`; raw data goes to `default_address` until another is typed.
    pub fn open(path: &Path, default_address: u32) -> Result<LoadedFile, String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?
            .len();
        if size > LARGEST {
            return Err(format!(
                "{} is {}: larger than any firmware a DfuSe device holds",
                path.display(),
                size_text(size)
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let extension = path.extension().and_then(|e| e.to_str());
        let format = dfu_file::detect(&bytes, extension);
        let mut file = LoadedFile {
            path: path.to_owned(),
            bytes,
            format,
            address: format!("{default_address:#010X}"),
            firmware: Err(String::new()),
        };
        file.reread();
        Ok(file)
    }

    /// True when the data carries no address and one must be typed.
    pub fn needs_address(&self) -> bool {
        matches!(self.format, Format::Bin | Format::Dfu)
    }

    /// Reads the bytes again (after the load address changed).
    pub fn reread(&mut self) {
        let address = if self.needs_address() {
            let text = self.address.trim();
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            match u32::from_str_radix(digits, 16) {
                Ok(address) => Some(address),
                Err(_) => {
                    self.firmware = Err(format!(
                        "{text:?} is not an address: type it in hexadecimal, like 0x08000000"
                    ));
                    return;
                }
            }
        } else {
            None
        };
        let options = ReadOptions {
            format: Some(self.format),
            address,
            ignore_crc: false,
        };
        let extension = self.path.extension().and_then(|e| e.to_str());
        self.firmware = dfu_file::read(&self.bytes, extension, &options)
            .map_err(|error| format!("{error}. {}.", capitalised(error.help())));
    }

    /// The file name, for headings.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}
