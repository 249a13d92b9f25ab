#!/bin/sh
# make install: the program, the man pages, the example configuration
# (private), the systemd units and the sysusers file, the SQL
. "$TOP_SRCDIR/tests/lib.sh"
D=$T/root
${MAKE:-make} -s -C "$TOP_BUILDDIR" install DESTDIR="$D" >"$T/install.log" 2>&1 || bail "make install failed: $(tail -n 5 "$T/install.log")"
prefix=$(sed -n 's/^prefix = //p' "$TOP_BUILDDIR/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$TOP_BUILDDIR/Makefile" | sed "s|\${prefix}|$prefix|")
bin=$D$prefix/bin/ikasq
check "the program" [ -x "$bin" ]
is "$("$bin" --version | cut -d' ' -f1)" ikasq "and it runs"
n=$(ls "$D$prefix"/share/man/man1/ikasq*.1 | wc -l | tr -d ' ')
is "$n" "$(ls "$TOP_SRCDIR"/man/*.1 | wc -l | tr -d ' ')" "every section-1 page"
check "ikasq.conf(5)" [ -f "$D$prefix/share/man/man5/ikasq.conf.5" ]
ex=$D$sysconfdir/ikasq/ikasq.conf.example
check "the example configuration" [ -f "$ex" ]
is "$(stat -c %a "$ex")" 600 "mode 0600"
units=$(find "$D" -name 'ikasq-*.service' -o -name 'ikasq-*.timer' | wc -l | tr -d ' ')
is "$units" 4 "three services and a timer"
fetch=$(find "$D" -name ikasq-fetch.service)
like "$(cat "$fetch")" "^ExecStart=$prefix/bin/ikasq fetch --idle$" "ikasq-fetch.service runs fetch --idle from the installed path"
like "$(cat "$(find "$D" -name ikasq-work.service)")" "^ExecStart=$prefix/bin/ikasq work --follow$" "ikasq-work.service runs work --follow"
like "$(cat "$fetch")" "^ProtectSystem=strict$" "sandboxed: ProtectSystem=strict"
like "$(cat "$fetch")" "^NoNewPrivileges=yes$" "NoNewPrivileges=yes"
like "$(cat "$fetch")" "^User=ikasq$" "a dedicated user"
check "the sysusers file that creates it" [ -n "$(find "$D" -path '*sysusers.d/ikasq.conf')" ]
if command -v systemd-analyze >/dev/null 2>&1; then
	for u in $(find "$D" -name 'ikasq-*.service'); do
		out=$(systemd-analyze verify "$u" 2>&1 | grep -v "Command 'man \|is not executable\|No such file or directory")
		is "$out" "" "systemd-analyze verify $(basename "$u")"
	done
fi
check "the SQL for reading" [ -f "$D$prefix/share/ikasq/sql/001_init.sql" ]
${MAKE:-make} -s -C "$TOP_BUILDDIR" uninstall DESTDIR="$D" >>"$T/install.log" 2>&1
is "$(find "$D" -type f | wc -l | tr -d ' ')" 0 "make uninstall removes it all"
done_testing
