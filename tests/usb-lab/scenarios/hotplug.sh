# dfuse list --watch follows boards arriving, leaving and re-enumerating (polling: no udev in the guest).
source tests/usb-lab/scenarios/lib.sh
"$DFUSE" list --watch --watch-seconds 12 > /tmp/watch.txt 2>&1 &
watch=$!
sleep 1
attach stm32f072 f072
wait_for '^arrived: 1-1 .*0483:DF11' /tmp/watch.txt 100
"$DFUSE" leave > /dev/null                      # the board resets: it leaves and comes back
wait_for '^replugged' /tmp/f072.log
wait_for '^left: 1-1' /tmp/watch.txt 100
for _ in $(seq 100); do [ "$(grep -c '^arrived: 1-1' /tmp/watch.txt)" -ge 2 ] && break; sleep 0.1; done
kill -TERM %2                                   # unplug the board for good
wait_for '^left: 1-1' /tmp/watch.txt 100
wait "$watch"
cat /tmp/watch.txt
test "$(grep -c '^arrived: 1-1' /tmp/watch.txt)" -ge 2
test "$(grep -c '^left: 1-1' /tmp/watch.txt)" -ge 2
echo "hotplug: arrivals and departures reported"
