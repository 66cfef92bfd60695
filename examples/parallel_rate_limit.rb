# frozen_string_literal: true

# Parallel.map over 8 processes where at most 2 workers at a time may be
# inside a rate-limited section (say, calls to an API that allows two
# concurrent requests). The peak is recorded in shared memory.
#
#   ruby -Ilib examples/parallel_rate_limit.rb

require "parallel"
require "process_shared"

IN_SECTION = 0
PEAK = 1

slots = ProcessShared::Semaphore.new(2)
stats = ProcessShared::SharedArray.new(:int, 2) # in the section now, peak
stats_lock = ProcessShared::Mutex.new

results = Parallel.map(1..40, in_processes: 8) do |item|
  slots.synchronize do
    stats_lock.synchronize do
      stats[IN_SECTION] += 1
      stats[PEAK] = stats[IN_SECTION] if stats[IN_SECTION] > stats[PEAK]
    end
    sleep 0.02 # the rate-limited call
    stats_lock.synchronize { stats[IN_SECTION] -= 1 }
  end
  item * item
end

puts "results: #{results.sum} (expected #{(1..40).sum { |i| i * i }})"
puts "peak inside the rate-limited section: #{stats[PEAK]} (limit 2)"
