//! Memory read from a device, encoded as the file it is saved to: .bin, .hex or .dfu.

use crate::error::Result;
use crate::firmware::Target;
use crate::image::Image;
use crate::suffix::DeviceIds;

/// The extensions [`encode`] knows, for messages and file dialogs.
pub const EXTENSIONS: [&str; 4] = ["bin", "hex", "ihex", "dfu"];

/// Encodes `image` (read from alternate setting `alt` of the device `ids`) as a
/// file with extension `extension`; `None` for an extension it does not know.
pub fn encode(extension: &str, alt: u8, image: Image, ids: DeviceIds) -> Option<Result<Vec<u8>>> {
    Some(match extension.to_ascii_lowercase().as_str() {
        "dfu" => crate::dfuse::write(&[Target::from_image(alt, None, image)], ids),
        "bin" => crate::raw::write(&image, 0),
        "hex" | "ihex" => crate::ihex::write(&image, None).map(String::into_bytes),
        _ => return None,
    })
}
