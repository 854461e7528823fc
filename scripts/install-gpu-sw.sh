#!/usr/bin/env bash
# Installs a software Vulkan adapter (Mesa lavapipe 25.x from Debian bookworm-backports) so the
# tfjs WebGPU backend (npm `webgpu`, Dawn) finds an adapter on a GPU-less machine
# (docs/numerics.md §2). Bookworm's own mesa-vulkan-drivers 22.3 is rejected by Dawn
# ("shaderUniform*ArrayDynamicIndexing required"), hence backports.
# Idempotent: does nothing when a backports lavapipe (>= 25) is already installed.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

installed_version() {
	dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true
}

have_lavapipe_25() {
	local v
	v="$(installed_version)"
	[ -n "$v" ] && dpkg --compare-versions "$v" ge 25 && dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'
}

if have_lavapipe_25; then
	echo "install-gpu-sw: mesa-vulkan-drivers $(installed_version) and libvulkan1 already installed"
	exit 0
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
	echo "install-gpu-sw: this script targets Debian bookworm (found '${VERSION_CODENAME:-unknown}'); install a Mesa >= 25 Vulkan driver (lavapipe) and libvulkan1 by hand" >&2
	exit 1
fi

LIST=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$LIST" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# libdrm2 / libdrm-amdgpu1 must come from backports too, or mesa 25 is not installable.
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libdrm2 libdrm-amdgpu1
$SUDO apt-get install -y -qq libvulkan1

if have_lavapipe_25; then
	echo "install-gpu-sw: installed mesa-vulkan-drivers $(installed_version) + libvulkan1"
else
	echo "install-gpu-sw: mesa-vulkan-drivers $(installed_version) is older than 25; Dawn will reject it" >&2
	exit 1
fi
