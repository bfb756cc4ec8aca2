#!/usr/bin/env bash
# Builds a stand-in for node:20-bookworm-slim from this machine's own node, npm and the shared
# libraries they and sharp link, for machines that cannot pull from a registry (the tests here).
# The result is a base image for docker/Dockerfile:
#   docker/local-base-image.sh localhost/node-local:20
#   BASE_IMAGE=localhost/node-local:20 docker/example.sh
# or, in a model's folder (npx ai-integration init), with the installed package's copy:
#   node_modules/ai-integration/docker/local-base-image.sh localhost/node-local:20
#   docker build --build-arg BASE_IMAGE=localhost/node-local:20 -t my-model .
# Needs podman (or docker) and ldd. The machine's CA bundle goes in too, so that `npm ci` in the
# build trusts the same registry certificates this machine does.
set -euo pipefail

tag="${1:?usage: $0 IMAGE_TAG}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
engine="${ENGINE:-podman}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

node_bin="$(command -v node)"
npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/bin" "$root/usr/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/home/node"
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/home/node"
cp "$node_bin" "$root/usr/local/bin/node"
cp -r "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
cp "$(readlink -f /bin/sh)" "$root/bin/sh" # npm runs scripts with sh, and RUN's shell form needs it
cp "$(command -v env)" "$root/usr/bin/env" # npm's #!/usr/bin/env node
for ca in /etc/ssl/certs/ca-certificates.crt; do [ -f "$ca" ] && cp "$ca" "$root/etc/ssl/certs/"; done

# Every library the binaries link, and what sharp's prebuilt libvips needs from the system (sharp
# is in this repository's node_modules, or beside this package when it is installed in a model's).
binaries=("$node_bin" "$(readlink -f /bin/sh)" "$(command -v env)")
while IFS= read -r native; do binaries+=("$native"); done < <(find "$repo/node_modules/@img" "$repo/../@img" -name '*.node' 2>/dev/null)
for library in $(ldd "${binaries[@]}" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | grep -v node_modules | sort -u); do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"

tar -C "$root" -c . | "$engine" import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"
