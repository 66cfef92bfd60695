# frozen_string_literal: true

# What the fork hook adds to every fork: its native calls on each side,
# next to a whole fork-and-wait for scale.

require_relative "support"

hook = ProcessShared::ForkHook
own_pid = Process.pid

Bench.compare("fork hook overhead", "fork { exit! } + wait",
              "fork { exit! } + wait" => -> { Process.wait(fork { exit!(0) }) },
              "parent side: before_fork + after_fork_parent" => lambda {
                hook.before_fork
                hook.after_fork_parent(own_pid)
              },
              "child side: after_fork_child" => -> { hook.after_fork_child })
