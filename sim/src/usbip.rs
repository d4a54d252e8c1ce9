//! A simulated chip as a USB device on the wire of USB/IP (Linux vhci_hcd).
//!
//! Sans-IO: [`UsbipDevice::handle`] takes the bytes of one command from the
//! kernel and returns the reply bytes. Enumeration (descriptors, configuration,
//! alternate settings) is answered here; DFU class requests go to the
//! simulated ROM. SET_ADDRESS never arrives: vhci_hcd handles it itself.

use std::time::Duration;

use crate::{Chip, Device};
use dfuse::protocol::Request;
use dfuse::transport::TransportError;

/// USBIP_CMD_SUBMIT.
pub const CMD_SUBMIT: u32 = 1;
/// USBIP_CMD_UNLINK.
pub const CMD_UNLINK: u32 = 2;
/// USBIP_RET_SUBMIT.
pub const RET_SUBMIT: u32 = 3;
/// USBIP_RET_UNLINK.
pub const RET_UNLINK: u32 = 4;
/// Every USB/IP header is 48 bytes.
pub const HEADER_LEN: usize = 48;
/// -EPIPE: the endpoint stalled.
const EPIPE: i32 = -32;
/// -ECONNRESET: the transfer was unlinked.
const ECONNRESET: i32 = -104;
/// -ENODEV: the device is gone.
const ENODEV: i32 = -19;

/// One command from the kernel, decoded from its 48-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// CMD_SUBMIT or CMD_UNLINK.
    pub command: u32,
    /// Sequence number to echo.
    pub seqnum: u32,
    /// 0 OUT, 1 IN.
    pub direction: u32,
    /// Endpoint number.
    pub ep: u32,
    /// transfer_buffer_length (CMD_SUBMIT), or the seqnum to unlink (CMD_UNLINK).
    pub length_or_unlink: u32,
    /// The setup packet (CMD_SUBMIT on endpoint 0).
    pub setup: [u8; 8],
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Command {
    /// Decodes a header; `None` unless it is 48 bytes.
    pub fn decode(header: &[u8]) -> Option<Command> {
        let header: &[u8; HEADER_LEN] = header.try_into().ok()?;
        let mut setup = [0; 8];
        setup.copy_from_slice(&header[40..48]);
        Some(Command {
            command: be32(header, 0),
            seqnum: be32(header, 4),
            direction: be32(header, 12),
            ep: be32(header, 16),
            length_or_unlink: be32(header, 24),
            setup,
        })
    }

    /// Bytes of OUT data that follow this header.
    pub fn out_len(&self) -> usize {
        if self.command == CMD_SUBMIT && self.direction == 0 {
            self.length_or_unlink as usize
        } else {
            0
        }
    }
}

/// A reply header and, for IN transfers, its data; `actual` is the bytes transferred either way.
fn reply(command: u32, seqnum: u32, status: i32, actual: usize, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + data.len());
    for word in [command, seqnum, 0, 0, 0] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    let actual = actual as u32;
    out.extend_from_slice(&(status as u32).to_be_bytes());
    out.extend_from_slice(&actual.to_be_bytes());
    out.extend_from_slice(&[0; 4]); // start_frame
    out.extend_from_slice(&[0; 4]); // number_of_packets (0 for non-isochronous)
    out.extend_from_slice(&[0; 4]); // error_count
    out.extend_from_slice(&[0; 8]); // padding
    out.extend_from_slice(data);
    out
}

/// A simulated chip answering USB/IP commands.
pub struct UsbipDevice {
    /// The simulated ROM.
    pub device: Device,
    configured: bool,
    alt: u8,
}

impl UsbipDevice {
    /// The chip, fresh.
    pub fn new(chip: &'static Chip) -> UsbipDevice {
        UsbipDevice {
            device: Device::new(chip),
            configured: false,
            alt: 0,
        }
    }

    /// Handles one command (header plus its OUT data) at real time `now`; `None` when no reply is due.
    pub fn handle(&mut self, command: &Command, out_data: &[u8], now: Duration) -> Option<Vec<u8>> {
        self.device.now = now;
        match command.command {
            // Unlinked before it was answered (a hung board): -ECONNRESET, as USB/IP wants.
            // A transfer already answered is simply not found by the kernel.
            CMD_UNLINK => Some(reply(RET_UNLINK, command.seqnum, ECONNRESET, 0, &[])),
            CMD_SUBMIT if command.ep == 0 => {
                let result = self.control(command.setup, out_data);
                Some(match result {
                    // OUT: the device took all the data and sends none back.
                    Ok(_) if command.direction == 0 => {
                        reply(RET_SUBMIT, command.seqnum, 0, out_data.len(), &[])
                    }
                    Ok(data) => reply(RET_SUBMIT, command.seqnum, 0, data.len(), &data),
                    Err(TransportError::Disconnected) => {
                        reply(RET_SUBMIT, command.seqnum, ENODEV, 0, &[])
                    }
                    Err(_) => reply(RET_SUBMIT, command.seqnum, EPIPE, 0, &[]),
                })
            }
            CMD_SUBMIT => Some(reply(RET_SUBMIT, command.seqnum, EPIPE, 0, &[])),
            _ => None,
        }
    }

