# frozen_string_literal: true

require "process_shared/version"
require "process_shared/semaphore"
require "process_shared/semaphore_mutex"
require "process_shared/binary_semaphore"
require "process_shared/mutex"
require "process_shared/condition_variable"
require "process_shared/monitor"
require "process_shared/monitor_mixin"
require "process_shared/shared_memory"
require "process_shared/shared_array"
require "process_shared/shared_memory_io"

# Concurrency primitives and memory shared across `fork`: an object created
# before `fork` is the same object in the parent and in every child.
#
# - Locks: {Semaphore}, {BinarySemaphore}, {Mutex} (with {ConditionVariable}),
#   {Monitor} and {MonitorMixin}, with the interfaces of Ruby's own
#   `Thread::Mutex`, `Thread::ConditionVariable` and `Monitor`.
# - Memory: {SharedMemory} (typed, bounds-checked access with the names of
#   `FFI::Pointer`, and Marshal-serialized objects), {SharedArray} and
#   {SharedMemoryIO}.
#
# Every call that waits releases the GVL and can be interrupted
# (`Thread#raise`, `Timeout.timeout`, signals), leaving the object as it was;
# timeouts are in seconds on a monotonic clock. Lock misuse raises
# {ProcessError}; any use of an object after `close` raises {ClosedError}.
#
# `require "process_shared"` loads every class; each can also be required on
# its own (`require "process_shared/mutex"`, …).
#
# @example A counter that forked processes increment under a lock
#   require "process_shared"
#
#   mutex = ProcessShared::Mutex.new
#   counter = ProcessShared::SharedMemory.new(:int)
#   pids = Array.new(4) do
#     fork { 1000.times { mutex.synchronize { counter.put_int(0, counter.get_int(0) + 1) } } }
#   end
#   pids.each { |pid| Process.wait(pid) }
#   counter.get_int(0) # => 4000
module ProcessShared
end
