# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A read-write lock shared across fork, with the names of
  # `Concurrent::ReadWriteLock`: many readers at once, or one writer.
  #
  # - A writer that waits blocks new readers, so that a stream of readers
  #   cannot starve writers. A thread that already holds a read lock may
  #   take it again (and releases it as many times) even while a writer
  #   waits, since that writer waits for it.
  # - Holds belong to the fiber that took them: releasing a hold one does
  #   not have raises {ProcessError}, and so does taking the write lock while
  #   holding the lock (it would wait for itself for ever), or a read lock
  #   while holding the write lock.
  # - When a process holding a read or the write lock dies (even by
  #   `SIGKILL`), its holds are recovered as a {Mutex}'s: a waiter gets the
  #   lock within about 100 ms. A thread that ends holding a lock releases
  #   it. After a writer died holding the lock, {#previous_owner_died?} is
  #   true for whoever holds the lock, until a writer releases the write
  #   lock (the data may be half-written: repair it under the write lock).
  #   A live holder never loses its hold, also while stopped.
  # - At most {HOLDERS} fibers (of all processes) hold or wait for the write
  #   lock, or hold read locks, at one time; others wait for a free slot.
  #
  # Uncontended, taking and releasing a lock makes no system call. Waits
  # release the GVL and can be interrupted (`Thread#raise`,
  # `Timeout.timeout`, signals), leaving the lock as it was.
  #
  # @example Readers share, writers are alone
  #   lock = ProcessShared::ReadWriteLock.new
  #   pair = ProcessShared::SharedArray.new(:int64, 2)
  #   writer = fork { 100.times { |i| lock.with_write_lock { pair[0] = i; pair[1] = i } } }
  #   readers = Array.new(3) { fork { 100.times { lock.with_read_lock { exit!(1) if pair[0] != pair[1] } } } }
  #   Process.wait(writer)
  #   readers.each { |pid| Process.wait(pid) }
  class ReadWriteLock
    extend Open

    # How many fibers (of all processes) may hold the lock, or wait for the
    # write lock, at one time.
    HOLDERS = 1024

    # @!method initialize
    #   A new, free lock, shared with the processes forked after this. It
    #   uses no file descriptor and leaves no name in `/dev/shm`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.

    # @!method acquire_read_lock
    #   Takes a read lock, waiting while a writer holds or waits for the
    #   lock (GVL released, interruptible).
    #   @return [true]
    #   @raise [ProcessError] if the calling fiber holds the write lock
    #   @raise [RangeError] with 1048575 read locks held already
    #   @raise [ClosedError] after {#close}

    # @!method release_read_lock
    #   Releases one read lock of the calling fiber.
    #   @return [true]
    #   @raise [ProcessError] if the calling fiber holds no read lock
    #   @raise [ClosedError] after {#close}

    # @!method acquire_write_lock
    #   Takes the write lock, waiting until no one else holds the lock
    #   (GVL released, interruptible). New readers wait meanwhile.
    #   @return [true]
    #   @raise [ProcessError] if the calling fiber holds the lock already
    #   @raise [ClosedError] after {#close}

    # @!method release_write_lock
    #   Releases the write lock of the calling fiber.
    #   @return [true]
    #   @raise [ProcessError] if the calling fiber does not hold it
    #   @raise [ClosedError] after {#close}

    # @!method try_read_lock(timeout = nil)
    #   Takes a read lock if possible in time: without a timeout, now or
    #   never (false also when the calling fiber holds the write lock); with
    #   one, waiting up to that many seconds.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the lock was taken
    #   @raise [ProcessError] with a timeout, if the calling fiber holds the
    #     write lock
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method try_write_lock(timeout = nil)
    #   Takes the write lock if possible in time: without a timeout, now or
    #   never (false also when the calling fiber holds the lock); with one,
    #   waiting up to that many seconds (and new readers wait meanwhile).
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the lock was taken
    #   @raise [ProcessError] with a timeout, if the calling fiber holds the
    #     lock already
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method with_read_lock
    #   Yields under a read lock, released when the block ends (also when
    #   it raises or breaks).
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ArgumentError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method with_write_lock
    #   Yields under the write lock, released when the block ends (also
    #   when it raises or breaks).
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ArgumentError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method write_locked?
    #   Whether a writer holds the lock now.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method has_waiters?
    #   Whether any thread of any process waits for the lock now.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method waiting
    #   How many threads of all processes wait for the lock now (a waiter
    #   whose process died is no longer counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method previous_owner_died?
    #   True while the calling fiber holds the lock and the last writer died
    #   holding it (or its thread ended holding it), until a writer
    #   releases the write lock.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::ReadWriteLock write locked by 4242, 2 waiting>`
    #   or `#<ProcessShared::ReadWriteLock read locked (3), 0 waiting>`.
    #   Never raises.
    #   @return [String]

    # @!method close
    #   Releases the holds of the calling fiber, then this process's handle
    #   on the lock; other processes keep theirs. Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]
  end
end
