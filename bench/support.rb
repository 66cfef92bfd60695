# frozen_string_literal: true

# Shared by every benchmark in bench/: prints the machine, runs
# benchmark-ips comparisons and prints each entry's cost as a ratio to the
# baseline measured in the same run.

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "benchmark/ips"
require "etc"
require "process_shared"

module Bench
  module_function

  # Seconds of measurement per entry; BENCH_TIME shortens or lengthens runs.
  def ips_time
    Float(ENV.fetch("BENCH_TIME", "2"))
  end

  def machine
    rustc = `rustc --version 2>/dev/null`.strip
    cpu = File.foreach("/proc/cpuinfo").grep(/^model name/).first.to_s.split(":", 2).last.to_s.strip
    <<~TEXT
      machine: #{Etc.nprocessors} cores (#{cpu.empty? ? 'unknown CPU' : cpu}), kernel #{Etc.uname[:release]}
      ruby:    #{RUBY_DESCRIPTION}
      rustc:   #{rustc.empty? ? 'unknown' : rustc}
    TEXT
  end

  def banner
    @banner ||= begin
      puts machine
      true
    end
  end

  # A benchmark-ips entry that runs `code` n times in a plain while loop
  # (benchmark-ips passes n), so no block call is measured with it. `code`
  # sees the local variables of `context`, a Binding.
  def looped(context, code)
    context.eval(<<~RUBY, __FILE__, __LINE__ + 1)
      ->(n) do            # ->(n) do
        i = 0             #   i = 0
        while i < n       #   while i < n
          #{code}         #     mutex.lock; mutex.unlock
          i += 1          #     i += 1
        end               #   end
      end                 # end
    RUBY
  end

  # Rounds of measurement (BENCH_ROUNDS): every round measures every
  # entry once, starting with a different entry each round.
  def rounds
    Integer(ENV.fetch("BENCH_ROUNDS", "5"))
  end

  # Costs per entry (ns/op, the median over the rounds) that also carry
  # each entry's time ratio to the baseline measured in the same rounds.
  class Costs < Hash
    attr_accessor :ratios
  end

  # Runs the entries with benchmark-ips in alternating rounds and prints a
  # table: nanoseconds per iteration (median of the rounds) and the time
  # ratio to `baseline`, the median of the ratios within each round (so a
  # machine that slows down for a few seconds slows both sides of a ratio
  # alike), with the spread of those ratios.
  def compare(title, baseline, entries)
    banner
    samples = Hash.new { |hash, label| hash[label] = [] }
    rounds.times do |round|
      order = entries.to_a.rotate(round % entries.size)
      measure_round(order).each { |label, cost| samples[label] << cost }
    end
    paired_table(title, baseline, samples)
  end

  # One benchmark-ips pass over `entries` (in that order): label => ns/op.
  def measure_round(entries)
    slice = [ips_time * 2 / rounds, 0.2].max
    report = Benchmark.ips(quiet: true) do |x|
      x.config(time: slice, warmup: [slice / 2, 0.1].max)
      entries.each { |label, block| x.report(label, &block) }
    end
    report.entries.to_h { |entry| [entry.label, 1e9 / entry.ips] }
  end

  # Prints, for each entry of `samples` (label => one cost per round), the
  # median cost and the time ratio to `baseline`: the median of the ratios
  # paired within each round, with their spread. Returns the costs, their
  # ratios attached.
  def paired_table(title, baseline, samples, unit: "ns/op")
    puts "\n== #{title} (median of #{samples.fetch(baseline).size} alternating rounds)"
    width = samples.keys.map(&:length).max
    costs = Costs.new
    costs.ratios = {}
    samples.each do |label, series|
      ratios = series.zip(samples.fetch(baseline)).map { |cost, base| cost / base }
      costs[label] = median(series)
      costs.ratios[label] = median(ratios)
      spread = label == baseline ? "(baseline)" : format("(rounds %.3g-%.3gx)", ratios.min, ratios.max)
      puts format("  %-#{width}s  %12.1f %s  %7.3gx %s", label, costs[label], unit, costs.ratios[label], spread)
    end
    costs
  end

  def median(values)
    sorted = values.sort
    middle = sorted.size / 2
    sorted.size.odd? ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0
  end

  # Prints whether `entry` of `costs` (as returned by `table` or `compare`)
  # is within `target` times `baseline`'s cost (for `compare`'s costs, the
  # median of the ratios paired within each round).
  def target(costs, entry, baseline, target)
    ratio = if costs.is_a?(Costs)
              costs.ratios.fetch(entry) / costs.ratios.fetch(baseline)
            else
              costs.fetch(entry) / costs.fetch(baseline)
            end
    puts format("  target: %s <= %.2gx %s: %.3gx, %s", entry, target, baseline, ratio,
                ratio <= target ? "met" : "MISSED")
  end

  # Prints a table of costs (lower is better) with ratios to `baseline`.
  def table(title, baseline, costs, unit:)
    puts "\n== #{title}"
    width = costs.keys.map(&:length).max
    costs.each do |label, cost|
      ratio = cost / costs.fetch(baseline)
      puts format("  %-#{width}s  %12.1f %s  %7.3gx %s", label, cost, unit, ratio,
                  label == baseline ? "(baseline)" : "")
    end
    costs
  end
