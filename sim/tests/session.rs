//! Sessions against simulated chips: plans carried out, recovery, errors, bounds.

use std::time::Duration;

use dfu_file::Image;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dfuse::DeviceError;
use dfuse::memory_map;
use dfuse::plan::{PlanOptions, Sector, plan};
use dfuse::protocol::{Command, Request, State, Status};
use dfuse::session::{Event, Phase, Session, Settings, Unit, Written};
use dfuse::transport::{Transport, TransportError};
use dfuse_sim::{Fault, SimTransport};

fn flash_map(sim: &SimTransport) -> memory_map::MemoryMap {
    memory_map::parse(&sim.info().alt_settings[0].name)
        .unwrap()
        .map
}

fn open<'a>(
    sim: &'a mut SimTransport,
    events: &'a mut dyn FnMut(&Event),
) -> Session<'a, SimTransport> {
    Session::open(sim, 0, Settings::default(), events).unwrap()
}

fn two_part_image() -> Image {
    let code: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
    Image::from_pieces([
        (0x0800_0000, code),
        (0x0800_4000, b"DFUS info block".to_vec()),
    ])
    .unwrap()
}

#[test]
fn a_plan_is_written_and_verified() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let plan = plan(
        &two_part_image(),
        &flash_map(&sim),
        &PlanOptions {
            write_unit: 4,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    let mut events = Vec::new();
    let mut record = |e: &Event| events.push(e.clone());
    let mut session = open(&mut sim, &mut record);
    assert_eq!(session.download(&plan).unwrap(), Written::Done);
    session.verify(&plan).unwrap();
    assert_eq!(
        sim.device().regions()[0].read(0x0800_0000, 3).unwrap(),
        vec![3, 10, 17]
    );
    assert_eq!(
        sim.device().regions()[0].read(0x0800_4000, 4).unwrap(),
        b"DFUS".to_vec()
    );
    assert!(events.contains(&Event::Begin {
        phase: Phase::Write,
        total: plan.write_len()
    }));
    assert!(events.contains(&Event::Progress {
        phase: Phase::Write,
        done: plan.write_len()
    }));
    assert!(events.contains(&Event::End {
        phase: Phase::Verify
    }));
}

#[test]
fn request_log_shows_three_requests_per_block_one_set_address_per_run_and_each_sector_erased_once()
{
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let plan = plan(
        &two_part_image(),
        &flash_map(&sim),
        &PlanOptions {
            write_unit: 4,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).download(&plan).unwrap();
    let log = sim.log();

    let erases: Vec<u32> = log
        .iter()
        .filter_map(|e| match e.command {
            Some(Command::Erase(a)) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(
        erases,
        vec![0x0800_0000, 0x0800_4000],
        "each touched sector once"
    );

    let set_addresses: Vec<u32> = log
        .iter()
        .filter_map(|e| match e.command {
            Some(Command::SetAddress(a)) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(
        set_addresses,
        vec![0x0800_0000, 0x0800_4000],
        "one per contiguous run"
    );

    let writes: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| e.request == Request::Dnload && e.value >= 2)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        writes.len(),
        3 + 1,
        "5000 bytes in 2048-byte blocks, then the info block"
    );
    for &i in &writes {
        let busy = log[i + 1].reply.expect("GETSTATUS follows the write");
        let idle = log[i + 2].reply.expect("a second GETSTATUS follows");
        assert_eq!((busy.state, idle.state), (State::DnBusy, State::DnloadIdle));
        if log[i].length == 2048 {
            let next = &log[i + 3];
            assert!(
                next.request != Request::GetStatus,
                "exactly 3 requests per full block"
            );
        }
    }
    assert_eq!(log[writes[0]].value, 2);
    assert_eq!(log[writes[1]].value, 3);
}

#[test]
fn devices_starting_in_dfu_error_or_dnload_idle_are_recovered() {
    for (state, status) in [
        (State::Error, Status::ErrFirmware),
        (State::DnloadIdle, Status::Ok),
        (State::UploadIdle, Status::Ok),
    ] {
        let mut sim = SimTransport::open("stm32f072").unwrap();
        sim.device_mut().set_state(state, status);
        let mut ignore = |_: &Event| {};
        let mut session = open(&mut sim, &mut ignore);
        session
            .erase(&[Sector {
                address: 0x0800_0000,
                size: 2048,
            }])
            .unwrap();
    }
}

#[test]
fn error_statuses_name_the_request_and_address() {
    let cases = [
        (
            Status::ErrTarget,
            "erase sector at 0x08000000 failed: the device reports errTARGET",
        ),
        (
            Status::ErrWrite,
            "erase sector at 0x08000000 failed: the device reports errWRITE",
        ),
        (
            Status::ErrVendor,
            "erase sector at 0x08000000 failed: the device reports errVENDOR",
        ),
    ];
    for (status, message) in cases {
        let mut sim = SimTransport::open("stm32f407").unwrap();
        sim.inject(Fault::Status {
            nth_dnload: 0,
            status,
        });
        let mut ignore = |_: &Event| {};
        let err = open(&mut sim, &mut ignore)
            .erase(&[Sector {
                address: 0x0800_0000,
                size: 16384,
            }])
            .unwrap_err();
        assert!(err.to_string().starts_with(message), "{err}");
        assert!(err.to_string().contains("state dfuERROR"), "{err}");
    }
    // A write into unerased flash: the device's own errWRITE, naming the write's address.
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let image = Image::from_pieces([(0x0800_0100, vec![0; 8])]).unwrap();
    let mut plan = plan(
        &image,
        &flash_map(&sim),
        &PlanOptions {
            write_unit: 4,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).download(&plan).unwrap();
    plan.erase.clear();
    let mut ignore = |_: &Event| {};
    let err = open(&mut sim, &mut ignore).download(&plan).unwrap_err();
    assert_eq!(
        err.to_string(),
        "write of 8 bytes at 0x08000100 failed: the device reports errWRITE (the device is unable to write memory), state dfuERROR"
    );
}

#[test]
fn stall_or_disconnect_after_leave_is_success() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).leave(0x0800_0000).unwrap();
    assert!(!sim.connected(), "the simulated board dropped off the bus");

    // The GETSTATUS after the leave request stalls: the 4th (recovery and the set-address's two come first).
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.inject(Fault::Stall {
        request: Request::GetStatus,
        nth: 3,
    });
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).leave(0x0800_0000).unwrap();
    assert_eq!(
        sim.log().last().unwrap().outcome,
        Err(TransportError::Stall)
    );

    // The device vanishes as the leave request arrives.
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.inject(Fault::Disconnect { nth_request: 4 });
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).leave(0x0800_0000).unwrap();
}

#[test]
fn a_device_busy_forever_fails_within_the_bound() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.inject(Fault::BusyForever);
    let settings = Settings::default();
    let mut ignore = |_: &Event| {};
    let mut session = Session::open(&mut sim, 0, settings, &mut ignore).unwrap();
    let err = session
        .erase(&[Sector {
            address: 0x0800_0000,
            size: 16384,
        }])
        .unwrap_err();
    assert!(matches!(err, DeviceError::BusyTooLong { .. }), "{err}");
    assert!(
        sim.now() <= settings.operation + Duration::from_secs(1),
        "gave up at {:?}",
        sim.now()
    );
}

