//! Writing output files so that a failure never leaves a half-written file behind.

use std::fs;
use std::path::Path;

use crate::exit::CliError;

/// The version of dfuse's JSON output, in every object it prints.
pub const JSON_SCHEMA: u32 = 1;

/// Prints `value` as one JSON line, with the schema version added to an object.
pub fn print_json(mut value: serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert("schema".into(), JSON_SCHEMA.into());
    }
    println!("{value}");
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    dfuse::output::write_atomically(path, bytes).map_err(|error| match error.kind() {
        std::io::ErrorKind::InvalidInput => {
            CliError::Usage(format!("output path {} names no file", path.display()))
        }
        _ => CliError::Io {
            path: path.to_owned(),
            action: "write",
            error,
        },
    })
}

/// Reads a whole text file given on the command line (a device table, a layout).
pub fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read_input(path)?)
        .map_err(|_| CliError::Usage(format!("{} is not a text file", path.display())))
}

/// Reads a whole input file.
pub fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|error| CliError::Io {
        path: path.to_owned(),
        action: "read",
        error,
    })
}