    /// True while the chip has not reset itself off the bus.
    pub fn connected(&self) -> bool {
        self.device.connected
    }

    fn control(&mut self, setup: [u8; 8], out_data: &[u8]) -> Result<Vec<u8>, TransportError> {
        let request_type = setup[0];
        let request = setup[1];
        let value = u16::from_le_bytes([setup[2], setup[3]]);
        let length = u16::from_le_bytes([setup[6], setup[7]]);
        let limit = |mut data: Vec<u8>| {
            data.truncate(usize::from(length));
            Ok(data)
        };
        match (request_type, request) {
            (0x80, 6) => self
                .descriptor(value)
                .map(limit)
                .unwrap_or(Err(TransportError::Stall)),
            (0x80, 0) => limit(vec![0, 0]),
            (0x80, 8) => limit(vec![u8::from(self.configured)]),
            (0x00, 9) => {
                self.configured = value == 1;
                Ok(Vec::new())
            }
            (0x81, 10) => limit(vec![self.alt]),
            (0x01, 11) => {
                self.device.select_alt(value as u8)?;
                self.alt = value as u8;
                Ok(Vec::new())
            }
            (0x00..=0x02, 1 | 3) => Ok(Vec::new()), // CLEAR/SET_FEATURE
            (0x21 | 0xA1, code) => {
                let request = Request::from_code(code).ok_or(TransportError::Stall)?;
                self.device.request(request, value, out_data, length)
            }
            _ => Err(TransportError::Stall),
        }
    }

    /// The descriptor `value` asks for (type in the high byte, index in the low).
    fn descriptor(&self, value: u16) -> Option<Vec<u8>> {
        let chip = self.device.chip;
        let [index, kind] = value.to_le_bytes();
        match kind {
            1 => {
                let [v0, v1] = chip.vid.to_le_bytes();
                let [p0, p1] = chip.pid.to_le_bytes();
                let [d0, d1] = chip.bcd_device.to_le_bytes();
                Some(vec![
                    18, 1, 0x00, 0x02, 0, 0, 0, 64, v0, v1, p0, p1, d0, d1, 1, 2, 3, 1,
                ])
            }
            2 if index == 0 => Some(self.configuration()),
            3 => match index {
                0 => Some(vec![4, 3, 0x09, 0x04]),
                1 => Some(string(chip.manufacturer)),
                2 => Some(string(chip.product)),
                3 => Some(string(chip.serial)),
                n => chip
                    .regions
                    .get(usize::from(n) - 4)
                    .map(|r| string(r.string)),
            },
            _ => None, // device qualifier, BOS, ...: a full-speed USB 2.0 device has none
        }
    }

    fn configuration(&self) -> Vec<u8> {
        let chip = self.device.chip;
        let mut body = Vec::new();
        for (alt, _) in chip.regions.iter().enumerate() {
            body.extend_from_slice(&[9, 4, 0, alt as u8, 0, 0xFE, 0x01, 0x02, 4 + alt as u8]);
        }
        let functional = dfuse::protocol::FunctionalDescriptor {
            attributes: 0x0B,
            detach_timeout_ms: 255,
            transfer_size: chip.transfer_size,
            dfu_version: 0x011A,
        };
        body.extend_from_slice(&functional.encode());
        let total = (9 + body.len()) as u16;
        let [t0, t1] = total.to_le_bytes();
        let mut out = vec![9, 2, t0, t1, 1, 1, 0, 0xC0, 50];
        out.extend_from_slice(&body);
        out
    }
}

/// The name of a standard request on endpoint 0 (USB 2.0, table 9-4), for logs.
pub fn standard_request_name(setup: [u8; 8]) -> &'static str {
    match (setup[0] & 0x60, setup[1]) {
        (0x00, 0) => "GET_STATUS",
        (0x00, 1) => "CLEAR_FEATURE",
        (0x00, 3) => "SET_FEATURE",
        (0x00, 6) => "GET_DESCRIPTOR",
        (0x00, 8) => "GET_CONFIGURATION",
        (0x00, 9) => "SET_CONFIGURATION",
        (0x00, 10) => "GET_INTERFACE",
        (0x00, 11) => "SET_INTERFACE",
        (0x20, _) => "CLASS_REQUEST",
        _ => "OTHER_REQUEST",
    }
}

