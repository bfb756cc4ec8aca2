#!/usr/bin/env bash
# The Debian packages the test suite (and, with `bench`, the benchmarks) runs: installs the ones
# that are missing with apt-get, or, where it cannot (not root, no apt-get), stops with one line
# that names them. `npm test` runs it first; it installs nothing when everything is there.
#
#   scripts/system-packages.sh          what `npm test` needs
#   scripts/system-packages.sh bench    that, and what `npm run bench` needs
set -euo pipefail

purpose="${1:-test}"
case "$purpose" in test) command="npm test" ;; bench) command="npm run bench" ;; *) echo "usage: $0 [test|bench]" >&2; exit 2 ;; esac

# Each need: a file or command that shows it is met, and the package that meets it.
#   chromium          the web page in a real browser (playwright-core drives Debian's chromium)
#   curl              curl -F uploads to the HTTP mode
#   script            a real terminal for the command line's terminal output (bsdutils)
#   python3           pickles written by CPython
#   pgrep             the supervisor's worker processes in its tests (procps)
#   cc, errno.h       the supervisor's orphan reaper, native/reaper.c (gcc, libc6-dev)
#   podman, runc      the container tests build docker/Dockerfile and run it
#   redis-server      MODE=queue's tests and benchmark start their own Redis (BullMQ's store)
#   python3-grpcio,   MODE=kserve's gRPC tests call it from Python's grpcio, with stubs generated
#   python3-grpc-tools  from the package's .proto at test time (Debian's python3, /usr/bin/python3)
#   wrk               the HTTP benchmarks' load generator
missing=()
container_missing=()
need_command() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_command chromium chromium
need_command curl curl
need_command script bsdutils
need_command python3 python3
need_command pgrep procps
need_command cc gcc
need_command redis-server redis-server
[ -e /usr/include/errno.h ] || missing+=(libc6-dev)
[ -e /usr/lib/python3/dist-packages/grpc/__init__.py ] || missing+=(python3-grpcio)
[ -e /usr/lib/python3/dist-packages/grpc_tools/protoc.py ] || missing+=(python3-grpc-tools)
# podman with its recommended packages (the network helpers behind `-p`, the storage tools), as a
# user's `apt-get install podman` gets them.
command -v podman >/dev/null 2>&1 || container_missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || container_missing+=(runc)
if [ "$purpose" = bench ]; then need_command wrk wrk; fi

if [ "${#missing[@]}" -eq 0 ] && [ "${#container_missing[@]}" -eq 0 ]; then exit 0; fi
all=("${missing[@]}" "${container_missing[@]}")
if [ "$EUID" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  why="not root"
  command -v apt-get >/dev/null 2>&1 || why="no apt-get"
  echo "$command needs these system packages, and cannot install them here ($why): ${all[*]}. Install them (on Debian: sudo apt-get install ${all[*]}), then run $command again." >&2
  exit 1
fi

echo "Installing the system packages $command needs: ${all[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -o Dpkg::Use-Pty=0 "$@" </dev/null; }
apt_get update
if [ "${#missing[@]}" -gt 0 ]; then apt_get install -y --no-install-recommends "${missing[@]}"; fi
if [ "${#container_missing[@]}" -gt 0 ]; then apt_get install -y "${container_missing[@]}"; fi
