# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A condition variable shared across fork, with the interface of
  # `Thread::ConditionVariable`, for a {Mutex} or a {Monitor}.
  #
  # A signal sent after a waiter released the mutex inside {#wait} is never
  # lost; a signal sent when nobody waits is not remembered. Spurious
  # wake-ups can happen, as with core Ruby: wait in a loop that checks the
  # condition. A waiter whose process dies while it waits takes nothing
  # with it: later signals and broadcasts wake the remaining waiters. When
  # {#wait} takes the mutex again, it may take it over from a process that
  # died holding it: check `previous_owner_died?` after waiting too.
  #
  # @example
  #   mutex = ProcessShared::Mutex.new
  #   ready = ProcessShared::ConditionVariable.new
  #   flag = ProcessShared::SharedMemory.new(:int)
  #   fork { mutex.synchronize { flag.put_int(0, 1); ready.signal } }
  #   mutex.synchronize { ready.wait(mutex) while flag.get_int(0).zero? }
  class ConditionVariable
    extend Open

    # @!method initialize
    #   A new condition variable, shared with the processes forked after
    #   this.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.

    # @!method wait(mutex, timeout = nil)
    #   Releases `mutex` (a {Mutex}, or a {Monitor} however deeply entered),
    #   waits for {#signal} or {#broadcast} or the timeout, and holds `mutex`
    #   again (at the same depth) before returning, also on timeout and when
    #   an exception (`Thread#raise`, `Timeout`, `Interrupt`) ends the wait.
    #   Blocks, with the GVL released.
    #   @param mutex [Mutex, Monitor] held by the calling thread
    #   @param timeout [Integer, Float, nil] seconds; `nil` waits until
    #     signalled
    #   @return [Integer, nil] as `Thread::ConditionVariable#wait` on Ruby
    #     3.1: the whole seconds waited when woken, `nil` when the timeout
    #     passed
    #   @raise [ProcessError] unless the calling thread holds `mutex`
    #   @raise [TypeError] if `mutex` is not a {Mutex} or {Monitor}, or
    #     `timeout` not an Integer or a Float
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [ClosedError] if this condition or `mutex` is closed

    # @!method signal
    #   Wakes one waiting thread, in any process, if there is one. Need not
    #   be called with the mutex held; never blocks.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method broadcast
    #   Wakes every thread waiting now, in every process. Never blocks.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle; other processes keep theirs.
    #   Idempotent; any later use of this object raises {ClosedError}.
    #   @return [nil]

    # @!method waiting
    #   How many threads, of all processes, are waiting on this condition
    #   now (a snapshot; a waiter whose process died is no longer counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::ConditionVariable 2 waiting>`;
    #   `closed` after {#close}. Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]
  end
end