/// A string descriptor: UTF-16LE, capped at the 255-byte descriptor limit.
fn string(text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().take(126).collect();
    let mut out = vec![(2 + units.len() * 2) as u8, 3];
    for unit in units {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips;

    fn submit(seqnum: u32, direction: u32, setup: [u8; 8], length: u32) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[0..4].copy_from_slice(&CMD_SUBMIT.to_be_bytes());
        header[4..8].copy_from_slice(&seqnum.to_be_bytes());
        header[12..16].copy_from_slice(&direction.to_be_bytes());
        header[24..28].copy_from_slice(&length.to_be_bytes());
        header[40..48].copy_from_slice(&setup);
        header
    }

    fn run(
        device: &mut UsbipDevice,
        direction: u32,
        setup: [u8; 8],
        data: &[u8],
    ) -> (i32, Vec<u8>) {
        let length = u16::from_le_bytes([setup[6], setup[7]]) as u32;
        let command = Command::decode(&submit(7, direction, setup, length)).unwrap();
        let reply = device.handle(&command, data, Duration::ZERO).unwrap();
        assert_eq!(be32(&reply, 0), RET_SUBMIT);
        assert_eq!(be32(&reply, 4), 7, "seqnum echoed");
        let actual = be32(&reply, 24) as usize;
        if direction == 0 {
            assert_eq!(reply.len(), HEADER_LEN, "no data follows an OUT reply");
            if be32(&reply, 20) == 0 {
                assert_eq!(actual, data.len(), "an OUT reply counts the bytes taken");
            }
        } else {
            assert_eq!(reply.len(), HEADER_LEN + actual);
        }
        (be32(&reply, 20) as i32, reply[HEADER_LEN..].to_vec())
    }

    #[test]
    fn enumeration_descriptors() {
        let mut device = UsbipDevice::new(chips::find("stm32f407").unwrap());
        let (status, data) = run(&mut device, 1, [0x80, 6, 0, 1, 0, 0, 18, 0], &[]);
        assert_eq!(status, 0);
        assert_eq!(&data[8..12], &[0x83, 0x04, 0x11, 0xDF]);
        let (_, config) = run(&mut device, 1, [0x80, 6, 0, 2, 0, 0, 255, 0], &[]);
        assert_eq!(
            u16::from_le_bytes([config[2], config[3]]) as usize,
            config.len()
        );
        assert_eq!(
            config.len(),
            9 + 4 * 9 + 9,
            "4 alternate settings and the functional descriptor"
        );
        assert_eq!(&config[config.len() - 9..config.len() - 7], &[9, 0x21]);
        let (_, name) = run(&mut device, 1, [0x80, 6, 4, 3, 0x09, 0x04, 255, 0], &[]);
        let text: Vec<u16> = name[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert!(
            String::from_utf16(&text)
                .unwrap()
                .starts_with("@Internal Flash")
        );
        let (status, _) = run(&mut device, 1, [0x80, 6, 0, 6, 0, 0, 10, 0], &[]);
        assert_eq!(status, EPIPE, "no device qualifier at full speed");
    }

    #[test]
    fn dfu_requests_reach_the_rom() {
        let mut device = UsbipDevice::new(chips::find("stm32f407").unwrap());
        let (status, data) = run(&mut device, 1, [0xA1, 3, 0, 0, 0, 0, 6, 0], &[]);
        assert_eq!((status, data[4]), (0, 2), "GETSTATUS says dfuIDLE");
        let (status, _) = run(&mut device, 0, [0x21, 1, 1, 0, 0, 0, 4, 0], &[0; 4]);
        assert_eq!(status, EPIPE, "DNLOAD block 1 stalls");
        let (status, _) = run(&mut device, 0, [0x01, 11, 1, 0, 0, 0, 0, 0], &[]);
        assert_eq!(status, 0, "SET_INTERFACE alt 1");
        let (status, _) = run(&mut device, 0, [0x21, 4, 0, 0, 0, 0, 0, 0], &[]);
        assert_eq!(status, 0, "CLRSTATUS leaves the dfuERROR the stall caused");
        let set_address = [0x21, 0, 0xC0, 0xFF, 0x1F];
        let (status, _) = run(&mut device, 0, [0x21, 1, 0, 0, 0, 0, 5, 0], &set_address);
        assert_eq!(status, 0, "DNLOAD of a set-address, all 5 bytes taken");
    }

    #[test]
    fn unlink_is_answered_and_short_headers_refused() {
        let mut device = UsbipDevice::new(chips::find("stm32f072").unwrap());
        let mut header = [0u8; HEADER_LEN];
        header[0..4].copy_from_slice(&CMD_UNLINK.to_be_bytes());
        header[4..8].copy_from_slice(&9u32.to_be_bytes());
        let reply = device
            .handle(&Command::decode(&header).unwrap(), &[], Duration::ZERO)
            .unwrap();
        assert_eq!((be32(&reply, 0), be32(&reply, 4)), (RET_UNLINK, 9));
        assert_eq!(Command::decode(&header[..47]), None);
    }
}
