//! Exhaustive tests of the sans-IO protocol.

use super::*;

#[test]
fn request_codes_and_directions() {
    for code in 0..=255u8 {
        match Request::from_code(code) {
            Some(request) => {
                assert!(code <= 6);
                assert_eq!(request as u8, code);
            }
            None => assert!(code > 6),
        }
    }
    assert_eq!(Setup::new(Request::GetStatus, 0, 0, 6).request_type, 0xA1);
    assert_eq!(Setup::new(Request::Dnload, 0, 2, 2048).request_type, 0x21);
    assert_eq!(Request::Upload.to_string(), "DFU_UPLOAD");
}

#[test]
fn setup_packet_bytes() {
    let setup = Setup::new(Request::Dnload, 1, 0x0203, 0x0800);
    assert_eq!(
        setup.to_bytes(),
        [0x21, 0x01, 0x03, 0x02, 0x01, 0x00, 0x00, 0x08]
    );
    assert_eq!(Setup::from_bytes(setup.to_bytes()), setup);
}

#[test]
fn every_state_and_status_byte_round_trips() {
    for byte in 0..=255u8 {
        assert_eq!(State::from_byte(byte).to_byte(), byte);
        assert_eq!(Status::from_byte(byte).to_byte(), byte);
    }
    assert_eq!(State::from_byte(10), State::Error);
    assert_eq!(State::from_byte(11), State::Unknown(11));
    assert_eq!(State::DnloadIdle.to_string(), "dfuDNLOAD-IDLE");
    assert_eq!(Status::from_byte(0x0B), Status::ErrVendor);
    assert_eq!(Status::from_byte(0x10), Status::Unknown(0x10));
}

#[test]
fn statuses_carry_their_dfu_meanings() {
    assert_eq!(
        Status::ErrTarget.to_string(),
        "errTARGET (the file or address is not targeted for use by this device)"
    );
    assert_eq!(Status::ErrWrite.name(), "errWRITE");
    assert!(Status::ErrVendor.meaning().contains("read protection"));
    assert_eq!(Status::Unknown(0x42).name(), "status 0x42");
    for byte in 0..16u8 {
        assert!(!Status::from_byte(byte).meaning().is_empty());
    }
}

#[test]
fn status_reply_decoding() {
    let reply = StatusReply::decode(&[0x00, 0x64, 0x00, 0x00, 0x04, 0x00]).unwrap();
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.poll_timeout_ms, 100);
    assert_eq!(reply.state, State::DnBusy);
    let long = StatusReply::decode(&[0x0A, 0x10, 0x27, 0x01, 0x0A, 0x00]).unwrap();
    assert_eq!(long.poll_timeout_ms, 0x01_2710, "24-bit little-endian");
    assert_eq!(long.status, Status::ErrFirmware);
    assert_eq!(StatusReply::decode(&long.encode()), Some(long));
    assert_eq!(StatusReply::decode(&[0; 5]), None);
    assert_eq!(StatusReply::decode(&[0; 7]), None);
}

#[test]
fn dfuse_commands() {
    assert_eq!(
        Command::SetAddress(0x0800_4000).encode(),
        vec![0x21, 0x00, 0x40, 0x00, 0x08]
    );
    assert_eq!(
        Command::Erase(0x0802_0000).encode(),
        vec![0x41, 0x00, 0x00, 0x02, 0x08]
    );
    assert_eq!(Command::MassErase.encode(), vec![0x41]);
    assert_eq!(Command::ReadUnprotect.encode(), vec![0x92]);
    for command in [
        Command::SetAddress(1),
        Command::Erase(0xFFFF_FFFF),
        Command::MassErase,
        Command::ReadUnprotect,
    ] {
        assert_eq!(Command::decode(&command.encode()), Some(command));
    }
    assert_eq!(Command::decode(&[]), None);
    assert_eq!(Command::decode(&[0x21, 0, 0]), None);
    assert_eq!(Command::decode(&[0x92, 0]), None);
    assert_eq!(Command::decode(&[0x33]), None);
}

#[test]
fn block_arithmetic() {
    assert_eq!(block_address(0x0800_0000, 0, 2048), None);
    assert_eq!(block_address(0x0800_0000, 1, 2048), None);
    assert_eq!(block_address(0x0800_0000, 2, 2048), Some(0x0800_0000));
    assert_eq!(block_address(0x0800_0000, 5, 2048), Some(0x0800_1800));
    assert_eq!(block_address(0xFFFF_F800, 2, 2048), Some(0xFFFF_F800));
    assert_eq!(block_address(0xFFFF_F800, 3, 2048), None, "past 4 GiB");
    assert_eq!(block_for_offset(0, 2048), Some(2));
    assert_eq!(block_for_offset(6144, 2048), Some(5));
    assert_eq!(block_for_offset(100, 2048), None);
    assert_eq!(block_for_offset(0, 0), None);
    assert_eq!(
        block_for_offset(65534 * 1024, 1024),
        None,
        "block numbers are 16-bit"
    );
    for block in 2..1000u16 {
        let address = block_address(0x0800_0000, block, 1024).unwrap();
        assert_eq!(
            block_for_offset(u64::from(address - 0x0800_0000), 1024),
            Some(block)
        );
    }
}

#[test]
fn functional_descriptor() {
    // ST ROM: WillDetach, manifestation intolerant, CanUpload, CanDnload; 255 ms; 2048; DfuSe.
    let rom = [0x09, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01];
    let descriptor = FunctionalDescriptor::decode(&rom).unwrap();
    assert_eq!(descriptor.transfer_size, 2048);
    assert_eq!(descriptor.detach_timeout_ms, 255);
    assert_eq!(descriptor.dfu_version, 0x011A);
    assert!(descriptor.can_download() && descriptor.can_upload() && descriptor.will_detach());
    assert!(!descriptor.manifestation_tolerant());
    assert_eq!(descriptor.encode(), rom);
    let dfu10 = FunctionalDescriptor::decode(&[0x07, 0x21, 0x03, 0x64, 0x00, 0x00, 0x04]).unwrap();
    assert_eq!(dfu10.dfu_version, 0x0100);
    assert_eq!(dfu10.transfer_size, 1024);
    assert_eq!(
        FunctionalDescriptor::decode(&[0x09, 0x21, 0x0B]),
        None,
        "short"
    );
    assert_eq!(
        FunctionalDescriptor::decode(&[0x09, 0x04, 0, 0, 0, 0, 0, 0, 0]),
        None,
        "not type 0x21"
    );
    assert_eq!(FunctionalDescriptor::decode(&[]), None);
}
