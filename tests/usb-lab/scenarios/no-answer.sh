# A board that stops answering in the middle of a write, still attached: dfuse fails within the
# request timeout (5 s), exit code 5, and leaves no process behind.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407 --hang-at-request 30   # 4 erases (1-16), set-address (17-19), blocks
wait_devices 0483 df11 1
head -c 65536 /dev/urandom > /tmp/image.bin
start=${EPOCHREALTIME/./}
set +e
"$DFUSE" flash /tmp/image.bin --address 0x08000000 --full > /tmp/flash.txt 2>&1
code=$?
set -e
elapsed_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
cat /tmp/flash.txt
echo "no-answer: exit code $code after ${elapsed_ms} ms"
[ "$code" = 5 ]
grep -q 'write of 2048 bytes at .* did not answer within 5s' /tmp/flash.txt
[ "$elapsed_ms" -lt 12000 ]
if pgrep -x dfuse > /dev/null; then echo "lab: a dfuse process is left" >&2; exit 1; fi
echo "no-answer: the hung board failed the flash within the bound, and no dfuse process is left"
detach_all
