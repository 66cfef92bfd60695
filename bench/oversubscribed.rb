# frozen_string_literal: true

# Contention with more processes than cores: 2, 4, 16 and 32 processes each
# doing 20,000 lock / increment a shared Integer / unlock, with the count
# checked exactly. Targets: ProcessShared::Mutex at most 0.15x and
# Semaphore#wait+post at most 0.25x the time File#flock takes for the same
# loop on one file; no process waiting longer than 500 ms for one lock (the
# worst wait of any iteration of any process and run is printed); and the
# Mutex's eventual fairness (the hand-off to a waiter that waited over
# 1 ms) costing at most 10% of its throughput: the same Mutex loop with the
# hand-off switched off in the children (`ProcessShared::Mutex.hand_off =
# false`, the benchmarking knob; PROCESS_SHARED_HAND_OFF=0 does the same for
# a whole run) is the "without hand-off" row.
#
# Timing starts once every child is forked and waits at a start barrier,
# and stops when the last child has finished its loop (see
# Bench.time_processes): no fork, exit or reaping in it. Every variant runs
# the same loop body, with its lock calls written in (no block or lambda
# call). The worst waits come from separate runs of the same loop with each
# lock call timed by two clock reads: those reads cost more than an
# uncontended lock and unlock together, so the timed runs would measure the
# clock as much as the lock. The variants alternate run by run, so a loaded
# machine slows them alike; each time is the median of BENCH_RUNS runs
# (default 3), each worst wait the worst of as many timed runs.
# BENCH_ITERATIONS and BENCH_PROCESSES (comma-separated) change the sizes.
#
# The "one process alone" row is the floor: a single process runs the same
# Mutex loop for all the iterations (processes x BENCH_ITERATIONS), so
# nothing ever waits. A lock that cost nothing under contention would take
# about that long (less only if the processes' work outside the lock
# overlapped on the cores), so "floor / flock" is the best ratio any lock
# could reach with this loop on this machine, and "Mutex / floor" what
# contention and oversubscription add. Only on a quiet machine: under other
# load one process gets a smaller share of the cores than many do.

require_relative "support"
require "tmpdir"

ITERATIONS = Integer(ENV.fetch("BENCH_ITERATIONS", "20000"))
PROCESS_COUNTS = ENV.fetch("BENCH_PROCESSES", "2,4,16,32").split(",").map { |count| Integer(count) }
RUNS = Integer(ENV.fetch("BENCH_RUNS", "3"))

# The loop every variant runs, with its lock calls written in; returns the
# longest lock call in ns when `%<acquire>s` times it (else 0).
LOOP = <<~RUBY
  ->(lock, counter, iterations) do
    longest = 0
    i = 0
    while i < iterations
      %<acquire>s
      counter.put_int64(0, counter.get_int64(0) + 1)
      %<release>s
      i += 1
    end
    longest
  end
RUBY

# A lock call timed with two clock reads, keeping the longest.
TIMED_ACQUIRE = <<~RUBY
  asked = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  %s
  waited = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - asked
  longest = waited if waited > longest
RUBY

# { plain: loop, timed: the same loop timing each lock call }
def loop_of(acquire, release)
  { plain: acquire, timed: format(TIMED_ACQUIRE, acquire) }.transform_values do |timed_or_not|
    TOPLEVEL_BINDING.eval(format(LOOP, acquire: timed_or_not, release:), __FILE__, __LINE__)
  end
end

# Each variant: what the parent makes, what each child opens of it, the
# loop, whether the child keeps the hand-off on, and whether one process
# runs every process's iterations alone.
Variant = Struct.new(:make, :open, :body, :hand_off, :alone)
MUTEX_LOOP = loop_of("lock.lock", "lock.unlock")
VARIANTS = {
  "File#flock" => Variant.new(->(dir) { File.join(dir, "lock") },
                              ->(path) { File.open(path, File::RDWR | File::CREAT) }, # one open file per process
                              loop_of("lock.flock(File::LOCK_EX)", "lock.flock(File::LOCK_UN)"), true),
  "ProcessShared::Mutex" => Variant.new(->(_) { ProcessShared::Mutex.new }, :itself.to_proc, MUTEX_LOOP, true),
  "Mutex without hand-off" => Variant.new(->(_) { ProcessShared::Mutex.new }, :itself.to_proc, MUTEX_LOOP, false),
  "Semaphore#wait+post" => Variant.new(->(_) { ProcessShared::Semaphore.new(1) }, :itself.to_proc,
                                       loop_of("lock.wait", "lock.post"), true),
  "one process alone" => Variant.new(->(_) { ProcessShared::Mutex.new }, :itself.to_proc, MUTEX_LOOP, true, true)
}.freeze

