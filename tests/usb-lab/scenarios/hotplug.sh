# dfuse list --watch follows boards arriving, leaving and re-enumerating (polling: no udev in the guest).
source tests/usb-lab/scenarios/lib.sh
"$DFUSE" list --watch --watch-seconds 12 > /tmp/watch.txt 2>&1 &
watch=$!
"$DFUSE" list --watch --json > /tmp/watch.json 2> /tmp/watch-json.err &   # stopped by Ctrl-C below
json_watch=$!
# Plug the board in only once both watches have begun (a debug build starts slowly in this guest).
wait_for '^Watching for boards' /tmp/watch.txt 600
wait_for '^Watching for boards' /tmp/watch-json.err 600
attach stm32f072 f072 --log /tmp/f072.jsonl
board=$!
wait_for '^arrived: 1-1 .*0483:DF11' /tmp/watch.txt 100
"$DFUSE" leave > /dev/null                      # the board resets: it leaves and comes back
wait_for '^replugged' /tmp/f072.log
wait_for '^left: 1-1' /tmp/watch.txt 100
for _ in $(seq 100); do
    [ "$(grep -c '^arrived: 1-1' /tmp/watch.txt)" -ge 2 ] && [ "$(grep -c '"event":"arrived"' /tmp/watch.json)" -ge 2 ] && break
    sleep 0.1
done
# Watching costs the board nothing: a watch opens a board once, when it arrives, then only asks
# the kernel (six polls of each watch in this second and a half).
requests=$(wc -l < /tmp/f072.jsonl)
sleep 1.5
test "$(wc -l < /tmp/f072.jsonl)" -eq "$requests" || { echo "lab: the watches sent requests to the board" >&2; exit 1; }
kill -TERM "$board"                             # unplug the board for good
wait_for '^left: 1-1' /tmp/watch.txt 100
wait "$watch"
cat /tmp/watch.txt
test "$(grep -c '^arrived: 1-1' /tmp/watch.txt)" -ge 2
test "$(grep -c '^left: 1-1' /tmp/watch.txt)" -ge 2
kill -INT "$json_watch"
wait "$json_watch"                              # Ctrl-C ends a watch with exit 0
grep -o '"event":"[a-z]*"' /tmp/watch.json
tail -n 1 /tmp/watch.json
tail -n 1 /tmp/watch.json | /usr/bin/python3 -c '
import json, sys
result = json.load(sys.stdin)
assert result["result"] == "ok" and result["stopped"] == "interrupted", result
assert result["arrived"] >= 2 and result["left"] >= 2, result'
test "$(grep -c '"event":"arrived"' /tmp/watch.json)" -ge 2
echo "hotplug: arrivals and departures reported"
