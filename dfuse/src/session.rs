//! Sessions: DfuSe operations on a [`Transport`], reporting progress through a callback.
//!
//! Every wait honours bwPollTimeout and is bounded; the session never prints.
//! Its tests run against the simulated chips, in the `dfuse-sim` crate (`sim/tests/session.rs`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::blocks::Blocks;
use crate::error::DeviceError;
use crate::plan::{FlashPlan, Sector};
use crate::protocol::{Command, FIRST_DATA_BLOCK, Request, State, StatusReply};
use crate::transport::{Transport, TransportError};

/// How a session talks to its device: time bounds, and the quirks of its device record.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Timeout of one control request.
    pub request: Duration,
    /// Longest a single erase or write may keep the device busy.
    pub operation: Duration,
    /// Longest a mass erase or read-unprotect may take (F405: up to 32 s).
    pub mass_erase: Duration,
    /// Block size to use instead of the functional descriptor's wTransferSize.
    pub transfer_size: Option<u16>,
    /// Never poll again sooner than this, whatever bwPollTimeout says.
    pub poll_floor: Duration,
    /// A STALLed GETSTATUS while the device is busy means "still busy" (STM32L4).
    pub stall_means_busy: bool,
    /// A GETSTATUS sent while the device writes a block is answered when the write is done
    /// (ST's ROMs): the status after a write's busy reply is asked at once. The first time
    /// the device answers "busy" (or STALLs) instead, the session waits bwPollTimeout again.
    pub answers_when_done: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            request: Duration::from_secs(5),
            operation: Duration::from_secs(30),
            mass_erase: Duration::from_secs(120),
            transfer_size: None,
            poll_floor: Duration::ZERO,
            stall_means_busy: false,
            answers_when_done: false,
        }
    }
}

/// The phases an operation reports progress in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Erasing sectors (bytes of sectors).
    Erase,
    /// Erasing the whole flash (one step).
    MassErase,
    /// Writing (bytes).
    Write,
    /// Reading back and comparing (bytes).
    Verify,
    /// Reading (bytes).
    Read,
    /// Reading the sectors a flash touches, to skip those already right (bytes).
    Compare,
}

impl Phase {
    /// A lowercase name for displays and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Erase => "erase",
            Phase::MassErase => "mass erase",
            Phase::Write => "write",
            Phase::Verify => "verify",
            Phase::Read => "read",
            Phase::Compare => "compare",
        }
    }
    /// What the phase's amounts count.
    pub fn unit(self) -> Unit {
        match self {
            Phase::MassErase => Unit::Steps,
            _ => Unit::Bytes,
        }
    }
}

/// What a phase's `total` and `done` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes.
    Bytes,
    /// Steps of an operation whose size is not known (a mass erase is one step).
    Steps,
}

/// Progress a caller may want to show. Requests are traced through the `log`
/// crate instead (target `dfuse::request`, level trace).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A phase begins; `total` is its size in the phase's [`Unit`].
    Begin {
        /// The phase.
        phase: Phase,
        /// Its size.
        total: u64,
    },
    /// Done so far in the phase.
    Progress {
        /// The phase.
        phase: Phase,
        /// Done so far.
        done: u64,
    },
    /// The phase ended.
    End {
        /// The phase.
        phase: Phase,
    },
}

/// How a download ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Everything was written; the device is in dfuIDLE.
    Done,
    /// Everything was written, then the device reset itself (option bytes).
    DeviceReset,
}

/// The first wait after a bwPollTimeout longer than the operation's bound, and the longest.
const ABSURD_POLL_FIRST: Duration = Duration::from_millis(10);
const ABSURD_POLL_MAX: Duration = Duration::from_secs(1);

/// Block numbers run from 2 to 65535: at most this many blocks follow one set-address.
const MAX_BLOCKS_PER_ADDRESS: u64 = (u16::MAX - FIRST_DATA_BLOCK + 1) as u64;

