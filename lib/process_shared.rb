# frozen_string_literal: true

require "process_shared/version"
require "process_shared/semaphore"
require "process_shared/semaphore_mutex"
require "process_shared/binary_semaphore"
require "process_shared/mutex"
require "process_shared/condition_variable"
require "process_shared/monitor"
require "process_shared/monitor_mixin"
require "process_shared/shared_memory"
require "process_shared/shared_array"
require "process_shared/shared_memory_io"

# Concurrency primitives and memory shared across fork.
module ProcessShared
end
