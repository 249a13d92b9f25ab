#!/bin/sh
# Configuration: search order, permissions, all problems with file:line,
# secrets from the environment or a command, masking (no database)
. "$TOP_SRCDIR/tests/lib.sh"
unset IKASQ_CONFIG IKASQ_DATABASE_PASSWORD XDG_CONFIG_HOME
HOME=$T/home; export HOME
mkdir -p "$HOME/.config/ikasq"

conf() { # conf FILE MODE: write stdin to FILE with MODE
	cat >"$1"; chmod "$2" "$1"
}
first_line() { printf '%s\n' "$out" | head -n 1; }

printf '[queue]\nmax_attempts = 4\n' | conf "$HOME/.config/ikasq/ikasq.conf" 644
printf '[queue]\nmax_attempts = 6\n' | conf "$T/env.conf" 644
printf '[queue]\nmax_attempts = 8\n' | conf "$T/cli.conf" 644

exits 0 "config check finds ~/.config/ikasq/ikasq.conf" "$IKASQ" config check
is "$(first_line)" "# ikasq configuration: $HOME/.config/ikasq/ikasq.conf" "it names the file"
like "$out" "^max_attempts = 4$" "and uses its values"
IKASQ_CONFIG=$T/env.conf; export IKASQ_CONFIG
exits 0 "\$IKASQ_CONFIG comes before ~/.config" "$IKASQ" config check
like "$out" "^max_attempts = 6$" "its value wins"
exits 0 "-c FILE comes before \$IKASQ_CONFIG" "$IKASQ" -c "$T/cli.conf" config check
like "$out" "^max_attempts = 8$" "its value wins"
exits 0 "--config=FILE works too" "$IKASQ" --config="$T/cli.conf" config check
like "$out" "^max_attempts = 8$" "its value wins"
XDG_CONFIG_HOME=$T/xdg; export XDG_CONFIG_HOME
unset IKASQ_CONFIG
mkdir -p "$T/xdg/ikasq"
printf '[queue]\nmax_attempts = 9\n' | conf "$T/xdg/ikasq/ikasq.conf" 644
exits 0 "\$XDG_CONFIG_HOME is honoured" "$IKASQ" config check
like "$out" "^max_attempts = 9$" "its value wins"
unset XDG_CONFIG_HOME
rm "$HOME/.config/ikasq/ikasq.conf"
if [ ! -e /etc/ikasq/ikasq.conf ] && [ ! -e /usr/local/etc/ikasq/ikasq.conf ]; then
	exits 0 "no file at all: built-in defaults" "$IKASQ" config check
	is "$(first_line)" "# ikasq configuration: no file, built-in defaults" "says so"
	like "$out" "^max_attempts = 3  # default$" "defaults are marked"
	like "$out" "^conninfo = +# default: libpq's PG\* environment$" "the database comes from libpq's defaults"
fi
exits 78 "-c with a missing file" "$IKASQ" -c "$T/nope.conf" config check
is "$err" "ikasq: cannot read '$T/nope.conf': No such file or directory" "one line naming it"
IKASQ_CONFIG=$T/nope.conf; export IKASQ_CONFIG
exits 78 "\$IKASQ_CONFIG naming a missing file" "$IKASQ" config check
unset IKASQ_CONFIG

# every problem, each with file:line, in one run
conf "$T/bad.conf" 600 <<'EOF2'
[queue]
max_attempts = many
lease = 5 minutes
colour = blue
[nosuch]
[cache]
ttl = 1h
ttl = 2h
EOF2
exits 78 "a file with four problems" "$IKASQ" -c "$T/bad.conf" config check
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 5 "five lines on stderr"
like "$err" "^ikasq: $T/bad.conf:2: bad value for 'max_attempts' in \[queue\]: 'many' is not an integer in 1..100$" "line 2"
like "$err" "^ikasq: $T/bad.conf:3: bad value for 'lease' in \[queue\]" "line 3"
like "$err" "^ikasq: $T/bad.conf:4: unknown key 'colour' in \[queue\]$" "line 4"
like "$err" "^ikasq: $T/bad.conf:5: unknown section \[nosuch\]$" "line 5"
like "$err" "^ikasq: $T/bad.conf:8: duplicate key 'ttl' in \[cache\] \(first at line 7\)$" "line 8"
is "$out" "" "nothing on stdout"
# patterns are checked as the extractor compiles them; escapes as GKeyFile
# reads them, and a bad one does not echo the (secret) value
conf "$T/badval.conf" 600 <<'EOF2'
[extract]
patterns = order {N} / {N}
weak_patterns = [{N}]
[database]
password = it\'s-Hunter2
EOF2
exits 78 "two {N} in one pattern, {N} in brackets, a bad escape" "$IKASQ" -c "$T/badval.conf" config check
like "$err" "^ikasq: $T/badval.conf:2: bad value for 'patterns' in \[extract\]: pattern 'order {N} / {N}' does not compile: two named subpatterns have the same name$" "line 2 says why, without the expanded pattern"
like "$err" "^ikasq: $T/badval.conf:3: bad value for 'weak_patterns' in \[extract\]: pattern '\[{N}\]' does not compile" "line 3"
like "$err" "^ikasq: $T/badval.conf:5: bad value for 'password' in \[database\]: an escape other than" "line 5"
unlike "$err" "Hunter2" "the secret is not echoed"
# a bad config stops every command that reads it, before any database work
exits 78 "stats with a bad config" "$IKASQ" -c "$T/bad.conf" stats

