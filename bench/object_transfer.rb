# frozen_string_literal: true

# What moving an object through shared memory costs next to Marshal alone.
#
#   rake compile && ruby -Ilib bench/object_transfer.rb
#
# The object is an Array of 100,000 short Strings (about 0.9 MB marshaled).
# write_object is compared with Marshal.dump of the object, read_object with
# Marshal.load of the same bytes from a String (targets: at most 1.25 times
# the time). Each pair is measured side by side twice:
# - with benchmark-ips (wall-clock time), in several short rounds that
#   alternate which goes first; the ratio is the median over the rounds;
# - by CPU time of this process, alternating single calls, which other
#   processes competing for the CPU disturb much less; the ratio is that of
#   the total times.
#
# Environment: BENCH_ROUNDS (default 6), BENCH_TIME and BENCH_WARMUP
# (seconds per report and round, default 2 and 1), BENCH_PAIRS (default 100).

require_relative "support"

OBJECT = Array.new(100_000) { |i| "s#{i.to_s.rjust(6, '0')}".b }.freeze
DUMPED = Marshal.dump(OBJECT).freeze
MEMORY = ProcessShared::SharedMemory.new(DUMPED.bytesize + 4096)
MEMORY.write_object(OBJECT)
raise "round trip failed" unless MEMORY.read_object == OBJECT

ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "6"))
TIME = Float(ENV.fetch("BENCH_TIME", "2"))
WARMUP = Float(ENV.fetch("BENCH_WARMUP", "1"))
PAIRS = Integer(ENV.fetch("BENCH_PAIRS", "100"))

CASES = {
  "write" => { "Marshal.dump(obj)" => -> { Marshal.dump(OBJECT) },
               "write_object(obj)" => -> { MEMORY.write_object(OBJECT) } },
  "read" => { "Marshal.load(string)" => -> { Marshal.load(DUMPED) }, # rubocop:disable Security/MarshalLoad
              "read_object" => -> { MEMORY.read_object } }
}.freeze

# Seconds per call of each label, from one benchmark-ips run.
def measure(reports, reverse:)
  order = reverse ? reports.to_a.reverse : reports.to_a
  report = Benchmark.ips(time: TIME, warmup: WARMUP, quiet: true) do |x|
    order.each { |label, action| x.report(label) { action.call } }
  end
  report.entries.to_h { |entry| [entry.label, 1.0 / entry.ips] }
end

def cpu_seconds
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

# Total CPU seconds of each label over PAIRS alternating calls.
def measure_cpu(reports)
  totals = Hash.new(0.0)
  PAIRS.times do |pair|
    order = pair.odd? ? reports.to_a.reverse : reports.to_a
    order.each do |label, action|
      started = cpu_seconds
      action.call
      totals[label] += cpu_seconds - started
    end
  end
  totals
end

Bench.banner
puts "object: Array of #{OBJECT.size} Strings, #{DUMPED.bytesize} bytes marshaled"
puts "#{ROUNDS} rounds of #{WARMUP}s warmup + #{TIME}s per report"

CASES.each do |name, reports|
  baseline, ours = reports.keys
  ratios = Array.new(ROUNDS) do |round|
    seconds = measure(reports, reverse: round.odd?)
    ratio = seconds.fetch(ours) / seconds.fetch(baseline)
    puts format("  %<name>-5s round %<round>d: %<baseline>-20s %<base_ms>7.2f ms  %<ours>-20s %<ours_ms>7.2f ms  " \
                "ratio %<ratio>.3f",
                name:, round: round + 1, baseline:, base_ms: seconds.fetch(baseline) * 1000,
                ours:, ours_ms: seconds.fetch(ours) * 1000, ratio:)
    ratio
  end
  puts format("%<ours>s / %<baseline>s time ratio: median %<median>.3f (min %<min>.3f, max %<max>.3f; " \
              "target <= 1.25)",
              ours:, baseline:, median: Bench.median(ratios), min: ratios.min, max: ratios.max)
end

puts "CPU time of #{PAIRS} alternating calls each"
CASES.each do |name, reports|
  baseline, ours = reports.keys
  totals = measure_cpu(reports)
  puts format("  %<name>-5s %<baseline>-20s %<base_ms>7.2f ms/call  %<ours>-20s %<ours_ms>7.2f ms/call",
              name:, baseline:, base_ms: totals.fetch(baseline) * 1000 / PAIRS,
              ours:, ours_ms: totals.fetch(ours) * 1000 / PAIRS)
  puts format("%<ours>s / %<baseline>s CPU time ratio: %<ratio>.3f (target <= 1.25)",
              ours:, baseline:, ratio: totals.fetch(ours) / totals.fetch(baseline))
end
