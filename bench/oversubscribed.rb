# frozen_string_literal: true

# Contention with more processes than cores: 2, 4, 16 and 32 processes each
# doing 20,000 lock / increment a shared Integer / unlock, with the count
# checked exactly. Targets: ProcessShared::Mutex at most 0.15x and
# Semaphore#wait+post at most 0.25x the time File#flock takes for the same
# loop on one file, and no process waiting longer than 500 ms for one lock
# (the worst wait of any iteration of any process is printed).
#
# Every variant times each of its lock calls the same way, so the clock
# reads cost the same in every row. BENCH_ITERATIONS and BENCH_PROCESSES
# (comma-separated) change the sizes; BENCH_RUNS the runs per median.

require_relative "support"
require "tmpdir"

ITERATIONS = Integer(ENV.fetch("BENCH_ITERATIONS", "20000"))
PROCESS_COUNTS = ENV.fetch("BENCH_PROCESSES", "2,4,16,32").split(",").map { |count| Integer(count) }

# Runs the loop in one process and stores its worst wait (ns) in
# `worst[slot]`. `acquire` and `release` are lambdas so that every variant
# has the same call overhead.
def increment_loop(counter, worst, slot, acquire, release)
  longest = 0
  i = 0
  while i < ITERATIONS
    asked = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    acquire.call
    waited = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - asked
    longest = waited if waited > longest
    counter.put_int64(0, counter.get_int64(0) + 1)
    release.call
    i += 1
  end
  worst[slot] = longest
end

VARIANTS = {
  "File#flock" => lambda do |path, counter, worst, slot|
    File.open(path, File::RDWR | File::CREAT) do |file| # each process needs its own open file
      increment_loop(counter, worst, slot, -> { file.flock(File::LOCK_EX) }, -> { file.flock(File::LOCK_UN) })
    end
  end,
  "ProcessShared::Mutex" => lambda do |mutex, counter, worst, slot|
    increment_loop(counter, worst, slot, -> { mutex.lock }, -> { mutex.unlock })
  end,
  "Semaphore#wait+post" => lambda do |semaphore, counter, worst, slot|
    increment_loop(counter, worst, slot, -> { semaphore.wait }, -> { semaphore.post })
  end
}.freeze

def checked(counter, processes)
  total = counter.get_int64(0)
  raise "lost updates: #{total} != #{processes * ITERATIONS}" unless total == processes * ITERATIONS

  counter.put_int64(0, 0)
end

# The median wall time of the runs (seconds) and the worst single wait of
# any of them (ns).
def measure(processes, lock, counter, variant)
  worst = ProcessShared::SharedArray.new(:int64, processes)
  longest = 0
  median = Bench.median_of do
    elapsed = Bench.time_processes(processes) { |slot| variant.call(lock, counter, worst, slot) }
    checked(counter, processes)
    longest = [longest, *worst.to_a].max
    elapsed
  end
  [median, longest]
ensure
  worst&.close
end

Bench.banner
puts "(#{Etc.nprocessors} cores; wall time of #{ITERATIONS} iterations per process, median of " \
     "#{ENV.fetch('BENCH_RUNS', '3')} runs; worst wait: longest single lock call of any run)"
Dir.mktmpdir do |dir|
  path = File.join(dir, "lock")
  counter = ProcessShared::SharedMemory.new(:int64)
  PROCESS_COUNTS.each do |processes|
    locks = { "File#flock" => path, "ProcessShared::Mutex" => ProcessShared::Mutex.new,
              "Semaphore#wait+post" => ProcessShared::Semaphore.new(1) }
    costs = {}
    worst_waits = {}
    locks.each do |label, lock|
      costs[label], worst_waits[label] = measure(processes, lock, counter, VARIANTS.fetch(label))
    end
    Bench.table("#{processes} processes x #{ITERATIONS} lock/increment/unlock (total wall time)",
                "File#flock", costs.transform_values { |seconds| seconds * 1000 }, unit: "ms")
    worst_waits.each { |label, ns| puts format("  worst wait %-22s %9.1f ms", label, ns / 1e6) }
  end
end
