# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A counting semaphore shared across fork. Native methods: #wait, #post,
  # #try_wait, #value, #synchronize, #close, #closed?.
  class Semaphore
    extend Open

    # @!method to_mtx
    #   A mutex-like view of this semaphore with no owner checks: `lock`
    #   waits, `unlock` posts. See {SemaphoreMutex}.
    #   @return [SemaphoreMutex]
  end
end
