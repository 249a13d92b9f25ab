# tests/lib.sh - sourced by every tests/tNNNN-*.sh
#
# TAP output for Automake's tap-driver, a private scratch directory $T, and
# (pg_setup) a real PostgreSQL of the test's own: a copy of a cluster made
# once by initdb, started on a unix socket inside $T, stopped by its own pid
# at exit.  With IKASQ_TEST_DATABASE_URL set, tests use that server instead,
# each in a schema of its own.  Either way $IKASQ_CONFIG points at a config
# for it and `sql` runs a statement there.

set -u
: "${IKASQ:?run the tests with make check}"
: "${TOP_SRCDIR:=.}"
: "${TOP_BUILDDIR:=.}"
t_name=$(basename "$0" .sh)
t_count=0
t_failed=0

# --- TAP -------------------------------------------------------------------
ok() { t_count=$((t_count + 1)); echo "ok $t_count - $*"; }
not_ok() {
	t_count=$((t_count + 1)); t_failed=$((t_failed + 1))
	echo "not ok $t_count - $*"
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check DESC CMD...: passes when CMD succeeds
check() {
	_d=$1; shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; return 1; fi
}
# is GOT EXPECTED DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3"; diag "expected: '$2'" "     got: '$1'"; fi
}
# like TEXT ERE DESC
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok "$3"; else
		not_ok "$3"; diag "no match for /$2/ in:" "$1"; fi
}
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		not_ok "$3"; diag "unexpected match for /$2/ in:" "$1"
	else ok "$3"; fi
}
# run CMD...: sets $rc, $out (stdout) and $err (stderr)
run() {
	"$@" >"$T/run.out" 2>"$T/run.err"
	rc=$?
	out=$(cat "$T/run.out")
	err=$(cat "$T/run.err")
}
# exits CODE DESC CMD...: runs CMD, passes when it exits with CODE
exits() {
	_c=$1 _d=$2; shift 2
	run "$@"
	if [ "$rc" = "$_c" ]; then ok "$_d (exit $_c)"; else
		not_ok "$_d (exit $_c)"; diag "exit $rc" "stdout: $out" "stderr: $err"
	fi
}
done_testing() { echo "1..$t_count"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 1; }