/// A DfuSe conversation with one device on one alternate setting.
pub struct Session<'a, T: Transport + ?Sized> {
    transport: &'a mut T,
    events: &'a mut dyn FnMut(&Event),
    settings: Settings,
    transfer_size: u16,
    /// Blocks sent after one set-address: all that fit, or 1 when the block size was
    /// overridden (the device computes addresses with its own wTransferSize).
    blocks_per_address: u64,
    /// Set by another thread to stop between requests.
    cancel: Option<Arc<AtomicBool>>,
    /// The phase under way with its total and progress, for events and a cancellation's message.
    phase: Option<(Phase, u64, u64)>,
    /// When the last GETSTATUS was answered (the transport's clock): a bwPollTimeout counts from there.
    answered_at: Duration,
}

impl<'a, T: Transport + ?Sized> Session<'a, T> {
    /// Starts a session: selects `alt` and brings the device to dfuIDLE.
    pub fn open(
        transport: &'a mut T,
        alt: u8,
        settings: Settings,
        events: &'a mut dyn FnMut(&Event),
    ) -> Result<Self, DeviceError> {
        let declared = transport.info().functional.map(|f| f.transfer_size);
        let blocks = Blocks::choose(declared, settings.transfer_size);
        let transfer_size = blocks.size;
        let blocks_per_address = if blocks.one_per_address {
            1
        } else {
            MAX_BLOCKS_PER_ADDRESS
        };
        transport
            .select_alt(alt)
            .map_err(|source| DeviceError::SelectAlt { alt, source })?;
        let mut session = Session {
            transport,
            events,
            settings,
            transfer_size,
            blocks_per_address,
            cancel: None,
            phase: None,
            answered_at: Duration::ZERO,
        };
        session.recover()?;
        Ok(session)
    }

    /// Stops the session's operations, between two requests, once `flag` is set.
    ///
    /// A cancelled operation brings the device back to dfuIDLE and fails with
    /// [`DeviceError::Cancelled`]; what was erased or written so far stays so.
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    fn begin(&mut self, phase: Phase, total: u64) {
        self.phase = Some((phase, total, 0));
        (self.events)(&Event::Begin { phase, total });
    }

    fn progress(&mut self, done: u64) {
        if let Some((phase, _, so_far)) = &mut self.phase {
            *so_far = done;
            let phase = *phase;
            (self.events)(&Event::Progress { phase, done });
        }
    }

    fn end(&mut self) {
        if let Some((phase, _, _)) = self.phase.take() {
            (self.events)(&Event::End { phase });
        }
    }

    fn trace(request: Request, value: u16, length: usize) {
        log::trace!(target: "dfuse::request", "{request} wValue={value} length={length}");
    }

