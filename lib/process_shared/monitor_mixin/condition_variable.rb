# frozen_string_literal: true

require "process_shared/condition_variable"

module ProcessShared
  module MonitorMixin
    # A condition bound to a monitor, as `MonitorMixin::ConditionVariable`:
    # what {MonitorMixin#new_cond} and {Monitor#new_cond} return. Every
    # method requires the calling thread to own the monitor.
    #
    # @example
    #   monitor = ProcessShared::Monitor.new
    #   ready = monitor.new_cond
    #   monitor.synchronize { ready.wait(0.1) } # => false: nobody signalled
    class ConditionVariable
      # A new condition, shared with the processes forked after this; made
      # by `new_cond`.
      #
      # @param monitor [ProcessShared::Monitor]
      # @param naming [Hash] `name:`, `path:`, `create:`, `mode:` for a
      #   named condition (see {Named}), to go with a named monitor
      # @raise [ClosedError] if the shared condition cannot be created
      def initialize(monitor, **naming)
        @monitor = monitor
        @cond = ProcessShared::ConditionVariable.new(**naming)
      end

      # Releases the monitor (however deeply entered), waits for a signal or
      # the timeout, and enters it again to the same depth before returning,
      # also when an exception ends the wait. Blocks, with the GVL released.
      #
      # @param timeout [Integer, Float, nil] seconds; `nil` waits until
      #   signalled
      # @return [Boolean] true when signalled, false when the timeout passed
      # @raise [ProcessError] unless the calling thread owns the monitor
      # @raise [ArgumentError] if `timeout` is negative or NaN
      # @raise [ClosedError] if the monitor is closed, or the condition was
      #   never initialized
      def wait(timeout = nil)
        monitor.mon_check_owner
        @monitor.wait_for_cond(@cond, timeout)
      end

      # Waits (as {#wait}, without a timeout) as long as the block returns a
      # true value; returns at once if it returns false first.
      #
      # @yieldreturn [Boolean] whether to keep waiting
      # @return [nil]
      # @raise [ProcessError] unless the calling thread owns the monitor
      # @raise [ClosedError] if the monitor is closed
      def wait_while
        wait while yield
      end

      # Waits (as {#wait}, without a timeout) until the block returns a true
      # value; returns at once if it does first.
      #
      # @yieldreturn [Boolean] whether to stop waiting
      # @return [nil]
      # @raise [ProcessError] unless the calling thread owns the monitor
      # @raise [ClosedError] if the monitor is closed
      def wait_until
        wait until yield
      end

      # Wakes one thread waiting on this condition, in any process, if there
      # is one. Never blocks.
      #
      # @return [ProcessShared::ConditionVariable] the underlying condition
      #   variable, as Ruby's returns its `Thread::ConditionVariable`
      # @raise [ProcessError] unless the calling thread owns the monitor
      # @raise [ClosedError] if the monitor is closed
      def signal
        monitor.mon_check_owner
        @cond.signal
      end

      # Wakes every thread waiting on this condition now, in every process.
      # Never blocks.
      #
      # @return [ProcessShared::ConditionVariable] the underlying condition
      #   variable, as Ruby's returns its `Thread::ConditionVariable`
      # @raise [ProcessError] unless the calling thread owns the monitor
      # @raise [ClosedError] if the monitor is closed
      def broadcast
        monitor.mon_check_owner
        @cond.broadcast
      end

      private

      # The monitor, or ClosedError for a condition never initialized.
      def monitor
        @monitor or raise ClosedError, "condition not initialized"
      end
    end
  end
end