end

module Bench
  module_function

  # Runs `processes` forked children that each call `work` once with their
  # index (0...processes) and returns the seconds from a start barrier to
  # the moment the last child finished `work`. The clock starts only once
  # every child is forked and waits at the barrier, and stops at the
  # children's own stamps (one monotonic clock for all processes), so
  # neither fork nor exit and reaping are timed: only `work`, run by all at
  # once. A child that raises makes the whole measurement fail.
  def time_processes(processes, &work)
    finished = ProcessShared::SharedArray.new(:int64, processes)
    barrier = StartBarrier.new
    pids = Array.new(processes) do |index|
      fork { barrier.child { finished[index] = work.call(index).then { now_ns } } }
    end
    started = barrier.release(processes)
    statuses = pids.map { |pid| Process.wait2(pid).last }
    raise "a benchmark child failed" unless statuses.all?(&:success?)

    (finished.to_a.max - started) / 1e9
  ensure
    barrier&.close
    finished&.close
  end

  # The value below which `fraction` of the `sorted` samples lie.
  def percentile(sorted, fraction)
    sorted[[(sorted.size * fraction).ceil - 1, 0].max]
  end

  # The locks the cross-process benchmarks compare, as `label => pair`:
  # each pair is called in each process and returns [acquire, release]
  # lambdas there (File#flock needs its own open file in every process;
  # its file is in `dir`).
  def lock_pairs(dir)
    path = File.join(dir, "lock")
    mutex = ProcessShared::Mutex.new
    semaphore = ProcessShared::Semaphore.new(1)
    {
      "ProcessShared::Mutex" => -> { [-> { mutex.lock }, -> { mutex.unlock }] },
      "Semaphore#wait+post" => -> { [-> { semaphore.wait }, -> { semaphore.post }] },
      "File#flock" => lambda do
        file = File.open(path, File::RDWR | File::CREAT)
        [-> { file.flock(File::LOCK_EX) }, -> { file.flock(File::LOCK_UN) }]
      end
    }
  end

  # The monotonic clock in nanoseconds (the same clock in every process).
  def now_ns
    Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  end

  # Forked children wait here until the parent starts them all at once,
  # after every one of them has arrived.
  class StartBarrier
    def initialize
      @ready_reader, @ready_writer = IO.pipe
      @go_reader, @go_writer = IO.pipe
    end

    # In a child: arrives, waits for the start, runs the block and exits
    # (with 1 if it raised).
    def child
      [@ready_reader, @go_writer].each(&:close)
      @ready_writer.write(".")
      @go_reader.sysread(1)
      yield
      exit!(0)
    rescue Exception => e # rubocop:disable Lint/RescueException
      warn "bench child failed: #{e.class}: #{e.message}"
      exit!(1)
    end

    # In the parent: waits until `processes` children have arrived (or
    # died), starts them and returns the start time (ns).
    def release(processes)
      [@ready_writer, @go_reader].each(&:close)
      @ready_reader.read(processes)
      started = Bench.now_ns
      @go_writer.write("g" * processes)
      started
    end

    def close
      [@ready_reader, @ready_writer, @go_reader, @go_writer].each { |io| io.close unless io.closed? }
    end
  end

  # Seconds the block takes, on the monotonic clock.
  def seconds
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end

  # The median of `runs` measurements, to damp scheduling noise.
  def median_of(runs = Integer(ENV.fetch("BENCH_RUNS", "3")), &)
    samples = Array.new(runs, &).sort
    samples[samples.size / 2]
  end
end
