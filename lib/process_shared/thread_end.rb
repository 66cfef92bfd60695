# frozen_string_literal: true

module ProcessShared
  # Releases the locks a thread still holds when it ends, as Ruby releases a
  # `Thread::Mutex` held by a thread that ends: without this, a {Mutex} or
  # {Monitor} that a thread locked and never unlocked would stay held until
  # its process exited.
  #
  # Ruby 3.1 offers no hook that runs whenever a thread ends (the
  # `:thread_end` trace event misses threads that raise or are killed), so
  # the body of every thread made by `Thread.new`, `Thread.start` and
  # `Thread.fork` runs inside an `ensure` that releases, after the body,
  # whatever the thread's fibers still hold (once the thread's fiber
  # scheduler, if any, has run its fibers). Threads made by C extensions
  # through `rb_thread_create` are not covered: their holds are released
  # when their process exits.
  #
  # @api private
  module ThreadEnd
    # Runs a thread's block, then releases the thread's holds.
    # @param block [Proc] the thread's block
    # @param args [Array] its arguments
    # @param kwargs [Hash] its keyword arguments
    # @return [Object] the block's value
    def self.run(block, args, kwargs)
      block.call(*args, **kwargs)
    ensure
      begin
        # A thread's fiber scheduler runs its fibers after the block, when
        # Ruby closes it; they may still take and release locks. Close it
        # now, as Ruby would, so that only holds left after them go.
        Fiber.set_scheduler(nil) if Fiber.scheduler
      ensure
        release_holds
      end
    end

    # Wraps `Thread#initialize`.
    module Initialize
      # `Thread#initialize`, its block run as {ThreadEnd.run} runs it.
      # @param args [Array] passed to the block
      # @param kwargs [Hash] passed to the block
      # @return [void]
      def initialize(*args, **kwargs, &block)
        if block
          super(*args, **kwargs) { |*inner, **inner_kwargs| ThreadEnd.run(block, inner, inner_kwargs) }
        else
          super
        end
      end
    end

    # @!method self.release_holds
    #   Releases what the fibers of the calling thread still hold, on every
    #   lock of this process (native; called as the thread ends).
    #   @return [Integer] how many holds were released

    # Wraps `Thread.start` and `Thread.fork`, which do not call `initialize`.
    module Start
      # `Thread.start`, its block run as {ThreadEnd.run} runs it.
      # @param args [Array] passed to the block
      # @param kwargs [Hash] passed to the block
      # @yield [*args, **kwargs] the thread's body
      # @yieldreturn [Object] the thread's value
      # @return [Thread]
      def start(*args, **kwargs, &block)
        return super unless block

        super(*args, **kwargs) { |*inner, **inner_kwargs| ThreadEnd.run(block, inner, inner_kwargs) }
      end

      # `Thread.fork`, its block run as {ThreadEnd.run} runs it.
      # @param args [Array] passed to the block
      # @param kwargs [Hash] passed to the block
      # @yield [*args, **kwargs] the thread's body
      # @yieldreturn [Object] the thread's value
      # @return [Thread]
      def fork(*args, **kwargs, &block)
        return super unless block

        super(*args, **kwargs) { |*inner, **inner_kwargs| ThreadEnd.run(block, inner, inner_kwargs) }
      end
    end

    ::Thread.prepend(Initialize)
    ::Thread.singleton_class.prepend(Start)
  end
end
