#!/usr/bin/env bash
# Rebuilds the example firmware from source. Needs Debian's binutils-arm-none-eabi
# and a built `dfuse` (cargo build). The .hex and .s19 come from GNU objcopy; the
# .bin and .dfu are made from the .hex by dfuse itself.
set -euo pipefail
cd "$(dirname "$0")"
command -v arm-none-eabi-as >/dev/null || {
    echo "build.sh: arm-none-eabi-as not found: apt-get install binutils-arm-none-eabi" >&2
    exit 1
}
dfuse=${DFUSE:-../../target/debug/dfuse}
arm-none-eabi-as -o /tmp/blinky-f407.o blinky-f407.S
arm-none-eabi-ld -T blinky-f407.ld --build-id=none -o blinky-f407.elf /tmp/blinky-f407.o
arm-none-eabi-strip --strip-debug blinky-f407.elf
arm-none-eabi-objcopy -O ihex blinky-f407.elf blinky-f407.hex
arm-none-eabi-objcopy -O srec --srec-forceS3 blinky-f407.elf blinky-f407.s19
"$dfuse" file convert blinky-f407.hex -o blinky-f407.bin
"$dfuse" file convert blinky-f407.hex -o blinky-f407.dfu --target-name "Internal Flash"
