#!/usr/bin/env bash
# Builds the example model image from docker/Dockerfile and runs every mode in it, checking each
# answer. Uses docker where an engine runs, podman otherwise.
#
#   docker/example.sh          build, then run every mode
#   docker/example.sh build    build only
#   docker/example.sh run      run every mode in an image built before
#
# Settings (environment):
#   IMAGE        the image's name (default localhost/ai-integration-example)
#   BASE_IMAGE   the Dockerfile's base image (default: the Dockerfile's, node:20-bookworm-slim)
#   ENGINE       docker or podman (default: docker if `docker info` answers, else podman)
#   EXTRA_FILES  more files to put beside the shims in the image (the tests add a fixture)
#   PORT         the host port the HTTP check publishes (default 5080)
#   NO_BUILD     set to 1 to use the repo's dist/ as it is instead of building it first
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
image="${IMAGE:-localhost/ai-integration-example}"
port="${PORT:-5080}"
if [ -z "${ENGINE:-}" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
engine=("$ENGINE")
build_flags=()
run_flags=()
if [ "$ENGINE" = podman ]; then
  # runc instead of crun, and the docker image format, which keeps HEALTHCHECK (OCI drops it).
  # Host networking lets `npm ci` in the build reach the registry the way this machine does.
  engine+=(--runtime runc)
  build_flags+=(--format docker --network host)
  # podman runs HEALTHCHECK from systemd timers and complains where there is no systemd; the
  # one-shot modes do not need it.
  run_flags+=(--no-healthcheck)
fi
say() { printf '\n== %s\n' "$*" >&2; }
# One clean-up for the whole run: the build context, the sample files, the HTTP container.
temporary=()
container=""
clean_up() {
  if [ -n "$container" ]; then "${engine[@]}" rm -f "$container" >/dev/null 2>&1 || true; fi
  if [ "${#temporary[@]}" -gt 0 ]; then rm -rf "${temporary[@]}"; fi
}
trap clean_up EXIT
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

build() {
  say "building $image with $ENGINE"
  # NO_BUILD=1 uses dist/ as it is (the tests build once, before every test file runs).
  if [ -z "${NO_BUILD:-}" ]; then (cd "$repo" && npm run build --silent >/dev/null); fi
  context="$(mktemp -d)"
  temporary+=("$context")
  # The context is a model author's folder: package.json and lock, the shims as JavaScript, and
  # the library itself, packed as npm would publish it.
  cp "$repo/docker/Dockerfile" "$repo/docker/.dockerignore" "$repo/docker/example/package.json" "$context/"
  tarball="$(cd "$repo" && npm pack --silent --pack-destination "$context" | tail -n 1)"
  mv "$context/$tarball" "$context/ai-integration.tgz"
  cp "$repo/dist/shims/image-stats.js" "$context/shim.js"
  cp "$repo/dist/shims/blend.js" "$repo/dist/shims/keywords.js" "$repo/dist/shims/thumbnail-pull.js" "$context/"
  for file in ${EXTRA_FILES:-}; do cp "$file" "$context/"; done
  (cd "$context" && npm install --package-lock-only --no-audit --no-fund --silent)
  build_args=()
  if [ -n "${BASE_IMAGE:-}" ]; then build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE"); fi
  "${engine[@]}" build "${build_flags[@]}" "${build_args[@]}" -t "$image" "$context"
}

# A JPEG to feed the image modes, made with the repo's sharp.
sample_photo() {
  (cd "$repo" && node -e "
    const sharp = require('sharp');
    sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } })
      .jpeg().toBuffer().then((jpeg) => process.stdout.write(jpeg));")
}

expect_in() { # expect_in TEXT PATTERN WHAT
  grep -qF -- "$2" <<< "$1" || fail "$3: expected $2 in: $1"
}

run_every_mode() {
  local run=("${engine[@]}" run --rm "${run_flags[@]}")
  work="$(mktemp -d)"
  temporary+=("$work")
  sample_photo > "$work/photo.jpg"

  say "MODE=test_model_integration"
  out="$("${run[@]}" -e MODE=test_model_integration "$image")" || fail "the self-test exited $?"
  expect_in "$out" '"width": 600' "self-test"

  say "MODE=test_single_image: ... < photo.jpg"
  out="$("${run[@]}" -i -e MODE=test_single_image "$image" < "$work/photo.jpg")" || fail "test_single_image exited $?"
  expect_in "$out" '"width": 64' "test_single_image"

  say "MODE=test_inputs_dict_json: echo '{...}' | ... keywords.js"
  out="$(echo '{"text": "the cat sat on the cat mat", "top": 1}' | "${run[@]}" -i -e MODE=test_inputs_dict_json "$image" keywords.js)" \
    || fail "test_inputs_dict_json exited $?"
  expect_in "$out" '"word": "cat"' "test_inputs_dict_json"

  if command -v python3 >/dev/null 2>&1; then
    say "MODE=test_inputs_pickled_dict: cat dict.pkl | ..."
    python3 -c "import pickle, sys; pickle.dump({'image': open(sys.argv[1], 'rb').read(), 'precision': 0}, open(sys.argv[2], 'wb'))" "$work/photo.jpg" "$work/dict.pkl"
    out="$("${run[@]}" -i -e MODE=test_inputs_pickled_dict "$image" < "$work/dict.pkl")" || fail "test_inputs_pickled_dict exited $?"
    expect_in "$out" '"height": 48' "test_inputs_pickled_dict"
  fi

  say "MODE=command_line: shim.js --image - < photo.jpg"
  out="$("${run[@]}" -i -e MODE=command_line "$image" shim.js --image - --precision 1 < "$work/photo.jpg")" || fail "command_line exited $?"
  expect_in "$out" '"format": "jpeg"' "command_line"

  say "MODE=http on 127.0.0.1:$port"
  container="$("${engine[@]}" run "${run_flags[@]}" -d --rm -p "127.0.0.1:$port:5000" -e MODE=http "$image")"
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.2
  done
  expect_in "$(curl -s "http://127.0.0.1:$port/health")" '"status":"ready"' "readiness"
  expect_in "$(curl -s "http://127.0.0.1:$port/")" '<form' "the web page"
  expect_in "$(curl -s -F "image=@$work/photo.jpg" "http://127.0.0.1:$port/predict")" '"status":"succeeded"' "POST /predict"
  expect_in "$(curl -s -F "image=@$work/photo.jpg" "http://127.0.0.1:$port/")" '"output":{"width":64' "POST / (the Python library's shape)"
  "${engine[@]}" stop -t 5 "$container" >/dev/null
  say "every mode answered as expected"
}

case "${1:-all}" in
  build) build ;;
  run) run_every_mode ;;
  all) build && run_every_mode ;;
  *) echo "usage: $0 [build|run|all]" >&2; exit 2 ;;
esac
