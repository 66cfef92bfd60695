# frozen_string_literal: true

# Target 6 (for information): a counter shared by 4 processes, incremented
# under a ProcessShared::Mutex in a SharedArray, against raindrops's
# lock-free Raindrops#incr.

require_relative "support"
require "raindrops"

PROCESSES = 4
INCREMENTS = Integer(ENV.fetch("BENCH_ITERATIONS", "100000"))

Bench.banner
drops = Raindrops.new(1)
counter = ProcessShared::SharedArray.new(:int64, 1)
mutex = ProcessShared::Mutex.new

costs = {
  "Raindrops#incr" => Bench.median_of do
    drops[0] = 0
    Bench.time_processes(PROCESSES) { INCREMENTS.times { drops.incr(0) } }.tap do
      raise "raindrops lost updates" unless drops[0] == PROCESSES * INCREMENTS
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
