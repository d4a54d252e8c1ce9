//! `dfuse memmap`: decode a memory-map string the way the library does.

use clap::Args;
use dfuse::memory_map::{self, MemoryMap, Parsed};
use serde::Serialize;

use crate::exit::CliError;

pub const AFTER_HELP: &str = "\
Examples:
  dfuse memmap '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg'
  dfuse memmap --json '@Option Bytes  /0x1FFFC000/01*016 e'

Grammar: @Name/0xADDR/NN*SSSut,NN*SSSut/0xADDR/... with unit u = B, K, M or a
space (bytes), and type t = a..g: a readable, b erasable, d writable, and their
sums (c = a+b, e = a+d, f = b+d, g = all three). Deviations seen on real
devices (missing units, odd padding, trailing garbage) are accepted and reported
as warnings. A string that is not a DfuSe layout exits with code 3.";

// Arguments of `dfuse memmap`.
#[derive(Args, Debug)]
pub struct MemmapArgs {
    /// The string, e.g. "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg".
    #[arg(value_name = "STRING", allow_hyphen_values = true)]
    text: String,
    /// Print exactly one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// A memory map as JSON: the one schema of `dfuse memmap --json` and the maps in `info`/`list --json`.
#[derive(Serialize)]
pub struct MapJson<'a> {
    name: &'a str,
    segments: Vec<SegmentJson>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct SegmentJson {
    address: u32,
    sector_size: u32,
    sector_count: u32,
    readable: bool,
    erasable: bool,
    writable: bool,
}

impl<'a> MapJson<'a> {
    /// `map` with the warnings its string gave.
    pub fn new(map: &'a MemoryMap, warnings: &'a [String]) -> MapJson<'a> {
        MapJson {
            name: &map.name,
            segments: map
                .segments
                .iter()
                .map(|s| SegmentJson {
                    address: s.address,
                    sector_size: s.sector_size,
                    sector_count: s.sector_count,
                    readable: s.access.readable,
                    erasable: s.access.erasable,
                    writable: s.access.writable,
                })
                .collect(),
            warnings,
        }
    }
}

pub fn run(args: MemmapArgs) -> Result<(), CliError> {
    let parsed = memory_map::parse(&args.text).map_err(|error| CliError::InvalidArgument {
        message: error.to_string(),
        help: "pass the alternate setting's string (its iInterface) exactly as the device reports it, quoted",
    })?;
    if args.json {
        print_json(&parsed);
    } else {
        print_text(&parsed);
    }
    Ok(())
}

fn print_json(parsed: &Parsed) {
    let map = MapJson::new(&parsed.map, &parsed.warnings);
    // Serialising these plain structs cannot fail.
    let mut value = serde_json::to_value(&map).unwrap_or_default();
    value["result"] = "ok".into();
    crate::output::print_json(value);
}

fn print_text(parsed: &Parsed) {
    println!("Name: {}", parsed.map.name);
    for segment in &parsed.map.segments {
        println!("  {segment}");
    }
    for warning in &parsed.warnings {
        println!("warning: {warning}");
    }
}
