# frozen_string_literal: true

require "process_shared/open"
require "process_shared/monitor_mixin/condition_variable"

module ProcessShared
  # A reentrant lock shared across fork, with the interface of Ruby's
  # `Monitor`: the owning thread may enter again, and the monitor is released
  # after as many exits as enters. Its owner is one fiber of one thread of
  # one process (see {Mutex} for fibers, and for threads that end holding
  # it, which release it).
  # Waits release the GVL and can be interrupted (`Thread#raise`,
  # `Timeout.timeout`, signals), leaving the monitor as it was.
  #
  # Like {Mutex}, a monitor whose owner process died is taken over by the
  # next thread to enter it ({#previous_owner_died?}).
  #
  # @example Nested entries
  #   monitor = ProcessShared::Monitor.new
  #   monitor.synchronize { monitor.synchronize { :nested } } # => :nested
  #
  # @example A condition across processes
  #   monitor = ProcessShared::Monitor.new
  #   ready = monitor.new_cond
  #   flag = ProcessShared::SharedMemory.new(:int)
  #   fork { monitor.synchronize { flag.write_int(1); ready.signal } }
  #   monitor.synchronize { ready.wait_until { flag.read_int == 1 } }
  class Monitor
    extend Open

    # @!method initialize
    #   A new monitor that no thread owns, shared with the processes forked
    #   after this.
    #   With `name:` or `path:` (and `create:`, `mode:`), a named object
    #   instead, shared with any process that opens the same name: see
    #   {Named}.

    # @!method enter
    #   Enters the monitor: at once if the calling thread already owns it
    #   (one level deeper), else blocking (GVL released, interruptible)
    #   while another thread or process owns it. Also {#mon_enter} and
    #   {#lock}.
    #   @return [nil]
    #   @raise [ClosedError] after {#close}

    # @!method mon_enter
    #   Same as {#enter}.
    #   @return [nil]
    #   @raise [ClosedError] after {#close}

    # @!method lock
    #   Same as {#enter}.
    #   @return [nil]
    #   @raise [ClosedError] after {#close}

    # @!method exit
    #   Exits once; the monitor is released (waking one waiter) when the
    #   outermost entry exits. Never blocks. Also {#mon_exit} and {#unlock}.
    #   @return [nil]
    #   @raise [ProcessError] unless the calling thread of this process owns
    #     the monitor
    #   @raise [ClosedError] after {#close}

    # @!method mon_exit
    #   Same as {#exit}.
    #   @return [nil]
    #   @raise [ProcessError] unless the calling thread of this process owns
    #     the monitor
    #   @raise [ClosedError] after {#close}

    # @!method unlock
    #   Same as {#exit}.
    #   @return [nil]
    #   @raise [ProcessError] unless the calling thread of this process owns
    #     the monitor
    #   @raise [ClosedError] after {#close}

    # @!method try_enter(timeout = nil)
    #   Enters if that is possible in time: at once if the calling thread
    #   owns the monitor or nobody does. Without a timeout (or `nil`) it
    #   never blocks; with one (seconds, an extension over Ruby's `Monitor`)
    #   it waits up to that long (GVL released, interruptible). Also
    #   {#mon_try_enter}, {#try_mon_enter} and {#try_lock}.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the calling thread entered
    #   @raise [ArgumentError] if `timeout` is negative or NaN
    #   @raise [TypeError] if `timeout` is not an Integer or a Float
    #   @raise [ClosedError] after {#close}

    # @!method mon_try_enter(timeout = nil)
    #   Same as {#try_enter}.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the calling thread entered
    #   @raise [ClosedError] after {#close}

    # @!method try_mon_enter(timeout = nil)
    #   Same as {#try_enter}.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the calling thread entered
    #   @raise [ClosedError] after {#close}

    # @!method try_lock(timeout = nil)
    #   Same as {#try_enter}.
    #   @param timeout [Integer, Float, nil] seconds
    #   @return [Boolean] whether the calling thread entered
    #   @raise [ClosedError] after {#close}

    # @!method synchronize
    #   Enters (blocking as {#enter}), yields, and exits when the block ends,
    #   also when it raises or breaks. Also {#mon_synchronize}.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method mon_synchronize
    #   Same as {#synchronize}.
    #   @yieldreturn [Object] the value to return
    #   @return [Object] the block's value
    #   @raise [ThreadError] without a block
    #   @raise [ClosedError] after {#close}

    # @!method mon_locked?
    #   Whether any thread of any process owns the monitor (a snapshot).
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method mon_owned?
    #   Whether the calling thread of this process owns the monitor.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method mon_check_owner
    #   Checks that the calling thread of this process owns the monitor, as
    #   Ruby's `Monitor#mon_check_owner`.
    #   @return [nil]
    #   @raise [ProcessError] unless it does
    #   @raise [ClosedError] after {#close}

    # @!method previous_owner_died?
    #   Whether the calling thread owns the monitor because it took it over
    #   from a process that died owning it: the data the monitor protects
    #   may be half-written. Reset by the next acquisition; false when the
    #   caller does not own the monitor.
    #   @return [Boolean]
    #   @raise [ClosedError] after {#close}

    # @!method close
    #   Releases this process's handle, first releasing the monitor (however
    #   deeply entered) if the calling thread owns it. Other processes keep
    #   theirs. Idempotent; any later use of this object raises
    #   {ClosedError}.
    #   @return [nil]

    # @!method owner_pid
    #   The pid of the process owning the monitor (perhaps one that died and
    #   is not taken over yet), or nil when nobody owns it. A snapshot.
    #   @return [Integer, nil]
    #   @raise [ClosedError] after {#close}

    # @!method waiting
    #   How many threads, of all processes, are blocked waiting to enter
    #   the monitor now (a snapshot; a waiter whose process died is no
    #   longer counted).
    #   @return [Integer]
    #   @raise [ClosedError] after {#close}

    # @!method inspect
    #   The state, e.g. `#<ProcessShared::Monitor locked by 4242, 3 waiting>`
    #   or `#<ProcessShared::Monitor unlocked>`; `closed` after {#close}.
    #   Never raises.
    #   @return [String]

    # @!method closed?
    #   Whether {#close} was called on this object in this process.
    #   @return [Boolean]

    # A new condition bound to this monitor, as `Monitor#new_cond`. Like the
    # monitor, create it before forking the processes that share it. Never
    # blocks; its methods raise {ClosedError} once the monitor is closed.
    #
    # A named monitor's processes share a condition only if it is named
    # too: `new_cond(name: "myapp.ready")`.
    #
    # @param naming [Hash] `name:`, `path:`, `create:`, `mode:` for a named
    #   condition (see {Named})
    # @return [MonitorMixin::ConditionVariable]
    # @raise [ClosedError] after {#close}
    def new_cond(**naming)
      mon_locked? # raises ClosedError when closed or never initialized
      MonitorMixin::ConditionVariable.new(self, **naming)
    end

    # Waits on `cond`, releasing this monitor however deeply entered and
    # entering it again to the same depth, as Ruby's
    # `Monitor#wait_for_cond`; {MonitorMixin::ConditionVariable#wait} calls
    # it. Blocks, with the GVL released.
    #
    # @param cond [ConditionVariable]
    # @param timeout [Integer, Float, nil] seconds; `nil` waits until
    #   signalled
    # @return [Boolean] true when signalled, false when the timeout passed
    # @raise [ProcessError] unless the calling thread owns the monitor
    # @raise [ClosedError] if the monitor or `cond` is closed
    def wait_for_cond(cond, timeout)
      !cond.wait(self, timeout).nil?
    end
  end
end
