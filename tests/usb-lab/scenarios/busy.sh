# A board whose interface another process has claimed: dfuse says it is busy and to close the
# other program, and gives no udev (permission) advice, which would send the user the wrong way.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1
head -c 900000 /dev/urandom > /tmp/big.bin
"$DFUSE" flash /tmp/big.bin --address 0x08000000 --full > /tmp/flash.txt 2>&1 &
flash=$!
wait_for '^erase:' /tmp/flash.txt 600     # the first dfuse holds the interface, writing
set +e
"$DFUSE" info > /tmp/info.txt 2>&1
code=$?
set -e
cat /tmp/info.txt
echo "dfuse info exited with code $code"
kill -INT "$flash"; wait "$flash" || true
test "$code" -eq 5
grep -q 'error\[open-failed\]: cannot open the device at 1-1: the device is busy' /tmp/info.txt
grep -q 'help: another program has the device open' /tmp/info.txt
! grep -qi 'udev' /tmp/info.txt
