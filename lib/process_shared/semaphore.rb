# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A counting semaphore shared across fork. Native methods: #wait, #post,
  # #try_wait, #value, #synchronize, #close, #closed?.
  #
  # On macOS it is a Mach semaphore: the fork hook ({ProcessShared::ForkHook})
  # gives each child a right to it, it cannot report its value, and it stops
  # working once the process that created it has exited.
  #
  # @!method value
  #   The current value (a snapshot: other processes may change it at once).
  #   @return [Integer]
  #   @raise [NotImplementedError] on macOS, where Mach semaphores cannot
  #     report their value
  #   @raise [ProcessShared::ClosedError] after {#close}
  class Semaphore
    extend Open

    # @!method to_mtx
    #   A mutex-like view of this semaphore with no owner checks: `lock`
    #   waits, `unlock` posts. See {SemaphoreMutex}.
    #   @return [SemaphoreMutex]
  end
end
