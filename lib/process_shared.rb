# frozen_string_literal: true

require "process_shared/version"
require "process_shared/semaphore"
require "process_shared/mutex"
require "process_shared/shared_memory"

# Concurrency primitives and memory shared across fork.
module ProcessShared
end
