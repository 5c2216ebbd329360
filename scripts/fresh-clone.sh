#!/usr/bin/env bash
# What a stranger does on day one: git clone the repository into an empty
# temporary folder, with nothing beside it and no broker URL set, and run
# the README's two commands there. Both must exit 0.
#
# The clone is of the committed HEAD of the checkout this script lives in
# (uncommitted changes are not part of it, as they would not be for a
# stranger).
#
#   scripts/fresh-clone.sh          the demo, then go test -short ./...
#   scripts/fresh-clone.sh --full   the demo, then go test ./... (as the README says)
#
# .ci/run uses the default: it has just run the whole suite with -race in
# the checkout, so the clone checks what only a clone can show (that the
# module needs nothing outside itself) with the quick subset.
set -euo pipefail

tests=(go test -short -count=1 ./...)
case "${1:-}" in
"") ;;
--full) tests=(go test -count=1 ./...) ;;
*)
	echo "usage: $0 [--full]" >&2
	exit 2
	;;
esac

src=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
head=$(git -C "$src" rev-parse HEAD)
dir=$(mktemp -d)
trap 'chmod -R u+w "$dir" 2>/dev/null || true; rm -rf "$dir"' EXIT

git clone --quiet --no-checkout "$src" "$dir/eventpub"
cd "$dir/eventpub"
# HEAD may be detached or on a branch the clone did not take: fetch it.
git fetch --quiet "$src" "$head"
git checkout --quiet --detach "$head"
unset EVENTPUB_REDIS_URL EVENTPUB_NATS_URL EVENTPUB_AMQP_URL EVENTPUB_MQTT_URL EVENTPUB_KAFKA_URL

echo "== fresh clone of ${head:0:12} in $dir/eventpub"
echo "== go run ./cmd/eventpub demo"
if ! go run ./cmd/eventpub demo >"$dir/demo.out" 2>&1; then
	cat "$dir/demo.out"
	echo "fresh clone: the demo failed" >&2
	exit 1
fi
echo "demo: ok ($(wc -l <"$dir/demo.out") lines)"
echo "== ${tests[*]}"
start=$SECONDS
if ! "${tests[@]}"; then
	echo "fresh clone: the tests failed" >&2
	exit 1
fi
echo "fresh clone: both commands exit 0 (tests took $((SECONDS - start)) s)"
