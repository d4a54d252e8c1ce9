# Ctrl-C during a 256 KiB flash: dfuse stops between two requests, exits 130 within 1 s, says how
# far it got, and leaves the board idle in DFU mode, so the next command needs no recovery.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1
head -c 262144 /dev/urandom > /tmp/image.bin
"$DFUSE" flash /tmp/image.bin --address 0x08000000 --full > /tmp/flash.txt 2>&1 &
flash=$!
wait_for '^erase:' /tmp/flash.txt 600     # the erase is done: the write is under way
sleep 0.3
kill -INT "$flash"
interrupted=$(date +%s%N)
set +e
wait "$flash"
code=$?
set -e
elapsed_ms=$((($(date +%s%N) - interrupted) / 1000000))
cat /tmp/flash.txt
echo "dfuse exited with code $code, ${elapsed_ms} ms after SIGINT"
test "$code" -eq 130
test "$elapsed_ms" -lt 1000
grep -q 'error\[cancelled\]: cancelled during the write; the device is idle' /tmp/flash.txt
grep -q 'Stopped by Ctrl-C during the write after [0-9]* of 262144 bytes' /tmp/flash.txt
! grep -q 'panicked' /tmp/flash.txt
# The board is in dfuIDLE: a read right away works, and its first status request is followed by
# the set-address, not by a recovery (CLRSTATUS or ABORT).
"$DFUSE" read -o /tmp/back.bin --address 0x08000000 --length 4K -v > /tmp/read.txt 2>&1
requests=$(grep -- '->' /tmp/read.txt)
head -n 4 <<< "$requests"
grep -q 'GETSTATUS' <<< "$(sed -n 1p <<< "$requests")"
grep -q 'DNLOAD wValue=0 length=5' <<< "$(sed -n 2p <<< "$requests")"
test "$(stat -c %s /tmp/back.bin)" -eq 4096
# A second signal ends the process at once (the handler's _exit), with its own message; the
# next command recovers the board from wherever it was left. The two are sent while dfuse is
# stopped, so both are pending when it resumes (two SIGINTs would merge into one; SIGTERM is
# handled as SIGINT is).
"$DFUSE" flash /tmp/image.bin --address 0x08000000 --full > /tmp/flash2.txt 2>&1 &
flash=$!
wait_for '^erase:' /tmp/flash2.txt 600
kill -STOP "$flash"
kill -INT "$flash"
kill -TERM "$flash"
kill -CONT "$flash"
set +e
wait "$flash"
code=$?
set -e
cat /tmp/flash2.txt
echo "dfuse exited with code $code after SIGINT and SIGTERM"
test "$code" -eq 130
grep -q 'Interrupted again: exiting now' /tmp/flash2.txt
"$DFUSE" read -o /tmp/back.bin --address 0x08000000 --length 4K > /dev/null
test "$(stat -c %s /tmp/back.bin)" -eq 4096
echo "interrupt: a second Ctrl-C exits at once; the next command recovers the board"