# --- scratch directory -----------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/ikasq-$t_name.XXXXXX") || bail "mktemp"
chmod 755 "$T"
t_cleanups=""
t_pids=""
at_exit() { t_cleanups="$*; $t_cleanups"; }
# spawn CMD...: run in the background, killed at exit; its pid in $!
spawn() { "$@" & t_pids="$t_pids $!"; }
t_exit() {
	_rc=$?
	# background helpers of this test (never anybody else's processes)
	for _p in $t_pids; do kill -9 "$_p" 2>/dev/null; done
	eval "$t_cleanups" >/dev/null 2>&1
	if [ "$t_failed" -gt 0 ] || [ -n "${IKASQ_TEST_KEEP:-}" ]; then
		echo "# scratch directory kept: $T"
	else
		rm -rf "$T"
	fi
	exit $_rc
}
trap t_exit EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL --------------------------------------------------------------
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bindir() {
	if [ -n "${PG_INITDB:-}" ] && [ -x "$PG_INITDB" ]; then
		dirname "$(readlink -f "$PG_INITDB")"; return
	fi
	for _d in /usr/lib/postgresql/*/bin; do
		[ -x "$_d/initdb" ] && _found=$_d
	done
	[ -n "${_found:-}" ] && echo "$_found"
}

# A cluster made once per machine and user by initdb, copied by each test.
pg_template() {
	_v=$(basename "$(dirname "$PG_BIN")")
	PG_TEMPLATE="${TMPDIR:-/tmp}/ikasq-pg-template-$(id -u)-$_v"
	(
		flock 9
		if [ ! -f "$PG_TEMPLATE/ready" ]; then
			rm -rf "$PG_TEMPLATE"
			mkdir -p "$PG_TEMPLATE"
			[ "$(id -u)" = 0 ] && chown postgres "$PG_TEMPLATE"
			as_pg "$PG_BIN/initdb" -D "$PG_TEMPLATE/data" -A trust \
			    -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
			    >"$PG_TEMPLATE.log" 2>&1 || exit 1
			touch "$PG_TEMPLATE/ready"
		fi
	) 9>"$PG_TEMPLATE.lock" || bail "initdb failed: see $PG_TEMPLATE.log"
}

pg_start() {
	as_pg "$PG_BIN/pg_ctl" -D "$T/pg" -l "$T/pgrun/log" -w -t 60 \
	    -o "-k $T/pgrun -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" \
	    start >/dev/null 2>&1 || { cat "$T/pgrun/log" >&2; return 1; }
}
pg_stop() {
	as_pg "$PG_BIN/pg_ctl" -D "$T/pg" -m "${1:-fast}" -w -t 60 stop \
	    >/dev/null 2>&1
}

# pg_setup: a database for this test, $IKASQ_CONFIG naming it, migrated
# unless told "nomigrate".
pg_setup() {
	unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD \
	    PGSERVICE PGOPTIONS
	if [ -n "${IKASQ_TEST_DATABASE_URL:-}" ]; then
		PG_OWN=no
		T_SCHEMA="t_$(echo "$t_name" | tr -c 'a-z0-9\n' '_')_$$"
		T_CONNINFO=$IKASQ_TEST_DATABASE_URL
		at_exit "psql -X -q '$T_CONNINFO' -c 'DROP SCHEMA IF EXISTS $T_SCHEMA CASCADE'"
	else
		PG_OWN=yes
		PG_BIN=$(pg_bindir)
		[ -n "$PG_BIN" ] || bail "no PostgreSQL server binaries (initdb) found; install postgresql or set IKASQ_TEST_DATABASE_URL"
		pg_template
		cp -a "$PG_TEMPLATE/data" "$T/pg" || bail "cannot copy the cluster"
		mkdir "$T/pgrun"
		[ "$(id -u)" = 0 ] && chown postgres "$T/pgrun"
		pg_start || bail "PostgreSQL did not start"
		at_exit "pg_stop immediate"
		T_SCHEMA=public
		T_CONNINFO="host=$T/pgrun user=postgres dbname=postgres"
	fi
	cat >"$T/ikasq.conf" <<-CONF
	[database]
	conninfo = $T_CONNINFO
	schema = $T_SCHEMA
	CONF
	chmod 600 "$T/ikasq.conf"
	IKASQ_CONFIG=$T/ikasq.conf
	export IKASQ_CONFIG
	if [ "${1:-}" != nomigrate ]; then
		"$IKASQ" migrate >"$T/migrate.out" 2>&1 ||
		    bail "ikasq migrate failed: $(cat "$T/migrate.out")"
	fi
}

# sql STATEMENT: run it in the test's database; unaligned rows on stdout
sql() {
	PGOPTIONS="-c search_path=$T_SCHEMA -c client_min_messages=warning" \
	    psql -X -q -At \
	    -v ON_ERROR_STOP=1 "$T_CONNINFO" -c "$1"
}

# --- Dovecot -------------------------------------------------------------------
# free_port: a TCP port nobody listens on right now
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# imap_conf FILE PORT PASSWORD [LINE...]: a configuration (mode 0600) with
# the test database and an account [imap:shop] on 127.0.0.1:PORT, no TLS,
# user "shop"; each LINE ("batch_size = 50") is added to the account
imap_conf() {
	_f=$1 _port=$2 _pw=$3; shift 3
	{
		printf '[database]\nconninfo = %s\nschema = %s\n' "$T_CONNINFO" "$T_SCHEMA"
		printf '[imap:shop]\nhost = 127.0.0.1\nport = %s\ntls = none\n' "$_port"
		printf 'user = shop\npassword = %s\n' "$_pw"
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$_f"
	chmod 600 "$_f"
}

# dovecot_setup [tls]: a private Dovecot (Debian dovecot-imapd) on loopback,
# user "shop" with password "secret", Maildir under $T/dovecot/mail; sets
# IMAP_PORT (plain) and, with "tls", IMAPS_PORT and the files $T/tls/ca.pem,
# a certificate for "localhost"/127.0.0.1, and $T/tls/wrong-*.pem for
# another name.  Stopped by its own pid at exit.
dovecot_setup() {
	[ -x /usr/sbin/dovecot ] || skip_all "dovecot-imapd is not installed"
	D=$T/dovecot
	mkdir -p "$D/run" "$D/log" "$D/mail"
	IMAP_PORT=$(free_port)
	IMAPS_PORT=0
	_ssl="ssl = no"
	_mechs="plain login"
	_oauth=""
	if [ "${1:-}" = oauth2 ]; then
		# XOAUTH2 as Gmail and Microsoft 365 do it: Dovecot asks an
		# introspection endpoint whether the token is good
		OAUTH_PORT=$(free_port)
		OAUTH_TOKEN="ya29.test-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
		spawn python3 "$TOP_SRCDIR/tests/oauth2-introspect.py" \
		    "$OAUTH_PORT" "$OAUTH_TOKEN" "$T/oauth-tokens.log"
		printf 'introspection_mode = post\nintrospection_url = http://127.0.0.1:%s/introspect\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n' \
		    "$OAUTH_PORT" >"$D/oauth2.conf.ext"
		_mechs="plain login xoauth2 oauthbearer"
		_oauth="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $D/oauth2.conf.ext
}"
		export OAUTH_TOKEN
	fi
	if [ "${1:-}" = tls ]; then
		IMAPS_PORT=$(free_port)
		tls_make_certs
		_ssl="ssl = yes
ssl_cert = <$T/tls/server.pem
ssl_key = <$T/tls/server.key"
	fi
	cat >"$D/dovecot.conf" <<-CONF
	protocols = imap
	listen = 127.0.0.1
	base_dir = $D/run
	state_dir = $D/run/state
	log_path = $D/log/dovecot.log
	$_ssl
	disable_plaintext_auth = no
	auth_mechanisms = $_mechs
	$_oauth
	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN username_format=%u $D/users
	}
	userdb {
	  driver = static
	  args = uid=dovecot gid=dovecot home=$D/mail/%u
	}
	mail_location = maildir:~/Maildir
	service imap-login {
	  inet_listener imap {
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    port = $IMAPS_PORT
	    ssl = yes
	  }
	  chroot =
	}
	service anvil {
	  chroot =
	}
	default_internal_user = dovecot
	default_login_user = dovenull
	first_valid_uid = 0
	CONF
	echo 'shop:{PLAIN}secret' >"$D/users"
	if [ "$(id -u)" = 0 ]; then
		chown -R dovecot:dovecot "$D/mail"
	else
		sed -i 's/uid=dovecot gid=dovecot/uid='"$(id -u)"' gid='"$(id -g)"'/; /default_internal_user/d; /default_login_user/d' "$D/dovecot.conf"
	fi
	export IMAP_PORT IMAPS_PORT
	dovecot_start || bail "dovecot did not start: $(tail -n 5 "$D/log/dovecot.log" 2>/dev/null)"
	at_exit "dovecot_stop"
}

dovecot_start() {
	/usr/sbin/dovecot -c "$D/dovecot.conf" || return 1
	for _i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $IMAP_PORT), 1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
dovecot_stop() {
	[ -f "$D/run/master.pid" ] || return 0
	_p=$(cat "$D/run/master.pid")
	kill "$_p" 2>/dev/null
	for _i in $(seq 100); do kill -0 "$_p" 2>/dev/null || break; sleep 0.05; done
	rm -f "$D/run/master.pid"
}

# imap CMD ARGS...: tests/imap-tool.py against the private Dovecot
imap() { python3 "$TOP_SRCDIR/tests/imap-tool.py" "$IMAP_PORT" "$@"; }

# tls_make_certs: a private CA, a server certificate for localhost and
# 127.0.0.1 signed by it, and one for another name (wrong.example)
tls_make_certs() {
	mkdir -p "$T/tls"
	(
		cd "$T/tls" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ikasq test CA" \
		    -keyout ca.key -out ca.pem >/dev/null 2>&1 || exit 1
		for n in server wrong; do
			if [ $n = server ]; then cn=localhost san="DNS:localhost,IP:127.0.0.1"
			else cn=wrong.example san="DNS:wrong.example"; fi
			openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout $n.key -out $n.csr >/dev/null 2>&1 || exit 1
			printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" >$n.ext
			openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			    -days 2 -extfile $n.ext -out $n.pem >/dev/null 2>&1 || exit 1
		done
		chmod 644 ./*.pem ./*.key
	) || bail "openssl could not make test certificates"
}

# --- the İkas API stand-in -----------------------------------------------------
# ikas_setup [ORDERS.json]: tests/fake-ikas.py on a free loopback port;
# IKAS_PORT, ikas_admin PATH [JSON], and ikas_conf (the [ikas] section for
# it, appended to $IKASQ_CONFIG).
ikas_setup() {
	IKAS_PORT=$(free_port)
	spawn python3 "$TOP_SRCDIR/tests/fake-ikas.py" "$IKAS_PORT" ${1:+"$1"}
	for _i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $IKAS_PORT), 1)" 2>/dev/null && break
		sleep 0.05
	done
	export IKAS_PORT
}
ikas_conf() {
	cat >>"$IKASQ_CONFIG" <<-CONF
	[ikas]
	store = paen
	client_id = test-client
	client_secret = test-secret
	token_url = http://127.0.0.1:$IKAS_PORT/api/admin/oauth/token
	graphql_url = http://127.0.0.1:$IKAS_PORT/api/v1/admin/graphql
	${1:-}
	CONF
}
# ikas_admin PATH [JSON]: talk to the stand-in's control endpoints
ikas_admin() {
	python3 - "$IKAS_PORT" "$@" <<-'PY'
	import sys, urllib.request
	port, path = sys.argv[1], sys.argv[2]
	data = sys.argv[3].encode() if len(sys.argv) > 3 else None
	req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
	                             method="POST" if data is not None or path != "/_admin/stats" and path != "/_admin/last" else "GET")
	print(urllib.request.urlopen(req).read().decode())
	PY
}
# ikas_stat KEY: one counter of the stand-in
ikas_stat() {
	ikas_admin /_admin/stats | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"
}
