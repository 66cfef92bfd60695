# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A semaphore whose value is only ever 0 or 1, shared across fork. A post
  # at 1 raises {ProcessError} and changes nothing: no process can ever see
  # the value 2.
  class BinarySemaphore
    extend Open

    # @!method initialize(value = 1)
    #   @param value [Integer] 0 or 1
    #   @raise [ArgumentError] for any other value

    # @!method wait
    #   Takes the 1, waiting (GVL released, interruptible) while the value is 0.
    #   @return [self]

    # @!method try_wait(timeout = nil)
    #   Without a timeout: takes the 1 now or raises `Errno::EAGAIN`. With a
    #   timeout (seconds): waits up to that long, then raises `Errno::ETIMEDOUT`.
    #   @return [self]

    # @!method post
    #   Raises the value from 0 to 1, waking one waiter.
    #   @return [self]
    #   @raise [ProcessError] if the value is already 1 (it stays 1)

    # @!method value
    #   @return [Integer] 0 or 1

    # @!method synchronize
    #   Waits, yields, posts (even when the block raises).
    #   @return [Object] the block's value

    # @!method close
    #   Releases this process's handle; idempotent.
    #   @return [nil]

    # @!method closed?
    #   @return [Boolean]
  end
end