#[test]
fn a_lying_poll_timeout_is_polled_again_until_done() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.inject(Fault::LyingPollTimeout { ms: 100 });
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).mass_erase().unwrap();
    assert!(
        sim.now() >= Duration::from_millis(8000),
        "the real 8 s were waited out"
    );
}

#[test]
fn read_unprotect_succeeds_when_the_device_resets() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    sim.device_mut().regions_mut()[1].set_byte(0x1FFF_C001, 0x00);
    let mut ignore = |_: &Event| {};
    open(&mut sim, &mut ignore).read_unprotect().unwrap();
    sim.reconnect();
    assert!(!sim.device().protected());
}

#[test]
fn uploads_stop_at_the_end_of_memory() {
    let mut sim = SimTransport::open("stm32f072").unwrap();
    let mut ignore = |_: &Event| {};
    let data = open(&mut sim, &mut ignore)
        .upload(0x0801_F000, 0x2000, Phase::Read)
        .unwrap();
    assert_eq!(data.len(), 0x1000);
}

#[test]
fn an_option_byte_write_that_resets_the_device_is_success() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let option_bytes = memory_map::parse(&sim.info().alt_settings[1].name)
        .unwrap()
        .map;
    let image = Image::from_pieces([(0x1FFF_C000, vec![0xEC, 0x55])]).unwrap();
    let plan = plan(&image, &option_bytes, &PlanOptions::default()).unwrap();
    let mut ignore = |_: &Event| {};
    let mut session = Session::open(&mut sim, 1, Settings::default(), &mut ignore).unwrap();
    assert_eq!(session.download(&plan).unwrap(), Written::DeviceReset);
    assert!(!sim.connected());
    sim.reconnect();
    assert!(sim.device().protected(), "RDP 0x55 is level 1");
}

