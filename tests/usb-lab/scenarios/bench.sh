# Benchmark: dfuse against dfu-util on one real-time simulated STM32F407 through the real USB
# stack, release builds, in one guest boot. Run it with tests/usb-lab/bench (which builds them).
# Every request is logged by dfuse-sim (--log) with its arrival time; tests/usb-lab/bench-report
# turns the timings and the log into the tables of docs/PERFORMANCE.md.
source tests/usb-lab/scenarios/lib.sh
use_release
[ -x target/release/minimal-host ] || { echo "bench: no target/release/minimal-host: run tests/usb-lab/bench" >&2; exit 1; }
# The tools run from the guest's tmpfs, as from a local disk: the lab's shared root (9p) has no
# page cache, so every start would read the whole binary again.
mkdir -p /tmp/bin /tmp/lib
cp "$DFUSE" "$SIM" "$(command -v dfu-util)" target/release/minimal-host /tmp/bin/
DFUSE=/tmp/bin/dfuse SIM=/tmp/bin/dfuse-sim DFU_UTIL=/tmp/bin/dfu-util MINIMAL=/tmp/bin/minimal-host
# Their shared libraries too (libc, libusb, ...), for the same reason; the reference host uses
# their libc. dfuse is statically linked (packaging/linux-cli): it loads none.
for bin in "$SIM" "$DFU_UTIL"; do
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | xargs cp -t /tmp/lib
done
export LD_LIBRARY_PATH=/tmp/lib
log=/tmp/bench-requests.jsonl
attach stm32f407 f407 --log "$log"
wait_devices 0483 df11 1
runs=${BENCH_RUNS:-5}
size=262144
times=/tmp/bench-times.txt
: > "$times"

# measure TOOL OPERATION COMMAND...: runs COMMAND and records its wall time (µs, from bash's
# clock: no process is started to read it) and the log lines of its requests.
measure() {
    local tool=$1 op=$2 before start end
    shift 2
    sleep 0.2 # the board idle, the previous command's log lines written
    before=$(wc -l < "$log")
    start=${EPOCHREALTIME/./}
    "$@" > /tmp/bench-out.txt 2>&1 || { cat /tmp/bench-out.txt; return 1; }
    end=${EPOCHREALTIME/./}
    sleep 0.2
    echo "$tool $op $start $end $before $(wc -l < "$log")" >> "$times"
}

head -c "$size" /dev/urandom > /tmp/image.bin
# The board's usbfs node (its serial is the simulated F407's), for the reference host, which
# does no enumeration.
sysfs=/sys/bus/usb/devices/$(locations_of 3276395A3032)
node=$(printf '/dev/bus/usb/%03d/%03d' "$(cat "$sysfs/busnum")" "$(cat "$sysfs/devnum")")
for run in $(seq "$runs"); do
    measure dfuse list "$DFUSE" list
    measure dfu-util list "$DFU_UTIL" -l
    measure dfuse flash "$DFUSE" flash /tmp/image.bin --address 0x08000000 --no-verify --full
    measure dfu-util flash "$DFU_UTIL" -a 0 -s 0x08000000 -D /tmp/image.bin
    # The reference host: the fewest requests and exact waits (tests/usb-lab/minimal-host.c);
    # 256 KiB at 0x08000000 covers the F407's sectors 0-5.
    measure minimal flash "$MINIMAL" "$node" /tmp/image.bin 08000000 \
        08000000 08004000 08008000 0800C000 08010000 08020000
    rm -f /tmp/back-*.bin   # the reads check the last flash, the reference host's
    measure dfuse read "$DFUSE" read -o /tmp/back-dfuse.bin --address 0x08000000 --length "$size"
    measure dfu-util read "$DFU_UTIL" -a 0 -s "0x08000000:$size" -U /tmp/back-dfu-util.bin
    cmp /tmp/back-dfuse.bin /tmp/image.bin
    cmp /tmp/back-dfu-util.bin /tmp/image.bin
done
echo "bench: $runs runs of list, flash and read by each tool; every read-back equals the image"

# Incremental: a new build over the old one, then the same build with one byte changed in its
# first (16 KiB) sector, both with dfuse's defaults (compare, verify).
for run in $(seq "$runs"); do
    head -c "$size" /dev/urandom > /tmp/build.bin
    measure dfuse new-build "$DFUSE" flash /tmp/build.bin --address 0x08000000
    byte=$(od -An -tu1 -j100 -N1 /tmp/build.bin)
    printf "\\x$(printf %02x $(((byte + 1) % 256)))" | dd of=/tmp/build.bin bs=1 seek=100 conv=notrunc status=none
    measure dfuse one-byte "$DFUSE" flash /tmp/build.bin --address 0x08000000
    grep -q '1 sector erased, 5 sectors unchanged (skipped), 16384 bytes written, verified' /tmp/bench-out.txt \
        || { cat /tmp/bench-out.txt; echo "bench: the one-byte change was not flashed as one sector" >&2; exit 1; }
    measure dfu-util one-byte "$DFU_UTIL" -a 0 -s 0x08000000 -D /tmp/build.bin
done
"$DFUSE" read -o /tmp/back.bin --address 0x08000000 --length "$size" > /dev/null
cmp /tmp/back.bin /tmp/build.bin
echo "bench: incremental flashes erase and write one sector; the board holds the last build"
detach_all
cp "$times" "$log" "${DFUSE_LAB_RESULTS:-/tmp}/" 2>/dev/null || true
/usr/bin/python3 tests/usb-lab/bench-report "$times" "$log" "$size"
