# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A counting semaphore shared across fork. Native methods: #wait, #post,
  # #try_wait, #value, #synchronize, #close, #closed?.
  #
  # As with POSIX semaphores, a semaphore does not know who took its units:
  # a process that dies between a wait and its post (even inside
  # {#synchronize}, when killed by `SIGKILL`) takes the unit with it, and the
  # value stays lower for good. Use a {Mutex} where a dead holder must not
  # keep a resource.
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
