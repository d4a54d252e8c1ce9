//! A hostile device for fuzzing: every answer (descriptors, strings, status
//! replies, upload data, stalls, timeouts, disappearance) comes from the
//! fuzzer's bytes, and [`check`] drives a whole flash, verify, read and leave
//! against it, asserting what must hold whatever the device does:
//!
//! - no panic, and once the device stops answering, dfuse stops within a few requests;
//! - every wait is bounded: virtual time stays under 31 s per request;
//! - every data DNLOAD carries exactly the plan's bytes for the address the
//!   device will write them to, and only planned sectors are erased;
//! - "verified" only when every byte the device returned for the image's
//!   addresses equals the image.
//!
//! The fuzz target is `dfuse/fuzz/fuzz_targets/hostile_device.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use dfu_file::Image;
use dfuse::memory_map;
use dfuse::plan::{FlashPlan, PlanOptions, plan};
use dfuse::protocol::{
    Command, FIRST_DATA_BLOCK, FunctionalDescriptor, Request, State, Status, StatusReply,
};
use dfuse::session::{Session, Settings};
use dfuse::transport::{AltSetting, DeviceInfo, Transport, TransportError};

const FLASH: u32 = 0x0800_0000;
/// Requests dfuse may still send after the device has gone silent for good.
const AFTER_SILENCE: usize = 40;

/// The device, answering from `bytes`; silent (gone) once they run out.
struct Hostile<'a> {
    bytes: &'a [u8],
    at: usize,
    info: DeviceInfo,
    /// The ROM's own block size (what it declares, or 2048 when it declares nothing).
    stride: u64,
    pointer: u64,
    now: Duration,
    requests: usize,
    silent_since: Option<usize>,
    /// Data DNLOADs as the device placed them: address and bytes.
    written: Vec<(u64, Vec<u8>)>,
    /// Erase commands (None: mass erase).
    erased: Vec<Option<u32>>,
    /// The bytes the device sent back for each address.
    returned: BTreeMap<u64, u8>,
    /// The state an honest ROM would be in now.
    honest: State,
}

impl Hostile<'_> {
    fn byte(&mut self) -> Option<u8> {
        let byte = self.bytes.get(self.at).copied();
        self.at += 1;
        if byte.is_none() && self.silent_since.is_none() {
            self.silent_since = Some(self.requests);
        }
        byte
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte().unwrap_or(0) % 24);
        (0..len)
            .filter_map(|_| self.byte())
            .map(char::from)
            .collect()
    }

    /// How a request fails, if the next byte says it does.
    fn failure(&mut self) -> Result<(), TransportError> {
        self.requests += 1;
        match self.byte() {
            None => Err(TransportError::Disconnected),
            Some(b) if b % 16 == 13 => Err(TransportError::Stall),
            Some(b) if b % 16 == 14 => Err(TransportError::Timeout(Duration::from_secs(5))),
            Some(b) if b % 16 == 15 => Err(TransportError::Disconnected),
            Some(_) => Ok(()),
        }
    }

    fn status(&mut self) -> Vec<u8> {
        let kind = self.byte().unwrap_or(0);
        let poll = match self.byte().unwrap_or(0) % 4 {
            0 => 0,
            1 => u32::from(self.byte().unwrap_or(0)),
            2 => 0xFF_FFFF,
            _ => 10,
        };
        let state = match kind % 8 {
            0 | 1 => self.honest,
            2 => State::DnBusy,
            3 => State::DfuIdle,
            4 => State::Error,
            5 => State::UploadIdle,
            6 => State::from_byte(self.byte().unwrap_or(0)),
            _ => State::Manifest,
        };
        let status = if kind % 8 == 4 {
            Status::from_byte(self.byte().unwrap_or(0))
        } else {
            Status::Ok
        };
        let reply = StatusReply {
            status,
            poll_timeout_ms: poll,
            state,
            string_index: 0,
        }
        .encode()
        .to_vec();
        match kind / 8 % 8 {
            6 => reply[..usize::from(kind % 6)].to_vec(),
            7 => [reply.as_slice(), &[0, 0]].concat(),
            _ => reply,
        }
    }

    fn upload(&mut self, block: u16, length: u16) -> Vec<u8> {
        let start = self.pointer + u64::from(block.saturating_sub(FIRST_DATA_BLOCK)) * self.stride;
        let len = match self.byte().unwrap_or(0) % 8 {
            6 => usize::from(self.byte().unwrap_or(0)).min(usize::from(length)),
            _ => usize::from(length),
        };
        let honest = self.byte().unwrap_or(0) % 4 != 3;
        let data: Vec<u8> = (0..len as u64)
            .map(|i| {
                let address = start + i;
                let held = self
                    .written
                    .iter()
                    .rev()
                    .find_map(|(at, data)| {
                        (address >= *at && address < *at + data.len() as u64)
                            .then(|| data[(address - at) as usize])
                    })
                    .unwrap_or(0xFF);
                if honest {
                    held
                } else {
                    self.bytes.get(self.at + i as usize).copied().unwrap_or(0)
                }
            })
            .collect();
        for (i, byte) in data.iter().enumerate() {
            self.returned.insert(start + i as u64, *byte);
        }
        data
    }
}

