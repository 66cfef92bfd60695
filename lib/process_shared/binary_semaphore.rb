# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A semaphore whose value is only ever 0 or 1, shared across fork. A
  # {#post} at 1 raises {ProcessError} and changes nothing: no process can
  # ever see the value 2. Like {Semaphore}, it has no owner: any thread of
  # any process may post it.
  #
  # @example A signal from a child to its parent
  #   done = ProcessShared::BinarySemaphore.new(0)
  #   fork { done.post }
  #   done.wait # returns once the child has posted
  class BinarySemaphore
    extend Open

    # @!method initialize(value = 1)
    #   A new binary semaphore, shared with the processes forked after this.
    #   @param value [Integer] 0 or 1
    #   @raise [ArgumentError] for any other value
    #   @raise [TypeError] if `value` is not an Integer

    # @!method wait
    #   Takes the 1: blocks (GVL released, interruptible) while the value is
    #   0, then sets it to 0.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method try_wait(timeout = nil)
    #   Takes the 1 if that is possible in time. Without a timeout (or
    #   `nil`) it never blocks; with one it waits up to that many seconds
    #   (GVL released, interruptible).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [self]
    #   @raise [Errno::EAGAIN] without a timeout, if the value is 0
    #   @raise [Errno::ETIMEDOUT] if the timeout passed with the value at 0
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method post
    #   Raises the value from 0 to 1, waking one waiter. Never blocks.
    #   @return [self]
    #   @raise [ProcessError] if the value is already 1 (it stays 1)
    #   @raise [ClosedError] after {#close}

    # @!method value
    #   The current value: a snapshot, which other processes may change at
    #   once. Never blocks.
    #   @return [Integer] 0 or 1
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Waits (as {#wait}), yields, and posts when the block ends, also when
    #   it raises or breaks.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle; other processes keep theirs.
    #   Idempotent; any later use of this object raises {ClosedError}.
    #   @return [nil]

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::BinarySemaphore value 1, 0 waiting>`;
    #   `closed` after {#close}. Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]
  end
end
