# `dfuse dfu-util` against the real dfu-util: the same command lines, one board each
# (two simulated F407s, told apart by port path with -p), then the boards compared.
source tests/usb-lab/scenarios/lib.sh
bin=assets/examples/blinky-f407.bin

# -e first, one board at a time (dfu-util's -e does not narrow by -p): flash, detach, compare.
attach stm32f407 real
wait_devices 0483 df11 1
real=$(locations_of 3276395A3032)
dfu-util -a 0 -s 0x08000000 -D "$bin" > /dev/null 2>&1
dfu-util -e > /tmp/real-e.txt 2>&1 || true
attach stm32f407 ours
wait_devices 0483 df11 2
ours=$(locations_of 3276395A3032 | grep -vx "$real")
echo "dfu-util drives $real, dfuse dfu-util drives $ours"
"$DFUSE" dfu-util -p "$ours" -a 0 -s 0x08000000 -D "$bin" > /dev/null 2>&1
"$DFUSE" dfu-util -p "$ours" -e 2>&1 | grep '^dfuse dfu-util: running'

# both ARGS...: the same dfu-util command line through dfu-util (board $real) and dfuse (board $ours).
both() {
    echo "$ dfu-util $*"
    dfu-util -p "$real" "$@" > /tmp/real.txt 2>&1 || { cat /tmp/real.txt; echo "lab: dfu-util failed" >&2; return 1; }
    "$DFUSE" dfu-util -p "$ours" "$@" > /tmp/ours.txt 2>&1 || { cat /tmp/ours.txt; echo "lab: dfuse dfu-util failed" >&2; return 1; }
    grep '^dfuse dfu-util: running' /tmp/ours.txt
}

# same_state: both boards hold the same flash and option bytes (read with dfu-util).
same_state() {
    rm -f /tmp/flash-*.bin /tmp/options-*.bin
    for board in "$real" "$ours"; do
        dfu-util -p "$board" -a 0 -s 0x08000000:65536 -U "/tmp/flash-$board.bin" > /tmp/up.txt 2>&1 || { cat /tmp/up.txt; return 1; }
        dfu-util -p "$board" -a 1 -s 0x1FFFC000:16 -U "/tmp/options-$board.bin" > /tmp/up.txt 2>&1 || { cat /tmp/up.txt; return 1; }
    done
    cmp "/tmp/flash-$real.bin" "/tmp/flash-$ours.bin"
    cmp "/tmp/options-$real.bin" "/tmp/options-$ours.bin"
    echo "same state: the first 64 KiB of flash and the option bytes agree"
}

wait_devices 0483 df11 2
sleep 1
same_state
echo "-e: both boards back in DFU mode, holding what was flashed"

"$DFUSE" dfu-util -l > /tmp/list.txt 2>&1
grep -q "$real" /tmp/list.txt && grep -q "$ours" /tmp/list.txt
echo "dfuse dfu-util -l lists both boards"

both -a 0 -s 0x08000000 -D "$bin"
same_state

rm -f /tmp/real-up.bin /tmp/ours-up.bin
dfu-util -p "$real" -a 0 -s 0x08000000:16432 -U /tmp/real-up.bin > /dev/null 2>&1
"$DFUSE" dfu-util -p "$ours" -a 0 -s 0x08000000:16432 -U /tmp/ours-up.bin 2>&1 | grep '^dfuse dfu-util: running'
cmp /tmp/real-up.bin /tmp/ours-up.bin
cmp /tmp/ours-up.bin "$bin"
echo "-U: both read the same bytes, the file flashed"

both -a 0 -s 0x08000000:mass-erase:force -D "$bin"
same_state


both -a 0 -s 0x08000000:leave -D "$bin"
for log in /tmp/real.log /tmp/ours.log; do wait_for '^replugged' "$log"; done
wait_devices 0483 df11 2
same_state
echo "-D with :leave: both boards flashed, left DFU mode and came back"
detach_all
