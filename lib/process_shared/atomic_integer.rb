# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A signed 64-bit integer in memory shared across fork, with the interface
  # of `Concurrent::AtomicFixnum` plus {#max!} and {#min!}: a counter, a
  # gauge or a peak that every thread of every process updates without a
  # lock.
  #
  # Every operation is sequentially consistent and lock-free: one atomic
  # instruction, or a compare-and-swap loop that retries when another
  # writer got in between. None makes a system call or blocks, so none
  # releases the GVL, and a process killed at any moment leaves either the
  # old or the new value. Arithmetic never wraps: a result outside
  # -2**63...2**63 raises RangeError and leaves the value as it was.
  #
  # Arguments must be Integers (TypeError otherwise, with no implicit
  # conversion); values outside the 64-bit range raise RangeError. At the
  # edges where concurrent-ruby's C and Ruby implementations disagree, this
  # class follows its Ruby one: a `compare_and_set` whose expected value
  # lies outside the range returns false.
  #
  # Each AtomicInteger maps a page of its own; for many counters, use the
  # same operations on the elements of a {SharedArray} (`:int64`, or any
  # other integer type).
  #
  # @example Requests served by every worker
  #   served = ProcessShared::AtomicInteger.new
  #   workers = Array.new(4) { fork { 1000.times { served.increment } } }
  #   workers.each { |pid| Process.wait(pid) }
  #   served.value # => 4000
  #
  # @example A peak
  #   in_flight = ProcessShared::AtomicInteger.new
  #   peak = ProcessShared::AtomicInteger.new
  #   peak.max!(in_flight.increment)
  #   # … serve the request …
  #   in_flight.decrement
  class AtomicInteger
    extend Open

    # @!method initialize(value = 0)
    #   A new integer, shared with the processes forked after this. It uses
    #   no file descriptor and leaves no name in `/dev/shm`.
    #   @param value [Integer] the initial value
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit 64 bits

    # @!method value
    #   The current value.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method value=(value)
    #   Sets the value.
    #   @param value [Integer]
    #   @return [Integer] `value`
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit 64 bits
    #   @raise [ClosedError] after {#close}

    # @!method increment(delta = 1)
    #   Adds `delta` (which may be negative).
    #   @param delta [Integer]
    #   @return [Integer] the new value
    #   @raise [TypeError] if `delta` is not an Integer
    #   @raise [RangeError] if the result does not fit 64 bits (the value is
    #     left unchanged)
    #   @raise [ClosedError] after {#close}

    # @!method up(delta = 1)
    #   Same as {#increment}.
    #   @param delta [Integer]
    #   @return [Integer] the new value
    #   @raise [TypeError, RangeError, ClosedError] as {#increment}

    # @!method decrement(delta = 1)
    #   Subtracts `delta` (which may be negative).
    #   @param delta [Integer]
    #   @return [Integer] the new value
    #   @raise [TypeError] if `delta` is not an Integer
    #   @raise [RangeError] if the result does not fit 64 bits (the value is
    #     left unchanged)
    #   @raise [ClosedError] after {#close}

    # @!method down(delta = 1)
    #   Same as {#decrement}.
    #   @param delta [Integer]
    #   @return [Integer] the new value
    #   @raise [TypeError, RangeError, ClosedError] as {#decrement}

    # @!method compare_and_set(expected, new)
    #   Sets the value to `new` if it is `expected`, in one atomic step.
    #   @param expected [Integer]
    #   @param new [Integer]
    #   @return [Boolean] whether the value was `expected` (and is now `new`)
    #   @raise [TypeError] if an argument is not an Integer
    #   @raise [RangeError] if `new` does not fit 64 bits
    #   @raise [ClosedError] after {#close}

    # @!method get_and_set(new)
    #   Sets the value, in one atomic step with reading the old one.
    #   @param new [Integer]
    #   @return [Integer] the value before
    #   @raise [TypeError] if `new` is not an Integer
    #   @raise [RangeError] if `new` does not fit 64 bits
    #   @raise [ClosedError] after {#close}

    # @!method swap(new)
    #   Same as {#get_and_set}.
    #   @param new [Integer]
    #   @return [Integer] the value before
    #   @raise [TypeError, RangeError, ClosedError] as {#get_and_set}

    # @!method update
    #   Replaces the value with the block's value for it. If another thread
    #   or process changes the value between the read and the write, the
    #   block is called again with the fresh value, so it may run more than
    #   once and should have no side effects; exactly one of its results is
    #   stored. The block runs with the GVL held and no lock taken.
    #   @yieldparam value [Integer] the current value
    #   @yieldreturn [Integer] the value to store
    #   @return [Integer] the value stored
    #   @raise [LocalJumpError] without a block
    #   @raise [TypeError] if the block returns something else than an
    #     Integer (nothing is stored)
    #   @raise [RangeError] if the block's value does not fit 64 bits
    #     (nothing is stored)
    #   @raise [ClosedError] after {#close}

    # @!method max!(value)
    #   Keeps the larger of the current value and `value`, in one atomic
    #   step: for peaks. A value that is kept is not written at all.
    #   @param value [Integer]
    #   @return [Integer] the value after
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit 64 bits
    #   @raise [ClosedError] after {#close}

    # @!method min!(value)
    #   Keeps the smaller of the current value and `value`, in one atomic
    #   step: for minimums. A value that is kept is not written at all.
    #   @param value [Integer]
    #   @return [Integer] the value after
    #   @raise [TypeError] if `value` is not an Integer
    #   @raise [RangeError] if `value` does not fit 64 bits
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Unmaps the integer in this process; other processes keep theirs.
    #   Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this handle.
    #   @return [Boolean] true after {#close}

    # The value and the class, as `Concurrent::AtomicFixnum` shows them;
    # never raises (also after {#close}).
    #
    # @return [String] e.g. `#<ProcessShared::AtomicInteger value:42>`
    def inspect
      state = if closed? then "closed"
              else
                begin
                  "value:#{value}"
                rescue ClosedError
                  "not initialized"
                end
              end
      "#<#{self.class} #{state}>"
    end

    alias to_s inspect
  end
end
