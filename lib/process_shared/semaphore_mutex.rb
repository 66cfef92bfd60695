# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # What {Semaphore#to_mtx} returns: the interface of a mutex over a
  # semaphore, with no owner checks at all (`lock` is `wait`, `unlock` is
  # `post`, from any thread or process). Fast, for code already known to be
  # correct; use {Mutex} to have misuse detected.
  class SemaphoreMutex
    extend Open

    # @!method initialize(semaphore)
    #   @param semaphore [Semaphore] the semaphore to view (shared, not copied)

    # @!method lock
    #   Waits on the semaphore.
    #   @return [self]

    # @!method try_lock(timeout = nil)
    #   @return [Boolean] whether the semaphore was decremented (waiting up to
    #     `timeout` seconds when given)

    # @!method unlock
    #   Posts the semaphore.
    #   @return [self]

    # @!method locked?
    #   @return [Boolean] whether the semaphore's value is 0 (does not acquire)

    # @!method synchronize
    #   Waits, yields, posts (even when the block raises).
    #   @return [Object] the block's value

    # @!method sleep(timeout = nil)
    #   Posts, sleeps as `Kernel#sleep`, and waits on the semaphore again
    #   before returning (also when an exception interrupts the sleep).
    #   @return [Integer, nil] as `Thread::Mutex#sleep`

    # @!method close
    #   Releases this view's handle (the semaphore itself stays open).
    #   @return [nil]

    # @!method closed?
    #   @return [Boolean]
  end
end
