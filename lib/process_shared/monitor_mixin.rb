# frozen_string_literal: true

require "process_shared/open"
require "process_shared/condition_variable"

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
      # @raise [ClosedError] if the shared condition cannot be created
      def initialize(monitor)
        @monitor = monitor
        @cond = ProcessShared::ConditionVariable.new
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
      # @raise [ClosedError] if the monitor is closed
      def wait(timeout = nil)
        @monitor.mon_check_owner
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
        @monitor.mon_check_owner
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
        @monitor.mon_check_owner
        @cond.broadcast
      end
    end

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
      @mon_data.try_enter
    end
    alias try_mon_enter mon_try_enter

    # Enters the monitor: at once if the calling thread already owns it (one
    # level deeper), else blocking (GVL released, interruptible) while
    # another thread or process owns it.
    #
    # @return [nil]
    def mon_enter
      @mon_data.enter
    end

    # Exits the monitor once; it is released (waking one waiter) when the
    # outermost entry exits. Never blocks.
    #
    # @return [nil]
    # @raise [ProcessError] unless the calling thread of this process owns
    #   the monitor
    def mon_exit
      mon_check_owner
      @mon_data.exit
    end

    # Whether any thread of any process owns the monitor (a snapshot).
    #
    # @return [Boolean]
    def mon_locked?
      @mon_data.mon_locked?
    end

    # Whether the calling thread of this process owns the monitor.
    #
    # @return [Boolean]
    def mon_owned?
      @mon_data.mon_owned?
    end

    # True while the calling thread owns the monitor and took it over from a
    # process that died owning it: the state the monitor protects may be
    # half-updated, and this owner should repair it. False again after the
    # next ordinary entry.
    # @return [Boolean]
    def mon_previous_owner_died?
      @mon_data.previous_owner_died?
    end

    # Enters (blocking as {#mon_enter}), yields, and exits when the block
    # ends, also when it raises or breaks. Also {#synchronize}.
    #
    # @yieldreturn [Object] the value to return
    # @return [Object] the block's value
    # @raise [ThreadError] without a block
    def mon_synchronize(&)
      @mon_data.synchronize(&)
    end
    alias synchronize mon_synchronize

    # A new condition bound to this object's monitor; create it before
    # forking. Never blocks.
    #
    # @return [MonitorMixin::ConditionVariable]
    def new_cond
      unless defined?(@mon_data)
        mon_initialize
        @mon_initialized_by_new_cond = true
      end
      ConditionVariable.new(@mon_data)
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
      @mon_data.mon_check_owner
    end
  end
end
