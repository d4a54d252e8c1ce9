//! The simulated bootloader's DFU state machine, as ST's ROM behaves.
//!
//! A DNLOAD is only executed when the next GETSTATUS arrives: that reply says
//! dfuDNBUSY with the operation's bwPollTimeout, and a GETSTATUS after that
//! time says dfuDNLOAD-IDLE (or dfuERROR with the failure's status).

use std::time::Duration;

use crate::chips::{Chip, RegionKind};
use crate::memory::{self, RegionMemory};
use crate::{Fault, LogEntry, Outcome};
use dfuse::protocol::{self, Command, Request, State, Status, StatusReply};

/// A bwPollTimeout for `duration`: whole milliseconds, rounded up (it is a minimum wait).
fn millis_rounded_up(duration: Duration) -> u32 {
    duration.as_micros().div_ceil(1000).min(0xFF_FFFF) as u32
}

/// What a DNLOAD asked for, run at the next GETSTATUS.
#[derive(Clone, Debug)]
enum Pending {
    Command(Command),
    Write { block: u16, data: Vec<u8> },
    Leave,
}

/// A busy operation: when it ends and how.
#[derive(Clone, Copy, Debug)]
struct Busy {
    until: Duration,
    result: Result<(), Status>,
    /// The device resets (drops off the bus) when the operation ends.
    then_reset: bool,
}

/// One simulated chip in DFU mode.
#[derive(Clone, Debug)]
pub struct Device {
    pub(crate) chip: &'static Chip,
    pub(crate) regions: Vec<RegionMemory>,
    pub(crate) now: Duration,
    pub(crate) connected: bool,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) faults: Vec<Fault>,
    alt: u8,
    state: State,
    status: Status,
    pointer: u32,
    pending: Option<Pending>,
    busy: Option<Busy>,
    requests: usize,
    dnloads: usize,
    seen: Vec<(Request, usize)>,
    busy_total: Duration,
    extra_busy: u32,
    /// How long the last request waited for a running operation before its answer.
    held: Duration,
    /// The option-byte layout its write protection follows.
    layout: Option<dfuse::option_bytes::Layout>,
}

impl Device {
    /// The memory of every alternate setting, in order.
    pub fn regions(&self) -> &[RegionMemory] {
        &self.regions
    }

    /// The memory of every alternate setting, to change behind the host's back.
    pub fn regions_mut(&mut self) -> &mut [RegionMemory] {
        &mut self.regions
    }

    /// A chip fresh from reset: erased flash, dfuIDLE.
    pub fn new(chip: &'static Chip) -> Device {
        Device {
            chip,
            regions: RegionMemory::for_chip(chip),
            now: Duration::ZERO,
            connected: true,
            log: Vec::new(),
            faults: Vec::new(),
            alt: 0,
            state: State::DfuIdle,
            status: Status::Ok,
            pointer: 0,
            pending: None,
            busy: None,
            requests: 0,
            dnloads: 0,
            seen: Vec::new(),
            busy_total: Duration::ZERO,
            extra_busy: 0,
            held: Duration::ZERO,
            layout: chip.option_layout.and_then(|file| {
                let (name, text) = dfuse::option_bytes::BUILT_IN
                    .iter()
                    .find(|(name, _)| *name == file)?;
                dfuse::option_bytes::Layout::parse(text, name).ok()
            }),
        }
    }

    /// The sectors of alternate setting 0 the option bytes write-protect (numbered in map order).
    fn protected_sectors(&self) -> Vec<u32> {
        let options = self
            .regions
            .iter()
            .find(|r| r.kind == RegionKind::OptionBytes);
        match (&self.layout, options) {
            (Some(layout), Some(options)) => layout.protected_sectors(&options.image()),
            _ => Vec::new(),
        }
    }

    /// True when the option bytes write-protect any of alternate setting 0's flash in `start..end`.
    pub fn write_protected(&self, start: u64, end: u64) -> bool {
        let protected = self.protected_sectors();
        let flash = &self.regions[0];
        match (
            flash.sector_number(start),
            flash.sector_number(end.max(start + 1) - 1),
        ) {
            (Some(first), Some(last)) => (first..=last).any(|s| protected.contains(&s)),
            _ => false,
        }
    }

