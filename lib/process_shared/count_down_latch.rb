# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A latch shared across fork, with the interface of concurrent-ruby's
  # `Concurrent::CountDownLatch`: {#wait} blocks until {#count_down} has
  # been called `count` times, by any threads of any processes.
  #
  # @example The parent waits until three children are ready
  #   latch = ProcessShared::CountDownLatch.new(3)
  #   3.times { fork { prepare; latch.count_down; work } }
  #   latch.wait(10) or raise "children not ready"
  class CountDownLatch
    extend Open

    # @!method initialize(count = 1)
    #   A new latch. It uses no file descriptor and leaves no name in
    #   `/dev/shm`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}. `count` applies only when this call creates it.
    #   @param count [Integer] count-downs before it opens (0: open now)
    #   @raise [ArgumentError] if `count` is negative
    #   @raise [TypeError] if `count` is not an Integer

    # @!method count_down
    #   Counts down by one (not below 0), releasing the waiters when it
    #   reaches 0. Never blocks.
    #   @return [nil]
    #   @raise [ClosedError] after {#close}

    # @!method count
    #   The count-downs still needed before the latch opens.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method wait(timeout = nil)
    #   Waits until the count is 0 (GVL released, interruptible).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] true once the count is 0, false when the timeout
    #     passed first
    #   @raise [ArgumentError] if `timeout` is negative
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle on the latch; other processes keep
    #   theirs. Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::CountDownLatch count 2>`; `closed` after {#close},
    #   `uninitialized` on an object never initialized. Never raises.
    #   @return [String]

    # Same as {#inspect}.
    # @return [String]
    alias to_s inspect
  end
end
