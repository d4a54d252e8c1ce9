# Smoke test of the lab itself: a simulated F407 served by dfuse-sim is seen by dfu-util.
set -euo pipefail
sim=target/debug/dfuse-sim
"$sim" attach --chip stm32f407 > /tmp/sim.log 2>&1 &
for _ in $(seq 100); do grep -q '^ready' /tmp/sim.log && break; sleep 0.1; done
cat /tmp/sim.log
source tests/usb-lab/scenarios/lib.sh
wait_devices 0483 df11 1
dfu-util -l 2>&1 | tee /tmp/list.txt
grep -q 'Found DFU: \[0483:df11\]' /tmp/list.txt
grep -q 'alt=0, name="@Internal Flash  /0x08000000/04\*016Kg,01\*064Kg,07\*128Kg"' /tmp/list.txt
dfu-util -a 0 -s 0x08000000:64 -U /tmp/up.bin 2>&1 | tail -n 3
test "$(stat -c %s /tmp/up.bin)" = 64
kill -TERM %1
wait || true
echo "smoke: ok"
