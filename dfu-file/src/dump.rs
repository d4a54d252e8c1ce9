//! Memory read from a device, encoded as the file it is saved to: .bin, .hex or .dfu.

use std::path::Path;

use crate::error::Result;
use crate::firmware::Target;
use crate::image::Image;
use crate::suffix::DeviceIds;

/// The formats read memory can be saved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// Raw bytes (.bin).
    Bin,
    /// Intel HEX (.hex, .ihex).
    Hex,
    /// A DfuSe file with a suffix naming the device (.dfu).
    Dfu,
}

impl DumpFormat {
    /// The format the file's extension names, or why it cannot be told.
    pub fn of(path: &Path) -> std::result::Result<DumpFormat, String> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        match extension.to_ascii_lowercase().as_str() {
            "bin" => Ok(DumpFormat::Bin),
            "hex" | "ihex" => Ok(DumpFormat::Hex),
            "dfu" => Ok(DumpFormat::Dfu),
            _ => Err(format!(
                "cannot tell the format of {}: name it .bin, .hex or .dfu",
                path.display()
            )),
        }
    }
}

/// Encodes `image`, read from alternate setting `alt` of the device `ids`, as `format`.
pub fn encode(format: DumpFormat, alt: u8, image: Image, ids: DeviceIds) -> Result<Vec<u8>> {
    match format {
        DumpFormat::Dfu => crate::dfuse::write(&[Target::from_image(alt, None, image)], ids),
        DumpFormat::Bin => crate::raw::write(&image, 0),
        DumpFormat::Hex => crate::ihex::write(&image, None).map(String::into_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format_in_any_case() {
        assert_eq!(
            DumpFormat::of(Path::new("a/flash.BIN")),
            Ok(DumpFormat::Bin)
        );
        assert_eq!(DumpFormat::of(Path::new("flash.ihex")), Ok(DumpFormat::Hex));
        assert_eq!(DumpFormat::of(Path::new("flash.dfu")), Ok(DumpFormat::Dfu));
        assert_eq!(
            DumpFormat::of(Path::new("flash.txt")),
            Err("cannot tell the format of flash.txt: name it .bin, .hex or .dfu".into())
        );
        assert!(DumpFormat::of(Path::new("flash")).is_err());
    }
}
