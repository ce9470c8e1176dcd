# shellcheck shell=bash
# Helpers every benchmark script uses, sourced right after it moves to the repository root.
#   free_port        a TCP port free on 127.0.0.1 now (the kernel's pick)
#   median N...      the median of the numbers given (the mean of the middle two for an even count)
#   now_ns           nanoseconds since the epoch

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ns() { date +%s%N; }
