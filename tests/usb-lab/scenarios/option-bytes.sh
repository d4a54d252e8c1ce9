# Option bytes through the real USB stack: a change resets the board (it leaves
# the bus and comes back), dfuse waits for it and reads the new values back;
# the write protection then stops an erase, dfu-util's too.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1

"$DFUSE" option-bytes show > /tmp/before.txt
cat /tmp/before.txt
grep -q '^  wrp  *none ' /tmp/before.txt
grep -q '^  bor_lev  *off ' /tmp/before.txt

"$DFUSE" option-bytes set wrp=+1 bor_lev=2 --json > /tmp/set.jsonl
cat /tmp/set.jsonl
grep -q '"reset":true' /tmp/set.jsonl
grep -q '"read_back":true' /tmp/set.jsonl
grep -q '"after":"1","before":"none"' /tmp/set.jsonl
wait_for '^replugged' /tmp/f407.log
echo "option-bytes set: the board reset, came back, and shows the new values"

"$DFUSE" option-bytes show > /tmp/after.txt
grep -q '^  wrp  *1 ' /tmp/after.txt
grep -q '^  bor_lev  *2 ' /tmp/after.txt

if "$DFUSE" erase --address 0x08004000 --length 1 2> /tmp/erase.txt; then
    echo "lab: erasing a write-protected sector succeeded" >&2
    exit 1
fi
cat /tmp/erase.txt
grep -q 'error\[write-protected\]: sector 1 at 0x08004000' /tmp/erase.txt
if dfu-util -a 0 -s 0x08004000 -D /tmp/after.txt > /tmp/dfu-util.txt 2>&1; then
    echo "lab: dfu-util wrote into a write-protected sector" >&2
    exit 1
fi
echo "write protection: dfuse names it, dfu-util fails too"

"$DFUSE" option-bytes set wrp=none bor_lev=off | tail -n 2
"$DFUSE" erase --address 0x08004000 --length 1
echo "option-bytes set wrp=none: the sector erases again"
kill -TERM %1
wait || true
