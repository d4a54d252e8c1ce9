//! `dfuse dump`: device memory as a hex view on the terminal.

use clap::Args;
use serde_json::json;

use super::ops::OnRegion;
use super::report::Reporter;
use super::with_device;
use crate::exit::CliError;
use crate::number::{parse_size, parse_u32};

/// The longest dump printed (a hex view of more is not read by anyone: use `read -o`).
const MAX_LENGTH: u64 = 1 << 20;

// Arguments of `dfuse dump`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  dfuse dump --address 0x08000000 --length 256\n  dfuse dump --alt \"Option Bytes\" --address 0x1FFFC000 --length 16"
)]
pub struct DumpArgs {
    /// First address to show.
    #[arg(long, value_parser = parse_u32, value_name = "ADDR")]
    address: u32,
    /// Bytes to show (K suffix allowed; at most 1M).
    #[arg(long, value_parser = parse_size, value_name = "SIZE", default_value = "256")]
    length: u64,
    #[command(flatten)]
    on: OnRegion,
}

pub fn dump(args: DumpArgs) -> Result<(), CliError> {
    if args.length > MAX_LENGTH {
        return Err(CliError::Usage(format!(
            "--length {} is more than a hex view shows (at most 1M): use `dfuse read -o FILE`",
            args.length
        )));
    }
    with_device(&args.on.device, |device| {
        let alt = args.on.alt(device)?;
        let reporter = Reporter::new(args.on.report);
        let data = device.read(alt, args.address, args.length, &mut |_| {})?;
        if args.on.report.json {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            reporter.result(json!({"result": "ok", "alt": alt, "address": args.address, "length": data.len(), "hex": hex}));
        } else {
            print!("{}", hex_view(args.address, &data));
        }
        Ok(())
    })
}

/// 16 bytes a line: the address, the bytes in hex, and the printable ASCII ones.
fn hex_view(address: u32, data: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in data.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02X}")).collect();
        let text: String = line
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        let at = u64::from(address) + i as u64 * 16;
        out.push_str(&format!("{at:#010X}  {:<47}  |{text}|\n", hex.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_sixteen_with_address_hex_and_printable_text_only() {
        let mut data: Vec<u8> = b"DFUSE\x1b[2J".to_vec();
        data.extend(0u8..12);
        let view = hex_view(0x0800_0000, &data);
        let lines: Vec<&str> = view.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "0x08000000  44 46 55 53 45 1B 5B 32 4A 00 01 02 03 04 05 06  |DFUSE.[2J.......|"
        );
        assert!(lines[1].starts_with("0x08000010  07 08 09 0A 0B"));
        assert!(
            !view.contains('\u{1b}'),
            "no escape byte reaches the terminal"
        );
    }
}
