# frozen_string_literal: true

require "process_shared/open"
require "process_shared/monitor"

module ProcessShared
  # Ruby's `MonitorMixin` across processes: makes an object a reentrant lock
  # shared across fork (a {Monitor} it holds), with `mon_`-prefixed methods
  # and conditions. Waits release the GVL and can be interrupted.
  #
  # The object and its conditions ({#new_cond}) must be created before the
  # processes that share them are forked.
  #
  # @example Extending an object
  #   buffer = []
  #   buffer.extend(ProcessShared::MonitorMixin)
  #   buffer.synchronize { :inside } # => :inside
  #
  # @example Including it in a class
  #   class Account
  #     include ProcessShared::MonitorMixin
  #
  #     def initialize
  #       super() # sets the monitor up, as with Ruby's MonitorMixin
  #       @balance = ProcessShared::SharedMemory.new(:int64)
  #     end
  #
  #     def deposit(amount)
  #       synchronize { @balance.write_int64(@balance.read_int64 + amount) }
  #     end
  #   end
  module MonitorMixin
    # Sets the monitor up when an object is extended with this module
    # (`obj.extend(ProcessShared::MonitorMixin)`); Ruby calls it.
    #
    # @param obj [Object] the object being extended
    # @return [void]
    # @raise [ThreadError] if `obj` already has a monitor of its own
    def self.extend_object(obj)
      super
      obj.__send__(:mon_initialize)
    end

    # Enters the monitor if that is possible without waiting: at once if
    # the calling thread owns it or nobody does. Never blocks. Also
    # {#try_mon_enter}.
    #
    # @return [Boolean] whether the calling thread entered
    def mon_try_enter
      mon_data.try_enter
    end
    alias try_mon_enter mon_try_enter

    # Enters the monitor: at once if the calling thread already owns it (one
    # level deeper), else blocking (GVL released, interruptible) while
    # another thread or process owns it.
    #
    # @return [nil]
    def mon_enter
      mon_data.enter
    end

    # Exits the monitor once; it is released (waking one waiter) when the
    # outermost entry exits. Never blocks.
    #
    # @return [nil]
    # @raise [ProcessError] unless the calling thread of this process owns
    #   the monitor
    def mon_exit
      mon_check_owner
      mon_data.exit
    end

    # Whether any thread of any process owns the monitor (a snapshot).
    #
    # @return [Boolean]
    def mon_locked?
      mon_data.mon_locked?
    end

    # Whether the calling thread of this process owns the monitor.
    #
    # @return [Boolean]
    def mon_owned?
      mon_data.mon_owned?
    end

    # True while the calling thread owns the monitor and took it over from a
    # process that died owning it: the state the monitor protects may be
    # half-updated, and this owner should repair it. False again after the
    # next ordinary entry. Never blocks.
    #
    # @return [Boolean]
    # @raise [ClosedError] after {#mon_close}, or if the monitor was never
    #   set up
    def mon_previous_owner_died?
      mon_data.previous_owner_died?
    end

    # Enters (blocking as {#mon_enter}), yields, and exits when the block
    # ends, also when it raises or breaks. Also {#synchronize}.
    #
    # @yieldreturn [Object] the value to return
    # @return [Object] the block's value
    # @raise [ThreadError] without a block
    def mon_synchronize(&)
      mon_data.synchronize(&)
    end
    alias synchronize mon_synchronize

    # Releases this process's handle on the monitor (releasing the monitor
    # first if the calling thread owns it), as {Monitor#close}; idempotent.
    # Afterwards the `mon_` methods and the conditions raise {ClosedError}.
    # Not in the stdlib's MonitorMixin, which needs no closing.
    #
    # @return [nil]
    def mon_close
      @mon_data&.close
      nil
    end

    # Whether {#mon_close} was called. Never blocks.
    #
    # @return [Boolean] false also for an object whose monitor was never set
    #   up
    def mon_closed?
      @mon_data ? @mon_data.closed? : false
    end

    # A new condition bound to this object's monitor; create it before
    # forking. Never blocks.
    #
    # @param naming [Hash] `name:`, `path:`, `create:`, `mode:` for a named
    #   condition (see {Named})
    # @return [MonitorMixin::ConditionVariable]
    # @raise [ClosedError] after {#mon_close}
    def new_cond(**naming)
      unless defined?(@mon_data)
        mon_initialize
        @mon_initialized_by_new_cond = true
      end
      mon_data.new_cond(**naming)
    end

    private

    # Passes every argument on to the including class's superclass, then
    # sets the monitor up; call it with `super()` from `initialize`.
    def initialize(...)
      super
      mon_initialize
    end

    # Gives the object its monitor (once; again only for an object that was
    # copied with its monitor's instance variables).
    #
    # @raise [ThreadError] if the object already has its own monitor
    def mon_initialize
      if defined?(@mon_data)
        return if defined?(@mon_initialized_by_new_cond)
        raise ThreadError, "already initialized" if @mon_data_owner_object_id == object_id
      end
      @mon_data = ProcessShared::Monitor.new
      @mon_data_owner_object_id = object_id
    end

    # @raise [ProcessError] unless the calling thread owns the monitor
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