impl Transport for Hostile<'_> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn select_alt(&mut self, _alt: u8) -> Result<(), TransportError> {
        self.failure()
    }

    fn control_out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<(), TransportError> {
        self.failure()?;
        self.honest = match request {
            Request::Dnload if data.is_empty() => State::Manifest,
            Request::Dnload => State::DnloadIdle,
            _ => State::DfuIdle,
        };
        if request != Request::Dnload {
            return Ok(());
        }
        match (value, Command::decode(data)) {
            (0, Some(Command::SetAddress(address))) => self.pointer = u64::from(address),
            (0, Some(Command::Erase(address))) => self.erased.push(Some(address)),
            (0, Some(Command::MassErase)) => self.erased.push(None),
            (block, _) if block >= FIRST_DATA_BLOCK && !data.is_empty() => {
                let at = self.pointer + u64::from(block - FIRST_DATA_BLOCK) * self.stride;
                self.written.push((at, data.to_vec()));
            }
            _ => {}
        }
        Ok(())
    }

    fn control_in(
        &mut self,
        request: Request,
        value: u16,
        length: u16,
        _timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.failure()?;
        Ok(match request {
            Request::GetStatus => self.status(),
            Request::Upload => {
                self.honest = State::UploadIdle;
                self.upload(value, length)
            }
            _ => vec![self.byte().unwrap_or(0)],
        })
    }

    fn sleep(&mut self, duration: Duration) {
        self.now = self.now.saturating_add(duration);
    }

    fn now(&self) -> Duration {
        self.now
    }
}

/// The device the first bytes describe; the rest of `bytes` answers its requests.
fn device(bytes: &[u8]) -> Hostile<'_> {
    let mut device = Hostile {
        bytes,
        at: 0,
        info: DeviceInfo::new(0x0483, 0xDF11, "hostile"),
        stride: 2048,
        pointer: 0,
        now: Duration::ZERO,
        requests: 0,
        silent_since: None,
        written: Vec::new(),
        erased: Vec::new(),
        returned: BTreeMap::new(),
        honest: State::DfuIdle,
    };
    let declared = match device.byte().unwrap_or(0) % 6 {
        0 => None,
        1 => Some(0),
        2 => Some(1000),
        3 => Some(1024),
        4 => Some(2048),
        _ => Some(u16::from_le_bytes([
            device.byte().unwrap_or(0),
            device.byte().unwrap_or(0),
        ])),
    };
    device.stride = u64::from(declared.unwrap_or(2048));
    device.info.functional = declared.map(|transfer_size| FunctionalDescriptor {
        attributes: 0x0B,
        detach_timeout_ms: 255,
        transfer_size,
        dfu_version: 0x011A,
    });
    let name = match device.byte().unwrap_or(0) % 4 {
        0 => "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg".to_string(),
        1 => "@Internal Flash  /0x08000000/8*1Kg".to_string(),
        _ => device.text(),
    };
    device.info.product = Some(device.text());
    device.info.alt_settings.push(AltSetting { alt: 0, name });
    device.info = device.info.clone().printable();
    device
}

