# list --watch, run by a user without root, on boards whose device node it cannot open yet:
# Linux creates the node first and udev grants access a moment later. A board that becomes
# accessible within two seconds is reported once, with its alternate settings and no error; one
# that stays closed is reported after two seconds, with why and what to do.
source tests/usb-lab/scenarios/lib.sh
setpriv --reuid=65534 --regid=65534 --clear-groups "$DFUSE" list --watch --json > /tmp/watch.json 2> /tmp/watch.err &
watch=$!
wait_for '^Watching for boards' /tmp/watch.err 600
before=" $(echo /dev/bus/usb/*/*) "
attach stm32f407 f407
# Its device node: the one that was not there before (bash globbing only: every process started
# in this emulated guest costs tens of milliseconds, and the grace is two seconds).
node=
for _ in $(seq 200); do
    for candidate in /dev/bus/usb/*/*; do [[ $before == *" $candidate "* ]] || node=$candidate; done
    [ -n "$node" ] && break
    sleep 0.02
done
[ -n "$node" ] || { echo "lab: the F407 got no device node" >&2; exit 1; }
sleep 0.7                       # two or three polls find the node closed to this user
chmod 0666 "$node"              # what udev's rule does
wait_for '"event":"arrived"' /tmp/watch.json 200
attach stm32f072 f072           # this one stays closed
for _ in $(seq 100); do [ "$(grep -c '"event":"arrived"' /tmp/watch.json)" -ge 2 ] && break; sleep 0.1; done
kill -INT "$watch"
wait "$watch"
cut -c1-200 /tmp/watch.json
/usr/bin/python3 - <<'PY'
import json
events = [json.loads(line) for line in open("/tmp/watch.json")]
arrived = [e["device"] for e in events if e.get("event") == "arrived"]
assert len(arrived) == 2, events
f407, f072 = arrived
assert f407["serial"] == "3276395A3032" and "problem" not in f407 and f407["alt_settings"], f407
assert f072["serial"] == "FFFFFFFEFFFF" and "permission" in f072["problem"], f072
print("watch-access: the F407 reported once it could be opened; the closed F072 reported with:", f072["problem"])
PY
