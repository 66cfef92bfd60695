# frozen_string_literal: true

module ProcessShared
  # Calls into the native code around every `fork` made through Ruby, so that
  # objects created before `fork` work in the child: on Linux the child gets
  # its own identity for lock ownership; on macOS the parent also copies its
  # Mach semaphore rights into the child.
  #
  # Installed once when any part of process_shared is required. It wraps
  # `Process._fork` (Ruby 3.1 and later, which the gem requires), which
  # `Kernel#fork`, `Process.fork` and `IO.popen("-")` all go through, and
  # keeps working with other libraries that wrap `_fork` too, whichever
  # wraps first. It works in any Ractor.
  #
  # `fork` keeps its whole behaviour: return values, the block form, exit
  # status, exceptions, `at_exit` handlers.
  #
  # If the child cannot receive its semaphores (macOS only; for example a
  # sandbox refuses to pass task ports), `fork` raises
  # {ProcessShared::ForkError} in the parent after ending and reaping that
  # child, and the child prints the error and exits at once with status 1
  # (as `exit!`), each within a bounded time.
  #
  # The native functions ({before_fork}, {after_fork_parent},
  # {after_fork_child}, {fork_failed}, {generation}) are module functions;
  # only the hook needs to call them.
  module ForkHook
    # @!method self.before_fork
    #   Native. Called in the parent just before `fork`. On macOS it waits
    #   (GVL released, at most 60 s) while another thread's fork is under
    #   way; elsewhere it never blocks.
    #   @return [nil]
    #   @raise [ProcessShared::ForkError] if the copy to the child cannot be
    #     set up (macOS)

    # @!method self.after_fork_parent(child_pid)
    #   Native. Called in the parent after `fork` created `child_pid`. On
    #   macOS it waits (boundedly, GVL released) until the child has its
    #   semaphores; elsewhere it does nothing.
    #   @param child_pid [Integer] the pid `fork` returned
    #   @return [nil]
    #   @raise [ArgumentError] if `child_pid` is not a positive pid
    #   @raise [ProcessShared::ForkError] if the child could not be given
    #     its semaphores (it has then been ended and reaped)

    # @!method self.after_fork_child
    #   Native. Called in the child first thing after `fork`: gives it its
    #   own identity for lock ownership (and, on macOS, receives its
    #   semaphores; if it cannot, the child prints why and exits with
    #   status 1). Never blocks on Linux.
    #   @return [nil]

    # @!method self.fork_failed
    #   Native. Called in the parent when `fork` raised after
    #   {before_fork}; never blocks.
    #   @return [nil]

    # @!method self.generation
    #   Native. A number that changes in the child of every fork: two
    #   processes see the same generation only if neither forked from the
    #   other since. Never blocks.
    #   @return [Integer]

    # Prepended to `Process.singleton_class`.
    # @api private
    module ProcessFork
      # `Process._fork`, which every fork made through Ruby calls, between
      # the native hooks ({ForkHook.around_fork}).
      #
      # @return [Integer] the child's pid in the parent, 0 in the child
      # @raise [ProcessShared::ForkError] (macOS) as {ForkHook.around_fork}
      # @raise [SystemCallError] if the system cannot fork (`Errno::EAGAIN`…)
      def _fork
        ForkHook.around_fork { super }
      end
    end

    class << self
      # Installs the hook, once per process, however often it is called;
      # requiring any part of process_shared calls it.
      #
      # @return [void]
      def install
        return if @installed

        @installed = true
        Process.singleton_class.prepend(ProcessFork)
      end

      # Runs the fork that the block makes between the native hooks:
      # {before_fork}, then in the parent {after_fork_parent} (or
      # {fork_failed} if the block raised) and in the child
      # {after_fork_child}.
      #
      # @api private
      # @yieldreturn [Integer] the child's pid in the parent, 0 in the child
      #   (as `Process._fork`)
      # @return [Integer] the block's value
      # @raise [ProcessShared::ForkError] (macOS) if the child cannot be
      #   given its semaphores
      # @raise [Exception] whatever the block raised, after {fork_failed}
      def around_fork
        forking_pid = Process.pid
        before_fork
        begin
          pid = yield
        rescue Exception # rubocop:disable Lint/RescueException
          # Another library's hook raised, in the parent or in the child.
          Process.pid == forking_pid ? fork_failed : after_fork_child
          raise
        end
        pid.zero? ? after_fork_child : after_fork_parent(pid)
        pid
      end
    end
  end
end

ProcessShared::ForkHook.install
