# frozen_string_literal: true

# A bulkhead across forked workers: at most CAPACITY calls to a slow
# service at once, whichever worker makes them. One worker is killed with
# SIGKILL in the middle of a call; because the semaphore is made with
# `undo: true`, the unit it held comes back, and the capacity is CAPACITY
# again afterwards (a plain semaphore would have lost it for good).
#
#   ruby -Ilib examples/bulkhead.rb

require "process_shared"

CAPACITY = 3
WORKERS = 6
CALLS = 5

bulkhead = ProcessShared::Semaphore.new(CAPACITY, undo: true)
stats = ProcessShared::SharedArray.new(:int, 2) # calls in flight now, peak
stats_lock = ProcessShared::Mutex.new
in_call = ProcessShared::Semaphore.new(0) # the victim is inside a call

def slow_service
  sleep 0.02
end

victim = fork do
  bulkhead.synchronize do
    in_call.post
    sleep # killed here, holding a unit
  end
end
in_call.wait
puts "worker #{victim} killed in the middle of a call"
Process.kill(:KILL, victim)
Process.wait(victim)

workers = Array.new(WORKERS) do
  fork do
    CALLS.times do
      bulkhead.synchronize do
        stats_lock.synchronize do
          stats[0] += 1
          stats[1] = stats[0] if stats[0] > stats[1]
        end
        slow_service
        stats_lock.synchronize { stats[0] -= 1 }
      end
    end
    exit!(0)
  end
end
ok = workers.all? { |pid| Process.wait2(pid).last.success? }

# Every unit is free again: CAPACITY non-blocking takes succeed.
free = Array.new(CAPACITY + 1) do
  bulkhead.try_wait
  true
rescue Errno::EAGAIN
  false
end.count(true)
CAPACITY.times { bulkhead.post }

puts "workers succeeded: #{ok}"
puts "peak concurrent calls: #{stats[1]} (capacity #{CAPACITY})"
puts "capacity after the kill: #{free}"
