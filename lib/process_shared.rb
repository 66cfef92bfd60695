# frozen_string_literal: true

require "process_shared/version"
require "process_shared/semaphore"
require "process_shared/shared_memory"
require "process_shared/shared_array"
require "process_shared/shared_memory_io"

# Concurrency primitives and memory shared across fork.
module ProcessShared
end
