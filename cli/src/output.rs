//! Writing output files so that a failure never leaves a half-written file behind.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::exit::CliError;

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let io_error = |error| CliError::Io {
        path: path.to_owned(),
        action: "write",
        error,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("output path {} names no file", path.display())))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.partial", std::process::id()));
    let temp = dir.join(temp_name);
    let result = fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(error) = result {
        let _ = fs::remove_file(&temp);
        return Err(io_error(error));
    }
    Ok(())
}

/// Reads a whole input file.
pub fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|error| CliError::Io {
        path: path.to_owned(),
        action: "read",
        error,
    })
}