    /// Fails with [`DeviceError::Cancelled`], the device back in dfuIDLE, once cancelled.
    fn check_cancel(&mut self) -> Result<(), DeviceError> {
        if !self
            .cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            return Ok(());
        }
        let (phase, total, done, unit) = match self.phase {
            Some((phase, total, done)) => (phase.name(), total, done, phase.unit()),
            None => ("operation", 0, 0, Unit::Bytes),
        };
        self.end();
        self.recover()?;
        Err(DeviceError::Cancelled {
            phase,
            done,
            total,
            unit,
        })
    }

    fn out(
        &mut self,
        request: Request,
        value: u16,
        data: &[u8],
        operation: &(impl fmt::Display + ?Sized),
    ) -> Result<(), DeviceError> {
        Self::trace(request, value, data.len());
        self.transport
            .control_out(request, value, data, self.settings.request)
            .map_err(|source| DeviceError::Transport {
                request,
                operation: operation.to_string(),
                source,
            })
    }

    fn status(
        &mut self,
        operation: &(impl fmt::Display + ?Sized),
    ) -> Result<StatusReply, DeviceError> {
        Self::trace(Request::GetStatus, 0, StatusReply::LEN);
        let answer = self.transport.control_in(
            Request::GetStatus,
            0,
            StatusReply::LEN as u16,
            self.settings.request,
        );
        self.answered_at = self.transport.now();
        let bytes = answer.map_err(|source| DeviceError::Transport {
            request: Request::GetStatus,
            operation: operation.to_string(),
            source,
        })?;
        StatusReply::decode(&bytes).ok_or(DeviceError::BadReply {
            request: Request::GetStatus,
            len: bytes.len(),
        })
    }

    /// Brings the device to dfuIDLE from whatever state it is in.
    pub fn recover(&mut self) -> Result<(), DeviceError> {
        let operation = "bringing the device to dfuIDLE";
        let mut reply = self.status(operation)?;
        for _ in 0..8 {
            match reply.state {
                State::DfuIdle => return Ok(()),
                State::Error => self.out(Request::ClrStatus, 0, &[], operation)?,
                State::DnBusy | State::DnloadSync | State::ManifestSync => {
                    reply =
                        self.wait_while_busy(reply, operation, self.settings.operation, false)?;
                    if reply.state == State::DnloadIdle {
                        self.out(Request::Abort, 0, &[], operation)?;
                    }
                }
                State::DnloadIdle | State::UploadIdle => {
                    self.out(Request::Abort, 0, &[], operation)?
                }
                state => return Err(DeviceError::NotIdle { state }),
            }
            reply = self.status(operation)?;
        }
        Err(DeviceError::NotIdle { state: reply.state })
    }

    /// Polls while the device is busy, sleeping exactly bwPollTimeout, up to `limit` in all; a
    /// bwPollTimeout longer than `limit` cannot be honoured and is replaced by a backoff.
    ///
    /// With `at_once` on a device that [answers when done](Settings::answers_when_done), the
    /// first poll goes out without waiting.
    fn wait_while_busy(
        &mut self,
        mut reply: StatusReply,
        operation: &(impl fmt::Display + ?Sized),
        limit: Duration,
        at_once: bool,
    ) -> Result<StatusReply, DeviceError> {
        let start = self.transport.now();
        let mut polls = 0u32;
        let mut at_once = at_once && self.settings.answers_when_done;
        while matches!(reply.state, State::DnBusy | State::DnloadSync) {
            let waited = self.transport.now().saturating_sub(start);
            if waited >= limit {
                return Err(DeviceError::BusyTooLong {
                    operation: operation.to_string(),
                    waited,
                });
            }
            let declared = Duration::from_millis(u64::from(reply.poll_timeout_ms));
            let mut pause = if at_once {
                Duration::ZERO
            } else if declared > limit {
                // Longer than the operation may take at all: a buggy ROM, often done at once.
                // It cannot be honoured, so ask again from 10 ms on, doubling up to 1 s.
                if polls == 0 {
                    log::warn!(target: "dfuse::request", "{operation}: the device asks for a {declared:?} wait, longer than the {limit:?} bound: polling sooner");
                }
                ABSURD_POLL_FIRST
                    .saturating_mul(1 << polls.min(7))
                    .min(ABSURD_POLL_MAX)
            } else {
                declared.max(self.settings.poll_floor)
            };
            if polls > 0 {
                // A device that keeps saying "busy, 0 ms" is asked again after 1 ms, not in a spin.
                pause = pause.max(Duration::from_millis(1));
            }
            // Counted from the answer: the time spent since (deciding, logging) is part of the wait.
            let since_answer = self.transport.now().saturating_sub(self.answered_at);
            self.transport
                .sleep(pause.min(limit - waited).saturating_sub(since_answer));
            polls += 1;
            let early = std::mem::take(&mut at_once);
            match self.status(operation) {
                Ok(next) => reply = next,
                Err(DeviceError::Transport {
                    source: TransportError::Stall,
                    ..
                }) if self.settings.stall_means_busy => {
                    // Still busy: ask again after at least 10 ms.
                    reply.poll_timeout_ms = reply.poll_timeout_ms.max(10);
                }
                Err(error) => return Err(error),
            }
            if early && matches!(reply.state, State::DnBusy | State::DnloadSync) {
                // It answered before the write was done: honour bwPollTimeout from now on.
                log::debug!(target: "dfuse::request", "{operation}: the device answered an early status poll while busy; waiting bwPollTimeout from now on");
                self.settings.answers_when_done = false;
            }
        }
        Ok(reply)
    }

    /// Sends a DNLOAD and waits until the device has carried it out; `flash_write`: a block
    /// written to flash, whose status may be asked at once (see [`Settings::answers_when_done`]).
    fn dnload_and_wait(
        &mut self,
        block: u16,
        data: &[u8],
        operation: &(impl fmt::Display + ?Sized),
        limit: Duration,
        flash_write: bool,
    ) -> Result<(), DeviceError> {
        self.out(Request::Dnload, block, data, operation)?;
        let reply = self.status(operation)?;
        let reply = self.wait_while_busy(reply, operation, limit, flash_write)?;
        if reply.state == State::Error || reply.status != crate::protocol::Status::Ok {
            return Err(DeviceError::Status {
                operation: operation.to_string(),
                status: reply.status,
                state: reply.state,
            });
        }
        if reply.state != State::DnloadIdle {
            // DFU 1.1 figure A.1: a carried-out block leaves the device in dfuDNLOAD-IDLE.
            return Err(DeviceError::WrongState {
                operation: operation.to_string(),
                state: reply.state,
            });
        }
        Ok(())
    }

    fn command(&mut self, command: Command, limit: Duration) -> Result<(), DeviceError> {
        self.dnload_and_wait(0, &command.encode(), &command, limit, false)
    }

    /// Back to dfuIDLE after downloads or uploads.
    fn abort(&mut self, operation: &str) -> Result<(), DeviceError> {
        self.out(Request::Abort, 0, &[], operation)
    }

    /// Erases `sectors` one by one.
    pub fn erase(&mut self, sectors: &[Sector]) -> Result<(), DeviceError> {
        let total = sectors.iter().map(|s| u64::from(s.size)).sum();
        self.begin(Phase::Erase, total);
        let mut done = 0;
        for sector in sectors {
            self.check_cancel()?;
            self.command(Command::Erase(sector.address), self.settings.operation)?;
            done += u64::from(sector.size);
            self.progress(done);
        }
        self.end();
        self.abort("finishing the erase")
    }

    /// Erases the whole flash.
    pub fn mass_erase(&mut self) -> Result<(), DeviceError> {
        self.begin(Phase::MassErase, 1);
        self.check_cancel()?;
        self.command(Command::MassErase, self.settings.mass_erase)?;
        self.progress(1);
        self.end();
        self.abort("finishing the mass erase")
    }

    /// Carries out a plan: erases, then writes every run (one set-address per run).
    ///
    /// Returns [`Written::DeviceReset`] when the device left the bus right after
    /// the final block of a write into non-erasable memory: option bytes take
    /// effect by resetting the chip, so that is success, but nothing can be verified.
    pub fn download(&mut self, plan: &FlashPlan) -> Result<Written, DeviceError> {
        if plan.mass_erase.is_some() {
            self.mass_erase()?;
        } else if !plan.erase.is_empty() {
            self.erase(&plan.erase)?;
        }
        let writes = plan.writes();
        let total = plan.write_len();
        self.begin(Phase::Write, total);
        let size = usize::from(self.transfer_size);
        let mut done = 0u64;
        for run in writes.iter() {
            for (chunk_index, chunk) in run
                .data
                .chunks(self.blocks_per_address as usize * size)
                .enumerate()
            {
                let chunk_address =
                    run.address + (chunk_index * self.blocks_per_address as usize * size) as u32;
                self.check_cancel()?;
                self.command(Command::SetAddress(chunk_address), self.settings.operation)?;
                for (i, block) in chunk.chunks(size).enumerate() {
                    let address = chunk_address + (i * size) as u32;
                    // Worded only if it fails: formatting costs every block some time.
                    let operation = WriteAt {
                        bytes: block.len(),
                        address,
                    };
                    self.check_cancel()?;
                    let result = self.dnload_and_wait(
                        FIRST_DATA_BLOCK + i as u16,
                        block,
                        &operation,
                        self.settings.operation,
                        plan.in_flash,
                    );
                    done += block.len() as u64;
                    let last = done == total;
                    match result {
                        Err(DeviceError::Transport {
                            request: Request::GetStatus,
                            source: TransportError::Disconnected,
                            ..
                        }) if last && !plan.in_flash => {
                            self.progress(done);
                            self.end();
                            return Ok(Written::DeviceReset);
                        }
                        other => other?,
                    }
                    self.progress(done);
                }
            }
        }
        self.end();
        self.abort("finishing the write")?;
        Ok(Written::Done)
    }

    /// Reads `len` bytes from `address`, reported as `phase`; fewer when the memory ends first.
    pub fn upload(&mut self, address: u32, len: u64, phase: Phase) -> Result<Vec<u8>, DeviceError> {
        self.begin(phase, len);
        let data = self.read_range(address, len, 0)?;
        self.end();
        Ok(data)
    }

    /// Reads `len` bytes from `address`, reporting progress from `progress_base` on.
    fn read_range(
        &mut self,
        address: u32,
        len: u64,
        progress_base: u64,
    ) -> Result<Vec<u8>, DeviceError> {
        let size = u64::from(self.transfer_size);
        let mut data = Vec::with_capacity(len.min(1 << 24) as usize);
        'chunks: while (data.len() as u64) < len {
            let chunk_address = u64::from(address) + data.len() as u64;
            let Ok(chunk_address) = u32::try_from(chunk_address) else {
                break;
            };
            if !data.is_empty() {
                // After full blocks the device is in dfuUPLOAD-IDLE, where a DNLOAD is illegal.
                self.abort("ending an upload chunk")?;
            }
            self.command(Command::SetAddress(chunk_address), self.settings.operation)?;
            self.abort("starting an upload")?;
            for i in 0..self.blocks_per_address {
                let want = (len - data.len() as u64).min(size) as u16;
                if want == 0 {
                    break 'chunks;
                }
                self.check_cancel()?;
                let block = FIRST_DATA_BLOCK + i as u16;
                Self::trace(Request::Upload, block, usize::from(want));
                let at = u64::from(chunk_address) + i * size;
                let bytes = match self.transport.control_in(
                    Request::Upload,
                    block,
                    want,
                    self.settings.request,
                ) {
                    Ok(bytes) => bytes,
                    Err(source) => return Err(self.upload_failed(at, source)),
                };
                data.extend_from_slice(&bytes);
                self.progress(progress_base + data.len() as u64);
                if bytes.len() < usize::from(want) {
                    break 'chunks; // a short read: the memory ends here
                }
            }
        }
        self.recover()?;
        Ok(data)
    }

    /// The error of an UPLOAD at `at` that failed with `source`: after a STALL the
    /// device's status says why (errVENDOR: read protection), when it can be asked.
    fn upload_failed(&mut self, at: u64, source: TransportError) -> DeviceError {
        let operation = format!("read at {at:#010X}");
        if source == TransportError::Stall
            && let Ok(reply) = self.status(&operation)
            && reply.state == State::Error
            && reply.status != crate::protocol::Status::Ok
        {
            return DeviceError::Status {
                operation,
                status: reply.status,
                state: reply.state,
            };
        }
        DeviceError::Transport {
            request: Request::Upload,
            operation,
            source,
        }
    }

    /// Reads every sector in `sectors`, reported as [`Phase::Compare`].
    pub fn read_sectors(&mut self, sectors: &[Sector]) -> Result<Vec<Vec<u8>>, DeviceError> {
        let total = sectors.iter().map(|s| u64::from(s.size)).sum();
        self.begin(Phase::Compare, total);
        let mut contents = Vec::with_capacity(sectors.len());
        let mut done = 0;
        for sector in sectors {
            let data = self.read_range(sector.address, u64::from(sector.size), done)?;
            done += u64::from(sector.size);
            contents.push(data);
        }
        self.end();
        Ok(contents)
    }

    /// Reads back what `plan` wrote and compares. Sectors it left alone as
    /// unchanged were read and compared before, in [`Session::read_sectors`].
    ///
    /// Many blocks after one set-address land where the ROM's own block size puts
    /// them, and are read back the same way, so a ROM whose real block size is not
    /// the one it declares would pass. The last block of each run is therefore
    /// read again on its own (its own set-address), where no block size matters.
    pub fn verify(&mut self, plan: &FlashPlan) -> Result<(), DeviceError> {
        self.begin(Phase::Verify, plan.write_len());
        let mut done = 0;
        let size = usize::from(self.transfer_size);
        for run in plan.writes().iter() {
            let read = self.read_range(run.address, run.data.len() as u64, done)?;
            done += run.data.len() as u64;
            compare(run.address, &run.data, &read)?;
            if self.blocks_per_address > 1 && run.data.len() > size {
                let offset = (run.data.len() - 1) / size * size;
                let last = &run.data[offset..];
                let address = run.address + offset as u32;
                let read = self.read_range(address, last.len() as u64, done - last.len() as u64)?;
                compare(address, last, &read)?;
            }
        }
        self.end();
        Ok(())
    }

    /// Removes read protection: the device mass-erases and resets, so its disappearance is success.
    pub fn read_unprotect(&mut self) -> Result<(), DeviceError> {
        let operation = "read unprotect";
        self.out(
            Request::Dnload,
            0,
            &Command::ReadUnprotect.encode(),
            operation,
        )?;
        let result = self.status(operation).and_then(|reply| {
            self.wait_while_busy(reply, operation, self.settings.mass_erase, false)
        });
        resetting(result, operation)
    }

    /// Leaves DFU mode, starting the firmware at `address`; a device that then vanishes has succeeded.
    pub fn leave(&mut self, address: u32) -> Result<(), DeviceError> {
        let operation = "leaving DFU mode";
        self.dnload_and_wait(
            0,
            &Command::SetAddress(address).encode(),
            &format!("{operation} ({})", Command::SetAddress(address)),
            self.settings.operation,
            false,
        )?;
        match self.out(Request::Dnload, FIRST_DATA_BLOCK, &[], operation) {
            Err(DeviceError::Transport {
                source: TransportError::Disconnected,
                ..
            }) => return Ok(()),
            other => other?,
        }
        resetting(self.status(operation), operation)
    }
}

