#!/bin/sh
# Install the real peers the integration tests talk to (Postfix as the sending MTA, Dovecot as
# the IMAP server, PostgreSQL as the shared journal, Chromium as the status page's reader, and
# docker-compose to check deploy/compose.yaml) from Debian's packages. Only as root
# with apt-get; otherwise say what is missing and let the tests that need a peer skip with that
# reason.
set -eu
need=""
command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || need="$need postfix"
[ -x /usr/sbin/dovecot ] || need="$need dovecot-imapd"
command -v chromium >/dev/null 2>&1 || need="$need chromium"   # the status page's browser test
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need="$need postgresql"
command -v docker-compose >/dev/null 2>&1 || command -v podman-compose >/dev/null 2>&1 \
    || need="$need docker-compose"                             # checks deploy/compose.yaml
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-peers: not root or no apt-get; missing:$need (their tests will skip)"
    exit 0
fi
echo "install-peers: installing$need"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
apt-get update -qq >/dev/null 2>&1 || apt-get update -qq
# policy-rc.d keeps the packages from starting system-wide daemons: each test starts its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
