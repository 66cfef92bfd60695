# frozen_string_literal: true

# Collects latencies measured by the robustness specs (crash recovery,
# interrupts) and, when PROCESS_SHARED_TIMINGS is set, prints their
# distribution per kind after the run:
#
#   PROCESS_SHARED_TIMINGS=1 rspec spec/crash_recovery_spec.rb spec/interrupt_matrix_spec.rb
#
# The specs assert generous bounds only; these figures are for people.
module LatencyReport
  @samples = Hash.new { |hash, kind| hash[kind] = [] }

  class << self
    def record(kind, seconds)
      @samples[kind] << seconds
    end

    def summary
      @samples.sort.map do |kind, values|
        sorted = values.sort
        ms = ->(fraction) { sorted[((sorted.size - 1) * fraction).round] * 1000 }
        format("%<kind>-56s n=%<n>-3d min %<min>6.1f  median %<median>6.1f  p90 %<p90>6.1f  max %<max>6.1f ms",
               kind:, n: sorted.size, min: ms.call(0), median: ms.call(0.5), p90: ms.call(0.9), max: ms.call(1))
      end
    end
  end
end

RSpec.configure do |config|
  config.after(:suite) do
    lines = LatencyReport.summary
    puts "\nMeasured latencies:\n  #{lines.join("\n  ")}" if ENV["PROCESS_SHARED_TIMINGS"] && !lines.empty?
  end
end