/// Drives a flash, verify, read and leave against the device `bytes` describe,
/// and panics if any invariant of the module's description fails. True when
/// the flash was verified.
pub fn check(bytes: &[u8]) -> bool {
    let mut device = device(bytes);
    let Ok(parsed) = memory_map::parse(&device.info.alt_settings[0].name) else {
        return false;
    };
    let image: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let Ok(image) = Image::from_pieces([(FLASH, image)]) else {
        return false;
    };
    let Ok(plan) = plan(&image, &parsed.map, &PlanOptions::default()) else {
        return false;
    };
    let mut ignore = |_: &dfuse::session::Event| {};
    let verified = Session::open(&mut device, 0, Settings::default(), &mut ignore)
        .and_then(|mut session| {
            session.download(&plan)?;
            session.verify(&plan)
        })
        .is_ok();
    // What the device answered up to the verify: later reads may answer otherwise.
    let returned = device.returned.clone();
    let mut ignore = |_: &dfuse::session::Event| {};
    if let Ok(mut session) = Session::open(&mut device, 0, Settings::default(), &mut ignore) {
        let _ = session.upload(FLASH, 8192, dfuse::session::Phase::Read);
        let _ = session.leave(FLASH);
    }
    assert_invariants(&device, &plan, verified.then_some(&returned));
    verified
}

/// `verified`: what the device had returned when the flash was verified, if it was.
fn assert_invariants(device: &Hostile, plan: &FlashPlan, verified: Option<&BTreeMap<u64, u8>>) {
    if let Some(silent) = device.silent_since {
        assert!(
            device.requests <= silent + AFTER_SILENCE,
            "{} requests after the device went silent",
            device.requests - silent
        );
    }
    assert!(
        device.now <= Duration::from_secs(31) * device.requests.max(1) as u32,
        "{:?} of waiting for {} requests",
        device.now,
        device.requests
    );
    for erased in &device.erased {
        match erased {
            Some(address) => assert!(
                plan.erase.iter().any(|s| s.address == *address),
                "erase at {address:#010X} is not in the plan"
            ),
            None => assert!(plan.mass_erase.is_some(), "a mass erase not in the plan"),
        }
    }
    for (at, data) in &device.written {
        let run = plan.runs.iter().find(|run| {
            u64::from(run.address) <= *at
                && at + data.len() as u64 <= u64::from(run.address) + run.data.len() as u64
        });
        let Some(run) = run else {
            panic!(
                "{} bytes written at {at:#010X}, outside the plan",
                data.len()
            );
        };
        let offset = (at - u64::from(run.address)) as usize;
        assert_eq!(
            &run.data[offset..offset + data.len()],
            data.as_slice(),
            "bytes at {at:#010X} are not the plan's"
        );
    }
    if let Some(returned) = verified {
        for run in &plan.runs {
            for (i, byte) in run.data.iter().enumerate() {
                let address = u64::from(run.address) + i as u64;
                assert_eq!(
                    returned.get(&address),
                    Some(byte),
                    "verified, but the device returned something else at {address:#010X}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so the test explores without a fuzzer:
    /// mostly honest answers (0), one byte in `odds` anything.
    fn bytes(seed: u64, len: usize, odds: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let mut out: Vec<u8> = (0..len)
            .map(|_| if next() % odds == 0 { next() as u8 } else { 0 })
            .collect();
        // The device's description: any declared size, one of the two real maps.
        out[0] = next() as u8;
        out[1] = (next() % 2) as u8;
        out
    }

    #[test]
    fn hostile_devices_break_no_invariant() {
        let mut verified = 0;
        for seed in 0..1000 {
            let odds = [2, 8, 64, 1_000_000][seed as usize % 4];
            verified += usize::from(check(&bytes(seed, 200 + (seed as usize * 37) % 3000, odds)));
        }
        assert!(
            verified > 100,
            "only {verified} of 1000 runs got as far as verified"
        );
    }

    #[test]
    fn an_honest_answer_stream_flashes_and_verifies() {
        // Declares 2048, the F407 map, then answers every request "fine, idle, honest".
        let mut stream = vec![4, 0, 0];
        stream.extend(std::iter::repeat_n(0u8, 20_000));
        let mut device = device(&stream);
        let parsed = memory_map::parse(&device.info.alt_settings[0].name).unwrap();
        let image = Image::from_pieces([(FLASH, vec![0x5A; 4096])]).unwrap();
        let plan = plan(&image, &parsed.map, &PlanOptions::default()).unwrap();
        let mut ignore = |_: &dfuse::session::Event| {};
        let mut session = Session::open(&mut device, 0, Settings::default(), &mut ignore).unwrap();
        session.download(&plan).unwrap();
        session.verify(&plan).unwrap();
        let returned = device.returned.clone();
        assert_invariants(&device, &plan, Some(&returned));
    }
}
