# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A counting semaphore shared across fork. Native methods: #wait, #post,
  # #try_wait, #value, #synchronize, #close, #closed?.
  class Semaphore
    extend Open
  end
end