/// Fails at the first byte of `read` that differs from `expected` at `address` (or is missing).
fn compare(address: u32, expected: &[u8], read: &[u8]) -> Result<(), DeviceError> {
    let mismatch = expected
        .iter()
        .zip(read.iter().chain(std::iter::repeat(&0)))
        .position(|(a, b)| a != b);
    match mismatch.or((read.len() < expected.len()).then_some(read.len())) {
        Some(offset) => Err(DeviceError::VerifyMismatch {
            address: address + offset as u32,
            expected: expected[offset],
            found: read.get(offset).copied().unwrap_or(0),
        }),
        None => Ok(()),
    }
}

/// A block's write, as an error names it.
struct WriteAt {
    bytes: usize,
    address: u32,
}

impl fmt::Display for WriteAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "write of {} bytes at {:#010X}", self.bytes, self.address)
    }
}

/// The outcome of the last status poll of a device that is resetting: an
/// error state fails, while a STALL, a timeout or the device's absence is success.
fn resetting(last: Result<StatusReply, DeviceError>, operation: &str) -> Result<(), DeviceError> {
    match last {
        Ok(reply) if reply.state == State::Error => Err(DeviceError::Status {
            operation: operation.into(),
            status: reply.status,
            state: reply.state,
        }),
        Ok(_) => Ok(()),
        Err(error) if device_reset(&error) => Ok(()),
        Err(error) => Err(error),
    }
}

/// True for the errors a device that is resetting produces.
fn device_reset(error: &DeviceError) -> bool {
    matches!(
        error,
        DeviceError::Transport {
            source: TransportError::Disconnected
                | TransportError::Stall
                | TransportError::Timeout(_),
            ..
        }
    )
}
