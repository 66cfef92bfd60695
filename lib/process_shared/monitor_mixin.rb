# frozen_string_literal: true

require "process_shared/open"
require "process_shared/monitor"

module ProcessShared
  # Ruby's `MonitorMixin` across processes: makes an object a reentrant lock
  # shared across fork, with `mon_`-prefixed methods and conditions.
  #
  #   buffer = []
  #   buffer.extend(ProcessShared::MonitorMixin)
  #
  #   class Account
  #     include ProcessShared::MonitorMixin
  #     def initialize
  #       super() # sets the monitor up
  #     end
  #   end
  #
  # The object and its conditions ({#new_cond}) must be created before the
  # processes that share them are forked.
  module MonitorMixin
    # Sets the monitor up when an object is extended.
    def self.extend_object(obj)
      super
      obj.__send__(:mon_initialize)
    end

    # Enters the monitor if that is possible without waiting.
    # @return [Boolean]
    def mon_try_enter
      mon_data.try_enter
    end
    alias try_mon_enter mon_try_enter

    # Enters the monitor, waiting while another thread or process owns it.
    # @return [nil]
    def mon_enter
      mon_data.enter
    end

    # Exits the monitor once.
    # @return [nil]
    # @raise [ProcessError] unless the calling thread owns the monitor
    def mon_exit
      mon_check_owner
      mon_data.exit
    end

    # @return [Boolean] whether any thread of any process owns the monitor
    def mon_locked?
      mon_data.mon_locked?
    end

    # @return [Boolean] whether the calling thread of this process owns it
    def mon_owned?
      mon_data.mon_owned?
    end

    # Enters, yields, and exits even when the block raises.
    # @return [Object] the block's value
    def mon_synchronize(&)
      mon_data.synchronize(&)
    end
    alias synchronize mon_synchronize

    # Releases this process's handle on the monitor (releasing the monitor
    # first if the calling thread owns it), as {Monitor#close}; idempotent.
    # Afterwards the `mon_` methods and the conditions raise {ClosedError}.
    # Not in the stdlib's MonitorMixin, which needs no closing.
    # @return [nil]
    def mon_close
      @mon_data&.close
      nil
    end

    # @return [Boolean] whether {#mon_close} was called (false for an object
    #   whose monitor was never set up)
    def mon_closed?
      @mon_data ? @mon_data.closed? : false
    end

    # A new condition bound to this monitor; create it before forking.
    # @return [MonitorMixin::ConditionVariable]
    # @raise [ClosedError] after {#mon_close}
    def new_cond
      unless defined?(@mon_data)
        mon_initialize
        @mon_initialized_by_new_cond = true
      end
      mon_data.new_cond
    end

    private

    def initialize(...)
      super
      mon_initialize
    end

    def mon_initialize
      if defined?(@mon_data)
        return if defined?(@mon_initialized_by_new_cond)
        raise ThreadError, "already initialized" if @mon_data_owner_object_id == object_id
      end
      @mon_data = ProcessShared::Monitor.new
      @mon_data_owner_object_id = object_id
    end

    def mon_check_owner
      mon_data.mon_check_owner
    end

    # The monitor, or ClosedError when it was never set up (an object made
    # with `allocate`, or whose `initialize` does not call `super()`).
    def mon_data
      @mon_data or raise ClosedError, "monitor not initialized: call super() in initialize"
    end
  end
end
