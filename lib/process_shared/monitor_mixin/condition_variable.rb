# frozen_string_literal: true

require "process_shared/condition_variable"

module ProcessShared
  # Ruby's `MonitorMixin` across processes (see process_shared/monitor_mixin).
  module MonitorMixin
    # A condition bound to a monitor, as `MonitorMixin::ConditionVariable`:
    # every method requires the calling thread to own the monitor.
    class ConditionVariable
      # @param monitor [ProcessShared::Monitor]
      def initialize(monitor)
        @monitor = monitor
        @cond = ProcessShared::ConditionVariable.new
      end

      # Releases the monitor (however deeply entered), waits for a signal or
      # the timeout, and enters it again to the same depth.
      # @param timeout [Numeric, nil] seconds
      # @return [Boolean] true when signalled, false when the timeout passed
      # @raise [ProcessError] unless the calling thread owns the monitor
      def wait(timeout = nil)
        monitor.mon_check_owner
        @monitor.wait_for_cond(@cond, timeout)
      end

      # Waits while the block returns true.
      # @return [nil]
      def wait_while
        wait while yield
      end

      # Waits until the block returns true.
      # @return [nil]
      def wait_until
        wait until yield
      end

      # Wakes one thread waiting on this condition, in any process.
      # @raise [ProcessError] unless the calling thread owns the monitor
      def signal
        monitor.mon_check_owner
        @cond.signal
      end

      # Wakes every thread waiting on this condition, in every process.
      # @raise [ProcessError] unless the calling thread owns the monitor
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
