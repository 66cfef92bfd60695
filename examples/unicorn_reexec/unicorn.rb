# frozen_string_literal: true

# Unicorn with 2 workers and a zero-downtime upgrade by USR2:
#
#   UNICORN_PID=/tmp/unicorn.pid unicorn -c examples/unicorn_reexec/unicorn.rb \
#     -l 127.0.0.1:8080 examples/unicorn_reexec/config.ru
#   kill -USR2 "$(cat /tmp/unicorn.pid)"      # a new master is exec'd
#   kill -QUIT "$(cat /tmp/unicorn.pid.oldbin)" # the old one leaves
#
# The new master is a new program (exec), not a fork of the old one, so it
# shares nothing anonymous with it: the counter and the lock in config.ru
# are named, and the old and new masters' workers use the same ones while
# both run.

worker_processes 2
preload_app true
timeout 30
pid ENV.fetch("UNICORN_PID", "/tmp/unicorn_reexec.pid")
