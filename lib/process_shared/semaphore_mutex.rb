# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # What {Semaphore#to_mtx} returns: the interface of a mutex over a
  # semaphore, with no owner checks at all. {#lock} is {Semaphore#wait} and
  # {#unlock} is {Semaphore#post}, from any thread or process; unlocking a
  # view that is not locked raises the semaphore's value instead of raising
  # an error. Fast, for code already known to be correct; use {Mutex} to
  # have misuse detected.
  #
  # @example
  #   lock = ProcessShared::Semaphore.new(1).to_mtx
  #   lock.synchronize { :inside } # => :inside
  class SemaphoreMutex
    extend Open

    # @!method initialize(semaphore)
    #   A view of `semaphore` (shared, not copied), as {Semaphore#to_mtx}.
    #   @param semaphore [Semaphore]
    #   @raise [TypeError] if `semaphore` is not a {Semaphore}
    #   @raise [ClosedError] if `semaphore` is closed

    # @!method lock
    #   Waits on the semaphore: blocks (GVL released, interruptible) while
    #   its value is 0, then decrements it.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method try_lock(timeout = nil)
    #   Decrements the semaphore if that is possible in time: without a
    #   timeout (or `nil`) it never blocks; with one it waits up to that many
    #   seconds (GVL released, interruptible).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the semaphore was decremented
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method unlock
    #   Posts the semaphore (waking one waiter), whoever locked it. Never
    #   blocks.
    #   @return [self]
    #   @raise [RangeError] if the semaphore's value is at the system's maximum
    #   @raise [ClosedError] after {#close}

    # @!method locked?
    #   Whether the semaphore's value is 0. Does not acquire it; never
    #   blocks.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Locks (blocking as {#lock}), yields, and unlocks when the block ends,
    #   also when it raises or breaks.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method sleep(timeout = nil)
    #   Unlocks, sleeps as `Kernel#sleep` (until the timeout passes or the
    #   thread is woken by `Thread#wakeup` or `Thread#run`), and locks again
    #   before returning, also when an exception interrupts the sleep.
    #   Blocks, with the GVL released.
    #   @param timeout [Integer, Float, nil] seconds; `nil`, `Float::INFINITY`
    #     and 2**62 or more (as for every wait) sleep until woken
    #   @return [Integer, nil] as `Thread::Mutex#sleep` on Ruby 3.1: `nil`
    #     when the timeout passed, else the whole seconds slept
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this view's handle; the semaphore itself, and other views
    #   of it, stay open. Idempotent.
    #   @return [nil]

    # @!method inspect
    #   `locked` or `unlocked`, e.g. `#<ProcessShared::SemaphoreMutex locked>`;
    #   `closed` after {#close}. Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this view in this process.
    #   @return [Boolean]
  end
end
