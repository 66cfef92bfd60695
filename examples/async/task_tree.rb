# frozen_string_literal: true

# Two forked workers, each running an Async task tree of 8 request tasks,
# share two things: a rate limit (at most 3 calls to a slow upstream in
# flight across both workers) and a request counter. Waiting for the limit
# or the counter's lock lets the worker's other tasks run: a ticker task in
# each worker keeps ticking while its requests wait.
#
#   ruby -Ilib examples/async/task_tree.rb

require "async"
require "process_shared"

LIMIT = 3
IN_FLIGHT = 0
PEAK = 1
DONE = 2

upstream = ProcessShared::Semaphore.new(LIMIT)
stats = ProcessShared::SharedArray.new(:int, 3) # in flight, peak, done
stats_lock = ProcessShared::Mutex.new

def call_upstream(upstream, stats, stats_lock)
  upstream.synchronize do
    stats_lock.synchronize do
      stats[IN_FLIGHT] += 1
      stats[PEAK] = stats[IN_FLIGHT] if stats[IN_FLIGHT] > stats[PEAK]
    end
    sleep 0.02 # the slow call; other tasks of this worker run meanwhile
    stats_lock.synchronize do
      stats[IN_FLIGHT] -= 1
      stats[DONE] += 1
    end
  end
end

workers = Array.new(2) do
  fork do
    ticks = 0
    Sync do |task|
      ticker = task.async do
        loop do
          sleep 0.01
          ticks += 1
        end
      end
      requests = Array.new(8) do
        task.async { 3.times { call_upstream(upstream, stats, stats_lock) } }
      end
      requests.each(&:wait)
      ticker.stop
    end
    exit!(ticks.positive? ? 0 : 1)
  end
end
statuses = workers.map { |pid| Process.wait2(pid).last }

puts "workers succeeded: #{statuses.all?(&:success?)}"
puts "requests done: #{stats[DONE]} (expected #{2 * 8 * 3})"
puts "peak calls in flight: #{stats[PEAK]} (limit #{LIMIT})"
