# Eight boards at once: mixed chips, three F072s sharing the F0 ROM's constant serial, flashed by
# one `dfuse flash --all`; then one board unplugged mid-flash fails alone. Release builds (run it
# with tests/usb-lab/bench); prints the times next to flashing each board alone.
source tests/usb-lab/scenarios/lib.sh
use_release
mkdir -p /tmp/bin && cp "$DFUSE" "$SIM" /tmp/bin/ # from tmpfs, as in the bench scenario
DFUSE=/tmp/bin/dfuse SIM=/tmp/bin/dfuse-sim
chips=(stm32f407 stm32f429 stm32f072 stm32f072 stm32f072 stm32h743 stm32l476 gd32vf103)
for i in "${!chips[@]}"; do
    attach "${chips[$i]}" "board$i" --log "/tmp/board$i.jsonl"
    pids[$i]=$!
done
wait_devices 0483 df11 7
wait_devices 28e9 0189 1
size=32768
for name in alone all unplug; do head -c "$size" /dev/urandom > "/tmp/$name.bin"; done
flash=("$DFUSE" flash --address 0x08000000 --full)

# seconds COMMAND...: runs COMMAND, prints its wall time in seconds; its output in /tmp/out.txt.
seconds() {
    local start=${EPOCHREALTIME/./} status=0
    "$@" > /tmp/out.txt 2>&1 || status=$?
    echo "$(((${EPOCHREALTIME/./} - start) / 1000))" >> /tmp/ms.txt
    return $status
}

# board_locations: the sysfs names (<bus>-<port.path>) of the eight boards.
board_locations() {
    local dir
    for dir in /sys/bus/usb/devices/[0-9]*-*; do
        case "$(cat "$dir/idVendor" 2>/dev/null)" in 0483 | 28e9) basename "$dir" ;; esac
    done
}

# read_back LOCATION FILE: the board at LOCATION holds FILE.
read_back() {
    "$DFUSE" read -o /tmp/back.bin --address 0x08000000 --length "$size" --device "$1" > /dev/null
    cmp /tmp/back.bin "$2" || { echo "lab: $1 does not hold $2" >&2; return 1; }
}

locations=$(board_locations)
[ "$(echo $locations | wc -w)" = 8 ] || { "$DFUSE" list; echo "lab: not 8 boards" >&2; exit 1; }
: > /tmp/ms.txt
for location in $locations; do
    seconds "${flash[@]}" /tmp/alone.bin --device "$location" || { cat /tmp/out.txt; exit 1; }
done
alone_max=$(sort -n /tmp/ms.txt | tail -n 1)
alone_median=$(sort -n /tmp/ms.txt | sed -n 4p)
: > /tmp/ms.txt
seconds "${flash[@]}" /tmp/all.bin --all || { cat /tmp/out.txt; exit 1; }
all=$(cat /tmp/ms.txt)
cat /tmp/out.txt | tail -n 9
[ "$(grep -c ' ok: ' /tmp/out.txt)" = 8 ] || { echo "lab: not every board flashed" >&2; exit 1; }
for location in $locations; do read_back "$location" /tmp/all.bin; done
echo "eight-boards: one board alone takes at most ${alone_max} ms (median ${alone_median} ms); all eight at once ${all} ms"
echo "eight-boards: all / slowest alone = $(awk "BEGIN { printf \"%.2f\", $all / $alone_max }"); every board reads back the image"

# Unplug the L476 in the middle of its write: it fails alone, named; the others succeed. A fresh
# dfuse-sim for it drops off the bus when its DFU request number 63 arrives: the DNLOAD of block 5
# of 16 (before it, dfuse sends a GETSTATUS, 16 page erases, the set-address and blocks, 3 requests
# each, and one poll more on the first block: asked at once, the L4 model answers "busy"),
# wherever the guest's scheduler happens to be (a kill timed from the shell can come too late).
kill -TERM "${pids[6]}"
wait "${pids[6]}" || true
for _ in $(seq 100); do [ "$(count_devices 0483 df11)" = 6 ] && break; sleep 0.05; done
attach stm32l476 board6 --log /tmp/board6-unplug.jsonl --unplug-at-request 63
wait_devices 0483 df11 7
victim=$(locations_of 336F38703235)
locations=$(board_locations)
status=0
"${flash[@]}" /tmp/unplug.bin --all > /tmp/unplug.txt 2>&1 || status=$?
cat /tmp/unplug.txt | tail -n 14
grep -q '"length":2048,.*"request":"DFU_DNLOAD"' /tmp/board6-unplug.jsonl \
    || { echo "lab: the L476 was unplugged before its write began" >&2; exit 1; }
[ "$status" = 5 ] || { echo "lab: flash --all exited $status, not 5, with a board unplugged" >&2; exit 1; }
grep -q "error\[boards-failed\]: 1 of 8 boards failed: $victim" /tmp/unplug.txt
grep -q "^$victim .*FAILED" /tmp/unplug.txt
[ "$(grep -c ' ok: ' /tmp/unplug.txt)" = 7 ]
for location in $locations; do
    [ "$location" = "$victim" ] || read_back "$location" /tmp/unplug.bin
done
echo "eight-boards: the unplugged board ($victim) failed alone and was named; the other seven hold the image"
detach_all
