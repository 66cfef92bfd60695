# frozen_string_literal: true

require "process_shared/open"

module ProcessShared
  # A fixed-size, zero-filled block of memory shared across fork.
  class SharedMemory
    extend Open
  end
end
