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

  # Prints a table of costs (lower is better) with ratios to `baseline`.
  def table(title, baseline, costs, unit:)
    puts "\n== #{title}"
    width = costs.keys.map(&:length).max
    costs.each do |label, cost|
      ratio = cost / costs.fetch(baseline)
      puts format("  %-#{width}s  %12.1f %s  %6.2fx %s", label, cost, unit, ratio, label == baseline ? "(baseline)" : "")
    end
    costs
  end
end
