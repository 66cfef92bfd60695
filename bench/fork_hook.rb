# frozen_string_literal: true

# What the fork hook adds to every fork: the native calls on each side, next
# to a whole fork-and-wait for scale. Run: ruby -Ilib bench/fork_hook.rb
require "benchmark/ips"
require "process_shared"

hook = ProcessShared::ForkHook
own_pid = Process.pid

Benchmark.ips do |x|
  x.config(time: 3, warmup: 1)
  x.report("parent side: before_fork + after_fork_parent") do
    hook.before_fork
    hook.after_fork_parent(own_pid)
  end
  x.report("child side: after_fork_child") { hook.after_fork_child }
  x.report("fork { exit! } + wait") { Process.wait(fork { exit!(0) }) }
end
