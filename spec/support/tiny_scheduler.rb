# frozen_string_literal: true

# A minimal fiber scheduler (the Ruby 3.1 Fiber::SchedulerInterface), so
# that the fiber specs depend on no gem: fibers sleep, block and are
# unblocked; nothing else (no IO). `close` (called by Ruby when the thread
# that set it ends, or by `Fiber.set_scheduler(nil)`) runs every fiber to
# its end.
class TinyScheduler
  def initialize
    @ready = []
    @waiting = {} # fiber => wake-up time (nil: until unblocked)
    @unblocked = Thread::Queue.new
  end

  def fiber(&)
    fiber = Fiber.new(blocking: false, &)
    fiber.resume
    fiber
  end

  def kernel_sleep(duration = nil)
    @waiting[Fiber.current] = duration && (now + duration)
    Fiber.yield
  end

  def block(_blocker, timeout = nil)
    kernel_sleep(timeout)
    true
  end

  # May be called from another thread.
  def unblock(_blocker, fiber)
    @unblocked << fiber
  end

  def io_wait(_io, _events, _timeout)
    raise NotImplementedError, "TinyScheduler does no IO"
  end

  def close
    run
  end

  def run
    until @waiting.empty? && @ready.empty?
      take_unblocked
      take_due
      if @ready.empty?
        idle
      else
        @ready.shift.resume while @ready.any?
      end
    end
  end

  private

  def take_unblocked
    until @unblocked.empty?
      fiber = @unblocked.pop
      @ready << fiber unless @waiting.delete(fiber) { :absent } == :absent
    end
  end

  def take_due
    due = @waiting.select { |_, at| at && at <= now }.keys
    due.each { |sleeper| @waiting.delete(sleeper) }
    @ready.concat(due)
  end

  # Sleeps until the next wake-up time, at most 10 ms (an unblock may come
  # from another thread).
  def idle
    next_at = @waiting.values.compact.min
    sleep((next_at ? next_at - now : 0.01).clamp(0, 0.01))
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
