# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A barrier for a fixed number of parties, shared across fork, with the
  # interface and the edges of Python's `multiprocessing.Barrier`: each
  # party calls {#wait}; all of them are released together when the last
  # one arrives, and the barrier is ready for the next round (generation).
  #
  # The barrier *breaks*, and every party waiting in it raises
  # {BrokenBarrierError}, when a {#wait} times out, when {#abort} is called,
  # when a waiting thread is interrupted (`Thread#raise`, `Timeout`,
  # signals: as Python's `wait` breaks the barrier when it raises), or when
  # a waiting party's process dies (within about 100 ms, even after
  # `SIGKILL`). A broken barrier stays broken, and every {#wait} raises at
  # once, until {#reset}.
  #
  # @example Every worker warmed up before any starts serving
  #   ready = ProcessShared::Barrier.new(4)
  #   workers = Array.new(4) { fork { warm_up; ready.wait; serve } }
  class Barrier
    extend Open

    # @!method initialize(parties)
    #   A new barrier for `parties` parties (1 to 65536). It uses no file
    #   descriptor and leaves no name in `/dev/shm`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}. Opening it with other `parties` than it was created with
    #   raises `ArgumentError`.
    #   @param parties [Integer]
    #   @raise [ArgumentError] if `parties` is out of range
    #   @raise [TypeError] if `parties` is not an Integer

    # @!method wait(timeout = nil)
    #   Waits until all parties have called it (GVL released).
    #   @param timeout [Integer, Float, nil] seconds; when it passes first,
    #     the barrier breaks
    #   @return [Integer] this party's arrival index, 0 for the first to
    #     arrive up to `parties - 1` for the last (which waits for no one)
    #   @raise [BrokenBarrierError] if the barrier is or becomes broken
    #   @raise [ArgumentError] if `timeout` is negative
    #   @raise [ClosedError] after {#close}

    # @!method parties
    #   The number of parties that must call {#wait} to trip the barrier.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method n_waiting
    #   How many parties wait in the current generation (0 while broken).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method broken?
    #   Whether the barrier is broken (until {#reset}).
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method reset
    #   Returns the barrier to a fresh, unbroken generation; parties waiting
    #   at that moment raise {BrokenBarrierError}.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method abort
    #   Breaks the barrier: parties waiting raise {BrokenBarrierError}, and
    #   so does every {#wait} until {#reset}.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle on the barrier; other processes keep
    #   theirs. Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::Barrier 2/4 waiting>`; `closed` after {#close},
    #   `uninitialized` on an object never initialized. Never raises.
    #   @return [String]

    # Same as {#inspect}.
    # @return [String]
    alias to_s inspect
  end
end