def checked(counter, processes)
  total = counter.get_int64(0)
  raise "lost updates: #{total} != #{processes * ITERATIONS}" unless total == processes * ITERATIONS

  counter.put_int64(0, 0)
end

# One run of `variant` with `processes` children (or one child doing all
# their iterations) and the loop `kind` (:plain or :timed): [seconds,
# worst wait ns].
def run_once(variant, made, processes, counter, kind)
  children, iterations = variant.alone ? [1, processes * ITERATIONS] : [processes, ITERATIONS]
  worst = ProcessShared::SharedArray.new(:int64, children)
  elapsed = Bench.time_processes(children) do |slot|
    ProcessShared::Mutex.send(:hand_off=, false) unless variant.hand_off
    worst[slot] = variant.body.fetch(kind).call(variant.open.call(made), counter, iterations)
  end
  checked(counter, processes)
  [elapsed, worst.to_a.max]
ensure
  worst&.close
end

# { label => [median seconds of the plain runs, worst wait ns of the timed
# runs] }, the variants alternating.
def measure(processes, dir, counter)
  made = VARIANTS.transform_values { |variant| variant.make.call(dir) }
  times = VARIANTS.keys.to_h { |label| [label, []] }
  worst = VARIANTS.keys.to_h { |label| [label, 0] }
  RUNS.times do
    VARIANTS.each do |label, variant|
      times[label] << run_once(variant, made[label], processes, counter, :plain).first
      worst[label] = [worst[label], run_once(variant, made[label], processes, counter, :timed).last].max
    end
  end
  times.to_h { |label, runs| [label, [runs.sort[runs.size / 2], worst[label]]] }
end

Bench.banner
puts "(#{Etc.nprocessors} cores; #{ITERATIONS} iterations per process, timed from a start barrier to the " \
     "last process's end; median of #{RUNS} alternating runs)"
summary = []
Dir.mktmpdir do |dir|
  counter = ProcessShared::SharedMemory.new(:int64)
  PROCESS_COUNTS.each do |processes|
    results = measure(processes, dir, counter)
    costs = results.transform_values { |seconds, _| seconds * 1000 }
    Bench.table("#{processes} processes x #{ITERATIONS} lock/increment/unlock (wall time)",
                "File#flock", costs, unit: "ms")
    results.each { |label, (_, ns)| puts format("  worst wait %-24s %9.1f ms", label, ns / 1e6) }
    summary << [processes, costs, results]
  end
end

puts "\n== summary (targets: Mutex <= 0.15x flock, Semaphore <= 0.25x, worst wait <= 500 ms, " \
     "hand-off cost <= 1.10x; floor: one process alone doing every iteration)"
puts "| processes | Mutex / flock | Semaphore / flock | Mutex with / without hand-off | " \
     "worst wait Mutex, Semaphore, flock | floor / flock | Mutex / floor |"
puts "|---|---|---|---|---|---|---|"
summary.each do |processes, costs, results|
  flock = costs.fetch("File#flock")
  mutex = costs.fetch("ProcessShared::Mutex")
  floor = costs.fetch("one process alone")
  worst = ["ProcessShared::Mutex", "Semaphore#wait+post", "File#flock"].map { |label| results[label].last / 1e6 }
  puts format("| %d | %.3fx | %.3fx | %.2fx | %.0f, %.0f, %.0f ms | %.3fx | %.2fx |", processes,
              mutex / flock, costs.fetch("Semaphore#wait+post") / flock,
              mutex / costs.fetch("Mutex without hand-off"), *worst, floor / flock, mutex / floor)
end
