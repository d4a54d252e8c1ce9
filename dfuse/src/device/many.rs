//! Flashing several boards at once: a thread each, sharing one cancel flag.
//! A board that fails does not stop the others; each result names its board.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{Board, Device, FlashJob, FlashReport, TargetPlan};
use crate::error::DeviceError;
use crate::session::Event;

/// What one board of several is doing.
#[derive(Debug)]
#[non_exhaustive]
pub enum BoardEvent<'a> {
    /// Opened and planned (after the comparison, when incremental): nothing erased yet.
    Planned(&'a [TargetPlan]),
    /// Progress of one of its operations.
    Session(&'a Event),
}

/// How flashing one board of several ended.
#[derive(Debug)]
pub struct BoardResult {
    /// Where the board is (`dfuse list` shows the same).
    pub location: String,
    /// What the flash did, or why it failed.
    pub result: Result<FlashReport, DeviceError>,
    /// From opening the board to closing it.
    pub elapsed: Duration,
}

/// Flashes `job` onto every board of `boards` at once, one thread each, and
/// returns their results in the same order. `on_event` hears from every
/// thread, with the board's index; setting `cancel` stops them all between two
/// requests, each board left idle in DFU mode.
pub fn flash_boards(
    boards: &[Board],
    job: &FlashJob,
    cancel: &Arc<AtomicBool>,
    on_event: &(dyn Fn(usize, BoardEvent<'_>) + Sync),
) -> Vec<BoardResult> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = boards
            .iter()
            .enumerate()
            .map(|(index, board)| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let result = flash_one(board, job, cancel, &mut |event| on_event(index, event));
                    BoardResult {
                        location: board.info().location.clone(),
                        result,
                        elapsed: started.elapsed(),
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                // A panic is a bug: it goes on as it would have without threads.
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Opens `board`, prepares and flashes `job`, and closes it whatever happened.
fn flash_one(
    board: &Board,
    job: &FlashJob,
    cancel: &Arc<AtomicBool>,
    on_event: &mut dyn FnMut(BoardEvent<'_>),
) -> Result<FlashReport, DeviceError> {
    let mut device: Device = board.open()?;
    device.cancel_on(Arc::clone(cancel));
    let mut session_events = |event: &Event| on_event(BoardEvent::Session(event));
    let flashed = device.prepare(job, &mut session_events).and_then(|plans| {
        on_event(BoardEvent::Planned(&plans));
        device.flash(&plans, &job.options, &mut |event| {
            on_event(BoardEvent::Session(event))
        })
    });
    let closed = device.close();
    let report = flashed?;
    closed?;
    Ok(report)
}
