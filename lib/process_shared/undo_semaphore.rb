# frozen_string_literal: true

require "process_shared/semaphore"

module ProcessShared
  # What `Semaphore.new(value, undo: true)` makes: a counting semaphore that
  # knows who holds its units, so that a holder that dies does not shrink
  # it for good (a bulkhead that slowly closes).
  #
  # - Units are held by the fiber (of a thread of a process) that took them
  #   with {#wait}, {#try_wait} or {#synchronize}. {#post} gives back a unit
  #   the caller holds, and raises {ProcessError} if it holds none: unlike a
  #   plain {Semaphore}, a thread cannot post what another took.
  # - When the holding process dies (even by `SIGKILL`), its units come
  #   back: a thread waiting in {#wait} gets them within about 100 ms, and a
  #   {#try_wait} that finds the value at 0 looks for dead holders first. A
  #   thread that ends without posting gives its units back when it ends, as
  #   `Thread::Mutex` is released. A live holder never loses its units,
  #   however long it holds them, also while stopped (`SIGSTOP`); a new
  #   process that reuses a dead holder's pid is not mistaken for it.
  # - At most {HOLDERS} fibers (of all processes together) hold units at
  #   one time. A {#wait} that finds every holder slot taken waits for one
  #   to free up, as it waits for a unit: it never fails because of it.
  # - Values up to 2147483647, as a plain {Semaphore}'s.
  #
  # Uncontended, {#wait} and {#post} make no system call.
  #
  # @example A bulkhead that a killed worker cannot shrink
  #   slots = ProcessShared::Semaphore.new(2, undo: true)
  #   pid = fork { slots.wait; Process.kill(:KILL, Process.pid) }
  #   Process.wait(pid)
  #   slots.wait # the dead worker's unit came back
  #   slots.post
  class UndoSemaphore < Semaphore
    # How many holders (fibers of all processes together) may hold units at
    # one time; a waiter that finds no free holder slot waits for one.
    HOLDERS = 1024

    # @!method initialize(value = 1)
    #   A new semaphore whose units come back when their holder dies. Usually
    #   made by `Semaphore.new(value, undo: true)`.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}. `value` applies only when this call creates it.
    #   @param value [Integer] the initial value, 0 up to 2147483647
    #   @raise [ArgumentError] if `value` is negative or above the maximum
    #   @raise [TypeError] if `value` is not an Integer

    # @!method wait
    #   Takes a unit for the calling fiber, first waiting while the value is
    #   0 (or every holder slot is taken). Blocks (GVL released,
    #   interruptible); while it waits it gives back the units of holders
    #   that died.
    #   @return [self]
    #   @raise [ClosedError] after {#close}

    # @!method try_wait(timeout = nil)
    #   Takes a unit if that is possible in time, as {Semaphore#try_wait};
    #   at 0, the units of holders that died are given back first.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [self]
    #   @raise [Errno::EAGAIN] without a timeout, if no unit is free
    #   @raise [Errno::ETIMEDOUT] if the timeout passed first
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method post
    #   Gives back one unit the calling fiber holds, waking waiters.
    #   @return [self]
    #   @raise [ProcessError] if the calling fiber holds no unit
    #   @raise [ClosedError] after {#close}

    # @!method value
    #   The free units now (a snapshot). Units of a dead holder count once
    #   a waiter has taken them back.
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method holders
    #   Who holds units now: one `[pid, units]` pair per process, ordered by
    #   pid (a snapshot, which may include a holder that died and whose
    #   units no waiter has taken back yet).
    #   @return [Array<Array(Integer, Integer)>]
    #   @raise [ClosedError] after {#close}

    # @!method waiting
    #   How many threads of all processes wait in {#wait} or {#try_wait}
    #   now (a waiter whose process died is no longer counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Takes a unit (as {#wait}), yields, and gives it back when the block
    #   ends, also when it raises or breaks.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The value, the holders and the waiters, e.g.
    #   `#<ProcessShared::UndoSemaphore value 1, held by {4242: 1}, 0 waiting>`.
    #   Never raises.
    #   @return [String]

    # @!method close
    #   Gives back the units the calling fiber holds, then releases this
    #   process's handle. Idempotent.
    #   @return [nil]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # Not available: a mutex view without owner checks would let any thread
    # post units that others hold. Use {Mutex} for a lock.
    # @raise [NotImplementedError] always
    # @return [void]
    def to_mtx
      raise NotImplementedError, "#{self.class}#to_mtx: use ProcessShared::Mutex for a lock with an owner"
    end
  end
end
