# frozen_string_literal: true

# A fiber waiting under a Fiber.scheduler (the async gem) lets the other
# fibers of its thread run. Two figures:
#
# - ticks missed: while one fiber waits 1 s for a lock that another process
#   holds, how many ticks of a fiber ticking every 10 ms are late by more
#   than one period (target: at most one);
# - release latency: how long after the holder unlocks the waiting fiber
#   has the lock (the price of polling instead of sleeping in the kernel),
#   next to the same wait by a plain thread.
#
#   ruby -Ilib bench/fiber_wait.rb

require_relative "support"
require "async"

ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "20"))

# Forks a child that holds `mutex` for `hold` seconds and writes the
# monotonic time of its unlock to `released`. Returns the pid once it holds.
def holder(mutex, released, hold)
  held = ProcessShared::Semaphore.new(0)
  pid = fork do
    mutex.lock
    held.post
    sleep hold
    released.put_double(0, Process.clock_gettime(Process::CLOCK_MONOTONIC))
    mutex.unlock
    exit!(0)
  end
  held.wait
  pid
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def missed_ticks
  mutex = ProcessShared::Mutex.new
  released = ProcessShared::SharedMemory.new(:double)
  pid = holder(mutex, released, 1.0)
  ticks = []
  Sync do |task|
    waiter = task.async { mutex.synchronize { nil } }
    ticker = task.async do
      loop do
        sleep 0.01
        ticks << now
      end
    end
    waiter.wait
    ticker.stop
  end
  Process.wait(pid)
  ticks.each_cons(2).count { |a, b| b - a > 0.02 }
end

def latency(mode)
  mutex = ProcessShared::Mutex.new
  released = ProcessShared::SharedMemory.new(:double)
  pid = holder(mutex, released, 0.05)
  got = nil
  case mode
  when :fiber
    Sync { |task| task.async { mutex.synchronize { got = now } }.wait }
  when :thread
    mutex.synchronize { got = now }
  end
  Process.wait(pid)
  got - released.get_double(0)
end

def median(values)
  values.sort[values.size / 2]
end

puts Bench.machine
puts "ticks missed while a fiber waited 1 s: #{missed_ticks} (target: at most 1)"
%i[thread fiber].each do |mode|
  samples = Array.new(ROUNDS) { latency(mode) }
  puts format("release latency, waiting %-6s median %.2f ms, max %.2f ms (%d rounds)",
              mode, median(samples) * 1000, samples.max * 1000, ROUNDS)
end
