# frozen_string_literal: true

# Bounded unfairness: a competitor process holds the lock HOLD per turn
# (busy, as work would) and locks again at once; a waiter in another process
# asks for the lock now and then and times each wait. Without any fairness a
# waiter can lose the race for the lock to the competitor turn after turn.
# Target: the worst wait at most 100 ms with holds of 1 ms and of 100 us.
# Prints the waiter's worst, 99th percentile and median wait, and the
# competitor's turns per second (the cost of fairness to throughput).
# BENCH_FAIRNESS_SECONDS sets each run's length (default 2).

require_relative "support"
require "tmpdir"

SECONDS = Float(ENV.fetch("BENCH_FAIRNESS_SECONDS", "2"))
HOLDS = { "1 ms" => 0.001, "100 us" => 0.0001 }.freeze

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def busy_for(seconds)
  until_time = now + seconds
  nil while now < until_time
end

# Locks again at once after holding for `hold`, until told to stop; counts
# its turns in counts[1].
def compete(lock_pair, hold, shared)
  acquire, release = lock_pair.call
  shared[:ready].post
  turns = 0
  while shared[:stop].get_int(0).zero?
    acquire.call
    busy_for(hold)
    release.call
    turns += 1
  end
  shared[:counts][1] = turns
end

# Asks for the lock now and then for SECONDS, recording each wait.
def wait_now_and_then(lock_pair, shared)
  acquire, release = lock_pair.call
  shared[:ready].wait
  random = Random.new(42)
  waits = shared[:waits]
  recorded = 0
  finish = now + SECONDS
  while now < finish && recorded < waits.size
    sleep(random.rand * 0.002)
    asked = now
    acquire.call
    waits[recorded] = now - asked
    release.call
    recorded += 1
  end
  shared[:counts][0] = recorded
  shared[:stop].put_int(0, 1)
end

# `lock_pair` is called in each process and returns [acquire, release]
# lambdas. Returns [sorted waits in s, competitor turns per second].
def fairness(lock_pair, hold)
  shared = { waits: ProcessShared::SharedArray.new(:float, 100_000),
             counts: ProcessShared::SharedArray.new(:int64, 2), # [waits recorded, competitor turns]
             stop: ProcessShared::SharedMemory.new(:int), ready: ProcessShared::Semaphore.new(0) }
  pids = [fork { compete(lock_pair, hold, shared).then { exit!(0) } },
          fork { wait_now_and_then(lock_pair, shared).then { exit!(0) } }]
  pids.each { |pid| Process.wait(pid) }
  counts = shared[:counts]
  [shared[:waits].to_a.first(counts[0]).sort, counts[1] / SECONDS]
ensure
  shared&.each_value(&:close)
end

Bench.banner
Dir.mktmpdir do |dir|
  pairs = Bench.lock_pairs(dir)
  HOLDS.each do |hold_label, hold|
    puts "\n== fairness: a competitor holds the lock #{hold_label} per turn and relocks at once " \
         "(#{SECONDS} s per lock)"
    pairs.each do |label, pair|
      sorted, turns = fairness(pair, hold)
      puts format("  %-22s  worst %8.2f ms  p99 %8.2f ms  median %7.3f ms  (%d waits; competitor %6.0f turns/s)",
                  label, sorted.last * 1e3, Bench.percentile(sorted, 0.99) * 1e3, Bench.percentile(sorted, 0.5) * 1e3,
                  sorted.size, turns)
    end
  end
end
