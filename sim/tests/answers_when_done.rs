//! A write's status asked at once on a ROM that answers when the write is done
//! (`answers_when_done`), and the fallback to bwPollTimeout on one that does not.

use std::time::Duration;

use dfu_file::Image;
use dfuse::memory_map;
use dfuse::plan::{FlashPlan, PlanOptions, plan};
use dfuse::protocol::{Request, State};
use dfuse::session::{Event, Session, Settings};
use dfuse::transport::{Transport, TransportError};
use dfuse_sim::{Fault, LogEntry, SimTransport, UsbTiming};

/// Eight 2 KiB blocks of counting bytes at the start of flash.
fn sixteen_kib_plan(sim: &SimTransport) -> FlashPlan {
    let map = memory_map::parse(&sim.info().alt_settings[0].name)
        .unwrap()
        .map;
    let data: Vec<u8> = (0..16384u32).map(|i| (i * 13 + 1) as u8).collect();
    let image = Image::from_pieces([(0x0800_0000, data)]).unwrap();
    plan(&image, &map, &PlanOptions::default()).unwrap()
}

/// Erases, writes and verifies the plan, a session each, with `settings`; the log from the
/// write's session on, and how long the write took on the virtual clock.
fn flash(sim: &mut SimTransport, settings: Settings) -> (Vec<LogEntry>, Duration) {
    let plan = sixteen_kib_plan(sim);
    let mut ignore = |_: &Event| {};
    Session::open(sim, 0, settings, &mut ignore)
        .unwrap()
        .erase(&plan.erase)
        .unwrap();
    let (erased, start) = (sim.log().len(), sim.now());
    let mut write_only = plan.clone();
    write_only.erase.clear();
    Session::open(sim, 0, settings, &mut ignore)
        .unwrap()
        .download(&write_only)
        .unwrap();
    let took = sim.now() - start;
    Session::open(sim, 0, settings, &mut ignore)
        .unwrap()
        .verify(&plan)
        .unwrap();
    (sim.log()[erased..].to_vec(), took)
}

/// GETSTATUS requests after each 2 KiB data DNLOAD, block by block.
fn polls_per_block(log: &[LogEntry]) -> Vec<usize> {
    let starts: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.request == Request::Dnload && e.value >= 2)
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .map(|&i| {
            log[i + 1..]
                .iter()
                .take_while(|e| e.request == Request::GetStatus)
                .count()
        })
        .collect()
}

fn settings(answers_when_done: bool) -> Settings {
    Settings {
        stall_means_busy: true,
        answers_when_done,
        ..Settings::default()
    }
}

#[test]
fn an_f4_write_is_polled_at_once_and_takes_the_datasheet_time_not_the_rounded_wait() {
    let mut honest = SimTransport::open("stm32f407").unwrap();
    honest.set_usb_timing(UsbTiming::FREE);
    let (honest_log, honest_time) = flash(&mut honest, settings(false));
    let mut at_once = SimTransport::open("stm32f407").unwrap();
    at_once.set_usb_timing(UsbTiming::FREE);
    let (log, time) = flash(&mut at_once, settings(true));

    // Three requests a block either way: DNLOAD, GETSTATUS (busy), GETSTATUS (done).
    assert_eq!(polls_per_block(&honest_log), vec![2; 8]);
    assert_eq!(polls_per_block(&log), vec![2; 8]);
    // Each write's second poll waited for the write inside the device.
    let held: Vec<Duration> = log
        .iter()
        .filter(|e| !e.held.is_zero())
        .map(|e| e.held)
        .collect();
    assert_eq!(held, vec![Duration::from_micros(8192); 8]);
    assert!(honest_log.iter().all(|e| e.held.is_zero()));
    // 512 words at 16 µs each, declared as 9 ms: the honest host waits the 9, plus 1 ms for
    // the set-address; asked at once, each block takes the chip's real time.
    assert_eq!(honest_time, Duration::from_millis(8 * 9 + 1));
    assert_eq!(time, Duration::from_micros(8 * 8192 + 1000));
    assert_eq!(
        at_once.device().regions()[0].read(0x0800_0000, 16384),
        honest.device().regions()[0].read(0x0800_0000, 16384)
    );
}

#[test]
fn a_rom_that_answers_busy_to_an_early_poll_costs_one_poll_then_gets_its_waits() {
    // The F7 model answers "busy, N ms" to an early GETSTATUS.
    let mut sim = SimTransport::open("stm32f746").unwrap();
    sim.set_usb_timing(UsbTiming::FREE);
    let (log, _) = flash(&mut sim, settings(true));
    let mut polls = vec![2; 8];
    polls[0] = 3;
    assert_eq!(polls_per_block(&log), polls);
    let early = log
        .iter()
        .filter(|e| e.request == Request::GetStatus)
        .nth(3)
        .unwrap();
    assert_eq!(early.reply.map(|r| r.state), Some(State::DnBusy));
}

#[test]
fn a_rom_that_stalls_an_early_poll_is_ridden_out_and_then_waited_for() {
    // An L4-like ROM: an early GETSTATUS is STALLed and the state kept.
    let mut sim = SimTransport::open("stm32l476").unwrap();
    sim.set_usb_timing(UsbTiming::FREE);
    sim.inject(Fault::StallWhenPolledEarly);
    let (log, _) = flash(&mut sim, settings(true));
    let stalls: Vec<&LogEntry> = log
        .iter()
        .filter(|e| e.outcome == Err(TransportError::Stall))
        .collect();
    assert_eq!(stalls.len(), 1, "only the first write is asked early");
    let mut polls = vec![2; 8];
    polls[0] = 3;
    assert_eq!(polls_per_block(&log), polls);
}