# secrets: a readable file is refused, the secret is never shown
printf '[database]\npassword = Hunter2-secret\n' | conf "$T/secret.conf" 644
exits 78 "a secret in a file others can read" "$IKASQ" -c "$T/secret.conf" config check
is "$err" "ikasq: $T/secret.conf:2: holds a secret but the file is readable by group or others (mode 644); run 'chmod 600 $T/secret.conf'" "one clear line"
chmod 640 "$T/secret.conf"
exits 65 "the shipped example configuration is valid (extract reads it)" "$IKASQ" -c "$TOP_SRCDIR/contrib/ikasq.conf.example" extract /dev/null
exits 78 "readable by the group is refused too" "$IKASQ" -c "$T/secret.conf" config check
chmod 600 "$T/secret.conf"
exits 0 "mode 600 is fine" "$IKASQ" -c "$T/secret.conf" config check
like "$out" '^password = \*\*\*\*\*\*\*\* \(from this file\)$' "the secret is masked"
unlike "$out$err" "Hunter2" "and never printed"
IKASQ_DATABASE_PASSWORD=Env-secret-42; export IKASQ_DATABASE_PASSWORD
exits 0 "the environment overrides the file" "$IKASQ" -c "$T/secret.conf" config check
like "$out" '^password = \*\*\*\*\*\*\*\* \(from \$IKASQ_DATABASE_PASSWORD\)$' "and says so"
unlike "$out$err" "Env-secret-42|Hunter2" "no secret printed"
unset IKASQ_DATABASE_PASSWORD

echo Cmd-secret-7 >"$T/pwfile"
printf '[database]\npassword_command = cat %s/pwfile\n' "$T" | conf "$T/cmd.conf" 600
exits 0 "password_command" "$IKASQ" -c "$T/cmd.conf" config check
like "$out" '^password = \*\*\*\*\*\*\*\* \(from the command\)$' "runs it and masks the result"
unlike "$out$err" "Cmd-secret-7" "the secret is not printed"
printf '[database]\npassword_command = exit 3\n' | conf "$T/cmdfail.conf" 600
exits 78 "a failing password_command" "$IKASQ" -c "$T/cmdfail.conf" config check
like "$err" "^ikasq: 'password_command' in \[database\] failed with exit status 3$" "says which and how"
printf '[database]\npassword_command = echo x\n' | conf "$T/cmdw.conf" 622
exits 78 "a command in a file others can write" "$IKASQ" -c "$T/cmdw.conf" config check

printf '[database]\nconninfo = postgresql://shop:Url-pw-99@db.example/ikasq\n' | conf "$T/url.conf" 600
exits 0 "a password inside conninfo" "$IKASQ" -c "$T/url.conf" config check
like "$out" '^conninfo = postgresql://shop:\*\*\*\*\*\*\*\*@db.example/ikasq$' "is masked"
unlike "$out$err" "Url-pw-99" "never printed"
chmod 644 "$T/url.conf"
exits 78 "and makes the file a secret one" "$IKASQ" -c "$T/url.conf" config check

# the verbose log never carries a secret either
printf '[database]\nconninfo = host=%s/nowhere dbname=x\npassword = Log-secret-5\n' "$T" | conf "$T/log.conf" 600
"$IKASQ" -v -c "$T/log.conf" stats >"$T/v.out" 2>&1
unlike "$(cat "$T/v.out")" "Log-secret-5" "-v output holds no secret"
done_testing
