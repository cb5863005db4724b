#!/usr/bin/env bash
# Installs the Debian packages the lab tests need, only those missing (runs before `npm test`).
# The lab builds network namespaces and a nested dockerd, so it runs as root; as another user this
# only reports what is missing and the lab tests will say they cannot run.
set -euo pipefail
declare -A need=(
  [ip]=iproute2 [nft]=nftables [iptables]=iptables [ping]=iputils-ping [dnsmasq]=dnsmasq-base
  [openssl]=openssl [dockerd]=docker.io [containerd]=containerd [busybox]=busybox-static
  [tinyproxy]=tinyproxy [rsync]=rsync [ss]=iproute2 [nsenter]=util-linux
  # The report formats' real checkers (test/unit/render/ci-reports.test.ts, the lab): JUnit XSD, Prometheus text.
  [xmllint]=libxml2-utils [promtool]=prometheus [prometheus-pushgateway]=prometheus-pushgateway
  [systemd-analyze]=systemd
  # Podman and a rootless engine's user-space stack (test/lab/podman.itg.test.ts).
  [podman]=podman [slirp4netns]=slirp4netns
)
# `npm run bench` (scripts/bench/) also runs the clients users have beside ours, and the path tools.
if [ "${1:-}" = --bench ]; then
  need+=([curl]=curl [wget]=wget [git]=git [tracepath]=iputils-tracepath)
fi
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || missing+=("${need[$tool]}")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
# Podman's network backend is not on PATH.
[ -x /usr/lib/podman/netavark ] || missing+=(netavark)
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "lab-deps: missing Debian packages: $pkgs(install them as root: apt-get install $pkgs)" >&2
  exit 0
fi
echo "lab-deps: installing $pkgs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
