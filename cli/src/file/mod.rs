//! `dfuse file`: inspect and convert firmware files without a device.

mod convert;
mod info;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use dfu_file::{Firmware, Format, ReadOptions};

use crate::exit::CliError;
use crate::number::parse_u32;
use crate::output::read_input;

pub use convert::ConvertArgs;
pub use info::InfoArgs;

/// The `dfuse file` subcommands.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum FileCommand {
    /// Show what a firmware file holds: format, targets, address ranges, suffix, CRC verdict.
    #[command(after_help = info::AFTER_HELP)]
    Info(InfoArgs),
    /// Convert a firmware file to .dfu, .bin or .hex.
    #[command(after_help = convert::AFTER_HELP)]
    Convert(ConvertArgs),
}

/// Runs a `dfuse file` subcommand.
pub fn run(command: FileCommand) -> Result<(), CliError> {
    match command {
        FileCommand::Info(args) => info::run(args),
        FileCommand::Convert(args) => convert::run(args),
    }
}

/// Input formats as named on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum InputFormat {
    /// DfuSe .dfu (UM0391)
    Dfuse,
    /// Plain DFU: raw data with a DFU suffix (needs --address)
    Dfu,
    /// Intel HEX
    #[value(alias = "hex")]
    Ihex,
    /// Motorola S-record
    #[value(alias = "s19")]
    Srec,
    /// ELF executable
    Elf,
    /// Raw binary (needs --address)
    Bin,
}

impl From<InputFormat> for Format {
    fn from(format: InputFormat) -> Self {
        match format {
            InputFormat::Dfuse => Format::Dfuse,
            InputFormat::Dfu => Format::Dfu,
            InputFormat::Ihex => Format::Ihex,
            InputFormat::Srec => Format::Srec,
            InputFormat::Elf => Format::Elf,
            InputFormat::Bin => Format::Bin,
        }
    }
}

// How to read the input file; shared by every command that takes one.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// The firmware file (.dfu, .bin, .hex, .s19/.srec, .elf).
    #[arg(value_name = "INPUT")]
    pub file: PathBuf,
    /// Read the file as this format instead of detecting it (from magic bytes, then extension, then content).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Load address of raw data (.bin, plain .dfu), e.g. 0x08000000. Decimal or 0x-hex.
    #[arg(long, value_parser = parse_u32, value_name = "ADDR")]
    pub address: Option<u32>,
}

impl InputArgs {
    /// The format the file will be read as.
    pub fn format(&self, bytes: &[u8]) -> Format {
        self.input_format
            .map(Format::from)
            .unwrap_or_else(|| dfu_file::detect(bytes, extension(&self.file)))
    }

    /// Reads the file for a device command whose `--alt` is `alt`: refused when the
    /// file has several targets (each goes to its own alternate setting).
    pub fn firmware_for(&self, alt: Option<&str>) -> Result<Firmware, CliError> {
        let firmware = self.read(&self.load()?, self.address, false)?;
        if firmware.targets.len() > 1 && alt.is_some() {
            return Err(CliError::Usage(
                "the file has several targets, each for its own alternate setting: --alt does not apply".into(),
            ));
        }
        Ok(firmware)
    }

    /// Reads and decodes the file.
    pub fn read(
        &self,
        bytes: &[u8],
        address: Option<u32>,
        ignore_crc: bool,
    ) -> Result<Firmware, CliError> {
        let options = ReadOptions {
            format: Some(self.format(bytes)),
            address,
            ignore_crc,
        };
        dfu_file::read(bytes, None, &options).map_err(|error| CliError::BadInput {
            path: self.file.clone(),
            error,
        })
    }

    /// The file's bytes.
    pub fn load(&self) -> Result<Vec<u8>, CliError> {
        read_input(&self.file)
    }
}

/// A path's extension as text, if it has one.
pub fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}
