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
require "process_shared/atomic_integer"

# Concurrency primitives and memory shared across `fork`: an object created
# before `fork` is the same object in the parent and in every child.
#
# - Locks: {Semaphore}, {BinarySemaphore}, {Mutex} (with {ConditionVariable}),
#   {Monitor} and {MonitorMixin}, with the interfaces of Ruby's own
#   `Thread::Mutex`, `Thread::ConditionVariable` and `Monitor`.
# - Memory: {SharedMemory} (typed, bounds-checked access with the names of
#   `FFI::Pointer`, and Marshal-serialized objects), {SharedArray} and
#   {SharedMemoryIO}.
# - Counters: {AtomicInteger}, and the atomic operations of an integer
#   {SharedArray}'s elements (lock-free, no system call).
#
# Every call that waits releases the GVL and can be interrupted
# (`Thread#raise`, `Timeout.timeout`, signals), leaving the object as it was;
# timeouts are in seconds on a monotonic clock. Lock misuse raises
# {ProcessError}; any use of an object after `close` raises {ClosedError}.
#
# `require "process_shared"` loads every class; each can also be required on
# its own (`require "process_shared/mutex"`, …).
#
# What every class has in common:
#
# - After `close` (`mon_close` for {MonitorMixin}), and on an object never
#   initialized (`allocate`, or a subclass whose `initialize` does not call
#   `super`), every method but `close` and `closed?` raises {ClosedError}.
#   `close` is idempotent.
# - `dup` and `clone` give another handle on the same shared object, as
#   `IO#dup` gives another descriptor for the same file: closing one leaves
#   the other open (closing a {Mutex} or {Monitor} that the calling thread
#   holds releases it, whichever handle is closed). `clone(freeze: true)` is
#   a frozen handle that still works. Copying a closed lock or memory raises
#   {ClosedError}.
# - `initialize` called again raises TypeError: an object never changes the
#   shared object it stands for. ({SharedMemoryIO} is a view and may be
#   pointed at another memory, as `StringIO#initialize`; {MonitorMixin}
#   raises ThreadError, as the stdlib's.)
# - `Marshal.dump` raises TypeError: a shared object cannot be serialized.
# - Subclasses work, with or without an `initialize` of their own that calls
#   `super`.
# - Sizes, counts, offsets, lengths and indexes must be Integers, and element
#   values Integers (or, for `:float` and `:double`, Integers or Floats);
#   timeouts are Integers or Floats (`nil` and `Float::INFINITY`: no limit).
#   Anything else is a TypeError: there is no implicit conversion (no `to_int`,
#   no Float truncated to an Integer, no Rational), except in
#   {SharedMemoryIO}, which converts as IO does.
# - A bug that makes the native code panic raises RuntimeError ("internal
#   error"), never `fatal`.
# - Objects belong to the main Ractor: from any other, every native method
#   raises `Ractor::UnsafeError` (and nothing crashes); `fork` itself works
#   in every Ractor.
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
