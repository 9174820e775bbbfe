#!/bin/sh
# A gossipcheck trigger: posts the event's JSON to a webhook with curl, when
# GOSSIPCHECK_WEBHOOK_URL is set in the daemon's environment (otherwise it
# does nothing and exits 0).
#
#   GOSSIPCHECK_WEBHOOK_URL=https://hooks.example.com/T0/B0/x \
#   gossipcheckd -on member-failed=/etc/gossipcheck/triggers/webhook.sh \
#                -on quorum-fail=/etc/gossipcheck/triggers/webhook.sh \
#                -on quorum-recover=/etc/gossipcheck/triggers/webhook.sh
#
# The body is the event as the daemon gives it on standard input, plus a
# one-line "text" for chat webhooks (Slack, Mattermost) when jq is installed.
# curl's own timeout stays under the daemon's trigger timeout (30 s); a
# failed post exits non-zero, and the daemon logs curl's first line.
set -eu
url=${GOSSIPCHECK_WEBHOOK_URL:-}
[ -n "$url" ] || exit 0

case $GOSSIPCHECK_EVENT in
member-*) text="$GOSSIPCHECK_NODE: $GOSSIPCHECK_EVENT $GOSSIPCHECK_MEMBER_NAME ($GOSSIPCHECK_MEMBER_ADDRESS)" ;;
check-*) text="$GOSSIPCHECK_NODE: $GOSSIPCHECK_CHECK_NAME $GOSSIPCHECK_CHECK_PREVIOUS -> $GOSSIPCHECK_CHECK_STATUS: $GOSSIPCHECK_CHECK_MESSAGE" ;;
quorum-*) text="$GOSSIPCHECK_EVENT $GOSSIPCHECK_QUORUM_CHECK: $GOSSIPCHECK_QUORUM_FAILING of $GOSSIPCHECK_QUORUM_VOTERS failing (needed $GOSSIPCHECK_QUORUM_NEEDED): $GOSSIPCHECK_QUORUM_NODES" ;;
*) text="$GOSSIPCHECK_NODE: $GOSSIPCHECK_EVENT" ;;
esac

if command -v jq >/dev/null 2>&1; then
  body=$(jq -c --arg text "$text" '. + {text: $text}')
else
  body=$(cat)
fi

printf '%s' "$body" | curl --silent --show-error --fail --max-time 20 \
  -H 'Content-Type: application/json' --data-binary @- "$url"
