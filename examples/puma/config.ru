# frozen_string_literal: true

# A Rack app for Puma in cluster mode (see puma.rb). With `preload_app!` this
# file is loaded once in the master, before the workers are forked, so every
# worker shares the objects below.
#
#   GET /hit   counts the request (every request counts)
#   GET /slow  counts it, then does 50 ms of "work", at most 2 at once
#              across all workers
#   GET /stats {"hits":…, "peak":…, "in_flight":…} as JSON

require "json"
require "process_shared"

HITS = 0
IN_FLIGHT = 1
PEAK = 2

stats = ProcessShared::SharedArray.new(:int64, 3) # hits, in flight, peak
stats_lock = ProcessShared::Mutex.new
slow_slots = ProcessShared::Semaphore.new(2)

count_hit = -> { stats_lock.synchronize { stats[HITS] += 1 } }

slow_work = lambda do
  slow_slots.synchronize do
    stats_lock.synchronize do
      stats[IN_FLIGHT] += 1
      stats[PEAK] = stats[IN_FLIGHT] if stats[IN_FLIGHT] > stats[PEAK]
    end
    sleep 0.05
    stats_lock.synchronize { stats[IN_FLIGHT] -= 1 }
  end
end

text = ->(body) { [200, { "content-type" => "text/plain" }, [body]] }

run(lambda do |env|
  case env["PATH_INFO"]
  when "/hit"
    count_hit.call
    text.call("ok\n")
  when "/slow"
    count_hit.call
    slow_work.call
    text.call("done\n")
  when "/stats"
    body = stats_lock.synchronize do
      { hits: stats[HITS], peak: stats[PEAK], in_flight: stats[IN_FLIGHT] }
    end
    [200, { "content-type" => "application/json" }, [JSON.generate(body)]]
  else
    [404, { "content-type" => "text/plain" }, ["not found\n"]]
  end
end)
