# frozen_string_literal: true

require "process_shared/open"
require "process_shared/monitor_mixin/condition_variable"

module ProcessShared
  # A reentrant lock shared across fork, with the interface of Ruby's
  # `Monitor`: the owning thread may enter again, and the monitor is released
  # after as many exits as enters. Its owner is one thread of one process.
  # Like {Mutex}, a monitor whose owner process died is taken over by the
  # next thread to enter it ({#previous_owner_died?}).
  #
  # @example
  #   monitor = ProcessShared::Monitor.new
  #   monitor.synchronize { monitor.synchronize { :nested } } # => :nested
  class Monitor
    extend Open

    # @!method enter
    #   Enters the monitor, waiting (GVL released, interruptible) while
    #   another thread or process owns it. Also `mon_enter` and `lock`.
    #   @return [nil]

    # @!method exit
    #   Exits once; the monitor is released when the outermost entry exits.
    #   Also `mon_exit` and `unlock`.
    #   @return [nil]
    #   @raise [ProcessError] unless the calling thread of this process owns it

    # @!method try_enter(timeout = nil)
    #   Enters if possible without waiting (or, with a timeout in seconds,
    #   waiting up to that long). Also `mon_try_enter`, `try_mon_enter` and
    #   `try_lock`.
    #   @return [Boolean]

    # @!method synchronize
    #   Enters, yields, and exits even when the block raises. Also
    #   `mon_synchronize`.
    #   @return [Object] the block's value

    # @!method mon_locked?
    #   @return [Boolean] whether any thread of any process owns the monitor

    # @!method mon_owned?
    #   @return [Boolean] whether the calling thread of this process owns it

    # @!method mon_check_owner
    #   @return [nil]
    #   @raise [ProcessError] unless the calling thread of this process owns it

    # @!method previous_owner_died?
    #   @return [Boolean] true while the caller owns a monitor that it took
    #     over from a process that died owning it

    # @!method close
    #   Releases this process's handle (releasing the monitor first if the
    #   calling thread owns it). Idempotent.
    #   @return [nil]

    # @!method closed?
    #   @return [Boolean]

    # A new condition bound to this monitor; create it before forking.
    # @return [MonitorMixin::ConditionVariable]
    # @raise [ClosedError] after {#close}
    def new_cond
      mon_locked? # raises ClosedError when closed or never initialized
      MonitorMixin::ConditionVariable.new(self)
    end

    # Waits on `cond` (a {ConditionVariable}) releasing this monitor, as
    # Ruby's `Monitor#wait_for_cond`. The calling thread must own it.
    # @return [Boolean] true when signalled, false when the timeout passed
    def wait_for_cond(cond, timeout)
      !cond.wait(self, timeout).nil?
    end
  end
end
