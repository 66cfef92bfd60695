# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A counting semaphore shared across fork: a value that {#wait} decrements
  # (waiting while it is 0) and {#post} increments, from any thread of any
  # process that shares it. With a value of 1 it is a lock without owner
  # checks; see {Mutex} for a lock that detects misuse, {BinarySemaphore}
  # for a value that stays 0 or 1.
  #
  # As with POSIX semaphores, a semaphore does not know who took its units:
  # a process that dies between a wait and its post (even inside
  # {#synchronize}, when killed by `SIGKILL`) takes the unit with it, and the
  # value stays lower for good. Use a {Mutex} where a dead holder must not
  # keep a resource.
  #
  # Waits release the GVL and can be interrupted (`Thread#raise`,
  # `Timeout.timeout`, signals) without taking a unit or losing one.
  #
  # The value is a word of shared memory; waiters sleep on a platform
  # semaphore, which {#post} enters the kernel for only to wake one. On macOS
  # an anonymous semaphore's is a Mach semaphore: the fork hook ({ForkHook})
  # gives each child a right to it, and it stops working once the process
  # that created it has exited. A named one (`name:`, `path:`) sleeps on
  # futex words in the named object on both systems, with none of those
  # limits.
  #
  # @example At most two workers of six inside at once
  #   slots = ProcessShared::Semaphore.new(2)
  #   workers = Array.new(6) { fork { slots.synchronize { sleep 0.1 } } }
  #   workers.each { |pid| Process.wait(pid) }
  #
  # @example Waiting with a timeout
  #   begin
  #     ProcessShared::Semaphore.new(0).try_wait(0.1)
  #   rescue Errno::ETIMEDOUT
  #     puts "nobody posted within 0.1 s"
  #   end
  class Semaphore
    extend Open

    # A new semaphore; with `undo: true`, an {UndoSemaphore}, whose units
    # come back when their holder dies or its thread ends.
    # @param args [Array] the arguments of `initialize` (the value)
    # @param kwargs [Hash] options: `undo:`, and any other, passed on
    # @option kwargs [Boolean] :undo (false) whether a dead holder's units
    #   come back
    # @return [Semaphore]
    # @example
    #   ProcessShared::Semaphore.new(4, undo: true).class # => ProcessShared::UndoSemaphore
    def self.new(*args, **kwargs)
      return super unless kwargs.delete(:undo)

      require "process_shared/undo_semaphore"
      UndoSemaphore.new(*args, **kwargs)
    end

    # @!method initialize(value = 1)
    #   A new semaphore, shared with the processes forked after this. It
    #   uses no file descriptor and leaves no name in `/dev/shm`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.
    #   @param value [Integer] the initial value, 0 up to the system's
    #     maximum (`SEM_VALUE_MAX`, 2147483647 on Linux)
    #   @raise [ArgumentError] if `value` is negative or above the maximum
    #   @raise [TypeError] if `value` is not an Integer

    # @!method wait
    #   Decrements the value, first waiting while it is 0. Blocks (GVL
    #   released, interruptible) until another thread or process posts.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method try_wait(timeout = nil)
    #   Decrements the value if that is possible in time. Without a timeout
    #   (or `nil`) it never blocks; with one it waits up to that many
    #   seconds (GVL released, interruptible; `Float::INFINITY` waits as
    #   long as {#wait}).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [self]
    #   @raise [Errno::EAGAIN] without a timeout, if the value is 0
    #   @raise [Errno::ETIMEDOUT] if the timeout passed with the value at 0
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method post
    #   Increments the value, waking one waiting thread (of any process) if
    #   there is one. Never blocks.
    #   @return [self]
    #   @raise [RangeError] if the value is at the system's maximum (it
    #     stays there)
    #   @raise [ClosedError] after {#close}

    # @!method value
    #   The current value: a snapshot, which other processes may change at
    #   once. Never blocks.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Waits (as {#wait}), yields, and posts when the block ends, also when
    #   it raises or breaks.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method to_mtx
    #   A mutex-like view of this semaphore, with no owner checks: `lock`
    #   waits and `unlock` posts. See {SemaphoreMutex}.
    #   @return [SemaphoreMutex] a new view of the same semaphore
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle on the semaphore; other processes
    #   keep theirs. Idempotent. Any later use of this object raises
    #   {ClosedError}; views made by {#to_mtx} and copies made by `dup`
    #   keep working.
    #   @return [nil]

    # @!method waiting
    #   How many threads, of all processes, are blocked in {#wait} or a
    #   timed {#try_wait} now (a snapshot; a waiter whose process died is
    #   no longer counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::Semaphore value 0, 2 waiting>`;
    #   `closed` after {#close}. Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]
  end
end
