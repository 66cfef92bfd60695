# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A first-in, first-out queue of Ruby objects shared across fork, with
  # the interface of Ruby's `Thread::Queue` (as of Ruby 3.2). Objects travel
  # through a fixed ring buffer of shared memory, so any object that
  # `Marshal.dump` accepts can be pushed by one process and popped by
  # another; the popped object is a copy, the same as
  # `Marshal.load(Marshal.dump(object))` gives. Plain data (`nil`, `true`,
  # `false`, Integers, Floats, Strings, Symbols, and Arrays and Hashes of
  # them) travels in a compact native encoding, much faster than `Marshal`;
  # everything else as `Marshal` data.
  #
  # {#push} blocks only while the buffer has no room for the item; an item
  # larger than the whole buffer raises ArgumentError at once. {#pop} blocks
  # while the queue is empty. Waits release the GVL and can be interrupted
  # (`Thread#raise`, `Timeout.timeout`, signals) without losing or
  # duplicating an item.
  #
  # Crash safety: a producer or consumer killed at any point, even by
  # `SIGKILL` in the middle of copying an item, never wedges the queue and
  # never leaves a half-written item visible. Every item pushed is popped
  # exactly once, except one whose bytes a killed consumer had already taken
  # off the queue (its `pop` was returning).
  #
  # {#close} closes the queue itself, for every process, as
  # `Thread::Queue#close` does: pushes raise `ClosedQueueError`, pops drain
  # what is left and then return nil at once. `Queue.open { |queue| … }`
  # therefore closes the queue when the block ends.
  #
  # @example A parent hands work to a forked child
  #   queue = ProcessShared::Queue.new
  #   pid = fork { while (job = queue.pop); puts "working on #{job[:id]}"; end }
  #   3.times { |id| queue << { id: id } }
  #   queue.close
  #   Process.wait(pid)
  class Queue
    extend Open

    # The default size of the shared buffer, in bytes (1 MiB).
    DEFAULT_BYTES = 1 << 20

    # A new, empty queue shared with the processes forked after this. It
    # uses no file descriptor and leaves no name in `/dev/shm`.
    # @param bytes [Integer] the size of the shared buffer (64 bytes to
    #   2 GiB, rounded up to a multiple of 8); each item takes its encoded
    #   form (about the size of its Marshal data) plus 8 to 15 bytes
    # @raise [ArgumentError] if `bytes` is out of range
    # @raise [TypeError] if `bytes` is not an Integer
    def initialize(bytes: DEFAULT_BYTES)
      _init(bytes, nil)
    end

    # Appends `object` (a copy of it, as `Marshal` makes), waking a waiting
    # consumer.
    # Blocks while the buffer has no room (and, for a {SizedQueue}, while
    # it holds {SizedQueue#max} items).
    # @param object [Object] anything `Marshal.dump` accepts
    # @param non_block [Boolean] raise ThreadError instead of waiting
    # @param timeout [Integer, Float, nil] seconds to wait at most
    # @return [self, nil] self, or nil when the timeout passed first
    # @raise [ClosedQueueError] if the queue is closed (also while waiting)
    # @raise [ThreadError] if `non_block` and there is no room
    # @raise [ArgumentError] if the encoded object can never fit in
    #   the buffer (the queue is untouched), or `timeout` is negative
    # @raise [TypeError] if `Marshal.dump` refuses the object
    # @raise [ClosedError] on an object that was never initialized
    def push(object, non_block = false, timeout: nil) # rubocop:disable Style/OptionalBooleanParameter -- as Thread::Queue
      _push(object, non_block, timeout) ? self : nil
    end

    # Same as {#push}.
    # @param object [Object] anything `Marshal.dump` accepts
    # @return [self]
    # @raise [ClosedQueueError] if the queue is closed
    # @raise [ArgumentError] if the object can never fit in the buffer
    # @raise [ClosedError] on an object that was never initialized
    def <<(object)
      push(object)
    end

    # Same as {#push}.
    # @param (see #push)
    # @return (see #push)
    # @raise (see #push)
    def enq(object, non_block = false, timeout: nil) # rubocop:disable Style/OptionalBooleanParameter
      push(object, non_block, timeout:)
    end

    # Removes and returns the first object, waiting while the queue is
    # empty and open.
    # @param non_block [Boolean] raise ThreadError instead of waiting
    # @param timeout [Integer, Float, nil] seconds to wait at most
    # @return [Object, nil] the object, or nil when the timeout passed or
    #   the queue is closed and empty
    # @raise [ThreadError] if `non_block` and the queue is empty
    # @raise [ArgumentError] if both `non_block` and `timeout` are given,
    #   or `timeout` is negative
    # @raise [ClosedError] on an object that was never initialized
    def pop(non_block = false, timeout: nil) # rubocop:disable Style/OptionalBooleanParameter -- as Thread::Queue
      _pop(non_block, timeout)
    end

    # Same as {#pop}.
    # @param (see #pop)
    # @return (see #pop)
    # @raise (see #pop)
    def shift(non_block = false, timeout: nil) # rubocop:disable Style/OptionalBooleanParameter
      pop(non_block, timeout:)
    end

    # Same as {#pop}.
    # @param (see #pop)
    # @return (see #pop)
    # @raise (see #pop)
    def deq(non_block = false, timeout: nil) # rubocop:disable Style/OptionalBooleanParameter
      pop(non_block, timeout:)
    end

    # @!method size
    #   The number of objects in the queue: a snapshot, which other
    #   processes may change at once. Never blocks.
    #   @return [Integer]
    #   @raise [ClosedError] on an object that was never initialized

    # @!method empty?
    #   Whether the queue holds no object (a snapshot).
    #   @return [Boolean]
    #   @raise [ClosedError] on an object that was never initialized

    # @!method clear
    #   Removes every object, waking producers waiting for room.
    #   @return [self]
    #   @raise [ClosedError] on an object that was never initialized

    # @!method close
    #   Closes the queue for every process and wakes every waiter: waiting
    #   pushes raise `ClosedQueueError`, waiting pops return nil. Objects
    #   already in the queue can still be popped. Idempotent.
    #   @return [self]

    # @!method closed?
    #   Whether the queue was closed (by any process).
    #   @return [Boolean]

    # @!method num_waiting
    #   The number of threads, in all processes, blocked in {#pop} or
    #   {#push} on this queue; threads of processes that died while waiting
    #   are not counted.
    #   @return [Integer]
    #   @raise [ClosedError] on an object that was never initialized

    # @!method bytes
    #   The size of the shared buffer in bytes.
    #   @return [Integer]
    #   @raise [ClosedError] on an object that was never initialized

    # Same as {#size}.
    # @return [Integer]
    # @raise [ClosedError] on an object that was never initialized
    alias length size

    # The number of threads blocked on the queue, as {#num_waiting}.
    # @return [Integer]
    # @raise [ClosedError] on an object that was never initialized
    def waiting
      num_waiting
    end

    # The queue's state, for people. Never raises, not even on an object
    # never initialized.
    # @return [String] e.g. `#<ProcessShared::Queue 3 items, 1 waiting>`
    def inspect
      state = ["#{size} items"]
      state << "max #{max}" if respond_to?(:max)
      waiting = num_waiting
      state << "#{waiting} waiting" if waiting.positive?
      state << "closed" if closed?
      "#<#{self.class} #{state.join(', ')}>"
    rescue StandardError
      "#<#{self.class} uninitialized>"
    end
    # Same as {#inspect}.
    # @return [String]
    alias to_s inspect
  end

  # A {Queue} that also holds at most {#max} objects: {#push} waits while it
  # is full, as with Ruby's `Thread::SizedQueue`.
  #
  # @example Four workers fed through a bounded queue
  #   jobs = ProcessShared::SizedQueue.new(8) # push waits while 8 are pending
  #   workers = Array.new(4) { fork { while (n = jobs.pop); puts n * n; end } }
  #   100.times { |n| jobs.push(n) }
  #   jobs.close # the workers' pop returns nil once the queue is drained
  #   workers.each { |pid| Process.wait(pid) }
  class SizedQueue < Queue
    # A new, empty queue of at most `max` objects.
    # @param max [Integer] the most objects it holds (positive)
    # @param bytes [Integer] the size of the shared buffer, as {Queue#initialize}
    # @raise [ArgumentError] if `max` is not positive or `bytes` is out of range
    # @raise [TypeError] if `max` or `bytes` is not an Integer
    def initialize(max, bytes: DEFAULT_BYTES) # rubocop:disable Lint/MissingSuper
      _init(bytes, max)
    end

    # The most objects the queue holds.
    # @return [Integer]
    # @raise [ClosedError] on an object that was never initialized
    def max
      _max
    end

    # Changes the most objects the queue holds, for every process; waiting
    # producers recheck.
    # @param max [Integer] positive
    # @return [void] (an assignment returns `max`)
    # @raise [ArgumentError] if `max` is not positive
    # @raise [ClosedError] on an object that was never initialized
    def max=(max)
      _set_max(max)
    end
  end
end
