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

  # Runs each entry with benchmark-ips and prints a table: iterations per
  # second, nanoseconds per iteration and the time ratio to `baseline`.
  def compare(title, baseline, entries)
    banner
    report = Benchmark.ips(quiet: true) do |x|
      x.config(time: ips_time, warmup: [ips_time / 2, 0.5].max)
      entries.each { |label, block| x.report(label, &block) }
    end
    ips = report.entries.to_h { |entry| [entry.label, entry.ips] }
    table(title, baseline, ips.transform_values { |rate| 1e9 / rate }, unit: "ns/op")
  end

  # Prints whether `entry` of `costs` (as returned by `table` or `compare`)
  # is within `target` times `baseline`'s cost.
  def target(costs, entry, baseline, target)
    ratio = costs.fetch(entry) / costs.fetch(baseline)
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
  # index (0...processes), all released together, and returns the seconds
  # from release to the last child's exit. A child that raises makes the
  # whole measurement fail.
  def time_processes(processes, &work)
    reader, writer = IO.pipe
    pids = Array.new(processes) do |index|
      fork do
        writer.close
        reader.read(1)
        work.call(index)
        exit!(0)
      rescue Exception => e # rubocop:disable Lint/RescueException
        warn "bench child failed: #{e.class}: #{e.message}"
        exit!(1)
      end
    end
    reader.close
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    writer.write("go" * processes)
    writer.close
    statuses = pids.map { |pid| Process.wait2(pid).last }
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    raise "a benchmark child failed" unless statuses.all?(&:success?)

    elapsed
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
