# The board unplugged in the middle of a write: dfuse exits with the device-gone error, quickly.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1
head -c 900000 /dev/urandom > /tmp/big.bin
"$DFUSE" flash /tmp/big.bin --address 0x08000000 --full > /tmp/flash.txt 2>&1 &
flash=$!
wait_for '^erase:' /tmp/flash.txt 600     # erasing ~900 KiB takes seconds of real time
sleep 0.5                                 # into the write phase
kill -KILL %1                             # pull the plug: dfuse-sim dies, the kernel sees the link drop
unplugged=$(date +%s%N)
set +e
wait "$flash"
code=$?
set -e
elapsed_ms=$((($(date +%s%N) - unplugged) / 1000000))
cat /tmp/flash.txt
echo "dfuse exited with code $code, ${elapsed_ms} ms after the unplug"
test "$code" -eq 5
test "$elapsed_ms" -lt 10000
grep -q 'the device is gone' /tmp/flash.txt
! grep -q 'panicked' /tmp/flash.txt
