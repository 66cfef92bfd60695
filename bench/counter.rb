# frozen_string_literal: true

# A counter shared by 4 processes: AtomicInteger#increment and
# SharedArray#increment against raindrops's lock-free Raindrops#incr
# (target: no slower, with an exact count), and, for comparison, the way
# without atomics: a SharedArray element incremented under a
# ProcessShared::Mutex.

require_relative "support"
require "raindrops"

PROCESSES = 4
INCREMENTS = Integer(ENV.fetch("BENCH_ITERATIONS", "100000"))

Bench.banner
drops = Raindrops.new(1)
counter = ProcessShared::SharedArray.new(:int64, 1)
mutex = ProcessShared::Mutex.new
atomic = ProcessShared::AtomicInteger.new

costs = {
  "Raindrops#incr" => Bench.median_of do
    drops[0] = 0
    Bench.time_processes(PROCESSES) { INCREMENTS.times { drops.incr(0) } }.tap do
      raise "raindrops lost updates" unless drops[0] == PROCESSES * INCREMENTS
    end
  end,
  "AtomicInteger#increment" => Bench.median_of do
    atomic.value = 0
    Bench.time_processes(PROCESSES) { INCREMENTS.times { atomic.increment } }.tap do
      raise "lost updates" unless atomic.value == PROCESSES * INCREMENTS
    end
  end,
  "SharedArray#increment" => Bench.median_of do
    counter[0] = 0
    Bench.time_processes(PROCESSES) { INCREMENTS.times { counter.increment(0) } }.tap do
      raise "lost updates" unless counter[0] == PROCESSES * INCREMENTS
    end
  end,
  "SharedArray + Mutex" => Bench.median_of do
    counter[0] = 0
    Bench.time_processes(PROCESSES) { INCREMENTS.times { mutex.synchronize { counter[0] += 1 } } }.tap do
      raise "lost updates" unless counter[0] == PROCESSES * INCREMENTS
    end
  end
}
Bench.table("#{PROCESSES} processes x #{INCREMENTS} increments of one counter (total wall time)",
            "Raindrops#incr", costs.transform_values { |seconds| seconds * 1000 }, unit: "ms")
