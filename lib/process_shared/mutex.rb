# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A mutual-exclusion lock shared across fork, with the interface and the
  # behaviour of `Thread::Mutex`. Its owner is one thread of one process:
  # other threads of the same process contend for it exactly as other
  # processes do.
  #
  # When the process holding the lock dies (even by `SIGKILL`), a waiting or
  # later locker takes the lock over within about 100 ms, and
  # {#previous_owner_died?} tells it so while it holds the lock. A live
  # holder never loses the lock, however long it holds it (also while
  # stopped), and a later process that gets the dead holder's pid is not
  # mistaken for it. A thread that ends without unlocking, in a process that
  # lives on, leaves the lock held until that process exits (unlike
  # `Thread::Mutex`, which is released when its thread dies).
  #
  # @example Processes taking turns
  #   mutex = ProcessShared::Mutex.new
  #   counter = ProcessShared::SharedMemory.new(:int)
  #   pids = 4.times.map do
  #     fork { 1000.times { mutex.synchronize { counter.put_int(0, counter.get_int(0) + 1) } } }
  #   end
  #   pids.each { |pid| Process.wait(pid) }
  #   counter.get_int(0) # => 4000
  class Mutex
    extend Open

    # @!method initialize
    #   A new, unlocked mutex. Create it before forking the processes that
    #   share it.

    # @!method lock
    #   Takes the lock, waiting (GVL released, interruptible) while another
    #   thread or process holds it.
    #   @return [self]
    #   @raise [ProcessError] if the calling thread already holds it

    # @!method try_lock(timeout = nil)
    #   Takes the lock if it is free. Without a timeout it never blocks; with
    #   one (seconds, an extension over `Thread::Mutex`) it waits up to that
    #   long.
    #   @return [Boolean] whether the lock was taken (false when the calling
    #     thread already holds it)

    # @!method unlock
    #   Releases the lock.
    #   @return [self]
    #   @raise [ProcessError] unless the calling thread of this process holds it

    # @!method locked?
    #   @return [Boolean] whether any thread of any process holds the lock

    # @!method owned?
    #   @return [Boolean] whether the calling thread of this process holds it

    # @!method previous_owner_died?
    #   @return [Boolean] true while the caller holds a lock that it took
    #     over from a process that died holding it; the data the lock
    #     protects may be half-written. Reset by the next acquisition.

    # @!method synchronize
    #   Locks, yields, and unlocks even when the block raises.
    #   @return [Object] the block's value
    #   @raise [ProcessError] if the calling thread already holds the lock

    # @!method sleep(timeout = nil)
    #   Releases the lock, sleeps until `timeout` seconds pass or the thread
    #   is woken (`Thread#wakeup`, `Thread#run`, spuriously), and takes the
    #   lock again before returning, also when an exception interrupts the
    #   sleep.
    #   @return [Integer, nil] as `Thread::Mutex#sleep` on Ruby 3.1: `nil`
    #     when the timeout passed, else the whole seconds slept
    #   @raise [ProcessError] unless the calling thread holds the lock

    # @!method close
    #   Releases this process's handle (unlocking first if the calling thread
    #   holds the lock). Idempotent; later use raises {ClosedError}.
    #   @return [nil]

    # @!method closed?
    #   @return [Boolean]
  end
end
