# frozen_string_literal: true

# Hand-off latency: how long after one process unlocks does a waiter that
# sleeps in another process run with the lock? The holder stamps the
# monotonic clock (the same clock in every process) just before unlocking;
# the waiter reads it as soon as its lock call returns. Reports the median
# and the 99th percentile over BENCH_HANDOFFS hand-offs (default 300), for
# ProcessShared::Mutex, Semaphore#wait+post and File#flock.

require_relative "support"
require "tmpdir"

HANDOFFS = Integer(ENV.fetch("BENCH_HANDOFFS", "300"))
# How long the holder keeps the lock once the waiter asked for it: long
# enough for the waiter to stop spinning and go to sleep.
ASLEEP_AFTER = 0.002

# The waiting side: asks for the lock, then records how long after the
# holder's stamp it got it.
def take_handoffs(lock_pair, shared)
  acquire, release = lock_pair.call
  HANDOFFS.times do |i|
    shared[:held].wait # never ask before the holder holds it
    shared[:asking].post
    acquire.call
    shared[:latencies][i] = Bench.now_ns - shared[:stamp].get_int64(0)
    release.call
    shared[:done].post
  end
end

# The holding side: takes the lock, lets the waiter ask, waits until it
# sleeps, stamps the clock and unlocks.
def give_handoffs(lock_pair, shared)
  acquire, release = lock_pair.call
  HANDOFFS.times do
    acquire.call
    shared[:held].post
    shared[:asking].wait
    sleep ASLEEP_AFTER
    shared[:stamp].put_int64(0, Bench.now_ns)
    release.call
    shared[:done].wait
  end
end

# `lock_pair` is called in each process and returns [acquire, release]
# lambdas. Returns the sorted latencies in ns.
def handoff_latencies(lock_pair)
  shared = { stamp: ProcessShared::SharedMemory.new(:int64),
             latencies: ProcessShared::SharedArray.new(:int64, HANDOFFS),
             held: ProcessShared::Semaphore.new(0), asking: ProcessShared::Semaphore.new(0),
             done: ProcessShared::Semaphore.new(0) }
  waiter = fork { take_handoffs(lock_pair, shared).then { exit!(0) } }
  give_handoffs(lock_pair, shared)
  Process.wait(waiter)
  raise "the waiter failed" unless $CHILD_STATUS.success?

  shared[:latencies].to_a.sort
ensure
  shared&.each_value(&:close)
end

require "English"
Bench.banner
Dir.mktmpdir do |dir|
  pairs = Bench.lock_pairs(dir)
  puts "\n== hand-off latency: unlock in one process -> a sleeping waiter in another runs " \
       "(#{HANDOFFS} hand-offs)"
  pairs.each do |label, pair|
    sorted = handoff_latencies(pair)
    puts format("  %-22s  median %8.1f us   p99 %8.1f us   max %8.1f us", label,
                Bench.percentile(sorted, 0.5) / 1e3, Bench.percentile(sorted, 0.99) / 1e3, sorted.last / 1e3)
  end
end
