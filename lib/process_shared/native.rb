# frozen_string_literal: true

# Loads the compiled extension, which defines the native classes, the
# exception classes (ProcessShared::ProcessError, ClosedError, ForkError,
# BrokenBarrierError) and the native half of ProcessShared::ForkHook, then
# installs the fork hook.
require "process_shared/version"
require "process_shared/process_shared"
require "process_shared/fork_hook"

# The exception classes are native; for YARD:
#
# @!parse
#   module ProcessShared
#     # Raised for lock misuse, as core Ruby raises `ThreadError`: unlocking
#     # a {Mutex} or exiting a {Monitor} that the calling thread of this
#     # process does not hold, locking a {Mutex} it already holds, posting a
#     # {BinarySemaphore} that is at 1, waiting on a condition without
#     # holding its lock, signalling a monitor's condition without owning
#     # the monitor.
#     class ProcessError < ThreadError; end
#
#     # Raised by any use of an object after its `close` in this process (or
#     # of one never initialized, such as `Klass.allocate`).
#     class ClosedError < IOError; end
#
#     # Raised by `fork` when the shared objects cannot follow it into the
#     # child (macOS only: for example when a sandbox refuses to pass task
#     # ports). See {ForkHook}.
#     class ForkError < StandardError; end
#
#     # Raised by {Barrier#wait} when the barrier is broken: aborted, reset
#     # while parties waited, timed out in a wait, interrupted in a wait, or
#     # left by a waiting party whose process died.
#     class BrokenBarrierError < ProcessError; end
#   end
