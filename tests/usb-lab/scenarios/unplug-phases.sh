# The board drops off the bus (and comes back 300 ms later, as after a reset) at one point of a
# flash: during open, erase, write, verify and leave in turn. Each run fails fast with "the
# device is gone", exit code 5, naming what it was doing; then a plain flash of the same file
# succeeds with no manual step.
source tests/usb-lab/scenarios/lib.sh
head -c 8192 /dev/urandom > /tmp/image.bin
# DFU requests of `dfuse flash --full --leave` for 8 KiB on the F407, from 0: 0 the first
# GETSTATUS (open), 2 during the erase, 12 during the write, 26 an UPLOAD of the verify,
# 42 the GETSTATUS of the leave's set-address.
for phase in open:0:'bringing the device to dfuIDLE' erase:2:'erase sector at 0x08000000' \
             write:12:'write of 2048 bytes at 0x08000800' verify:26:'read at 0x08000800' \
             leave:42:'leaving DFU mode'; do
    IFS=: read -r name request operation <<< "$phase"
    attach stm32f407 "f407-$name" --unplug-at-request "$request"
    wait_devices 0483 df11 1
    start=${EPOCHREALTIME/./}
    set +e
    "$DFUSE" flash /tmp/image.bin --address 0x08000000 --full --leave > "/tmp/$name.txt" 2>&1
    code=$?
    set -e
    elapsed_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
    echo "$name: exit code $code after ${elapsed_ms} ms: $(grep '^error' "/tmp/$name.txt")"
    [ "$code" = 5 ] || { cat "/tmp/$name.txt"; exit 1; }
    grep -q 'the device is gone' "/tmp/$name.txt" || { cat "/tmp/$name.txt"; exit 1; }
    grep -qF "$operation" "/tmp/$name.txt" || { cat "/tmp/$name.txt"; echo "lab: the error does not name: $operation" >&2; exit 1; }
    [ "$elapsed_ms" -lt 10000 ]
    wait_for '^replugged' "/tmp/f407-$name.log"
    wait_devices 0483 df11 1
    "$DFUSE" flash /tmp/image.bin --address 0x08000000 > "/tmp/$name-again.txt" 2>&1 \
        || { cat "/tmp/$name-again.txt"; exit 1; }
    tail -n 1 "/tmp/$name-again.txt"
    detach_all
    for _ in $(seq 100); do [ "$(count_devices 0483 df11)" = 0 ] && break; sleep 0.05; done
done
echo "unplug-phases: every unplug failed fast and named its phase; flashing again worked each time"