#[test]
fn a_flash_write_interrupted_by_a_disconnect_is_an_error() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let plan = plan(&two_part_image(), &flash_map(&sim), &PlanOptions::default()).unwrap();
    sim.inject(Fault::Disconnect { nth_request: 12 });
    let mut ignore = |_: &Event| {};
    let err = open(&mut sim, &mut ignore).download(&plan).unwrap_err();
    assert!(
        matches!(
            err,
            DeviceError::Transport {
                source: TransportError::Disconnected,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn stall_means_busy_rides_out_an_l4_erase_polled_early() {
    let erase = [Sector {
        address: 0x0800_0000,
        size: 2048,
    }];
    let early_polls = |sim: &mut SimTransport| {
        sim.inject(Fault::LyingPollTimeout { ms: 1 });
        sim.inject(Fault::StallWhenPolledEarly);
    };
    let mut sim = SimTransport::open("stm32l476").unwrap();
    early_polls(&mut sim);
    let mut ignore = |_: &Event| {};
    let err = open(&mut sim, &mut ignore).erase(&erase).unwrap_err();
    assert!(
        matches!(
            err,
            DeviceError::Transport {
                source: TransportError::Stall,
                ..
            }
        ),
        "{err}"
    );

    let mut sim = SimTransport::open("stm32l476").unwrap();
    early_polls(&mut sim);
    let settings = Settings {
        stall_means_busy: true,
        ..Settings::default()
    };
    let mut ignore = |_: &Event| {};
    Session::open(&mut sim, 0, settings, &mut ignore)
        .unwrap()
        .erase(&erase)
        .unwrap();
    assert!(
        sim.now() >= Duration::from_millis(22),
        "waited the real erase time"
    );
}

#[test]
fn a_poll_floor_and_a_transfer_size_override_are_honoured() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let image = Image::from_pieces([(0x0800_0000, vec![7; 3000])]).unwrap();
    let plan = plan(&image, &flash_map(&sim), &PlanOptions::default()).unwrap();
    let settings = Settings {
        transfer_size: Some(1024),
        poll_floor: Duration::from_millis(50),
        ..Settings::default()
    };
    let mut ignore = |_: &Event| {};
    let mut session = Session::open(&mut sim, 0, settings, &mut ignore).unwrap();
    session.download(&plan).unwrap();
    // The device computes block addresses with its own 2048 bytes: only a set-address
    // before every block puts 1024-byte blocks in the right place.
    session.verify(&plan).unwrap();
    let writes = sim
        .log()
        .iter()
        .filter(|e| e.request == Request::Dnload && e.value >= 2)
        .count();
    assert_eq!(writes, 3, "3008 padded bytes in 1024-byte blocks");
    let addresses = sim
        .log()
        .iter()
        .filter(|e| matches!(e.command, Some(Command::SetAddress(_))))
        .count();
    assert!(
        addresses >= 3 + 3,
        "a set-address before every write and every read block"
    );
    assert!(
        sim.now() >= Duration::from_millis(50 * 5),
        "every wait lasted at least the floor"
    );
}

#[test]
fn a_cancelled_flash_stops_between_sectors_and_leaves_the_device_idle() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let image = Image::from_pieces([(0x0800_0000, vec![0x5A; 64 * 1024])]).unwrap();
    let plan = plan(&image, &flash_map(&sim), &PlanOptions::default()).unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let mut on_event = |e: &Event| {
        if let Event::Progress { done, .. } = e
            && *done >= 4096
            && *done < 64 * 1024
        {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let result = Session::open(&mut sim, 0, Settings::default(), &mut on_event)
        .unwrap()
        .cancel_on(Arc::clone(&cancel))
        .download(&plan);
    let Err(DeviceError::Cancelled {
        phase: "erase",
        done,
        total,
        unit: Unit::Bytes,
    }) = result
    else {
        panic!("{result:?}");
    };
    assert_eq!(total, 64 * 1024);
    assert!((4096..64 * 1024).contains(&done), "{done}");
    let erases = sim
        .log()
        .iter()
        .filter(|e| matches!(e.command, Some(Command::Erase(_))))
        .count();
    assert!(
        erases < plan.erase.len(),
        "{erases} of {} sectors erased",
        plan.erase.len()
    );
    let last = sim.log().iter().rev().find(|e| e.reply.is_some()).unwrap();
    assert_eq!(last.reply.unwrap().state, State::DfuIdle);
}

#[test]
fn a_cancelled_read_stops_after_the_block_under_way() {
    let mut sim = SimTransport::open("stm32f407").unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let mut on_event = |e: &Event| {
        if matches!(e, Event::Progress { done, .. } if *done >= 2048) {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let mut session = Session::open(&mut sim, 0, Settings::default(), &mut on_event)
        .unwrap()
        .cancel_on(Arc::clone(&cancel));
    let result = session.upload(0x0800_0000, 64 * 1024, Phase::Read);
    assert!(
        matches!(
            result,
            Err(DeviceError::Cancelled {
                phase: "read",
                done: 2048,
                total: 65536,
                ..
            })
        ),
        "{result:?}"
    );
    let uploads = sim
        .log()
        .iter()
        .filter(|e| e.request == Request::Upload)
        .count();
    assert_eq!(uploads, 1, "one 2048-byte block, then the cancel");
    let last = sim.log().iter().rev().find(|e| e.reply.is_some()).unwrap();
    assert_eq!(last.reply.unwrap().state, State::DfuIdle);
}
