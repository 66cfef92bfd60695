# frozen_string_literal: true

# Uncontended lock/unlock cost of each lock, next to core Ruby's.
# Run: rake compile && ruby -Ilib bench/locks.rb
require "benchmark/ips"
require "monitor"
require "process_shared"

thread_mutex = Thread::Mutex.new
thread_monitor = Monitor.new
mutex = ProcessShared::Mutex.new
monitor = ProcessShared::Monitor.new
binary = ProcessShared::BinarySemaphore.new
mtx = ProcessShared::Semaphore.new.to_mtx
cond = ProcessShared::ConditionVariable.new

Benchmark.ips do |x|
  x.report("Thread::Mutex#synchronize") { thread_mutex.synchronize { nil } }
  x.report("ProcessShared::Mutex#synchronize") { mutex.synchronize { nil } }
  x.report("ProcessShared::Mutex#lock+unlock") do
    mutex.lock
    mutex.unlock
  end
  x.report("Semaphore#to_mtx#synchronize") { mtx.synchronize { nil } }
  x.report("BinarySemaphore#synchronize") { binary.synchronize { nil } }
  x.report("::Monitor#synchronize") { thread_monitor.synchronize { nil } }
  x.report("ProcessShared::Monitor#synchronize") { monitor.synchronize { nil } }
  x.report("ConditionVariable#signal (no waiter)") { cond.signal }
  x.compare!
end

# Contended: two processes taking turns through a ConditionVariable.
rounds = 20_000
turn = ProcessShared::SharedMemory.new(:int)
play = lambda do |me|
  mutex.synchronize do
    rounds.times do
      cond.wait(mutex) while turn.get_int(0) % 2 != me
      turn.put_int(0, turn.get_int(0) + 1)
      cond.signal
    end
  end
end
start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
pid = fork { play.call(1) }
play.call(0)
Process.wait(pid)
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
puts format("ConditionVariable ping-pong between 2 processes: %.1f µs per round trip", elapsed / rounds * 1e6)
