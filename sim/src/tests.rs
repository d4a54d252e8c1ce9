//! The simulated ROM answers raw requests as ST's ROM does.

use super::*;
use dfuse::protocol::{State, Status};

const T: Duration = Duration::from_secs(1);

fn status(sim: &mut SimTransport) -> StatusReply {
    StatusReply::decode(&sim.control_in(Request::GetStatus, 0, 6, T).unwrap()).unwrap()
}

/// Sends a DNLOAD and polls GETSTATUS until the device is no longer busy.
fn dnload(sim: &mut SimTransport, block: u16, data: &[u8]) -> StatusReply {
    sim.control_out(Request::Dnload, block, data, T).unwrap();
    let busy = status(sim);
    assert_eq!(busy.state, State::DnBusy);
    sim.sleep(Duration::from_millis(u64::from(busy.poll_timeout_ms)));
    status(sim)
}

#[test]
fn set_address_write_and_read_back() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    assert_eq!(
        dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode()).state,
        State::DnloadIdle
    );
    assert_eq!(
        dnload(&mut sim, 0, &Command::Erase(0x0800_0000).encode()).state,
        State::DnloadIdle
    );
    assert_eq!(
        dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode()).state,
        State::DnloadIdle
    );
    assert_eq!(
        dnload(&mut sim, 2, &[1, 2, 3, 4, 5, 6, 7, 8]).state,
        State::DnloadIdle
    );
    sim.control_out(Request::Abort, 0, &[], T).unwrap();
    let bytes = sim.control_in(Request::Upload, 2, 16, T).unwrap();
    assert_eq!(&bytes[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bytes[8..], &[0xFF; 8]);
}

/// A fresh `chip` with free bus time, erasing the sector at `address`: its busy reply.
fn erase_started(chip: &str, address: u32) -> (SimTransport, StatusReply) {
    let mut sim = SimTransport::open(chip).unwrap();
    sim.set_usb_timing(UsbTiming::FREE);
    sim.control_out(Request::Dnload, 0, &Command::Erase(address).encode(), T)
        .unwrap();
    let busy = status(&mut sim);
    (sim, busy)
}

#[test]
fn erase_takes_datasheet_time_on_the_virtual_clock() {
    let (mut sim, busy) = erase_started("stm32f746", 0x0800_0000);
    assert_eq!(busy.poll_timeout_ms, 125 + 7 * 32, "a 32 KiB F7 sector");
    // Polling early: still busy, with the remaining time.
    sim.sleep(Duration::from_millis(100));
    let early = status(&mut sim);
    assert_eq!(
        (early.state, early.poll_timeout_ms),
        (State::DnBusy, busy.poll_timeout_ms - 100)
    );
    sim.sleep(Duration::from_millis(u64::from(early.poll_timeout_ms)));
    assert_eq!(status(&mut sim).state, State::DnloadIdle);
    assert_eq!(
        sim.now(),
        Duration::from_millis(u64::from(busy.poll_timeout_ms))
    );
    assert!(sim.log().iter().all(|e| e.held.is_zero()));
}

#[test]
fn an_f4_rom_answers_an_early_poll_when_its_operation_is_done() {
    let (mut sim, busy) = erase_started("stm32f407", 0x0802_0000);
    assert_eq!(busy.poll_timeout_ms, 125 + 7 * 128, "a 128 KiB F4 sector");
    sim.sleep(Duration::from_millis(100));
    // Asked early: the answer comes when the erase is over, and says so.
    let done = status(&mut sim);
    assert_eq!(done.state, State::DnloadIdle);
    assert_eq!(sim.now(), Duration::from_millis(125 + 7 * 128));
    let last = sim.log().last().unwrap();
    assert_eq!(last.at, Duration::from_millis(100), "logged at its arrival");
    assert_eq!(last.held, Duration::from_millis(125 + 7 * 128 - 100));
    assert_eq!(sim.device().held(), last.held);
    // A 2 KiB write takes 512 words at 16 µs: 8.192 ms, declared as 9.
    sim.control_out(
        Request::Dnload,
        0,
        &Command::SetAddress(0x0802_0000).encode(),
        T,
    )
    .unwrap();
    status(&mut sim);
    status(&mut sim);
    sim.control_out(Request::Dnload, 2, &[0x5A; 2048], T)
        .unwrap();
    let start = sim.now();
    assert_eq!(status(&mut sim).poll_timeout_ms, 9);
    assert_eq!(status(&mut sim).state, State::DnloadIdle);
    assert_eq!(sim.now() - start, Duration::from_micros(8192));
}

#[test]
fn every_request_costs_full_speed_bus_time_by_default() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    status(&mut sim);
    assert_eq!(
        sim.now(),
        Duration::from_nanos(1_000_000 + 6 * 1_000_000 / 800)
    );
    let before = sim.now();
    let _ = sim.control_in(Request::Upload, 2, 2048, T); // charged for what was asked
    assert_eq!(sim.now() - before, Duration::from_micros(1000 + 2560));
    assert_eq!(sim.device().busy_time(), Duration::ZERO);
    sim.control_out(Request::Abort, 0, &[], T).unwrap();
    sim.control_out(Request::Dnload, 0, &Command::Erase(0x0800_0000).encode(), T)
        .unwrap();
    status(&mut sim);
    assert_eq!(
        sim.device().busy_time(),
        Duration::from_millis(125 + 7 * 16),
        "the busy time counts the erase only"
    );
}

