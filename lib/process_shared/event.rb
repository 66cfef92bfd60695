# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # An event shared across fork, with the interface of concurrent-ruby's
  # `Concurrent::Event`: once {#set}, every {#wait} returns true at once,
  # until {#reset}. A `set` followed at once by `reset` still releases every
  # thread that was waiting when it was set.
  #
  # @example Children wait for the parent's go
  #   go = ProcessShared::Event.new
  #   pids = Array.new(4) { fork { go.wait; work } }
  #   go.set
  class Event
    extend Open

    # @!method initialize
    #   A new event, not set. It uses no file descriptor and leaves no name
    #   in `/dev/shm`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.

    # @!method set
    #   Sets the event, waking every waiting thread of every process.
    #   @return [true]
    #   @raise [ClosedError] after {#close}

    # @!method try?
    #   Sets the event if it is not set.
    #   @return [Boolean] true if this call set it, false if it was set
    #   @raise [ClosedError] after {#close}

    # @!method set?
    #   Whether the event is set.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method reset
    #   Unsets the event (nothing if it was not set).
    #   @return [true]
    #   @raise [ClosedError] after {#close}

    # @!method wait(timeout = nil)
    #   Waits until the event is set (GVL released, interruptible).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] true once set, false when the timeout passed first
    #   @raise [ArgumentError] if `timeout` is negative
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle on the event; other processes keep
    #   theirs. Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::Event set>`; `closed` after {#close},
    #   `uninitialized` on an object never initialized. Never raises.
    #   @return [String]

    # Same as {#inspect}.
    # @return [String]
    alias to_s inspect
  end
end
