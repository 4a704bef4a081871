#!/usr/bin/env bash
# Headless Chromium for tests/browser: Debian's chromium + chromium-driver via apt-get.
# Never fatal: when the browser cannot be installed it says why and exits 0, and the
# browser tests skip with a message. Set CHROMIUM to check another path.
set -u

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM is present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: apt-get not found; install Chromium by hand (browser tests will skip)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_browser: not root and no passwordless sudo; cannot apt-get install chromium (browser tests will skip)"
        exit 0
    fi
fi

echo "install_browser: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q; then
    echo "install_browser: apt-get update failed (no network or no package source?); browser tests will skip"
    exit 0
fi
if ! $SUDO apt-get install -y -q chromium chromium-driver; then
    echo "install_browser: apt-get install chromium chromium-driver failed; browser tests will skip"
    exit 0
fi

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
    echo "install_browser: apt-get finished but $CHROMIUM is still missing; browser tests will skip"
fi
exit 0