    /// Adds a fault.
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// The chip it simulates.
    pub fn chip(&self) -> &'static Chip {
        self.chip
    }

    /// Every DFU class request so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// How long the last request waited for a running operation before it was answered
    /// (a GETSTATUS on a chip that [answers when done](Chip::answers_when_done)); its
    /// answer leaves the device this much after its arrival.
    pub fn held(&self) -> Duration {
        self.held
    }

    /// How long the device has been busy carrying out requests (erases, writes, ...), in all.
    pub fn busy_time(&self) -> Duration {
        self.busy_total
    }

    /// Plugs the device back in after a reset: dfuIDLE, alternate setting 0, memory kept.
    pub fn reconnect(&mut self) {
        self.connected = true;
        self.state = State::DfuIdle;
        self.status = Status::Ok;
        self.alt = 0;
        self.pointer = 0;
        self.pending = None;
        self.busy = None;
    }

    /// Starts in `state` with `status`, as ROMs sometimes enumerate.
    pub fn set_state(&mut self, state: State, status: Status) {
        self.state = state;
        self.status = status;
    }

    /// True while read protection (RDP level 1) is active.
    pub fn protected(&self) -> bool {
        self.chip.protection.is_some_and(|p| {
            self.regions
                .get(usize::from(p.alt))
                .and_then(|r| r.byte(p.rdp_address))
                .is_some_and(|rdp| rdp != p.level0)
        })
    }

    /// Selects an alternate setting (SET_INTERFACE); the DFU state is kept.
    pub fn select_alt(&mut self, alt: u8) -> Outcome<()> {
        if !self.connected {
            return Err(dfuse::transport::TransportError::Disconnected);
        }
        if usize::from(alt) >= self.regions.len() {
            return Err(dfuse::transport::TransportError::Stall);
        }
        self.alt = alt;
        Ok(())
    }

    /// Handles one class request: `data` is the OUT stage, `length` the IN stage's size.
    pub fn request(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        length: u16,
    ) -> Outcome<Vec<u8>> {
        let index = self.requests;
        self.requests += 1;
        self.held = Duration::ZERO;
        let occurrence = self.count(request);
        let mut entry = LogEntry {
            at: self.now,
            request,
            value,
            length: if request.is_in() {
                usize::from(length)
            } else {
                data.len()
            },
            command: (request == Request::Dnload && value == 0)
                .then(|| Command::decode(data))
                .flatten(),
            reply: None,
            outcome: Ok(()),
            held: Duration::ZERO,
        };
        let result = self.dispatch(request, value, data, length, index, occurrence);
        if request == Request::GetStatus {
            entry.reply = result
                .as_ref()
                .ok()
                .and_then(|bytes| StatusReply::decode(bytes));
        }
        entry.outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
        entry.held = self.held;
        self.log.push(entry);
        result
    }

    fn count(&mut self, request: Request) -> usize {
        match self.seen.iter_mut().find(|(r, _)| *r == request) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.seen.push((request, 1));
                0
            }
        }
    }

    fn dispatch(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        length: u16,
        index: usize,
        occurrence: usize,
    ) -> Outcome<Vec<u8>> {
        use dfuse::transport::TransportError;
        if !self.connected {
            return Err(TransportError::Disconnected);
        }
        if self
            .faults
            .iter()
            .any(|f| matches!(f, Fault::Disconnect { nth_request } if *nth_request == index))
        {
            self.connected = false;
            return Err(TransportError::Disconnected);
        }
        if self
            .faults
            .iter()
            .any(|f| matches!(f, Fault::Timeout { nth_request } if *nth_request == index))
        {
            return Err(TransportError::Timeout(std::time::Duration::from_secs(5)));
        }
        if request == Request::GetStatus
            && let Some(reply) = self.faults.iter().find_map(|f| match f {
                Fault::GarbledStatus {
                    nth_getstatus,
                    reply,
                } if *nth_getstatus == occurrence => Some(*reply),
                _ => None,
            })
        {
            self.get_status()?;
            return Ok(reply.to_vec());
        }
        if self.faults.iter().any(|f| matches!(f, Fault::Stall { request: r, nth } if *r == request && *nth == occurrence)) {
            return Err(self.stall());
        }
        match request {
            Request::GetStatus => self.get_status().map(|reply| reply.to_vec()),
            Request::GetState => Ok(vec![self.state.to_byte()]),
            Request::ClrStatus if self.state == State::Error => {
                self.state = State::DfuIdle;
                self.status = Status::Ok;
                Ok(Vec::new())
            }
            Request::Abort
                if self.state != State::Error && self.busy.is_none() && self.pending.is_none() =>
            {
                self.state = State::DfuIdle;
                Ok(Vec::new())
            }
            Request::Dnload if matches!(self.state, State::DfuIdle | State::DnloadIdle) => {
                self.dnload(value, data).map(|()| Vec::new())
            }
            Request::Upload if matches!(self.state, State::DfuIdle | State::UploadIdle) => {
                self.upload(value, length, occurrence)
            }
            _ => Err(self.stall()),
        }
    }

    /// A STALL puts the device in dfuERROR with errSTALLEDPKT (DFU 1.1, 6.1.2).
    fn stall(&mut self) -> dfuse::transport::TransportError {
        self.state = State::Error;
        self.status = Status::ErrStalledPkt;
        dfuse::transport::TransportError::Stall
    }

    fn fail(&mut self, status: Status) -> dfuse::transport::TransportError {
        self.stall();
        self.status = status;
        dfuse::transport::TransportError::Stall
    }

    fn dnload(&mut self, block: u16, data: &[u8]) -> Outcome<()> {
        let pending = match (block, data.len()) {
            (_, 0) if self.state == State::DnloadIdle => Pending::Leave,
            (_, 0) => return Err(self.fail(Status::ErrNotDone)),
            (0, _) => match Command::decode(data) {
                Some(command) => Pending::Command(command),
                None => return Err(self.stall()),
            },
            (1, _) => return Err(self.stall()),
            (block, _) => Pending::Write {
                block,
                data: data.to_vec(),
            },
        };
        self.pending = Some(pending);
        self.state = State::DnloadSync;
        self.dnloads += 1;
        Ok(())
    }

    /// UPLOAD number `nth_upload` (from 0) of `length` bytes at `block`.
    fn upload(&mut self, block: u16, length: u16, nth_upload: usize) -> Outcome<Vec<u8>> {
        let region_kind = self.region().kind;
        if block == 0 {
            self.state = State::UploadIdle;
            let commands = [
                0x00,
                protocol::CMD_SET_ADDRESS,
                protocol::CMD_ERASE,
                protocol::CMD_READ_UNPROTECT,
            ];
            return Ok(commands[..usize::from(length).min(4)].to_vec());
        }
        if block == 1 {
            return Err(self.stall());
        }
        if (self.protected() && region_kind == RegionKind::Flash)
            || self.faults.contains(&Fault::UploadRefused)
        {
            return Err(self.fail(Status::ErrVendor));
        }
        let Some(address) = protocol::block_address(self.pointer, block, self.chip.transfer_size)
        else {
            return Err(self.fail(Status::ErrAddress));
        };
        let length = if self.faults.contains(&Fault::ShortUpload { nth_upload }) {
            length / 2
        } else {
            length
        };
        match self.region().read(u64::from(address), usize::from(length)) {
            Ok(bytes) => {
                self.state = if bytes.len() < usize::from(length) {
                    State::DfuIdle
                } else {
                    State::UploadIdle
                };
                Ok(bytes)
            }
            Err(memory::Fault::OutOfRange) => {
                // Past the end of memory: a short (empty) read marks the end.
                self.state = State::DfuIdle;
                Ok(Vec::new())
            }
            Err(_) => Err(self.fail(Status::ErrVendor)),
        }
    }

    fn region(&self) -> &RegionMemory {
        &self.regions[usize::from(self.alt)]
    }

    fn get_status(&mut self) -> Outcome<[u8; 6]> {
        let dropped = self
            .dnloads
            .checked_sub(1)
            .is_some_and(|nth| self.faults.contains(&Fault::DropDnload { nth_dnload: nth }));
        if dropped && self.pending.take().is_some() {
            // Dropped on the floor: back to idle as if it had never come.
            self.state = State::DfuIdle;
            return Ok(self.reply(Status::Ok, 0, State::DfuIdle));
        }
        if let Some(pending) = self.pending.take() {
            let (duration, result, then_reset) = self.execute(pending);
            self.busy_total += duration;
            self.extra_busy = self
                .faults
                .iter()
                .find_map(|f| match f {
                    Fault::BusyPolls { polls } => Some(*polls),
                    _ => None,
                })
                .unwrap_or(0);
            let injected = self.injected_status();
            let result = injected.map_or(result, Err);
            let busy_forever = self.faults.iter().any(|f| matches!(f, Fault::BusyForever));
            self.busy = Some(Busy {
                until: if busy_forever {
                    Duration::MAX
                } else {
                    self.now + duration
                },
                result,
                then_reset,
            });
            let reported = self.faults.iter().find_map(|f| match f {
                Fault::LyingPollTimeout { ms } => Some(*ms),
                _ => None,
            });
            let poll = reported.unwrap_or(millis_rounded_up(duration));
            if self.state == State::Manifest {
                // Leaving: this reply goes out, then the device resets and drops off the bus.
                self.busy = None;
                self.connected = false;
                return Ok(self.reply(Status::Ok, poll, State::Manifest));
            }
            self.state = State::DnBusy;
            return Ok(self.reply(Status::Ok, poll, State::DnBusy));
        }
        if let Some(busy) = self.busy {
            if self.now < busy.until && self.faults.contains(&Fault::StallWhenPolledEarly) {
                return Err(dfuse::transport::TransportError::Stall);
            }
            if self.now < busy.until
                && busy.until != Duration::MAX
                && self.chip.answers_when_done
                && !self.faults.contains(&Fault::BusyWhenPolledEarly)
            {
                // The request waits in the USB peripheral until the operation is over.
                self.held = busy.until - self.now;
                self.now = busy.until;
            }
            if self.now < busy.until {
                let remaining = millis_rounded_up(busy.until - self.now);
                return Ok(self.reply(Status::Ok, remaining, State::DnBusy));
            }
            if self.extra_busy > 0 {
                self.extra_busy -= 1;
                return Ok(self.reply(Status::Ok, 1, State::DnBusy));
            }
            self.busy = None;
            if busy.then_reset && busy.result.is_ok() {
                // Read-unprotect and option-byte writes end in a reset: the device is gone.
                self.connected = false;
                return Err(dfuse::transport::TransportError::Disconnected);
            }
            match busy.result {
                Ok(()) => self.state = State::DnloadIdle,
                Err(status) => {
                    self.state = State::Error;
                    self.status = status;
                }
            }
        }
        Ok(self.reply(self.status, 0, self.state))
    }

    fn reply(&self, status: Status, poll_timeout_ms: u32, state: State) -> [u8; 6] {
        StatusReply {
            status,
            poll_timeout_ms,
            state,
            string_index: 0,
        }
        .encode()
    }

    fn injected_status(&self) -> Option<Status> {
        let nth = self.dnloads.checked_sub(1)?;
        self.faults.iter().find_map(|f| match f {
            Fault::Status { nth_dnload, status } if *nth_dnload == nth => Some(*status),
            _ => None,
        })
    }

    /// Carries out a DNLOAD: how long it takes, how it ends, and whether the device then resets.
    fn execute(&mut self, pending: Pending) -> (Duration, Result<(), Status>, bool) {
        let chip = self.chip;
        let ms = |ms: u32| Duration::from_millis(u64::from(ms));
        let protected = self.protected();
        let alt = usize::from(self.alt);
        let kind = self.regions[alt].kind;
        match pending {
            Pending::Leave => {
                self.state = State::Manifest;
                (ms(1), Ok(()), true)
            }
            Pending::Command(Command::SetAddress(address)) => {
                if protected {
                    return (ms(1), Err(Status::ErrVendor), false);
                }
                if self.regions[alt].segment_at(u64::from(address)).is_none() {
                    return (ms(1), Err(Status::ErrTarget), false);
                }
                self.pointer = address;
                (ms(1), Ok(()), false)
            }
            Pending::Command(Command::Erase(address)) => {
                if protected {
                    return (ms(1), Err(Status::ErrVendor), false);
                }
                if alt == 0 && self.write_protected(u64::from(address), u64::from(address) + 1) {
                    // The flash interface sets WRPERR; the ROM reports a failed erase.
                    return (ms(1), Err(Status::ErrWrite), false);
                }
                match self.regions[alt].erase_sector(u64::from(address)) {
                    Ok(size) => {
                        let time = chip.erase_base_ms + chip.erase_ms_per_kib * (size / 1024);
                        (ms(time), Ok(()), false)
                    }
                    Err(_) => (ms(1), Err(Status::ErrTarget), false),
                }
            }
            Pending::Command(Command::MassErase) => {
                if !self.protected_sectors().is_empty() {
                    // RM0090 3.7.4: no mass erase while a sector is write-protected.
                    return (ms(1), Err(Status::ErrWrite), false);
                }
                for region in self
                    .regions
                    .iter_mut()
                    .filter(|r| r.kind == RegionKind::Flash)
                {
                    region.erase_all();
                }
                (ms(chip.mass_erase_ms), Ok(()), false)
            }
            Pending::Command(Command::ReadUnprotect) => {
                for region in self
                    .regions
                    .iter_mut()
                    .filter(|r| r.kind == RegionKind::Flash)
                {
                    region.erase_all();
                }
                if let Some(p) = chip.protection {
                    self.regions[usize::from(p.alt)].set_byte(p.rdp_address, p.level0);
                }
                (ms(chip.mass_erase_ms), Ok(()), true)
            }
            Pending::Write { block, data } => self.write_block(block, &data, protected, kind),
        }
    }

    fn write_block(
        &mut self,
        block: u16,
        data: &[u8],
        protected: bool,
        kind: RegionKind,
    ) -> (Duration, Result<(), Status>, bool) {
        let chip = self.chip;
        if protected && kind == RegionKind::Flash {
            return (Duration::from_millis(1), Err(Status::ErrVendor), false);
        }
        let Some(address) = protocol::block_address(self.pointer, block, chip.transfer_size) else {
            return (Duration::from_millis(1), Err(Status::ErrAddress), false);
        };
        // Main flash takes whole programming units: a shorter tail is dropped silently.
        // OTP and option bytes are written byte by byte.
        let unit = if kind == RegionKind::Flash {
            chip.write_unit as usize
        } else {
            1
        };
        let kept = data.len() / unit * unit;
        let alt = usize::from(self.alt);
        let end = u64::from(address) + kept as u64;
        if alt == 0 && kept > 0 && self.write_protected(u64::from(address), end) {
            return (Duration::from_millis(1), Err(Status::ErrWrite), false);
        }
        let units = (kept as u64).div_ceil(u64::from(chip.write_unit));
        let time = Duration::from_micros(units * u64::from(chip.program_us_per_unit))
            .max(Duration::from_millis(1));
        match self.regions[usize::from(self.alt)].write(u64::from(address), &data[..kept]) {
            Ok(()) => {
                let end = u64::from(address) + kept as u64;
                for fault in &self.faults {
                    if let Fault::FlipBit { address: worn } = *fault
                        && (u64::from(address)..end).contains(&u64::from(worn))
                    {
                        let region = &mut self.regions[usize::from(self.alt)];
                        let byte = region.byte(worn).unwrap_or(0xFF);
                        region.set_byte(worn, byte ^ 1);
                    }
                }
                if kind == RegionKind::OptionBytes && protected && !self.protected() {
                    // Read protection lowered from level 1 to 0: the flash is mass-erased.
                    for region in self
                        .regions
                        .iter_mut()
                        .filter(|r| r.kind == RegionKind::Flash)
                    {
                        region.erase_all();
                    }
                }
                (time, Ok(()), kind == RegionKind::OptionBytes)
            }
            Err(memory::Fault::NotErased) => (time, Err(Status::ErrWrite), false),
            Err(memory::Fault::NotAllowed) => (time, Err(Status::ErrWrite), false),
            Err(memory::Fault::OutOfRange) => {
                (Duration::from_millis(1), Err(Status::ErrTarget), false)
            }
        }
    }
}