#[test]
fn writing_unerased_flash_is_err_write() {
    let mut sim = SimTransport::open("stm32f072").unwrap();
    dnload(&mut sim, 0, &Command::Erase(0x0800_0000).encode());
    dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode());
    assert_eq!(dnload(&mut sim, 2, &[0; 4]).state, State::DnloadIdle);
    let failed = dnload(&mut sim, 2, &[0; 4]);
    assert_eq!(
        (failed.state, failed.status),
        (State::Error, Status::ErrWrite)
    );
    sim.control_out(Request::ClrStatus, 0, &[], T).unwrap();
    assert_eq!(status(&mut sim).state, State::DfuIdle);
}

#[test]
fn bad_address_is_err_target() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let reply = dnload(&mut sim, 0, &Command::SetAddress(0x0900_0000).encode());
    assert_eq!(
        (reply.state, reply.status),
        (State::Error, Status::ErrTarget)
    );
}

#[test]
fn a_tail_shorter_than_the_write_unit_is_dropped_silently() {
    let mut sim = SimTransport::open("stm32l476").unwrap();
    dnload(&mut sim, 0, &Command::Erase(0x0800_0000).encode());
    dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode());
    assert_eq!(dnload(&mut sim, 2, &[7; 12]).state, State::DnloadIdle);
    sim.control_out(Request::Abort, 0, &[], T).unwrap();
    let bytes = sim.control_in(Request::Upload, 2, 12, T).unwrap();
    assert_eq!(
        bytes,
        [&[7u8; 8][..], &[0xFF; 4]].concat(),
        "L4 writes 8-byte units"
    );
}

#[test]
fn read_protection_blocks_reads_and_set_address_until_unprotected() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.device_mut().regions[1].set_byte(0x1FFF_C001, 0x55);
    assert!(sim.device().protected());
    let reply = dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode());
    assert_eq!(reply.status, Status::ErrVendor);
    sim.control_out(Request::ClrStatus, 0, &[], T).unwrap();
    assert_eq!(
        sim.control_in(Request::Upload, 2, 16, T),
        Err(TransportError::Stall)
    );
    assert_eq!(status(&mut sim).status, Status::ErrVendor);
    sim.control_out(Request::ClrStatus, 0, &[], T).unwrap();

    sim.control_out(Request::Dnload, 0, &Command::ReadUnprotect.encode(), T)
        .unwrap();
    let busy = status(&mut sim);
    assert_eq!(busy.poll_timeout_ms, 8000);
    sim.sleep(Duration::from_millis(8000));
    assert_eq!(
        sim.control_in(Request::GetStatus, 0, 6, T),
        Err(TransportError::Disconnected)
    );
    sim.reconnect();
    assert!(!sim.device().protected());
}

#[test]
fn leave_shows_manifest_then_drops_off_the_bus() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    dnload(&mut sim, 0, &Command::SetAddress(0x0800_0000).encode());
    sim.control_out(Request::Dnload, 2, &[], T).unwrap();
    assert_eq!(status(&mut sim).state, State::Manifest);
    assert!(!sim.connected());
    assert_eq!(
        sim.control_in(Request::GetStatus, 0, 6, T),
        Err(TransportError::Disconnected)
    );
}

#[test]
fn stalls_put_the_device_in_dfu_error() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    assert_eq!(
        sim.control_out(Request::Dnload, 1, &[0; 4], T),
        Err(TransportError::Stall)
    );
    let reply = status(&mut sim);
    assert_eq!(
        (reply.state, reply.status),
        (State::Error, Status::ErrStalledPkt)
    );
}

#[test]
fn get_commands_lists_the_dfuse_commands() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    assert_eq!(
        sim.control_in(Request::Upload, 0, 4, T).unwrap(),
        vec![0x00, 0x21, 0x41, 0x92]
    );
}

#[test]
fn state_survives_a_save_and_load() {
    let mut sim = SimTransport::open("stm32f072").unwrap();
    dnload(&mut sim, 0, &Command::Erase(0x0800_0800).encode());
    dnload(&mut sim, 0, &Command::SetAddress(0x0800_0800).encode());
    dnload(&mut sim, 2, &[0xDE, 0xAD, 0xBE, 0xEF]);
    let saved = sim.save_state();
    let mut fresh = SimTransport::open("stm32f072").unwrap();
    fresh.load_state(&saved).unwrap();
    assert_eq!(
        fresh.device().regions[0].read(0x0800_0800, 4).unwrap(),
        vec![0xDE, 0xAD, 0xBE, 0xEF]
    );
    let mut other = SimTransport::open("stm32f407").unwrap();
    assert!(other.load_state(&saved).unwrap_err().contains("stm32f072"));
}

#[test]
fn every_chip_describes_itself() {
    for chip in CHIPS {
        let sim = SimTransport::new(chip);
        let info = sim.info();
        assert_eq!(info.location, format!("sim:{}", chip.id));
        assert_eq!(info.alt_settings.len(), chip.regions.len());
        assert_eq!(
            info.functional.map(|f| f.transfer_size),
            Some(chip.transfer_size)
        );
    }
}
