# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A mutual-exclusion lock shared across fork, with the interface and the
  # behaviour of `Thread::Mutex`. Its owner is one fiber of one thread of one
  # process, as `Thread::Mutex`'s is since Ruby 3.0: other threads and
  # fibers of the same process contend for it exactly as other processes
  # do, and only the owner may unlock it ({ProcessError} otherwise).
  # Without a fiber scheduler, locking what another fiber of the same
  # thread holds could never succeed, and raises {ProcessError}; under a
  # `Fiber.scheduler` (the async gem) a waiting fiber lets the other fibers
  # of its thread run.
  #
  # Waits release the GVL and can be interrupted (`Thread#raise`,
  # `Timeout.timeout`, signals), leaving the lock as it was.
  #
  # When the process holding the lock dies (even by `SIGKILL`), a waiting or
  # later locker takes the lock over within about 100 ms, and
  # {#previous_owner_died?} tells it so while it holds the lock: the data
  # the lock protects may be half-written. A live holder never loses the
  # lock, however long it holds it, and a new process that reuses a dead
  # holder's pid is not mistaken for it.
  #
  # A live holder keeps the lock also while stopped. A thread that ends
  # without unlocking (returns, raises or is killed), in a process that
  # lives on, releases it, as `Thread::Mutex` is released when its thread
  # dies, and a waiter gets it at once.
  #
  # @example Processes taking turns
  #   mutex = ProcessShared::Mutex.new
  #   counter = ProcessShared::SharedMemory.new(:int)
  #   pids = Array.new(4) do
  #     fork { 1000.times { mutex.synchronize { counter.put_int(0, counter.get_int(0) + 1) } } }
  #   end
  #   pids.each { |pid| Process.wait(pid) }
  #   counter.get_int(0) # => 4000
  #
  # @example Recovering from a holder that died
  #   mutex.synchronize do
  #     repair(shared_state) if mutex.previous_owner_died?
  #     update(shared_state)
  #   end
  class Mutex
    extend Open

    # @!method initialize
    #   A new, unlocked mutex, shared with the processes forked after this.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.

    # @!method lock
    #   Takes the lock, blocking (GVL released, interruptible) while another
    #   thread or process holds it.
    #   @return [self]
    #   @raise [ProcessError] if the calling thread already holds it
    #   @raise [ClosedError] after {#close}

    # @!method try_lock(timeout = nil)
    #   Takes the lock if it is free. Without a timeout (or `nil`) it never
    #   blocks; with one (in seconds, an extension over `Thread::Mutex`) it
    #   waits up to that long (GVL released, interruptible;
    #   `Float::INFINITY` waits as long as {#lock}).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the lock was taken (false when the calling
    #     thread already holds it)
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method unlock
    #   Releases the lock, waking one waiter if there is one. Never blocks.
    #   @return [self]
    #   @raise [ProcessError] unless the calling thread of this process
    #     holds it
    #   @raise [ClosedError] after {#close}

    # @!method locked?
    #   Whether any thread of any process holds the lock (a snapshot).
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method owned?
    #   Whether the calling thread of this process holds the lock.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method previous_owner_died?
    #   Whether the calling thread holds the lock because it took it over
    #   from a process that died holding it: the data the lock protects may
    #   be half-written. Reset by the next acquisition; false when the
    #   caller does not hold the lock.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Locks (blocking as {#lock}), yields, and unlocks when the block ends,
    #   also when it raises or breaks.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ProcessError] if the calling thread already holds the lock
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method sleep(timeout = nil)
    #   Releases the lock, sleeps until `timeout` seconds pass or the thread
    #   is woken (`Thread#wakeup`, `Thread#run`, or spuriously), and takes
    #   the lock again before returning, also when an exception interrupts
    #   the sleep. Blocks, with the GVL released.
    #   @param timeout [Integer, Float, nil] seconds; `nil`, `Float::INFINITY`
    #     and 2**62 or more (as for every wait) sleep until woken
    #   @return [Integer, nil] as `Thread::Mutex#sleep` on Ruby 3.1: `nil`
    #     when the timeout passed, else the whole seconds slept
    #   @raise [ProcessError] unless the calling thread holds the lock
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle, unlocking first if the calling
    #   thread holds the lock (nothing could unlock it through this object
    #   later). Other processes keep theirs. Idempotent; any later use of
    #   this object raises {ClosedError}.
    #   @return [nil]

    # @!method owner_pid
    #   The pid of the process holding the lock (perhaps one that died and
    #   is not taken over yet), or nil when it is free. A snapshot.
    #   @return [Integer, nil]
    #   @raise [ClosedError] after {#close}

    # @!method waiting
    #   How many threads, of all processes, are blocked waiting for the
    #   lock now (a snapshot; a waiter whose process died is no longer
    #   counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::Mutex locked by 4242, 3 waiting>`
    #   or `#<ProcessShared::Mutex unlocked>`; `closed` after {#close}.
    #   Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]
  end
end
