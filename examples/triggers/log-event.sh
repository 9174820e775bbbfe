#!/bin/sh
# A gossipcheck trigger: appends each event, as the one JSON line the daemon
# writes on standard input, to a log file (one event per line, for jq).
#
#   gossipcheckd -on member-failed=/etc/gossipcheck/triggers/log-event.sh \
#                -on check-fail=/etc/gossipcheck/triggers/log-event.sh
#
# GOSSIPCHECK_TRIGGER_LOG names the file (default
# /var/log/gossipcheck/events.log); set it in the daemon's environment.
# Several runs may append at once: each writes its line with one write(2),
# which O_APPEND keeps whole for lines of ordinary length.
set -eu
log=${GOSSIPCHECK_TRIGGER_LOG:-/var/log/gossipcheck/events.log}
mkdir -p "$(dirname "$log")"
line=$(cat)
printf '%s\n' "$line" >>"$log"
