//! `dfuse memmap`: the documented JSON, warnings, and the error for non-layouts.

mod common;

use common::{assert_fails, dfuse, json, stdout};
use serde_json::json;

#[test]
fn json_of_an_stm32f407_flash_map() {
    let out = dfuse([
        "memmap",
        "--json",
        "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
    ]);
    assert!(out.status.success());
    let segment = |address: u32, size: u32, count: u32| {
        json!({"address": address, "sector_size": size, "sector_count": count,
               "readable": true, "erasable": true, "writable": true})
    };
    assert_eq!(
        json(&out),
        json!({
            "schema": 1,
            "result": "ok",
            "name": "Internal Flash",
            "segments": [
                segment(0x0800_0000, 16384, 4),
                segment(0x0801_0000, 65536, 1),
                segment(0x0802_0000, 131072, 7),
            ],
            "warnings": []
        })
    );
}

#[test]
fn trailing_garbage_is_a_warning_and_good_segments_stay() {
    let out = dfuse([
        "memmap",
        "--json",
        "@Option Bytes  /0x1FFFC000/01*016 e\u{1}xyz",
    ]);
    assert!(out.status.success());
    let map = json(&out);
    assert_eq!(map["segments"][0]["sector_size"], 16);
    assert_eq!(map["segments"][0]["erasable"], false);
    assert_eq!(map["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn text_output_shows_ranges_and_access() {
    let out = dfuse(["memmap", "@OTP Memory /0x1FFF7800/01*512 e,01*016 e"]);
    let text = stdout(&out);
    assert!(text.contains("Name: OTP Memory"), "{text}");
    assert!(
        text.contains("0x1FFF7800-0x1FFF79FF     1 x     512 bytes  r-w"),
        "{text}"
    );
    assert!(
        text.contains("0x1FFF7A00-0x1FFF7A0F     1 x      16 bytes  r-w"),
        "{text}"
    );
}

#[test]
fn a_string_that_is_not_a_layout_exits_3() {
    let out = dfuse(["memmap", "Internal Flash"]);
    assert_fails(
        &out,
        3,
        "no memory map: \"Internal Flash\" is not a DfuSe layout",
    );
    assert!(stdout(&out).is_empty());
    let out = dfuse(["memmap", "--json", "@Internal Flash  /0x08000000/04*016Kz"]);
    assert_fails(&out, 3, "expected a type letter a-g");
}
