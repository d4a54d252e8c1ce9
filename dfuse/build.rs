//! Compiles the built-in device table (`devices.toml`) into Rust: a DfuSe tool opens a board
//! at every start, and parsing TOML was a tenth of dfuse's start-up in the USB lab
//! (docs/PERFORMANCE.md). A user's table is still read at run time by `matching::parse`;
//! a test checks that both readings of the built-in table agree.
//!
//! The generated expression is a `Vec<Record>` naming every field, so a field the table has
//! and `Record` lacks (or the other way round) fails the build, as does a value out of range.

use std::fmt::Write;

/// Matching fields: (TOML key and Rust field, Rust type).
const MATCHING: [(&str, &str); 6] = [
    ("vendor", "u16"),
    ("product", "u16"),
    ("release", "u16"),
    ("class", "u8"),
    ("subclass", "u8"),
    ("protocol", "u8"),
];

fn main() {
    println!("cargo::rerun-if-changed=devices.toml");
    let text = std::fs::read_to_string("devices.toml").expect("dfuse/devices.toml");
    let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| fail(&e.to_string()));
    let mut out = String::from("vec![\n");
    for (key, value) in &table {
        if key != "device" {
            fail(&format!("unknown top-level key {key:?}"));
        }
        for record in value
            .as_array()
            .unwrap_or_else(|| fail("device is not [[device]]"))
        {
            let record = record
                .as_table()
                .unwrap_or_else(|| fail("a device is not a table"));
            writeln!(out, "    {},", record_expr(record)).unwrap();
        }
    }
    out.push(']');
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("built_in_devices.rs");
    std::fs::write(path, out).unwrap();
}

/// A `Record { .. }` expression for one `[[device]]`.
fn record_expr(record: &toml::Table) -> String {
    let known = ["name", "flavour", "quirks"];
    if let Some(key) = record
        .keys()
        .find(|k| !known.contains(&k.as_str()) && !MATCHING.iter().any(|(m, _)| m == k))
    {
        fail(&format!("unknown field {key:?}"));
    }
    let name = record
        .get("name")
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| fail("a device without a name"));
    let mut expr = format!("Record {{ name: String::from({name:?}), ");
    for (field, ty) in MATCHING {
        write!(expr, "{field}: {}, ", optional_int(record, field, ty)).unwrap();
    }
    let flavour = match record.get("flavour").map(toml::Value::as_str) {
        None | Some(Some("dfuse")) => "Dfuse",
        Some(Some("dfu")) => "Dfu",
        Some(other) => fail(&format!(
            "{name}: flavour {other:?} is neither dfuse nor dfu"
        )),
    };
    write!(expr, "flavour: Flavour::{flavour}, ").unwrap();
    let empty = toml::Table::new();
    let quirks = match record.get("quirks") {
        None => &empty,
        Some(value) => value
            .as_table()
            .unwrap_or_else(|| fail(&format!("{name}: quirks is not a table"))),
    };
    write!(expr, "quirks: {} }}", quirks_expr(name, quirks)).unwrap();
    expr
}

/// A `Quirks { .. }` expression.
fn quirks_expr(name: &str, quirks: &toml::Table) -> String {
    let known = [
        "layout",
        "transfer_size",
        "poll_timeout_floor_ms",
        "stall_means_busy",
        "answers_when_done",
        "flash_size_from_serial",
    ];
    if let Some(key) = quirks.keys().find(|k| !known.contains(&k.as_str())) {
        fail(&format!("{name}: unknown quirk {key:?}"));
    }
    let layout = match quirks.get("layout") {
        None => "None".to_string(),
        Some(value) => match value.as_str() {
            Some(layout) => format!("Some(String::from({layout:?}))"),
            None => fail(&format!("{name}: layout is not a string")),
        },
    };
    let flag = |key: &str| match quirks.get(key) {
        None => false,
        Some(value) => value
            .as_bool()
            .unwrap_or_else(|| fail(&format!("{name}: {key} is not true or false"))),
    };
    format!(
        "Quirks {{ layout: {layout}, transfer_size: {}, poll_timeout_floor_ms: {}, stall_means_busy: {}, answers_when_done: {}, flash_size_from_serial: {} }}",
        optional_int(quirks, "transfer_size", "u16"),
        optional_int(quirks, "poll_timeout_floor_ms", "u32"),
        flag("stall_means_busy"),
        flag("answers_when_done"),
        flag("flash_size_from_serial"),
    )
}

/// `None`, or `Some(N_ty)`: the compiler refuses a literal out of the type's range.
fn optional_int(table: &toml::Table, key: &str, ty: &str) -> String {
    match table.get(key) {
        None => "None".into(),
        Some(value) => match value.as_integer() {
            Some(n) if n >= 0 => format!("Some({n}_{ty})"),
            _ => fail(&format!("{key} = {value:?} is not a number from 0 up")),
        },
    }
}

fn fail(why: &str) -> ! {
    panic!("dfuse/devices.toml: {why}")
}
