# frozen_string_literal: true

# A counter shared by 4 processes: AtomicInteger#increment and
# SharedArray#increment against raindrops's lock-free Raindrops#incr
# (target: no slower, with an exact count), and, for comparison, the way
# without atomics: a SharedArray element incremented under a
# ProcessShared::Mutex.
#
# The contenders take turns: each round runs every one of them once, in an
# order that rotates from round to round, so that a burst of load from
# elsewhere falls on all of them alike. The table gives the median wall time
# (from the children's start barrier to the last one's end) and the median
# CPU time of the 4 children together; the ratios are medians of the ratios
# measured within one round (the targets use those). BENCH_ROUNDS sets the
# rounds (default 9 here: 4-process runs are noisier than single-process
# ones), BENCH_ITERATIONS the increments per process. PROCESS_SHARED_WRITE_PREFETCH=0
# runs the atomic adds without their write prefetch, for comparison.

require_relative "support"
require "raindrops"

PROCESSES = 4
INCREMENTS = Integer(ENV.fetch("BENCH_ITERATIONS", "100000"))
ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "9"))
BASELINE = "Raindrops#incr"

Bench.banner
drops = Raindrops.new(1)
counter = ProcessShared::SharedArray.new(:int64, 1)
mutex = ProcessShared::Mutex.new
atomic = ProcessShared::AtomicInteger.new
# The CPU time each child spent in its loop, in nanoseconds.
cpu = ProcessShared::SharedArray.new(:int64, PROCESSES)

# label => [reset, loop run in each child, final count]
contenders = {
  BASELINE => [-> { drops[0] = 0 }, -> { INCREMENTS.times { drops.incr(0) } }, -> { drops[0] }],
  "AtomicInteger#increment" => [-> { atomic.value = 0 }, -> { INCREMENTS.times { atomic.increment } },
                                -> { atomic.value }],
  "SharedArray#increment" => [-> { counter[0] = 0 }, -> { INCREMENTS.times { counter.increment(0) } },
                              -> { counter[0] }],
  "SharedArray + Mutex" => [-> { counter[0] = 0 }, -> { INCREMENTS.times { mutex.synchronize { counter[0] += 1 } } },
                            -> { counter[0] }]
}

# Runs one contender once: [wall seconds, CPU seconds of all children].
def measure(label, (reset, work, count), cpu)
  reset.call
  wall = Bench.time_processes(PROCESSES) do |index|
    started = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID, :nanosecond)
    work.call
    cpu[index] = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID, :nanosecond) - started
  end
  raise "#{label}: lost updates (#{count.call})" unless count.call == PROCESSES * INCREMENTS

  [wall, cpu.to_a.sum / 1e9]
end

labels = contenders.keys
samples = labels.to_h { |label| [label, []] }
ROUNDS.times do |round|
  labels.rotate(round).each { |label| samples[label] << measure(label, contenders[label], cpu) }
end

cpus = samples.transform_values { |runs| Bench.median(runs.map(&:last)) * 1000 }
title = "#{PROCESSES} processes x #{INCREMENTS} increments of one counter"
paired = Bench.paired_table("#{title}: wall time", BASELINE,
                            samples.transform_values { |runs| runs.map { |wall, _| wall * 1000 } }, unit: "ms")
Bench.table("#{title}: CPU time of the #{PROCESSES} children, median of #{ROUNDS} rounds", BASELINE, cpus,
            unit: "ms")
puts
Bench.target(paired, "AtomicInteger#increment", BASELINE, 1.0)
Bench.target(paired, "SharedArray#increment", BASELINE, 1.0)
